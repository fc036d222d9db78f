/**
 * YAML-only ways to be bad: alias bombs, cyclic and unresolved aliases, merge
 * keys, tags, directives, many documents, deep block nesting, odd line ends.
 * Each document names an object that is invalid on its own (see manifests.ts).
 */
import type { ManifestBody } from "./manifests.js";
import { invalidName } from "./manifests.js";
import type { Rng } from "./random.js";
import { longText, oddText } from "./strings.js";
import { deepJson, depth, str } from "./values.js";

/** A block-style document of an invalid object; `extra` lines go at its top level, `labels` is the labels' value. */
function doc(rng: Rng, existing: readonly string[], opts: { labels?: string; extra?: string[]; name?: string } = {}): string {
  const kind = rng.pick(["Namespace", "Pod", "NetworkPolicy"] as const);
  const lines = [
    `apiVersion: ${kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "v1"}`,
    `kind: ${kind}`,
    "metadata:",
    `  name: ${opts.name ?? str(invalidName(rng))}`,
    ...(kind === "Namespace" ? [] : [`  namespace: ${rng.pick(existing)}`]),
    `  labels: ${opts.labels ?? "{app: fuzz}"}`,
    ...(kind === "NetworkPolicy" ? ["spec:", "  podSelector: {}"] : []),
    ...(opts.extra ?? []),
  ];
  return `${lines.join("\n")}\n`;
}

/** Billion laughs: `levels` anchors, each `width` aliases of the one before. */
function bomb(rng: Rng): { anchors: string[]; top: string } {
  const levels = rng.int(2, 10);
  const width = rng.int(2, 12);
  const anchors = [`l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(", ")}]`];
  for (let i = 1; i < levels; i++) anchors.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(", ")}]`);
  return { anchors, top: `*l${levels - 1}` };
}

function aliasBomb(rng: Rng, existing: readonly string[]): string {
  const b = bomb(rng);
  const where = rng.pick(["extra", "labels", "document"] as const);
  if (where === "document") return `${b.anchors.join("\n")}\n`;
  const extra = ["lols:", ...b.anchors.map((a) => `  ${a}`)];
  if (where === "labels") return doc(rng, existing, { extra: [...extra, `more: ${b.top}`] }).replace("labels: {app: fuzz}", `labels: {app: fuzz}\n  annotations: {a: ${b.top}}`);
  return doc(rng, existing, { extra: [...extra, `bomb: ${b.top}`] });
}

const CYCLES = [
  "metadata: &m\n  name: cyc!\n  labels: *m\n",
  "apiVersion: v1\nkind: Namespace\nmetadata: &m {name: cyc!, labels: {self: *m}}\n",
  "a: &a [*a]\n",
  "a: &a {b: *a}\n",
  "a: &a\n  <<: *a\n",
  "apiVersion: v1\nkind: Namespace\nmetadata: &m\n  <<: *m\n  name: cyc!\n",
  "&a [*a, *a]\n",
  "&top\napiVersion: v1\nkind: Namespace\nmetadata: {name: cyc!}\nme: *top\n",
  "apiVersion: v1\nkind: List\nitems: &i [*i]\n",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: cyc!, namespace: x}\nspec: &s\n  containers: [{name: c, ports: *s}]\n",
];

function cyclicAlias(rng: Rng, existing: readonly string[]): string {
  const c = rng.pick(CYCLES);
  return rng.bool(0.3) ? `${doc(rng, existing)}---\n${c}` : c;
}

function unresolvedAlias(rng: Rng, existing: readonly string[]): string {
  return rng.pick([
    () => doc(rng, existing, { labels: "*nope" }),
    () => doc(rng, existing, { extra: ["later: *later", "anchor: &later x"] }),
    () => `${doc(rng, existing, { labels: "&m {app: fuzz}" })}---\n${doc(rng, existing, { labels: "*m" })}`,
    () => "*nope\n",
    () => doc(rng, existing, { name: "*" }),
    () => doc(rng, existing, { name: `*${oddText(rng, 8).replace(/\s/g, "")}` }),
    () => doc(rng, existing, { extra: ["x: &a 1", "y: *a", "z: *b"] }),
  ])();
}

const TAGS = [
  "!!binary aGVsbG8=",
  "!!set {a, b}",
  "!!omap [a: 1, b: 2]",
  "!!python/object:os.system ls",
  "!custom value",
  "!<tag:yaml.org,2002:str> x",
  "!!timestamp 2001-12-14t21:59:43.10-05:00",
  "!!int 0x50",
  "!!int 1e400",
  "!!float .nan",
  "!!float x",
  "!!null x",
  "!!bool maybe",
  "!!map [1, 2]",
  "!!seq {a: 1}",
  "!!str",
  "!e!local x",
  "! x",
];

function tagged(rng: Rng, existing: readonly string[]): string {
  const t = rng.pick(TAGS);
  return rng.pick([
    () => doc(rng, existing, { labels: `{app: ${t}}` }),
    () => doc(rng, existing, { labels: t }),
    () => doc(rng, existing, { extra: [`spec: ${t}`] }),
    () => `${t}\n`,
  ])();
}

function directives(rng: Rng, existing: readonly string[]): string {
  const d = rng.pick(["%YAML 1.1", "%YAML 1.2", "%YAML 9.9", "%YAML", "%TAG !e! tag:example.com,2000:", "%TAG ! !", "%FOO bar", "%YAML 1.1\n%YAML 1.1"]);
  return `${d}\n---\n${doc(rng, existing)}${rng.bool() ? `...\n${d}\n---\n${doc(rng, existing)}` : ""}`;
}

function manyDocuments(rng: Rng, existing: readonly string[]): string {
  const n = rng.size(2, 50_000);
  const at = rng.int(0, n - 1);
  const sep = rng.pick(["---\n", "--- \n", "...\n---\n", "---\n# c\n"]);
  return Array.from({ length: n }, (_, i) => (i === at ? doc(rng, existing) : "")).join(sep);
}

function deepYaml(rng: Rng, existing: readonly string[]): string {
  const n = depth(rng);
  return rng.pick([
    () => doc(rng, existing, { labels: deepJson(rng, n) }),
    () => doc(rng, existing, { extra: [`deep: ${"- ".repeat(Math.min(n, 60_000))}x`] }),
    () => `${"- ".repeat(Math.min(n, 60_000))}x\n`,
    () => {
      const m = Math.min(n, 600);
      return doc(rng, existing, { extra: Array.from({ length: m }, (_, i) => `${"  ".repeat(i)}a${i}:`).concat(`${"  ".repeat(m)}x`) });
    },
  ])();
}

const HUGE = [
  "1e400",
  "-1e400",
  "99999999999999999999999",
  "0x7FFFFFFFFFFFFFFF",
  "0xFFFFFFFFFFFFFFFFFF",
  "-0",
  "0o777777777777777777777",
  "1_000_000",
  "+.inf",
  ".nan",
  ".NaN",
  "-.Inf",
  "0b1",
  "080",
  "6_5_5_3_6",
  "65536",
  "4294967376",
];

function hugeNumbers(rng: Rng, existing: readonly string[]): string {
  const v = rng.pick(HUGE);
  return rng.pick([
    () => `apiVersion: v1\nkind: Pod\nmetadata: {name: huge!, namespace: ${rng.pick(existing)}}\nspec:\n  containers:\n    - name: c\n      ports: [{containerPort: ${v}}]\n`,
    () =>
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: huge!, namespace: ${rng.pick(existing)}}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: ${v}, endPort: ${rng.pick(HUGE)}}]}]\n`,
    () => doc(rng, existing, { labels: `{app: ${v}}` }),
    () => doc(rng, existing, { name: v, labels: "{app: fuzz, bad!: x}" }),
  ])();
}

