/** Odd text: control characters, non-ASCII, very long values, odd names and numbers. */
import fc from "fast-check";
import type { Rng } from "./random.js";

export const CONTROL = ["\u0000", "\u0001", "\u0007", "\b", "\t", "\n", "\u000b", "\f", "\r", "\u001b", "\u001f", "\u007f", "\u0085", "\u2028", "\u2029"];

export const NON_ASCII = [
  "é",
  "ß",
  "日本語",
  "🙂",
  "👩‍👩‍👧",
  "\u202e",
  "\ufeff",
  "\u200b",
  "\u0301",
  "ｘ",
  "х",
  "ǅ",
  "\ud800",
  "\udfff",
  "\uffff",
  "\u{10ffff}",
  "İ",
  "ﬀ",
  "Ω",
  "\u00a0",
];

/**
 * fast-check string arbitraries, made once: making one is far dearer than
 * drawing from it (unit "binary" costs seconds, so any code point is drawn
 * through a unit of our own).
 */
const ANY_CODE_POINT = fc.integer({ min: 0, max: 0x10ffff }).map((n) => String.fromCodePoint(n));
const STRINGS = {
  binary: fc.string({ unit: ANY_CODE_POINT, maxLength: 40 }),
  grapheme: fc.string({ unit: "grapheme", maxLength: 40 }),
  "binary-ascii": fc.string({ unit: "binary-ascii", maxLength: 40 }),
};
const strings = (rng: Rng, unit: keyof typeof STRINGS, maxLength: number) => rng.sample(STRINGS[unit]).slice(0, maxLength);

/** A short string with control and non-ASCII characters mixed into plain text. */
export function oddText(rng: Rng, maxLength = 24): string {
  return rng.weighted<() => string>([
    [3, () => mix(rng, maxLength)],
    [2, () => strings(rng, "binary", maxLength)],
    [1, () => strings(rng, "grapheme", maxLength)],
    [1, () => strings(rng, "binary-ascii", maxLength)],
    [1, () => rng.pick(CONTROL).repeat(rng.int(1, 4))],
    [1, () => rng.pick(NON_ASCII)],
  ])();
}

function mix(rng: Rng, maxLength: number): string {
  const n = rng.int(1, Math.max(1, maxLength));
  let s = "";
  for (let i = 0; i < n; i++) {
    s += rng.weighted<() => string>([
      [6, () => String.fromCharCode(rng.int(0x61, 0x7a))],
      [1, () => rng.pick(["-", ".", "/", "_", ":", "%", " ", "\\", '"', "'", "{", "[", "&", "*", "#", "?", "="])],
      [1, () => rng.pick(CONTROL)],
      [1, () => rng.pick(NON_ASCII)],
    ])();
  }
  return s;
}

/** A long value: usually a few kilobytes, sometimes up to `max` (a megabyte or more). */
export function longText(rng: Rng, max = 1_100_000): string {
  const n = rng.bool(0.75) ? rng.size(64, Math.min(max, 8192)) : rng.size(8192, max);
  const unit = rng.pick(["x", "a-", "é", "🙂", "%2F", "\u0000", "ab/cd.", " "]);
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** Names that no object of the model can have, for paths and fields that name objects. */
export function oddName(rng: Rng): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(FIXED_NAMES)],
    [3, () => oddText(rng, 16)],
    [1, () => `${rng.pick(["x", "node-1", "a", "default"])}${rng.pick(["/", "\u0000", "\n", " ", "..", "/..", "%", "%2F", "é", "\t", "?", "#", ";"])}`],
    [1, () => rng.pick(["a", "x", "-", "."]).repeat(rng.size(64, 40_000))],
    [1, () => rng.pick(["x", "node-1", "a"]).toUpperCase()],
  ])();
}

const FIXED_NAMES = [
  "",
  " ",
  ".",
  "..",
  "...",
  "/",
  "//",
  "x/y",
  "x/a",
  "../x",
  "./x",
  "%2F",
  "%2e%2e",
  "%",
  "%%",
  "%00",
  "a b",
  "a+b",
  "node-1 ",
  " node-1",
  "node-1\u0000",
  "ｎｏｄｅ-1",
  "nodе-1",
  "-lead",
  "trail-",
  "Upper",
  "a_b",
  "a:b",
  "a@b",
  "*",
  "?",
  "#",
  "\\",
  "null",
  "undefined",
  "NaN",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "💥",
  "\u202enode",
  "a".repeat(64),
  "a".repeat(254),
];

/** Numbers that are never a valid port or count, as text. */
export const BAD_NUMBERS = [
  "0",
  "-0",
  "-1",
  "65536",
  "65535.5",
  "80.5",
  "1e3",
  "1e400",
  "-1e400",
  "1e-400",
  "9007199254740993",
  "18446744073709551616",
  "99999999999999999999999999999999999999",
  "0x50",
  "0o120",
  "0b1010000",
  "080",
  "+80",
  " 80",
  "80 ",
  "8 0",
  "８０",
  "٨٠",
  "80\u0000",
  "Infinity",
  "-Infinity",
  "NaN",
  ".inf",
  ".nan",
  "true",
  "null",
  "",
  "1".repeat(400),
];

/** A huge or odd number as a JSON value (not only text). */
export function oddNumberValue(rng: Rng): unknown {
  return rng.pick<unknown>([0, -1, 65536, 1e308, -1e308, 5e-324, 2 ** 53 + 2, 2 ** 64, 80.5, -0, 4294967296, 4294967295, Number.MAX_SAFE_INTEGER]);
}

/** `s` cut to `n` characters for a report. */
export function truncate(s: string, n = 300): string {
  return s.length <= n ? s : `${s.slice(0, n)}… (${s.length} chars)`;
}

/** Characters a terminal would not show (controls, format characters, lone surrogates) as \u escapes. */
export function visible(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `n` items drawn from a pool of at most 40 generated ones, the whole kept under `maxChars`. */
export function many<T>(rng: Rng, n: number, make: () => T, length: (t: T) => number, maxChars = 1_000_000): T[] {
  const pool = Array.from({ length: Math.min(n, 40) }, make);
  const out: T[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = pool.length === n ? pool[i]! : rng.pick(pool);
    total += length(t);
    if (total > maxChars && out.length > 0) break;
    out.push(t);
  }
  return out;
}
