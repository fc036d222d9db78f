/**
 * Manifest text as kubectl takes it: YAML with one or many documents, or JSON;
 * single objects or `kind: List` with `items`.
 */
import { parseAllDocuments } from "yaml";

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
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const out: unknown[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const err = doc.errors[0];
    if (err) throw new ManifestSyntaxError(`document ${i + 1}: ${err.message.split("\n")[0]}`);
    flatten(doc.toJS({ maxAliasCount: 1000 }), out);
  }
  return out;
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
