/**
 * Rendering a planned ruleset to the texts a node applies: `ipset restore`
 * and `iptables-restore --noflush` (and `ip6tables-restore --noflush`). Pure
 * and deterministic: the same plan gives byte-identical text.
 */
import { createHash } from "node:crypto";
import type { Family } from "../model/types.js";
import { TEMP_SUFFIX } from "./names.js";
import type { ChainPlan, Hook, Origin, RulePlan, RulesetPlan, SetPlan } from "./plan.js";

export interface Ruleset {
  readonly node: string;
  readonly version: string;
  readonly ipset: string;
  readonly iptables: string;
  readonly ip6tables: string;
  readonly hooks: readonly Hook[];
}

/** Upper bound of a set's members; a constant so that `create -exist` always matches. */
const MAXELEM = 1048576;

export function render(plan: RulesetPlan): Ruleset {
  const ipset = renderIpset(plan.sets);
  const iptables = renderTables(plan.chains.ipv4);
  const ip6tables = renderTables(plan.chains.ipv6);
  const version = createHash("sha256")
    .update(ipset)
    .update("\0")
    .update(iptables)
    .update("\0")
    .update(ip6tables)
    .update("\0")
    .update(JSON.stringify(plan.hooks))
    .digest("hex")
    .slice(0, 20);
  return { node: plan.node, version, ipset, iptables, ip6tables, hooks: plan.hooks };
}

/**
 * Safe over any earlier version: each set is created if missing, its members
 * are filled into a temporary set that is then swapped in and destroyed, so a
 * set in use is never half-filled.
 */
export function renderIpset(sets: readonly SetPlan[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    const tmp = `${s.name}${TEMP_SUFFIX}`;
    const create = `${s.type} family ${familyWord(s.family)} maxelem ${MAXELEM}`;
    lines.push(`# ${s.name}: ${s.about}`);
    lines.push(`create ${s.name} ${create} -exist`);
    lines.push(`create ${tmp} ${create} -exist`);
    lines.push(`flush ${tmp}`);
    for (const e of s.entries) lines.push(`add ${tmp} ${e.value}${e.nomatch ? " nomatch" : ""}`);
    lines.push(`swap ${tmp} ${s.name}`);
    lines.push(`destroy ${tmp}`);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

function familyWord(f: Family): string {
  return f === "ipv4" ? "inet" : "inet6";
}

/**
 * Declares and writes only our chains: no built-in chain line, since under
 * `--noflush` it would reset that chain. Declaring a chain of ours flushes it.
 */
export function renderTables(chains: readonly ChainPlan[]): string {
  const lines = ["*filter"];
  for (const c of chains) lines.push(`:${c.name} - [0:0]`);
  for (const c of chains) for (const r of c.rules) lines.push(renderRule(c.name, r));
  lines.push("COMMIT");
  return `${lines.join("\n")}\n`;
}

function renderRule(chain: string, r: RulePlan): string {
  return ["-A", chain, "-m", "comment", "--comment", quote(comment(r.origin)), ...r.match, ...r.target].join(" ");
}

/** The one place rule comments are written: the policy and field, or the pod. */
export function comment(o: Origin): string {
  const who = o.policy ?? o.pod;
  const text = [who, o.field, o.note].filter((x) => x !== undefined && x !== "").join(" ");
  return text.slice(0, 255);
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, "")}"`;
}
