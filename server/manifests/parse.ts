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
import { scanJson } from "./json-scan.js";
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from "./limits.js";
import { type Segment, YamlLimitError, checkYamlDocument } from "./yaml-check.js";

export class ManifestSyntaxError extends Error {}

/** Text larger than the reader takes: the request is too large, not malformed. */
export class ManifestTooLargeError extends Error {}

export type ParseLimits = Pick<ManifestLimits, "maxDepth" | "maxAliasNodes" | "maxYamlBytes">;

/**
 * Every object in the text, Lists flattened, in order. Throws
 * ManifestSyntaxError (or ManifestTooLargeError). The keys an object gives
 * twice are remembered for duplicateFields: JSON.parse and YAML keep the last,
 * and only a kind the API server decodes makes them an error.
 */
export function parseManifests(text: string, limits: ParseLimits = DEFAULT_MANIFEST_LIMITS): unknown[] {
  const out: unknown[] = [];
  eachDocument(text, limits, (value, duplicates) => flatten(value, out, duplicates));
  return out;
}

/** The one value of a JSON or YAML text (a request body), within the same limits. Throws ManifestSyntaxError or ManifestTooLargeError. */
export function parseDocument(text: string, limits: ParseLimits = DEFAULT_MANIFEST_LIMITS): unknown {
  const found: unknown[] = [];
  eachDocument(text, limits, (value) => found.push(value));
  if (found.length > 1) throw new ManifestSyntaxError(`expected one document, found ${found.length}`);
  return found[0] ?? null;
}

/** Each document's value, with the paths of the keys it gives twice. */
function eachDocument(text: string, limits: ParseLimits, fn: (value: unknown, duplicates: Segment[][]) => void): void {
  // JSON is YAML too, but JSON.parse reads a large dump many times faster.
  if (/^\s*[[{]/.test(text)) {
    const json = parseJson(text);
    if (json.ok) {
      const scan = scanJson(text, limits.maxDepth);
      if (scan.tooDeep !== undefined) {
        throw new ManifestSyntaxError(`document 1: exceeded max depth of ${limits.maxDepth} at ${position(text, scan.tooDeep)}`);
      }
      fn(json.value, scan.duplicates);
      return;
    }
    // not JSON after all (a YAML flow mapping, say): read it as YAML below
  }
  if (text.length > limits.maxYamlBytes || Buffer.byteLength(text) > limits.maxYamlBytes) {
    throw new ManifestTooLargeError(`YAML manifests of ${Buffer.byteLength(text)} bytes are more than the ${limits.maxYamlBytes} read as YAML: send them as JSON`);
  }
  const docs = parseAllDocuments(text, KUBECTL_YAML);
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const err = doc.errors[0];
    if (err) throw new ManifestSyntaxError(`document ${i + 1}: ${yamlError(err.message, limits)}`);
    let duplicates: Segment[][];
    try {
      duplicates = checkYamlDocument(doc, limits);
    } catch (e) {
      if (e instanceof YamlLimitError) throw new ManifestSyntaxError(`document ${i + 1}: ${e.message} at ${position(text, e.offset)}`);
      throw e;
    }
    // Every alias was counted above: the library's own count would refuse fewer.
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    const bad = nonFinite(value);
    // sigs.k8s.io/yaml hands the value to encoding/json, which refuses these.
    if (bad !== undefined) throw new ManifestSyntaxError(`document ${i + 1}: json: unsupported value: ${bad}`);
    if (value !== null && value !== undefined) fn(value, duplicates);
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * The first line of a YAML error. The library composes nested nodes
 * recursively and reports the stack it runs out of, hundreds of levels below
 * the limit (where it ran out says nothing): that is nesting too deep.
 */
function yamlError(message: string, limits: ParseLimits): string {
  if (message.startsWith("Maximum call stack size exceeded")) return `exceeded max depth of ${limits.maxDepth}`;
  return message.split("\n")[0] ?? "";
}

/** "line 3, column 7" of an offset in the text, as the yaml library says it. */
function position(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0 && nl < offset; nl = text.indexOf("\n", nl + 1)) {
    line++;
    start = nl + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
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

/** Keys given twice, by the object that gives them. */
const DUPLICATES = new WeakMap<object, readonly string[]>();

/** The fields an object parsed from text gives twice, as paths (`metadata.name`, `spec.ports[0].port`). */
export function duplicateFields(value: unknown): readonly string[] {
  return (typeof value === "object" && value !== null && DUPLICATES.get(value)) || [];
}

/**
 * Flattens `kind: List` (and kubectl's `PodList`, ...) into its items; each
 * item keeps the duplicate keys found under it, as paths from the item.
 */
export function flatten(value: unknown, out: unknown[], duplicates: readonly Segment[][] = []): void {
  if (value === null || value === undefined) return;
  if (isList(value)) {
    const byItem = new Map<number, Segment[][]>();
    for (const d of duplicates) {
      const i = d[1];
      if (d[0] !== "items" || typeof i !== "number" || d.length < 3) continue;
      let list = byItem.get(i);
      if (!list) byItem.set(i, (list = []));
      list.push(d.slice(2));
    }
    value.items.forEach((item, i) => {
      flatten(item, out, byItem.get(i));
    });
    return;
  }
  if (duplicates.length > 0 && typeof value === "object") DUPLICATES.set(value, [...new Set(duplicates.map(fieldPath))]);
  out.push(value);
}

/** `spec.containers[0].ports[1].name`: the JSON field path Kubernetes names a field by. */
export function fieldPath(segments: readonly Segment[]): string {
  let s = "";
  for (const seg of segments) s += typeof seg === "number" ? `[${seg}]` : s === "" ? seg : `.${seg}`;
  return s;
}

function isList(v: unknown): v is { items: unknown[] } {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o["kind"] === "string" && o["kind"].endsWith("List") && Array.isArray(o["items"]);
}