function oddLines(rng: Rng, existing: readonly string[]): string {
  const d = doc(rng, existing);
  return rng.pick([
    () => d.replaceAll("\n", "\r\n"),
    () => d.replaceAll("\n", "\r"),
    () => d.replaceAll("  ", "\t"),
    () => d.replace("metadata:\n  ", "metadata:\n   "),
    () => `\ufeff${d}`,
    () => `${d}\u0000`,
    () => d.replace("kind", "ki\u0000nd"),
    () => `${d}${"  ".repeat(rng.int(1, 5))}stray: [\n`,
    () => `${d}? [complex, key]\n: value\n`,
    () => `${d}metadata: {name: again!}\n`,
    () => d.replace("labels:", "labels: &l").concat("other: *l\n"),
  ])();
}

/** Megabytes in one value: a label, the name, an annotation, a comment. */
function megabytes(rng: Rng, existing: readonly string[]): string {
  const big = longText(rng, 1_500_000);
  return rng.pick([
    () => doc(rng, existing, { labels: `{app: ${str(big)}}` }),
    () => doc(rng, existing, { name: str(`${big}!`) }),
    () => doc(rng, existing, { extra: [`extra: ${str(big)}`] }),
    () => `# ${big.replace(/[\r\n]/g, " ")}\n${doc(rng, existing)}`,
    () => doc(rng, existing, { labels: `{${str(big.slice(0, 300_000))}: x}` }),
  ])();
}

export function yamlBody(rng: Rng, existing: readonly string[]): ManifestBody {
  const [tag, make] = rng.weighted<readonly [string, () => string]>([
    [3, ["yaml:alias-bomb", () => aliasBomb(rng, existing)]],
    [3, ["yaml:cyclic-alias", () => cyclicAlias(rng, existing)]],
    [2, ["yaml:unresolved-alias", () => unresolvedAlias(rng, existing)]],
    [2, ["yaml:tag", () => tagged(rng, existing)]],
    [1, ["yaml:directive", () => directives(rng, existing)]],
    [1, ["yaml:many-documents", () => manyDocuments(rng, existing)]],
    [2, ["yaml:deep", () => deepYaml(rng, existing)]],
    [2, ["yaml:huge-number", () => hugeNumbers(rng, existing)]],
    [2, ["yaml:odd-lines", () => oddLines(rng, existing)]],
    [1, ["yaml:megabyte", () => megabytes(rng, existing)]],
    [2, ["yaml:poisoned", () => doc(rng, existing, { labels: rng.bool() ? `{app: ${str(oddText(rng, 30))}}` : "{app: fuzz}" })]],
  ]);
  return { text: make(), tag };
}
