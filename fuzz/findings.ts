/** Failures as found, grouped by cause, printed and written to findings.json. */
import { writeFileSync } from "node:fs";
import type { ProblemKind } from "./judge.js";
import { type FuzzRequest, describe, sizeOf } from "./requests.js";
import { truncate } from "./strings.js";

export interface Finding {
  readonly seed: number;
  readonly index: number;
  readonly kind: ProblemKind;
  /** The route or gRPC method. */
  readonly target: string;
  /** The kind of input. */
  readonly tag: string;
  readonly detail: string;
  readonly request: string;
  readonly size: number;
  readonly ms?: number;
  readonly reproduce: string;
}

export function finding(seed: number, index: number, r: FuzzRequest, kind: ProblemKind, detail: string, ms?: number): Finding {
  return {
    seed,
    index,
    kind,
    target: r.target,
    tag: r.tag,
    detail,
    request: describe(r),
    size: sizeOf(r),
    ...(ms !== undefined ? { ms: Math.round(ms) } : {}),
    reproduce: `npm run fuzz -- --seed ${seed} --index ${index}`,
  };
}

export function formatFinding(f: Finding): string {
  return `FAIL seed=${f.seed} index=${f.index} [${f.kind}] ${f.target} (${f.tag}): ${f.detail}\n  request: ${truncate(f.request, 400)}\n  reproduce: ${f.reproduce}`;
}

/**
 * The cause a detail names, without what varies from input to input: cut at
 * the first echoed value (a quote), list (";") or aside (" ("), keeping two
 * "a: b" levels; numbers but HTTP statuses taken out.
 */
function normalized(detail: string): string {
  return detail
    .split(/["';]|\s\(/)[0]!
    .split(": ")
    .slice(0, 2)
    .join(": ")
    .replace(/\b(?![1-5]\d\d\b)\d+(\.\d+)?/g, "N")
    .trim()
    .slice(0, 90);
}

export interface Cause {
  readonly key: string;
  readonly kind: ProblemKind;
  readonly target: string;
  readonly detail: string;
  readonly count: number;
  readonly tags: string[];
  /** The smallest input that showed it. */
  readonly smallest: Finding;
}

export function causes(findings: readonly Finding[]): Cause[] {
  const by = new Map<string, { kind: ProblemKind; target: string; detail: string; count: number; tags: Set<string>; smallest: Finding }>();
  for (const f of findings) {
    const key = `${f.kind} | ${f.target} | ${normalized(f.detail)}`;
    const c = by.get(key);
    if (!c) by.set(key, { kind: f.kind, target: f.target, detail: normalized(f.detail), count: 1, tags: new Set([f.tag]), smallest: f });
    else {
      c.count++;
      c.tags.add(f.tag);
      if (f.size < c.smallest.size) c.smallest = f;
    }
  }
  return [...by.entries()]
    .map(([key, c]) => ({ key, kind: c.kind, target: c.target, detail: c.detail, count: c.count, tags: [...c.tags].sort(), smallest: c.smallest }))
    .sort((a, b) => b.count - a.count);
}

export function formatSummary(seed: number, executed: number, ms: number, findings: readonly Finding[]): string {
  const lines = [`fuzz: seed ${seed}, ${executed} inputs in ${(ms / 1000).toFixed(1)} s, ${findings.length} failures`];
  for (const c of causes(findings)) {
    lines.push(`  ${String(c.count).padStart(5)} × [${c.kind}] ${c.target}: ${c.detail}`);
    lines.push(`          inputs: ${c.tags.join(", ")}`);
    lines.push(`          smallest: ${truncate(c.smallest.request, 240)}`);
    lines.push(`          reproduce: ${c.smallest.reproduce}`);
  }
  return lines.join("\n");
}

export function writeFindings(path: string, seed: number, executed: number, ms: number, findings: readonly Finding[]): void {
  const out = { seed, executed, ms: Math.round(ms), failures: findings.length, causes: causes(findings).map((c) => ({ ...c, smallest: c.smallest })), findings };
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
}
