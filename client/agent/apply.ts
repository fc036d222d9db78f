/**
 * Applying a ruleset on a node, in the order API.md gives: sets first
 * (create-or-swap), then our chains with `iptables-restore --noflush`, then
 * the hooks, then the chains and sets the new version no longer declares.
 * Only `PODWALL-*` chains, sets and jumps are ever written or removed.
 *
 * A delta goes the same way, with only what changed, onto the version it was
 * made from; if its sets or chains cannot be written, what it wrote is undone,
 * so the rules stay as they were.
 */
import type { Hook, Ruleset, RulesetDelta } from "../../server/rules/index.js";
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

const FAMILIES = ["ipv4", "ipv6"] as const;
type Family = (typeof FAMILIES)[number];

/** A ruleset's (or a delta's) `iptables-restore` text for one family. */
function tableOf(r: Ruleset, family: Family): string {
  return family === "ipv4" ? r.iptables : r.ip6tables;
}

export async function applyRuleset(run: Runner, r: Ruleset): Promise<void> {
  if (r.ipset !== "") await run.write(["ipset", "restore"], r.ipset);
  for (const family of FAMILIES) {
    const t = TOOLS[family];
    await run.write([t.restore, "--noflush", "-w"], tableOf(r, family));
    await ensureHooks(run, family, r.hooks);
    await removeStaleChains(run, t, declaredChains(tableOf(r, family)));
  }
  await removeStaleSets(run, declaredSets(r.ipset));
}

export async function applyDelta(run: Runner, d: RulesetDelta): Promise<void> {
  const changed = FAMILIES.filter((f) => tableOf(d, f) !== "");
  if (d.ipset !== "") {
    try {
      await run.write(["ipset", "restore"], d.ipset);
    } catch (e) {
      await undoing(e, () => undoSets(run, d.ipset));
    }
  }
  // Each restore is all or nothing; when the second fails, the first one's chains are put back as they were.
  const written: { t: Tools; before: string; text: string }[] = [];
  try {
    for (const family of changed) {
      const t = TOOLS[family];
      const before = changed.length > 1 && written.length === 0 ? await run.read([t.save, "-t", "filter"]) : "";
      await run.write([t.restore, "--noflush", "-w"], tableOf(d, family));
      written.push({ t, before, text: tableOf(d, family) });
    }
  } catch (e) {
    await undoing(e, async () => {
      for (const w of written) await run.write([w.t.restore, "--noflush", "-w"], chainsAsBefore(w.before, declaredChains(w.text)));
      await undoSets(run, d.ipset);
    });
  }
  for (const family of FAMILIES) await ensureHooks(run, family, d.hooks);
  if (d.remove.chains.length > 0) {
    for (const family of FAMILIES) {
      const t = TOOLS[family];
      const present = declaredChains(await run.read([t.save, "-t", "filter"]));
      await deleteChains(
        run,
        t,
        d.remove.chains.filter((c) => present.has(c)),
      );
    }
  }
  if (d.remove.sets.length === 0) return;
  const sets = await setNames(run);
  for (const name of d.remove.sets) if (sets.has(name)) await run.write(["ipset", "destroy", name]);
}

async function setNames(run: Runner): Promise<Set<string>> {
  return new Set((await run.read(["ipset", "list", "-n"])).split("\n").map((l) => l.trim()));
}

/**
 * A restore that puts the chains a delta declared back as `saved` (an
 * `iptables-save -t filter`) had them: each one that was there with its old
 * rules, each new one deleted.
 */
export function chainsAsBefore(saved: string, declared: ReadonlySet<string>): string {
  const existed = declaredChains(saved);
  const lines = ["*filter"];
  for (const c of declared) lines.push(`:${c} - [0:0]`);
  for (const line of saved.split("\n")) {
    const m = /^-A (\S+) /.exec(line);
    if (m && declared.has(m[1]!)) lines.push(line);
  }
  for (const c of declared) if (!existed.has(c)) lines.push(`-X ${c}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/**
 * Undoes what a delta's `ipset` text may have done, however far it got: each
 * member it added is deleted and each it deleted is added back (`-exist`, so
 * a line never reached changes nothing), and the sets it created are
 * destroyed. A delta only creates sets its base did not have.
 */
export async function undoSets(run: Runner, text: string): Promise<void> {
  const created = new Set<string>();
  const adds = new Map<string, boolean>();
  const dels: string[] = [];
  for (const line of text.split("\n")) {
    const [op, name, value, ...flags] = line.trim().split(/\s+/);
    if (op === "create" && name) created.add(name);
    else if (op === "add" && name && value && !created.has(name)) adds.set(`${name} ${value}`, flags.includes("nomatch"));
    else if (op === "del" && name && value) dels.push(`${name} ${value}`);
  }
  const present = await setNames(run);
  const there = (member: string) => present.has(member.slice(0, member.indexOf(" ")));
  const undo: string[] = [];
  for (const member of adds.keys()) if (there(member)) undo.push(`del ${member} -exist`);
  // A member deleted and added again had its nomatch changed: it goes back with the other one.
  for (const member of dels) if (there(member)) undo.push(`add ${member}${adds.get(member) === false ? " nomatch" : ""} -exist`);
  if (undo.length > 0) await run.write(["ipset", "restore"], `${undo.join("\n")}\n`);
  for (const name of [...created].sort()) if (present.has(name)) await run.write(["ipset", "destroy", name]);
}

/** Runs `undo` after `e`; if the undo fails too, the error says so. */
async function undoing(e: unknown, undo: () => Promise<void>): Promise<never> {
  try {
    await undo();
  } catch (u) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; undoing it failed too: ${u instanceof Error ? u.message : String(u)}`);
  }
  throw e;
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
async function ensureHooks(run: Runner, family: Family, hooks: readonly Hook[]): Promise<void> {
  const t = TOOLS[family];
  for (const chain of BUILTIN) {
    const wanted = hooks.filter((h) => h.family === family && h.chain === chain).map((h) => h.rule);
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
  await deleteChains(
    run,
    t,
    [...declaredChains(saved)].filter((c) => c.startsWith(PREFIX) && !keep.has(c)),
  );
}

async function deleteChains(run: Runner, t: Tools, chains: readonly string[]): Promise<void> {
  if (chains.length === 0) return;
  const sorted = [...chains].sort();
  const lines = ["*filter", ...sorted.map((c) => `:${c} - [0:0]`), ...sorted.map((c) => `-X ${c}`), "COMMIT", ""];
  await run.write([t.restore, "--noflush", "-w"], lines.join("\n"));
}

async function removeStaleSets(run: Runner, keep: Set<string>): Promise<void> {
  for (const name of [...(await setNames(run))].filter((n) => n.startsWith(PREFIX) && !keep.has(n)).sort()) {
    await run.write(["ipset", "destroy", name]);
  }
}
