/** Small helpers for the benchmark's figures. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

export function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

/** A figure measured without and with a change (the policy tiers, ...). */
export type Pair<T> = { without: T; with: T };

/**
 * Measures the two conditions in alternating order (without, with; with,
 * without; ...), so that a change in the machine's load hits both alike; every round's pair.
 */
export async function alternated<T>(rounds: number, measure: (c: keyof Pair<T>) => T | Promise<T>): Promise<Pair<T>[]> {
  const pairs: Pair<T>[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      const a = await measure("without");
      pairs.push({ without: a, with: await measure("with") });
    } else {
      const b = await measure("with");
      pairs.push({ without: await measure("without"), with: b });
    }
  }
  return pairs;
}

/** The pair whose ratio (with ÷ without, of `of`) is the median. */
export function medianPair<T>(pairs: readonly Pair<T>[], of: (t: T) => number): Pair<T> {
  return [...pairs].sort((a, b) => of(a.with) / of(a.without) - of(b.with) / of(b.without))[Math.floor(pairs.length / 2)]!;
}
