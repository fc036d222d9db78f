/**
 * The table the page shows, made from a grouped matrix: each group of pods
 * with identical rows and columns is one row and one column, or, once
 * expanded, one per pod. Every cell between two pods is known from the
 * groups alone: pods of different groups take their groups' cell, two pods of
 * one group take its diagonal, and a pod reaching itself is always allowed.
 */
import type { CellChange, GroupMatrix } from "./api.js";

/** One row (as a source) and one column (as a destination). */
export interface Unit {
  readonly group: number;
  /** All the group's pods when collapsed; one pod when expanded. */
  readonly pods: readonly string[];
  /** Pods in the whole group. */
  readonly size: number;
  readonly expanded: boolean;
  /** The first pod of an expanded group (where it collapses again). */
  readonly first: boolean;
}

/** A cell: its verdict, and the pair it stands for and that a click explains. */
export interface Cell {
  readonly allowed: boolean;
  readonly src: string;
  readonly dst: string;
  /** Ordered pairs of distinct pods the cell holds (a pod with itself is not counted). */
  readonly pairs: number;
}

export class Grid {
  readonly units: readonly Unit[];
  /** Units whose pods contain the filter text; the table shows at most `limit` of them. */
  readonly shown: readonly Unit[];
  readonly matching: number;
  private readonly unitOf = new Map<string, Unit>();

  constructor(
    readonly matrix: GroupMatrix,
    expanded: (key: string) => boolean,
    filter: string,
    limit: number,
  ) {
    const units: Unit[] = [];
    matrix.groups.forEach((pods, group) => {
      const open = pods.length > 1 && expanded(groupKey(pods));
      if (open) for (const [i, p] of pods.entries()) units.push({ group, pods: [p], size: pods.length, expanded: true, first: i === 0 });
      else units.push({ group, pods, size: pods.length, expanded: false, first: true });
    });
    this.units = units;
    for (const u of units) for (const p of u.pods) this.unitOf.set(p, u);
    const f = filter.trim().toLowerCase();
    const matching = f === "" ? units : units.filter((u) => u.pods.some((p) => p.toLowerCase().includes(f)));
    this.matching = matching.length;
    this.shown = matching.slice(0, limit);
  }

  get pods(): number {
    return this.units.reduce((n, u) => n + u.pods.length, 0);
  }

  cell(row: Unit, col: Unit): Cell {
    const src = row.pods[0]!;
    const same = row === col;
    // A cell on a collapsed group's diagonal stands for two different pods of it.
    const dst = same && col.pods.length > 1 ? col.pods[1]! : col.pods[0]!;
    const allowed = src === dst ? true : (this.matrix.allowed[row.group]?.[col.group] ?? false);
    const pairs = row.pods.length * col.pods.length - (same ? row.pods.length : 0);
    return { allowed, src, dst, pairs };
  }

  /** The unit a pod is in; undefined for a pod this matrix does not hold (filtered out, or one a what-if adds). */
  unit(pod: string): Unit | undefined {
    return this.unitOf.get(pod);
  }

  /** The changes of a what-if by the cell (row unit, column unit) that holds each pair; the rest, in no cell. */
  place(changes: readonly CellChange[]): { cells: Map<Unit, Map<Unit, CellChange[]>>; outside: CellChange[] } {
    const cells = new Map<Unit, Map<Unit, CellChange[]>>();
    const outside: CellChange[] = [];
    for (const c of changes) {
      const row = this.unit(c.src);
      const col = this.unit(c.dst);
      if (row === undefined || col === undefined) {
        outside.push(c);
        continue;
      }
      let byCol = cells.get(row);
      if (byCol === undefined) cells.set(row, (byCol = new Map()));
      const list = byCol.get(col);
      if (list === undefined) byCol.set(col, [c]);
      else list.push(c);
    }
    return { cells, outside };
  }
}

/** A group's identity across reloads (another port may group pods otherwise): its first pod. */
export function groupKey(pods: readonly string[]): string {
  return pods[0] ?? "";
}

export function namespaceOf(pod: string): string {
  return pod.slice(0, pod.indexOf("/"));
}
