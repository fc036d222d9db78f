/**
 * Applying a ruleset on a node, in the order API.md gives: sets first
 * (create-or-swap), then our chains with `iptables-restore --noflush`, then
 * the hooks, then the chains and sets the new version no longer declares.
 * Only `PODWALL-*` chains, sets and jumps are ever written or removed.
 */
import type { Ruleset } from "../../server/rules/index.js";
import type { Runner } from "./runner.js";

const PREFIX = "PODWALL-";
/** Built-in filter chains that may hold jumps into ours. */
const BUILTIN = ["INPUT", "FORWARD", "OUTPUT"];

interface Tools {
  readonly save: string;
  readonly restore: string;
  readonly iptables: string;
}

const TOOLS: Record<"ipv4" | "ipv6", Tools> = {
  ipv4: { save: "iptables-save", restore: "iptables-restore", iptables: "iptables" },
  ipv6: { save: "ip6tables-save", restore: "ip6tables-restore", iptables: "ip6tables" },
};

export async function applyRuleset(run: Runner, r: Ruleset): Promise<void> {
  if (r.ipset !== "") await run.write(["ipset", "restore"], r.ipset);
  for (const family of ["ipv4", "ipv6"] as const) {
    const t = TOOLS[family];
    const text = family === "ipv4" ? r.iptables : r.ip6tables;
    await run.write([t.restore, "--noflush", "-w"], text);
    await ensureHooks(
      run,
      t,
      r.hooks.filter((h) => h.family === family).map((h) => ({ chain: h.chain, rule: h.rule })),
    );
    await removeStaleChains(run, t, declaredChains(text));
  }
  await removeStaleSets(run, declaredSets(r.ipset));
}

export function declaredChains(text: string): Set<string> {
  return new Set([...text.matchAll(/^:(\S+) /gm)].map((m) => m[1]!));
}

export function declaredSets(text: string): Set<string> {
  return new Set([...text.matchAll(/^create (\S+) /gm)].map((m) => m[1]!));
}

/**
 * Makes each built-in chain start with its hooks, once each, in list order,
 * and removes jumps into our chains that are no longer hooks.
 */
async function ensureHooks(run: Runner, t: Tools, hooks: { chain: string; rule: string }[]): Promise<void> {
  for (const chain of BUILTIN) {
    const wanted = hooks.filter((h) => h.chain === chain).map((h) => h.rule);
    const current = await listRules(run, t, chain);
    const ours = current.filter((rule) => jumpsToOurs(rule));
    const inPlace = wanted.every((w, i) => current[i] === w) && ours.length === wanted.length;
    if (inPlace) continue;
    for (const rule of ours) await run.write([t.iptables, "-w", "-D", chain, ...splitRule(rule)]);
    for (const [i, rule] of wanted.entries()) await run.write([t.iptables, "-w", "-I", chain, String(i + 1), ...splitRule(rule)]);
  }
}

/** The rules of a chain as `iptables -S` prints them, without the `-A CHAIN`. */
async function listRules(run: Runner, t: Tools, chain: string): Promise<string[]> {
  const out = await run.read([t.iptables, "-w", "-t", "filter", "-S", chain]);
  const prefix = `-A ${chain} `;
  return out
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim());
}

function jumpsToOurs(rule: string): boolean {
  return /(^|\s)-[jg] PODWALL-\S+/.test(rule);
}

/** Hook rules are plain words (`-j PODWALL-FORWARD`); no quoting to undo. */
function splitRule(rule: string): string[] {
  return rule.split(/\s+/).filter(Boolean);
}

/** Flushes, then deletes, every `PODWALL-*` chain the new version does not declare: one atomic restore. */
async function removeStaleChains(run: Runner, t: Tools, keep: Set<string>): Promise<void> {
  const saved = await run.read([t.save, "-t", "filter"]);
  const stale = [...declaredChains(saved)].filter((c) => c.startsWith(PREFIX) && !keep.has(c)).sort();
  if (stale.length === 0) return;
  const lines = ["*filter", ...stale.map((c) => `:${c} - [0:0]`), ...stale.map((c) => `-X ${c}`), "COMMIT", ""];
  await run.write([t.restore, "--noflush", "-w"], lines.join("\n"));
}

async function removeStaleSets(run: Runner, keep: Set<string>): Promise<void> {
  const names = (await run.read(["ipset", "list", "-n"])).split("\n").map((s) => s.trim());
  for (const name of names.filter((n) => n.startsWith(PREFIX) && !keep.has(n)).sort()) {
    await run.write(["ipset", "destroy", name]);
  }
}
