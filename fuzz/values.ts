/**
 * Odd JSON values as text fragments. Deep values are built as text, never as
 * objects: JSON.stringify of a value 100,000 deep would overflow the fuzzer's
 * own stack.
 */
import fc from "fast-check";
import type { Rng } from "./random.js";
import { BAD_NUMBERS, longText, oddNumberValue, oddText } from "./strings.js";

/** A JSON text fragment. */
export type JsonText = string;

export const str = (s: string): JsonText => JSON.stringify(s);

/** Nesting depth: mostly modest, sometimes far beyond any parser's recursion. */
export function depth(rng: Rng): number {
  return rng.weighted([
    [3, () => rng.int(2, 200)],
    [2, () => rng.int(900, 1100)],
    [2, () => rng.int(4_900, 5_100)],
    [1, () => rng.size(10_000, 200_000)],
  ] as const)();
}

/** `[[[...]]]`, `{"a":{"a":...}}` or a mix, `n` deep, around a leaf. */
export function deepJson(rng: Rng, n: number, leaf: JsonText = rng.pick(["1", "null", '"x"', "[]", "{}"])): JsonText {
  const shape = rng.pick(["array", "object", "mixed"] as const);
  if (shape === "array") return `${"[".repeat(n)}${leaf}${"]".repeat(n)}`;
  if (shape === "object") return `${'{"a":'.repeat(n)}${leaf}${"}".repeat(n)}`;
  let open = "";
  let close = "";
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      open += "[";
      close = `]${close}`;
    } else {
      open += '{"k":';
      close = `}${close}`;
    }
  }
  return open + leaf + close;
}

/** A reference to a workload as a check takes it, from valid to very odd. */
export function oddReference(rng: Rng): JsonText {
  return str(
    rng.weighted<() => string>([
      [3, () => rng.pick(["x/a", "y/b", "z/c", "10.0.0.1", "10.244.1.11", "8.8.8.8", "::1", "fd00::1"])],
      [4, () => rng.pick(ODD_REFERENCES)],
      [3, () => oddText(rng, 40)],
      [1, () => `${oddText(rng, 10)}/${oddText(rng, 10)}`],
      [1, () => longText(rng)],
    ])(),
  );
}

const ODD_REFERENCES = [
  "x/a/b",
  "/a",
  "x/",
  "x//a",
  "//",
  " x/a",
  "x/a\u0000",
  "x/a\n",
  "X/A",
  "ｘ/ａ",
  "x/а",
  "x%2Fa",
  "10.0.0.1/32",
  "10.0.0.0/8",
  "::ffff:10.0.0.1",
  "010.000.000.001",
  "1.2.3.4.5",
  "256.1.1.1",
  "[::1]",
  "fe80::1%eth0",
  "10.0.0.1:80",
  "0x0a000001",
  "4294967295",
  "::",
  "0.0.0.0",
  "255.255.255.255",
  ":::",
  "1::2::3",
  "__proto__/constructor",
  "constructor/prototype",
];

const JSON_VALUES = fc.jsonValue({ maxDepth: 3 });

/** Bad numbers as JSON number literals, the out-of-range ones included. */
const NUMBER_TEXTS = BAD_NUMBERS.filter((n) => /^-?\d/.test(n) && Number.isFinite(Number(n)) && !/\s|\u0000/.test(n)).concat(["1e400", "-1e400", `1${"0".repeat(400)}`]);

/** Any odd JSON value: text, numbers, containers, deep or huge ones. */
export function oddJson(rng: Rng, budget = 3): JsonText {
  return rng.weighted<() => JsonText>([
    [4, () => str(oddText(rng))],
    [2, () => oddReference(rng)],
    [2, () => JSON.stringify(oddNumberValue(rng))],
    [2, () => rng.pick(NUMBER_TEXTS)],
    [2, () => str(rng.pick(BAD_NUMBERS))],
    [1, () => rng.pick(["true", "false", "null", "[]", "{}", '""'])],
    [1, () => str(longText(rng))],
    [1, () => deepJson(rng, depth(rng))],
    [1, () => JSON.stringify(rng.sample(JSON_VALUES))],
    [budget > 0 ? 1 : 0, () => `[${Array.from({ length: rng.int(0, 4) }, () => oddJson(rng, budget - 1)).join(",")}]`],
    [budget > 0 ? 1 : 0, () => `{${Array.from({ length: rng.int(0, 4) }, () => `${str(oddText(rng, 8))}:${oddJson(rng, budget - 1)}`).join(",")}}`],
  ])();
}

/** A JSON object text from its members; a member's value is a fragment. */
export function objectText(members: readonly (readonly [string, JsonText])[]): JsonText {
  return `{${members.map(([k, v]) => `${str(k)}:${v}`).join(",")}}`;
}

/**
 * Breaks valid JSON text: truncation, a stray or (when `deletions`) a missing
 * character, junk. Without deletions nothing of the text is lost, so what
 * made it invalid stays.
 */
export function breakJson(rng: Rng, text: string, deletions = true): string {
  if (text.length < 2) return `${text}{`;
  const at = rng.int(1, text.length - 1);
  return rng.weighted<() => string>([
    [3, () => text.slice(0, at)],
    [1, () => `${text.slice(0, at)}${rng.pick([",", "}", "]", ":", '"', "'", "\\", "\u0000", "NaN", "undefined", "//", "/*"])}${text.slice(at)}`],
    [deletions ? 1 : 0, () => text.slice(0, at - 1) + text.slice(at)],
    [1, () => `${text},`],
    [1, () => `${text}}`],
    [1, () => text.replaceAll('"', "'")],
    [1, () => text.replace(/([{,])"([^"]+)":/g, "$1$2:")],
    [1, () => `${text.slice(0, at)}\n${text.slice(at)}`.replace(/}$/, ",}")],
  ])();
}
