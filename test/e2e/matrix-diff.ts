/**
 * Truth tables as text, in the notation of upstream's e2e tests and cyclonus:
 * rows are sources, columns destinations, `.` allowed and `X` denied. A diff
 * shows the observed table with every cell that disagrees with the expected
 * one in brackets, then lists those cells one per line.
 */
import type { Reachability } from "./reachability.js";

/** What the server answered: allowed per (from, to). */
export type Observed = ReadonlyMap<string, boolean>;

export function cellKey(from: string, to: string): string {
  return `${from} -> ${to}`;
}

const mark = (allowed: boolean): string => (allowed ? "." : "X");

function grid(pods: readonly string[], cell: (from: string, to: string) => string): string {
  const width = Math.max(5, ...pods.map((p) => p.length + 2));
  const pad = (s: string) => s.padStart(Math.ceil((width + s.length) / 2)).padEnd(width);
  const head = `${"".padEnd(width)}|${pods.map(pad).join("")}`;
  const rows = pods.map((f) => `${f.padEnd(width)}|${pods.map((t) => pad(cell(f, t))).join("")}`);
  return [head, "-".repeat(head.length), ...rows].join("\n");
}

/** The expected table alone. */
export function renderExpected(r: Reachability): string {
  return grid(r.pods, (f, t) => mark(r.get(f, t)));
}

/** Differing cells listed in words; the grid shows them all. */
const MAX_LISTED = 20;

export interface Mismatch {
  readonly from: string;
  readonly to: string;
  readonly expected: boolean;
  readonly observed: boolean | undefined;
}

export function mismatches(expected: Reachability, observed: Observed): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [from, to] of expected.pairs()) {
    const o = observed.get(cellKey(from, to));
    const e = expected.get(from, to);
    if (o !== e) out.push({ from, to, expected: e, observed: o });
  }
  return out;
}

/**
 * A readable failure: the expected table, the observed table with the
 * differing cells in brackets, and the differing cells in words.
 */
export function renderDiff(title: string, expected: Reachability, observed: Observed): string {
  const bad = mismatches(expected, observed);
  const differs = new Set(bad.map((m) => cellKey(m.from, m.to)));
  const observedGrid = grid(expected.pods, (f, t) => {
    const o = observed.get(cellKey(f, t));
    const text = o === undefined ? "?" : mark(o);
    return differs.has(cellKey(f, t)) ? `[${text}]` : text;
  });
  const words = bad
    .slice(0, MAX_LISTED)
    .map((m) => `  ${cellKey(m.from, m.to)}: expected ${m.expected ? "allowed" : "denied"}, observed ${m.observed === undefined ? "nothing" : m.observed ? "allowed" : "denied"}`);
  if (bad.length > MAX_LISTED) words.push(`  ... and ${bad.length - MAX_LISTED} more (see the grid)`);
  const want = expected.counts();
  let observedAllowed = 0;
  for (const [f, t] of expected.pairs()) if (observed.get(cellKey(f, t)) === true) observedAllowed++;
  return [
    `${title}: ${bad.length} of ${expected.pods.length ** 2} cells differ (rows: from, columns: to; . allowed, X denied)`,
    `expected ${want.allowed} allowed and ${want.denied} denied; observed ${observedAllowed} allowed`,
    "expected:",
    renderExpected(expected),
    "observed ([ ] differs from expected):",
    observedGrid,
    "differing cells:",
    ...words,
  ].join("\n");
}
