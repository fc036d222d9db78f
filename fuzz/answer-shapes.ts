/**
 * What a successful answer's body must hold beyond parsing: the matrix is
 * square over its pods (sorted, each once, only of the namespaces asked), a
 * what-if lists no more cells than asked and counts them right, and a file of
 * the web page is one of the page's own files.
 */
import type { Problem } from "./judge.js";
import type { AnswerShape } from "./requests.js";
import { truncate } from "./strings.js";

/** Text that shows an answer came from a file the page does not have: the checkout's package.json, tsconfig, a system file, a key. */
const FOREIGN = ['"devDependencies"', '"compilerOptions"', "root:x:0:0", "PRIVATE KEY", "[core]\n", "#!/usr/bin/env", '"lockfileVersion"'];
const PAGE_TYPES = ["text/html", "text/css", "text/javascript"];

export function answerProblems(shape: AnswerShape, type: string, text: string): Problem[] {
  switch (shape.kind) {
    case "page":
      return pageProblems(type, text);
    case "matrix":
      return type.startsWith("application/json") ? wrong(matrixProblems(text, shape.namespaces)) : [];
    case "whatif":
      return type.startsWith("application/json") ? wrong(whatIfProblems(text, shape.limit, shape.deleted)) : [];
  }
}

const wrong = (what: string | undefined): Problem[] => (what === undefined ? [] : [{ kind: "answer", detail: what }]);

function pageProblems(type: string, text: string): Problem[] {
  const problems: Problem[] = [];
  if (!PAGE_TYPES.some((t) => type.startsWith(t))) problems.push({ kind: "answer", detail: `a file of the page as ${type || "no content type"}: ${truncate(text, 120)}` });
  const foreign = FOREIGN.find((f) => text.includes(f));
  if (foreign !== undefined) problems.push({ kind: "answer", detail: `a file of the page holds ${JSON.stringify(foreign)}: another file of the server was sent` });
  return problems;
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** undefined when the matrix is well formed. */
function matrixProblems(text: string, namespaces?: readonly string[]): string | undefined {
  const m = parsed(text);
  if (m === undefined) return `the matrix is not a JSON object: ${truncate(text, 120)}`;
  const groups = m["groups"];
  const heads = Array.isArray(groups) ? groups : m["pods"];
  if (!Array.isArray(heads) || !(Array.isArray(groups) ? groups.every(isStrings) && groups.every((g) => g.length > 0) : isStrings(heads))) {
    return `the matrix names its ${Array.isArray(groups) ? "groups" : "pods"} wrongly: ${truncate(text, 120)}`;
  }
  const pods = (Array.isArray(groups) ? groups.flat() : heads) as string[];
  if (new Set(pods).size !== pods.length) return `a pod is named twice: ${truncate(JSON.stringify(pods), 160)}`;
  const outside = namespaces && pods.find((p) => !namespaces.includes(p.slice(0, p.indexOf("/"))));
  if (outside) return `pod ${outside} is not of the namespaces asked (${truncate(namespaces!.join(","), 80)})`;
  const sorted = Array.isArray(groups) ? [] : [...pods].sort(byNamespaceThenName);
  if (sorted.some((p, i) => p !== pods[i])) return `the pods are not sorted by namespace, then name: ${truncate(JSON.stringify(pods), 160)}`;
  const rows = m["allowed"];
  if (!Array.isArray(rows) || rows.length !== heads.length)
    return `${Array.isArray(rows) ? rows.length : "no"} rows for ${heads.length} ${Array.isArray(groups) ? "groups" : "pods"}`;
  const bad = rows.findIndex((r) => !Array.isArray(r) || r.length !== heads.length || !r.every((c) => typeof c === "boolean"));
  if (bad >= 0) return `row ${bad} is not ${heads.length} booleans: ${truncate(JSON.stringify(rows[bad]), 120)}`;
  return undefined;
}

function byNamespaceThenName(a: string, b: string): number {
  const [an = "", bn = ""] = [a.slice(0, a.indexOf("/")), b.slice(0, b.indexOf("/"))];
  return an < bn ? -1 : an > bn ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** undefined when the what-if answer is well formed. */
function whatIfProblems(text: string, limit: number | undefined, deleted: number): string | undefined {
  const w = parsed(text);
  if (w === undefined) return `the what-if answer is not a JSON object: ${truncate(text, 120)}`;
  const cells = w["cells"];
  const count = w["cellsChanged"];
  if (!Array.isArray(cells) || typeof count !== "number") return `no cells or no count: ${truncate(text, 160)}`;
  if (limit !== undefined && cells.length > limit) return `${cells.length} cells listed, more than the limit of ${limit} asked`;
  if (cells.length > count) return `${cells.length} cells listed of ${count} changed`;
  if (w["truncated"] !== count > cells.length) return `truncated is ${String(w["truncated"])} with ${cells.length} of ${count} cells listed`;
  const d = w["deleted"];
  if (!isStrings(d) || d.length !== deleted) return `deleted lists ${isStrings(d) ? d.length : "no"} objects, ${deleted} asked: ${truncate(JSON.stringify(d), 120)}`;
  if (!Array.isArray(w["nodes"]) || !isStrings(w["applied"]) || !isStrings(w["ports"])) return `nodes, applied or ports missing: ${truncate(text, 160)}`;
  return undefined;
}
