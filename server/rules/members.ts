/**
 * A set's content as the rulesets use it: its members, a hash of them, and
 * the length of its text, kept so that a change of a few members costs a
 * few members, not the set. A big set's members are hashed in buckets (by a
 * hash of the member), so a change rehashes only the buckets it falls in; a
 * set made from another by a change remembers that change, which is then the
 * set's part of a delta.
 */
import { TEMP_SUFFIX, sha256 as sha } from "./names.js";
import type { SetEntry, SetPlan, SetSpec } from "./plan.js";

/** Sets with more members than this hash their members in buckets. */
const BUCKETED = 256;
const BUCKETS = 64;

/** What a set was made from: the members added and deleted since the set whose digest is `from`. */
export interface MemberChange {
  readonly from: string;
  readonly added: readonly SetEntry[];
  readonly removed: readonly string[];
}

const buckets = new WeakMap<SetPlan, { readonly entries: readonly SetEntry[][]; readonly digests: readonly string[] }>();
const changes = new WeakMap<SetPlan, MemberChange>();

/** The text of one member in a whole ruleset's `ipset`, and the bytes of its line. */
function line(e: SetEntry): string {
  return `${e.value}${e.nomatch ? " nomatch" : ""}`;
}

function bucketOf(value: string): number {
  // FNV-1a: cheap, and stable across processes (the digest must be).
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

/** The set's text without members, and what each member adds to it: see render.ts's renderSet. */
function fixedLength(spec: SetSpec): number {
  const create = `create ${spec.name} ${spec.type} family ${spec.family === "ipv4" ? "inet" : "inet6"} maxelem 1048576 -exist\n`;
  const tmp = `${spec.name}${TEMP_SUFFIX}`;
  return `# ${spec.name}: ${spec.about}\n`.length + create.length * 2 + TEMP_SUFFIX.length + `flush ${tmp}\nswap ${tmp} ${spec.name}\ndestroy ${tmp}\n`.length;
}

function memberLength(spec: SetSpec, e: SetEntry): number {
  return `add ${spec.name}${TEMP_SUFFIX} \n`.length + line(e).length;
}

function header(spec: SetSpec): string {
  return `${spec.name} ${spec.type} ${spec.family}\n`;
}

/** A set with these members (in this order). */
export function makeSet(spec: SetSpec, entries: readonly SetEntry[]): SetPlan {
  let textLength = fixedLength(spec);
  for (const e of entries) textLength += memberLength(spec, e);
  if (entries.length <= BUCKETED) return { ...spec, entries, digest: sha(header(spec) + entries.map(line).join("\n")), textLength };
  const parts: SetEntry[][] = Array.from({ length: BUCKETS }, () => []);
  for (const e of entries) parts[bucketOf(e.value)]!.push(e);
  const digests = parts.map((b) => (b.length === 0 ? "" : sha(b.map(line).join("\n"))));
  const set = { ...spec, entries, digest: sha(header(spec) + digests.join("\n")), textLength };
  buckets.set(set, { entries: parts, digests });
  return set;
}

/**
 * `old` with members added and deleted (values not in it, and in it), its
 * members sorted by value as the pod sets' are: made from `old`'s, rehashing
 * only the buckets that changed.
 */
export function changeSet(old: SetPlan, added: readonly SetEntry[], removed: readonly string[]): SetPlan {
  const adds = [...added].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  // A few members in a big set: each found by binary search and spliced (a move of pointers), not the set walked.
  const entries = old.entries.slice();
  for (const value of removed) {
    const at = position(entries, value, entryValue);
    if (entries[at]?.value === value) entries.splice(at, 1);
  }
  for (const e of adds) entries.splice(position(entries, e.value, entryValue), 0, e);
  const known = buckets.get(old);
  let set: SetPlan;
  if (!known || entries.length <= BUCKETED) set = makeSet(old, entries);
  else {
    let textLength = old.textLength;
    const parts = [...known.entries];
    const digests = [...known.digests];
    const touched = new Set<number>();
    for (const value of removed) {
      const b = bucketOf(value);
      const at = parts[b]!.findIndex((e) => e.value === value);
      if (at < 0) continue;
      textLength -= memberLength(old, parts[b]![at]!);
      parts[b] = parts[b]!.filter((_, k) => k !== at);
      touched.add(b);
    }
    for (const e of adds) {
      const b = bucketOf(e.value);
      const bucket = [...parts[b]!];
      let at = bucket.findIndex((x) => x.value > e.value);
      if (at < 0) at = bucket.length;
      bucket.splice(at, 0, e);
      parts[b] = bucket;
      textLength += memberLength(old, e);
      touched.add(b);
    }
    for (const b of touched) digests[b] = parts[b]!.length === 0 ? "" : sha(parts[b]!.map(line).join("\n"));
    set = { ...(old as SetSpec), entries, digest: sha(header(old) + digests.join("\n")), textLength };
    buckets.set(set, { entries: parts, digests });
  }
  changes.set(set, { from: old.digest, added: adds, removed: [...removed] });
  return set;
}

/** Where `key` is, or would go, in items sorted by `of` (a set's entries by value, a plan's sets by name). */
export function position<T>(items: readonly T[], key: string, of: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (of(items[mid]!) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const entryValue = (e: SetEntry): string => e.value;

/** The change that made `s` from a set with `old`'s members, when `s` was made so. */
export function changeFrom(old: SetPlan, s: SetPlan): MemberChange | undefined {
  const c = changes.get(s);
  return c?.from === old.digest ? c : undefined;
}
