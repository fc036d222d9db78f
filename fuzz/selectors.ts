/**
 * Label selectors as kubectl's -l writes them, from valid to malformed, each
 * with what k8s.io/apimachinery's labels.Parse makes of it where that is
 * certain: unbalanced parentheses, keys and values no label may have, empty
 * sets and empty requirements are errors; a valid key and value joined by
 * `=`, `==`, `!=`, `in`, `notin`, `!` or alone are not. Text the fuzzer
 * cannot judge (random characters, `a in (b,,c)`, `k>5`) is "unknown".
 */
import type { Verdict } from "./outcome.js";
import { all } from "./outcome.js";
import type { Rng } from "./random.js";
import { oddText } from "./strings.js";

export interface SelectorText {
  readonly text: string;
  readonly verdict: Verdict;
}

const KEYS = ["app", "tier", "example.com/app", "a.b-c_d", "K8s.Io", "x".repeat(63), `${"p".repeat(63)}.example/${"n".repeat(63)}`];
const VALUES = ["web", "db", "", "A-b_c.9", "v".repeat(63), "1"];

/** Keys no label may have, without `=`, `!`, parentheses, commas or spaces (which would read as another requirement). */
const BAD_KEYS = [
  "-k",
  "k-",
  "_k",
  ".k",
  "k.",
  "a/b/c",
  "/k",
  "a/",
  "UPPER.example/k",
  "k".repeat(64),
  `${"a".repeat(254)}/k`,
  "é",
  "ｋ",
  "k@",
  "k:v",
  "k%",
  "k\u0000",
  "k\u00a0x",
];
/** Values no label may have, with the same restraint. */
const BAD_VALUES = ["-v", "v-", "_v", "v.", "v@", "v/w", "!v", "v=w", "v".repeat(64), "é", "v\u0000"];

function validKey(rng: Rng, labels: readonly (readonly [string, string])[]): [string, string] {
  if (labels.length > 0 && rng.bool(0.6)) return [...rng.pick(labels)];
  return [rng.pick(KEYS), rng.pick(VALUES)];
}

/** A spacing kubectl reads the same. */
const sp = (rng: Rng) => rng.pick(["", "", " ", "  ", "\t"]);

function validRequirement(rng: Rng, labels: readonly (readonly [string, string])[]): string {
  const [k, v] = validKey(rng, labels);
  const other = rng.pick(VALUES.filter((x) => x !== ""));
  // A set holds at least one value, and an empty one only beside others: "in (x)", not "in ()".
  const member = v || other;
  return rng.pick<() => string>([
    () => `${k}${sp(rng)}=${sp(rng)}${v}`,
    () => `${k}${sp(rng)}==${sp(rng)}${v}`,
    () => `${k}${sp(rng)}!=${sp(rng)}${v}`,
    () => k,
    () => `!${k}`,
    () => `${k} in${sp(rng)}(${member}${rng.bool() ? `,${sp(rng)}${other}` : ""})`,
    () => `${k} notin${sp(rng)}(${sp(rng)}${other}${sp(rng)})`,
  ])();
}

/** A requirement labels.Parse refuses, whatever comes beside it. */
function badRequirement(rng: Rng, labels: readonly (readonly [string, string])[]): string {
  const [k, v] = validKey(rng, labels);
  const key = rng.pick(BAD_KEYS);
  const value = rng.pick(BAD_VALUES);
  return rng.pick<() => string>([
    // Parentheses that do not pair.
    () => `${k} in (${v}`,
    () => `${k} in ${v})`,
    () => `${k} in ((${v}))`,
    () => `${k} in (${v})(${v})`,
    () => `${k} notin (${v},${k}`,
    () => rng.pick(["(", ")", "()", ")(", "(((", ")))"]),
    () => `(${k}=${v})`,
    () => `${k}=${v})`,
    () => `${"(".repeat(rng.size(1, 2000))}${k}${")".repeat(rng.size(1, 2000))}`,
    // Keys and values no label may have.
    () => `${key}=${v}`,
    () => `${key}`,
    () => `!${key}`,
    () => `${key} in (${v || "x"})`,
    () => `${k}=${value}`,
    () => `${k}!=${value}`,
    () => `${k} in (${value})`,
    () => `${k} in (a b)`,
    () => `${k} = ${v || "x"} y`,
    // Empty sets, operators without a key, and a key with two operators.
    () => `${k} in ()`,
    () => `${k} notin ( )`,
    () => rng.pick(["=", "==", "!=", "!", "=v", "!=v", "in (a)", "notin (a)"]),
    () => `!${k}=${v}`,
    () => `!${k} in (${v || "x"})`,
    () => `${k}===${v}`,
  ])();
}

/** Text whose meaning the fuzzer does not decide. */
function oddRequirement(rng: Rng): string {
  return rng.pick<() => string>([() => oddText(rng, 20), () => rng.pick(["a in (b,,c)", "a in (b,)", "in in (x)", "notin", "k>5", "k<5", "k in(a)b", "k=(a)", "a!==b", "!!a"])])();
}

/**
 * One to many requirements joined by commas, with their verdict. Valid ones
 * only, or (`odd`) with one requirement that is bad or undecided among them,
 * sometimes more, sometimes an empty requirement between commas.
 */
export function selectorText(rng: Rng, labels: readonly (readonly [string, string])[], odd: boolean, maxChars = 12_000): SelectorText {
  const n = rng.weighted<() => number>([
    [6, () => rng.int(1, 3)],
    [2, () => rng.int(4, 20)],
    [1, () => rng.size(20, 5_000)],
  ])();
  const parts: SelectorText[] = [];
  let length = 0;
  for (let i = 0; i < n && length < maxChars; i++) {
    const p: SelectorText = { text: validRequirement(rng, labels), verdict: "ok" };
    parts.push(p);
    length += p.text.length + 1;
  }
  const oddOne = (): SelectorText =>
    rng.weighted<() => SelectorText>([
      [8, () => ({ text: badRequirement(rng, labels), verdict: "bad" })],
      [2, () => ({ text: oddRequirement(rng), verdict: "unknown" })],
      // An empty requirement: "a,,b", ",a" or "a,".
      [1, () => ({ text: sp(rng), verdict: "bad" })],
    ])();
  if (odd) {
    const m = rng.bool(0.8) ? 1 : rng.int(2, 4);
    for (let i = 0; i < m; i++) parts.splice(rng.int(0, parts.length), 0, oddOne());
  }
  const text = parts.map((p) => p.text).join(",");
  if (text.length > maxChars) return { text: text.slice(0, maxChars), verdict: "unknown" };
  return { text, verdict: all(parts.map((p) => p.verdict)) };
}
