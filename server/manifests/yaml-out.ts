/**
 * Manifests written as YAML that kubectl reads back to the same value.
 *
 * kubectl reads YAML 1.1 (go-yaml v2 through sigs.k8s.io/yaml), where an
 * unquoted `yes`, `on`, `y`, `~`, `1.0` or `0777` is not a string. A string is
 * written plain only when go-yaml v2 would read the plain text back as that
 * string; every other string is double-quoted. Like go-yaml v2's own encoder,
 * this also quotes what looks like a timestamp or a base 60 number ("still
 * quoted on the way out for compatibility with other parser"). Block style,
 * sequences not indented under their key, as `kubectl get -o yaml` writes them.
 */
import { resolvePlain } from "./parse.js";

/** One YAML document for a JSON-like value (objects, arrays, strings, numbers, booleans, null). */
export function stringifyManifests(value: unknown): string {
  return `${isBlock(value) ? lines(value, "").join("\n") : inline(value)}\n`;
}

type Block = readonly unknown[] | Readonly<Record<string, unknown>>;

function isBlock(v: unknown): v is Block {
  if (Array.isArray(v)) return v.length > 0;
  return typeof v === "object" && v !== null && entries(v).length > 0;
}

/** Entries as JSON.stringify keeps them: undefined values are left out. */
function entries(o: object): [string, unknown][] {
  return Object.entries(o).filter(([, v]) => v !== undefined);
}

function lines(v: Block, indent: string): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((item: unknown) => {
      if (!isBlock(item)) return [`${indent}- ${inline(item)}`];
      const inner = lines(item, `${indent}  `);
      return [`${indent}- ${inner[0]!.slice(indent.length + 2)}`, ...inner.slice(1)];
    });
  }
  return entries(v).flatMap(([k, x]) => {
    const key = scalarString(k);
    // An implicit key is at most 1024 characters; a longer one is written as an explicit "? " key.
    const head = key.length > 1000 ? [`${indent}? ${key}`, `${indent}:`] : [`${indent}${key}:`];
    const last = head.length - 1;
    if (!isBlock(x)) return [...head.slice(0, last), `${head[last]} ${inline(x)}`];
    return [...head, ...lines(x, Array.isArray(x) && last === 0 ? indent : `${indent}  `)];
  });
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return scalarString(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".nan";
    if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
    // "1.0e+21", not "1e+21": other YAML 1.1 readers want a point in a float.
    return String(v).replace(/^(-?[0-9]+)e/, "$1.0e");
  }
  if (typeof v === "bigint") return v.toString();
  return Array.isArray(v) ? "[]" : "{}";
}

/** Characters plain text may hold here: no indicator, quote, space, comma, bracket or '#'. */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./@+=:~-]*$/;
/** yaml.org/type/timestamp.html, as far as a quote is concerned. */
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ]|$)/;
/** go-yaml v2's base60float. */
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
/** Not printable in YAML, or a line break in YAML 1.1 (NEL, LS, PS): escaped in quotes. */
const ESCAPE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function scalarString(s: string): string {
  const plain = PLAIN.test(s) && !s.endsWith(":") && resolvePlain(s) === s && !TIMESTAMP.test(s) && !BASE60.test(s);
  if (plain) return s;
  return JSON.stringify(s).replace(ESCAPE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
