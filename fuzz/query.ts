/**
 * Query strings as a client might write them (encoded, raw, badly encoded,
 * repeated, with brackets), and the query as the server reads it: Express 5
 * reads `req.query` with node:querystring, so the fuzzer reads it the same
 * way to know what each field will hold.
 */
import { parse } from "node:querystring";
import { safePath } from "./http-send.js";
import type { Rng } from "./random.js";
import { oddText } from "./strings.js";

/** Lone surrogates replaced, so encodeURIComponent takes the text. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udfff]/gu, "\ufffd");

/** A value as it goes into the query: mostly encoded, sometimes raw or with a broken escape. */
export function encodeValue(rng: Rng, plain: string): string {
  return rng.weighted<() => string>([
    [8, () => encodeURIComponent(wellFormed(plain))],
    [2, () => plain],
    [1, () => plain.replaceAll(" ", "+")],
    [1, () => `${encodeURIComponent(wellFormed(plain))}${rng.pick(["%", "%zz", "%E0%A4%A", "%00", "%C0%AF"])}`],
  ])();
}

/** `key=value` pairs, each once, twice, bare or with brackets; a few unknown keys; rarely more keys than the server reads. */
export function queryOf(rng: Rng, fields: readonly (readonly [string, string])[]): string {
  const parts: string[] = [];
  for (const [k, v] of fields) {
    const shape = rng.weighted<string>([
      [14, "one"],
      [1, "twice"],
      [1, "bracket"],
      [1, "bare"],
    ]);
    if (shape === "bare") parts.push(k);
    else if (shape === "bracket") parts.push(`${k}${rng.pick(["[]", "[a]", "[0]", "[__proto__]", ".x"])}=${v}`);
    else parts.push(`${k}=${v}`);
    if (shape === "twice") parts.push(`${k}=${v}`);
  }
  if (rng.bool(0.1)) parts.push(`${encodeURIComponent(wellFormed(oddText(rng, 10)))}=${encodeURIComponent(wellFormed(oddText(rng, 10)))}`);
  if (rng.bool(0.1)) parts.push(rng.pick(["__proto__=x", "constructor=x", "hasOwnProperty=1", "toString=1", "x=1&x=2", "&&", "=", "=x"]));
  // node:querystring reads the first 1,000 keys: what comes after them is not seen.
  if (rng.bool(0.03)) parts.unshift(...Array.from({ length: rng.pick([999, 1000, 1001, 3000]) }, (_, i) => `p${i}=${i}`));
  if (rng.bool(0.1)) parts.reverse();
  return parts.join("&");
}

export type Query = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The query the server reads from this path, or undefined when the fuzzer
 * cannot be sure of it: a fragment, or bytes beyond ASCII, which the URL
 * parser may read differently.
 */
export function serverQuery(path: string): Query | undefined {
  const sent = safePath(path);
  const at = sent.indexOf("?");
  if (at < 0) return {};
  const q = sent.slice(at + 1);
  if (/[#\u0080-\uffff]/u.test(q) || sent.slice(0, at).includes("#")) return undefined;
  return parse(q) as Query;
}

/** A path longer than this may be refused before any route sees it (Node reads at most 16 KiB of headers). */
export const LONGEST_PATH = 12_000;
