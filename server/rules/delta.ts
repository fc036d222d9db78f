/**
 * Rulesets as deltas: what turns a node that holds one version into one that
 * holds another. Made from the two plans alone, so that applying the base and
 * then the delta leaves exactly what applying the new version whole does:
 * - `ipset`: each new set as the whole ruleset writes it (created, filled
 *   through a temporary set and swapped in), and for each set of both versions
 *   whose members differ, only the members to delete and to add (`-exist`);
 * - `iptables` / `ip6tables`: only the chains that are new or whose rules
 *   differ, each declared, so that `--noflush` rewrites it whole; empty when
 *   the family has none;
 * - `remove`: the chains, then the sets, the new version no longer declares
 *   (chain names are per family, so a name says which table holds it).
 * Sets and chains that nodes share are shared objects, so their parts of the
 * deltas are made once for every node that holds them.
 */
import { changeFrom } from "./members.js";
import type { ChainPlan, RulesetPlan, SetEntry, SetPlan } from "./plan.js";
import { type Ruleset, renderChain, renderSet } from "./render.js";

export interface Removal {
  readonly chains: readonly string[];
  readonly sets: readonly string[];
}

export interface RulesetDelta extends Ruleset {
  /** The version this delta applies onto. */
  readonly base: string;
  readonly remove: Removal;
}

export function isDelta(r: Ruleset): r is RulesetDelta {
  return (r as Partial<RulesetDelta>).base !== undefined;
}

/**
 * The delta from `from` (the plan of version `base`) to `to` (rendered as
 * `next`), or undefined when it would be no smaller than the whole ruleset.
 * Its cost follows what changed: sets are compared by identity (an unchanged
 * set is the same object), and chain lists that are the same list are not
 * looked into.
 */
export function diff(from: RulesetPlan, base: string, to: RulesetPlan, next: Ruleset, changed?: readonly number[]): RulesetDelta | undefined {
  const ipset: string[] = [];
  const removeSets: string[] = [];
  const a = from.sets;
  const b = to.sets;
  // `to` was made from `from` by changing the sets at these positions (the same names) alone.
  if (changed && from.chains.ipv4 === to.chains.ipv4 && from.chains.ipv6 === to.chains.ipv6 && a.length === b.length) {
    for (const k of [...changed].sort((x, y) => x - y)) {
      if (a[k] === b[k]) continue;
      ipset.push(members(a[k]!, b[k]!));
    }
    return finish(base, to, next, ipset, [], [], ["", ""]);
  }
  let i = 0;
  let j = 0;
  // Both lists are sorted by name.
  while (i < a.length || j < b.length) {
    const old = a[i];
    const now = b[j];
    if (old !== undefined && now !== undefined && old.name === now.name) {
      if (old !== now) {
        ipset.push(members(old, now));
      }
      i++;
      j++;
    } else if (now === undefined || (old !== undefined && old.name < now.name)) {
      removeSets.push(old!.name);
      i++;
    } else {
      ipset.push(renderSet(now));
      j++;
    }
  }
  const removeChains: string[] = [];
  const tables: string[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const changed: ChainPlan[] = [];
    if (from.chains[family] !== to.chains[family]) {
      const known = new Map(from.chains[family].map((c) => [c.name, c]));
      for (const c of to.chains[family]) {
        const old = known.get(c.name);
        known.delete(c.name);
        if (old !== c && (old === undefined || renderChain(old) !== renderChain(c))) changed.push(c);
      }
      removeChains.push(...known.keys());
    }
    tables.push(changed.length === 0 ? "" : tableText(changed));
  }
  return finish(base, to, next, ipset, removeChains, removeSets, tables);
}

function finish(
  base: string,
  to: RulesetPlan,
  next: Ruleset,
  ipset: readonly string[],
  removeChains: string[],
  removeSets: string[],
  tables: readonly string[],
): RulesetDelta | undefined {
  const whole = planSize(to);
  const ipsetText = ipset.join("");
  const size = ipsetText.length + tables[0]!.length + tables[1]!.length + (removeChains.length + removeSets.length) * 32;
  if (size >= whole) return undefined;
  return {
    node: next.node,
    version: next.version,
    base,
    ipset: ipsetText,
    iptables: tables[0]!,
    ip6tables: tables[1]!,
    hooks: next.hooks,
    remove: { chains: removeChains.sort(), sets: removeSets },
  };
}

/** The size of a plan's texts (sets and chains), by plan. */
const sizes = new WeakMap<RulesetPlan, number>();

/**
 * The size of a plan's texts, kept for the deltas to be weighed against:
 * counted (the chains' texts are already made for their hashes), or, for a
 * plan made from `from` by changing the sets at `changed`, from `from`'s.
 */
export function planSize(plan: RulesetPlan, from?: RulesetPlan, changed?: readonly number[]): number {
  let size = sizes.get(plan);
  if (size !== undefined) return size;
  const known = from && sizes.get(from);
  if (known !== undefined && changed) {
    size = known;
    for (const i of changed) size += plan.sets[i]!.textLength - from!.sets[i]!.textLength;
  } else {
    size = 0;
    for (const s of plan.sets) size += s.textLength;
    for (const c of plan.chains.ipv4) size += renderChain(c).length;
    for (const c of plan.chains.ipv6) size += renderChain(c).length;
  }
  sizes.set(plan, size);
  return size;
}

function tableText(chains: readonly ChainPlan[]): string {
  const parts = ["*filter\n"];
  for (const c of chains) parts.push(`:${c.name} - [0:0]\n`);
  for (const c of chains) parts.push(renderChain(c));
  parts.push("COMMIT\n");
  return parts.join("");
}

/** The member changes from one version of a set to the next: shared by every node that holds the set. */
const memberDeltas = new WeakMap<SetPlan, WeakMap<SetPlan, string>>();

/** The text of the change a set was made by, for every node that holds it. */
const changeTexts = new WeakMap<SetPlan, string>();

function members(old: SetPlan, s: SetPlan): string {
  const change = changeFrom(old, s);
  if (change) {
    let text = changeTexts.get(s);
    if (text === undefined) changeTexts.set(s, (text = memberText(s.name, change.removed, change.added)));
    return text;
  }
  let ofOld = memberDeltas.get(old);
  if (!ofOld) memberDeltas.set(old, (ofOld = new WeakMap()));
  let text = ofOld.get(s);
  if (text === undefined) {
    text = memberLines(s.name, old.entries, s.entries);
    ofOld.set(s, text);
  }
  return text;
}

function memberText(name: string, removed: readonly string[], added: readonly SetEntry[]): string {
  return [...removed.map((v) => `del ${name} ${v} -exist\n`), ...added.map((e) => `add ${name} ${e.value}${e.nomatch ? " nomatch" : ""} -exist\n`)].join("");
}

/** What to delete and what to add (a changed nomatch is both), in the new version's order. */
function memberLines(name: string, old: readonly SetEntry[], now: readonly SetEntry[]): string {
  const left = new Map(old.map((e) => [e.value, e.nomatch]));
  const removed: string[] = [];
  const added: SetEntry[] = [];
  for (const e of now) {
    const was = left.get(e.value);
    left.delete(e.value);
    if (was === e.nomatch) continue;
    if (was !== undefined) removed.push(e.value);
    added.push(e);
  }
  removed.push(...left.keys());
  return memberText(name, removed, added);
}
