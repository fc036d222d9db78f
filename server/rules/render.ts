/**
 * Rendering a planned ruleset to the texts a node applies: `ipset restore`
 * and `iptables-restore --noflush` (and `ip6tables-restore --noflush`). Pure
 * and deterministic: the same plan gives byte-identical text.
 */
import type { Family } from "../model/types.js";
import { TEMP_SUFFIX, sha256 } from "./names.js";
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

/** What a plan was made from when only some of its sets changed: the earlier plan's sets, and the positions that changed. */
export interface SetsChanged {
  readonly sets: readonly SetPlan[];
  readonly changed: readonly number[];
}

export function render(plan: RulesetPlan, previous?: SetsChanged): Ruleset {
  // A hash of the whole content, made of the hashes of its parts: a set's or a
  // chain's hash is computed once, though its text may be shared by many
  // nodes, and a node whose chains stand (the same lists) hashes only the
  // sets that changed.
  const version = sha256(`${setsDigest(plan.sets, previous)}\n${chainsDigest(plan.chains.ipv4)}\n${chainsDigest(plan.chains.ipv6)}\n${JSON.stringify(plan.hooks)}`).slice(0, 20);
  // The texts can run to megabytes on a big node: they are joined when first
  // read (by the node's agent), not whenever a write changes the version.
  let ipset: string | undefined;
  let iptables: string | undefined;
  let ip6tables: string | undefined;
  return {
    node: plan.node,
    version,
    get ipset() {
      return (ipset ??= renderIpset(plan.sets));
    },
    get iptables() {
      return (iptables ??= renderTables(plan.chains.ipv4));
    },
    get ip6tables() {
      return (ip6tables ??= renderTables(plan.chains.ipv6));
    },
    hooks: plan.hooks,
  };
}

/** Sets are hashed in runs of this many, so that a node whose sets change in a few places rehashes a few runs. */
const RUN = 16;
const runDigests = new WeakMap<readonly SetPlan[], string[]>();

function setsDigest(sets: readonly SetPlan[], previous?: SetsChanged): string {
  const known = previous && previous.sets.length === sets.length ? runDigests.get(previous.sets) : undefined;
  let runs: string[];
  if (known) {
    runs = [...known];
    for (const r of new Set(previous!.changed.map((i) => Math.floor(i / RUN)))) runs[r] = runDigest(sets, r);
  } else runs = Array.from({ length: Math.ceil(sets.length / RUN) }, (_, r) => runDigest(sets, r));
  runDigests.set(sets, runs);
  return sha256(runs.join("\n"));
}

function runDigest(sets: readonly SetPlan[], r: number): string {
  return sha256(
    sets
      .slice(r * RUN, (r + 1) * RUN)
      .map((s) => s.digest)
      .join("\n"),
  );
}

const chainListDigests = new WeakMap<readonly ChainPlan[], string>();

function chainsDigest(chains: readonly ChainPlan[]): string {
  let d = chainListDigests.get(chains);
  if (d === undefined) chainListDigests.set(chains, (d = sha256(chains.map((c) => `${c.name} ${chainDigest(c)}`).join("\n"))));
  return d;
}

const chainDigests = new WeakMap<ChainPlan, string>();

function chainDigest(c: ChainPlan): string {
  let d = chainDigests.get(c);
  if (d === undefined) chainDigests.set(c, (d = sha256(renderChain(c))));
  return d;
}

/**
 * Safe over any earlier version: each set is created if missing, its members
 * are filled into a temporary set that is then swapped in and destroyed, so a
 * set in use is never half-filled.
 */
export function renderIpset(sets: readonly SetPlan[]): string {
  return sets.map(renderSet).join("");
}

/** Sets are shared between the nodes of one model, and so is their text. */
const rendered = new WeakMap<SetPlan, string>();

export function renderSet(s: SetPlan): string {
  const known = rendered.get(s);
  if (known !== undefined) return known;
  const tmp = `${s.name}${TEMP_SUFFIX}`;
  const create = `${s.type} family ${familyWord(s.family)} maxelem ${MAXELEM}`;
  const lines = [`# ${s.name}: ${s.about}`, `create ${s.name} ${create} -exist`, `create ${tmp} ${create} -exist`, `flush ${tmp}`];
  for (const e of s.entries) lines.push(`add ${tmp} ${e.value}${e.nomatch ? " nomatch" : ""}`);
  lines.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`, "");
  const text = lines.join("\n");
  rendered.set(s, text);
  return text;
}

function familyWord(f: Family): string {
  return f === "ipv4" ? "inet" : "inet6";
}

/**
 * Declares and writes only our chains: no built-in chain line, since under
 * `--noflush` it would reset that chain. Declaring a chain of ours flushes it.
 */
export function renderTables(chains: readonly ChainPlan[]): string {
  const parts = ["*filter\n"];
  for (const c of chains) parts.push(`:${c.name} - [0:0]\n`);
  for (const c of chains) parts.push(renderChain(c));
  parts.push("COMMIT\n");
  return parts.join("");
}

/** Policy chains are shared between the nodes of one model, and so is their text. */
const chainText = new WeakMap<ChainPlan, string>();

export function renderChain(c: ChainPlan): string {
  let text = chainText.get(c);
  if (text === undefined) {
    text = c.rules.map((r) => `${renderRule(c.name, r)}\n`).join("");
    chainText.set(c, text);
  }
  return text;
}

function renderRule(chain: string, r: RulePlan): string {
  const match = r.match.length > 0 ? ` ${r.match.join(" ")}` : "";
  return `-A ${chain} -m comment --comment ${quote(comment(r.origin))}${match} ${r.target.join(" ")}`;
}

/**
 * The one place rule comments are written: the policy and field, or the pod,
 * and a note (a tier policy's rule name among them, which may hold any
 * character). Quotes, backslashes and control characters are dropped rather
 * than escaped, and the text is cut to the kernel's 255 bytes.
 */
export function comment(o: Origin): string {
  let text = o.policy ?? o.pod ?? "";
  if (o.field) text = text ? `${text} ${o.field}` : o.field;
  if (o.note) text = text ? `${text} ${o.note}` : o.note;
  if (UNQUOTABLE.test(text)) text = text.replace(UNQUOTABLE_ALL, "");
  if (text.length > 255) text = text.slice(0, 255);
  while (Buffer.byteLength(text) > 255) text = [...text].slice(0, -1).join("");
  return text;
}

const UNQUOTABLE = /["\\\x00-\x1f\x7f]/;
const UNQUOTABLE_ALL = /["\\\x00-\x1f\x7f]/g;

function quote(s: string): string {
  return `"${s}"`;
}
