/**
 * An inverted index of labels: key → value → objects. Resolving a selector
 * starts from the smallest posting list its requirements name, instead of
 * scanning every object.
 */
import type { Labels } from "./types.js";

export class LabelIndex<T> {
  private readonly byKey = new Map<string, Map<string, Set<T>>>();
  readonly all = new Set<T>();

  add(item: T, labels: Labels): void {
    this.all.add(item);
    for (const [k, v] of Object.entries(labels)) {
      let values = this.byKey.get(k);
      if (!values) this.byKey.set(k, (values = new Map()));
      let set = values.get(v);
      if (!set) values.set(v, (set = new Set()));
      set.add(item);
    }
  }

  remove(item: T, labels: Labels): void {
    this.all.delete(item);
    for (const [k, v] of Object.entries(labels)) {
      const values = this.byKey.get(k);
      const set = values?.get(v);
      if (!values || !set) continue;
      set.delete(item);
      if (set.size === 0) values.delete(v);
      if (values.size === 0) this.byKey.delete(k);
    }
  }

  /** Objects whose label `key` has one of `values`. */
  withValues(key: string, values: readonly string[]): T[] {
    const byValue = this.byKey.get(key);
    if (!byValue) return [];
    const out: T[] = [];
    for (const v of values) for (const item of byValue.get(v) ?? []) out.push(item);
    return out;
  }

  /** Objects that have label `key`, whatever its value. */
  withKey(key: string): T[] {
    const out: T[] = [];
    for (const set of this.byKey.get(key)?.values() ?? []) for (const item of set) out.push(item);
    return out;
  }

  get size(): number {
    return this.all.size;
  }
}
