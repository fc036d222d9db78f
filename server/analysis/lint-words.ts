/** How the linter words counts and lists, and the order it names pods in. */
import type { Pod } from "../model/types.js";

/** "1 pod", "2 pods" */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** "a, b, c and 2 more" */
export function list(names: readonly string[], most = 3): string {
  return names.length <= most ? names.join(", ") : `${names.slice(0, most).join(", ")} and ${names.length - most} more`;
}

export function byKey(a: Pod, b: Pod): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
