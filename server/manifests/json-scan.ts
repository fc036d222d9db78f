/**
 * What JSON.parse does not say about JSON text: the keys an object gives twice
 * (it keeps the last, as Go's encoding/json does), and how deep the text
 * nests. The API server's strict decoding reports the first as
 * `duplicate field "spec.replicas"`.
 */
import type { Segment } from "./yaml-check.js";

interface Frame {
  readonly object: boolean;
  /** The key (in an object) or index (in an array) of the value being read. */
  at: Segment;
  expectKey: boolean;
  /** The keys seen so far: a list while there are few, a set after. */
  keys: string[] | Set<string> | undefined;
}

const FEW = 8;

/**
 * Scans text that JSON.parse accepted. Returns the paths of duplicate keys, or
 * `tooDeep` with the offset where the text first nests deeper than `maxDepth`.
 */
export function scanJson(text: string, maxDepth: number): { duplicates: Segment[][]; tooDeep?: number } {
  const stack: Frame[] = [];
  const duplicates: Segment[][] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      // { or [
      stack.push({ object: c === 0x7b, at: c === 0x7b ? "" : 0, expectKey: c === 0x7b, keys: undefined });
      if (stack.length > maxDepth) return { duplicates, tooDeep: i };
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else if (c === 0x2c) {
      // ,
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
      i++;
    } else if (c === 0x22) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (remember(top, key)) duplicates.push([...stack.slice(0, -1).map((f) => f.at), key]);
        top.at = key;
        top.expectKey = false;
      }
      i = end + 1;
    } else {
      i++;
    }
  }
  return { duplicates };
}

/** The index of the quote that ends the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  let q = text.indexOf('"', start + 1);
  for (;;) {
    if (q < 0) return text.length;
    let slashes = 0;
    for (let b = q - 1; text.charCodeAt(b) === 0x5c; b--) slashes++;
    if (slashes % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
}

/** Adds the key to the object's keys; true when it was there already. */
function remember(f: Frame, key: string): boolean {
  if (f.keys === undefined) {
    f.keys = [key];
    return false;
  }
  if (Array.isArray(f.keys)) {
    if (f.keys.includes(key)) return true;
    f.keys.push(key);
    if (f.keys.length > FEW) f.keys = new Set(f.keys);
    return false;
  }
  if (f.keys.has(key)) return true;
  f.keys.add(key);
  return false;
}
