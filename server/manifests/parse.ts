/**
 * Manifest text as kubectl takes it: YAML with one or many documents, or JSON;
 * single objects or `kind: List` with `items`.
 *
 * kubectl turns YAML into JSON with sigs.k8s.io/yaml, which reads it with
 * go-yaml v2: YAML 1.1, where `yes`, `on` and `y` are booleans and `0777` is
 * octal. The scalar rules below are go-yaml v2's resolve(), so a manifest means
 * here what it means to kubectl.
 */
import { type ScalarTag, parseAllDocuments } from "yaml";

export class ManifestSyntaxError extends Error {}

/** Every object in the text, Lists flattened, in order. Throws ManifestSyntaxError. */
export function parseManifests(text: string): unknown[] {
  // JSON is YAML too, but JSON.parse reads a large dump many times faster.
  if (/^\s*[[{]/.test(text)) {
    try {
      const out: unknown[] = [];
      flatten(JSON.parse(text), out);
      return out;
    } catch {
      // not JSON after all (a YAML flow mapping, say): read it as YAML below
    }
  }
  const docs = parseAllDocuments(text, KUBECTL_YAML);
  const out: unknown[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const err = doc.errors[0];
    if (err) throw new ManifestSyntaxError(`document ${i + 1}: ${err.message.split("\n")[0]}`);
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    const bad = nonFinite(value);
    // sigs.k8s.io/yaml hands the value to encoding/json, which refuses these.
    if (bad !== undefined) throw new ManifestSyntaxError(`document ${i + 1}: json: unsupported value: ${bad}`);
    flatten(value, out);
  }
  return out;
}

/** go-yaml v2's resolveMap: the plain scalars that are not strings by their spelling alone. */
const SPELLED = new Map<string, unknown>([
  ...["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"].map((s) => [s, true] as const),
  ...["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"].map((s) => [s, false] as const),
  ...["", "~", "null", "Null", "NULL"].map((s) => [s, null] as const),
  ...[".nan", ".NaN", ".NAN"].map((s) => [s, Number.NaN] as const),
  ...[".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"].map((s) => [s, Number.POSITIVE_INFINITY] as const),
  ...["-.inf", "-.Inf", "-.INF"].map((s) => [s, Number.NEGATIVE_INFINITY] as const),
]);

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): a sign, then 0x, 0o, 0b, 0 (octal) or decimal digits. */
function goParseInt(s: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2]!;
  const magnitude = /^0[0-7]/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits.toLowerCase());
  const n = m[1] === "-" ? -magnitude : magnitude;
  // int64, or (no sign) uint64; anything wider fails both.
  const fits = n >= -(2n ** 63n) && (n < 2n ** 63n || (m[1] === "" && n < 2n ** 64n));
  return fits ? Number(n) : undefined;
}

/**
 * The value go-yaml v2 gives an untagged plain scalar, as sigs.k8s.io/yaml
 * passes it on: a boolean, null, a number, or the text itself. Timestamps
 * stay text ("for backward compatibility reasons we set it as a string");
 * base 60 numbers are "purposefully unsupported".
 */
export function resolvePlain(s: string): unknown {
  if (SPELLED.has(s)) return SPELLED.get(s);
  const c = s[0] ?? "";
  if (c === ".") return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) ? Number(s) : s;
  if (!/[-+0-9]/.test(c)) return s;
  const plain = s.replaceAll("_", "");
  const int = goParseInt(plain);
  if (int !== undefined) return int;
  // ParseFloat fails out of range ("1e400"), and the text stays a string.
  if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) return Number(plain);
  return s;
}

/**
 * One tag resolves every plain scalar that could be other than a string (its
 * first character is one go-yaml v2 looks up); the others name the explicit
 * `!!bool`, `!!int`, `!!float` and `!!null` tags.
 */
const KUBECTL_TAGS: ScalarTag[] = [
  { tag: "tag:yaml.org,2002:null", default: true, test: /^(?:[-+.0-9~yYnNtTfFoO]|$)/, resolve: resolvePlain },
  ...["bool", "int", "float"].map((t): ScalarTag => ({ tag: `tag:yaml.org,2002:${t}`, resolve: resolvePlain })),
];

const KUBECTL_YAML = { version: "1.1", schema: "failsafe", customTags: KUBECTL_TAGS, merge: true, uniqueKeys: false } as const;

/** The first NaN or ±Inf in the value, as Go prints it. */
function nonFinite(v: unknown): string | undefined {
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : Number.isFinite(v) ? undefined : v > 0 ? "+Inf" : "-Inf";
  if (typeof v !== "object" || v === null) return undefined;
  for (const x of Object.values(v)) {
    const bad = nonFinite(x);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Flattens `kind: List` (and kubectl's `PodList`, ...) into its items. */
export function flatten(value: unknown, out: unknown[]): void {
  if (value === null || value === undefined) return;
  if (isList(value)) {
    for (const item of value.items) flatten(item, out);
    return;
  }
  out.push(value);
}

function isList(v: unknown): v is { items: unknown[] } {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o["kind"] === "string" && o["kind"].endsWith("List") && Array.isArray(o["items"]);
}
