/**
 * Manifests read for a write: text parsed within the limits, each object
 * decoded, its errors and warnings trimmed to what an answer lists. The same
 * function runs in the caller's turn for small text and on the reader thread
 * for large text, whose items cross to the caller in batches.
 */
import { type DecodeOptions, type Decoded, decodeObject } from "./decode.js";
import type { ManifestLimits } from "./limits.js";
import { ManifestSyntaxError, parseManifests } from "./parse.js";

export interface ReadOptions {
  readonly decode: DecodeOptions;
  readonly limits: ManifestLimits & { readonly maxErrors: number };
}

/** One object read. Errors and warnings past the limits are counted, not kept. */
export interface ReadItem {
  readonly decoded: Decoded;
  readonly moreErrors: number;
  readonly moreWarnings: number;
}

/** Text, or values already parsed (checked alike), read into items in order. Throws ManifestSyntaxError or ManifestTooLargeError. */
export function readItems(source: string | readonly unknown[], opts: ReadOptions): ReadItem[] {
  if (typeof source !== "string") checkValues(source, opts.limits.maxDepth);
  const raws = typeof source === "string" ? parseManifests(source, opts.limits) : source;
  return raws.map((raw) => trim(decodeObject(raw, opts.decode), opts.limits));
}

function trim(d: Decoded, limits: ReadOptions["limits"]): ReadItem {
  if (d.kind === "invalid") {
    const errors = d.errors.slice(0, limits.maxErrors);
    return { decoded: { ...d, errors }, moreErrors: d.errors.length - errors.length, moreWarnings: 0 };
  }
  if (d.kind === "object" && d.warnings.length > limits.maxWarnings) {
    return { decoded: { ...d, warnings: d.warnings.slice(0, limits.maxWarnings) }, moreErrors: 0, moreWarnings: d.warnings.length - limits.maxWarnings };
  }
  return { decoded: d, moreErrors: 0, moreWarnings: 0 };
}

/**
 * Values a caller parsed itself hold to the same limits as text: no deeper
 * than `maxDepth`, and no value inside itself. Walked without recursion.
 */
function checkValues(values: readonly unknown[], maxDepth: number): void {
  const stack: { v: unknown; depth: number; exit?: boolean }[] = values.map((v) => ({ v, depth: 0 }));
  const open = new Set<object>();
  /** The deepest each shared value was checked at: reached again no deeper, it is not walked again. */
  const checked = new Map<object, number>();
  while (stack.length > 0) {
    const { v, depth, exit } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (exit) {
      open.delete(v);
      checked.set(v, Math.max(depth, checked.get(v) ?? 0));
      continue;
    }
    if (open.has(v)) throw new ManifestSyntaxError("a value contains itself");
    if ((checked.get(v) ?? -1) >= depth) continue;
    if (depth + 1 > maxDepth) throw new ManifestSyntaxError(`exceeded max depth of ${maxDepth}`);
    open.add(v);
    stack.push({ v, depth, exit: true });
    for (const x of Object.values(v)) stack.push({ v: x, depth: depth + 1 });
  }
}
