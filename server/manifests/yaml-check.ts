/**
 * A composed YAML document, checked before it becomes a value: the limits of
 * what one document may ask, and the keys it gives twice.
 *
 * go-yaml, which kubectl and the API server read YAML with, refuses an alias
 * of an anchor not yet seen ("unknown anchor 'x' referenced"), an alias inside
 * the node it names ("anchor 'x' value contains itself"), and a document that
 * expands mostly through aliases ("document contains excessive aliasing", the
 * billion laughs). Here the same three, in the same words, and a bound on the
 * nodes aliases repeat and on nesting, counted as the aliases expand.
 */
import { type Document, type Node, isAlias, isMap, isPair, isScalar, isSeq } from "yaml";
import type { ManifestLimits } from "./limits.js";

/** A step of a path into a value: a key of a mapping, or an index of a sequence. */
export type Segment = string | number;

/** Why a document cannot be read, and the offset in the text that shows it. */
export class YamlLimitError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

interface Measure {
  /** Nodes, as the value would hold them once every alias is expanded. */
  readonly size: number;
  /** Levels of mappings and sequences, expanded likewise. */
  readonly height: number;
}

const SCALAR: Measure = { size: 1, height: 0 };

/**
 * Walks the document once, in the order anchors are defined in. Returns the
 * paths of keys given twice in one mapping (the merge key `<<` aside, as YAML
 * 1.1 merges are not duplicates). Throws YamlLimitError.
 */
export function checkYamlDocument(doc: Document, limits: Pick<ManifestLimits, "maxDepth" | "maxAliasNodes">): Segment[][] {
  const anchors = new Map<string, Node>();
  /** Nodes whose walk is done, measured: what an alias of them expands to. */
  const measured = new Map<Node, Measure>();
  const open = new Set<Node>();
  const path: Segment[] = [];
  const duplicates: Segment[][] = [];
  let aliasNodes = 0;

  const walk = (node: unknown, depth: number): Measure => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const at = node.range?.[0] ?? 0;
      if (!target) throw new YamlLimitError(`unknown anchor '${node.source}' referenced`, at);
      if (open.has(target)) throw new YamlLimitError(`anchor '${node.source}' value contains itself`, at);
      const m = measured.get(target) ?? SCALAR;
      aliasNodes += m.size;
      if (aliasNodes > limits.maxAliasNodes) {
        throw new YamlLimitError(`document contains excessive aliasing: aliases repeat more than ${limits.maxAliasNodes} nodes`, at);
      }
      if (depth + m.height > limits.maxDepth) throw new YamlLimitError(`exceeded max depth of ${limits.maxDepth}`, at);
      return m;
    }
    if (!isMap(node) && !isSeq(node)) {
      if (isScalar(node) && node.anchor) {
        anchors.set(node.anchor, node);
        measured.set(node, SCALAR);
      }
      return SCALAR;
    }
    if (depth + 1 > limits.maxDepth) throw new YamlLimitError(`exceeded max depth of ${limits.maxDepth}`, node.range?.[0] ?? 0);
    if (node.anchor) anchors.set(node.anchor, node);
    open.add(node);
    let size = 1;
    let height = 0;
    const add = (m: Measure) => {
      size += m.size;
      height = Math.max(height, m.height);
    };
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        path.push(i);
        add(walk(item, depth + 1));
        path.pop();
      });
    } else {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        add(walk(pair.key, depth + 1));
        const key = scalarKey(pair.key);
        if (key !== undefined && key !== "<<") {
          if (seen.has(key)) duplicates.push([...path, key]);
          seen.add(key);
        }
        path.push(key ?? "?");
        add(walk(pair.value, depth + 1));
        path.pop();
      }
    }
    open.delete(node);
    const m: Measure = { size, height: height + 1 };
    measured.set(node, m);
    return m;
  };

  walk(doc.contents, 0);
  return duplicates;
}

/** The key a scalar becomes in the value, as the yaml library turns it into a property name. */
function scalarKey(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const v = key.value;
  return v === null || v === undefined ? "" : typeof v === "object" || typeof v === "symbol" ? undefined : String(v);
}
