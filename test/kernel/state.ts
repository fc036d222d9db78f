/**
 * What a node's network namespace holds of Podwall, read back from the kernel
 * (`iptables-save`, `ip6tables-save`, `ipset save`), and what it should hold:
 * the chains and sets a ruleset declares, and the whole state that applying
 * that ruleset to a fresh node gives (applied by hand, as API.md describes,
 * in a scratch namespace this module creates and removes).
 */
import { execFileSync } from "node:child_process";
import type { Ruleset } from "../../server/rules/index.js";

export interface KernelState {
  /** `iptables-save -t filter`, without comments and counters. */
  readonly iptables: string;
  readonly ip6tables: string;
  /** `ipset save`, one line per set or member, sorted; without a set's hash parameters. */
  readonly ipset: string;
}

export interface Names {
  readonly chains4: readonly string[];
  readonly chains6: readonly string[];
  readonly sets: readonly string[];
}

function run(cmd: readonly string[], input?: string): string {
  return execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", input: input ?? "", stdio: ["pipe", "pipe", "pipe"] });
}

function tables(text: string): string {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.replace(/\[\d+:\d+\]/g, "[0:0]"))
    .join("\n");
}

function sets(text: string): string {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (l.startsWith("create ") ? l.replace(/ (hashsize|bucketsize|initval) \S+/g, "") : l))
    .sort()
    .join("\n");
}

export function kernelState(netns: string): KernelState {
  const exec = (...cmd: string[]) => run(["ip", "netns", "exec", netns, ...cmd]);
  return {
    iptables: tables(exec("iptables-save", "-t", "filter")),
    ip6tables: tables(exec("ip6tables-save", "-t", "filter")),
    ipset: sets(exec("ipset", "save")),
  };
}

const ours = (names: Iterable<string>) => [...new Set(names)].filter((n) => n.startsWith("PODWALL-")).sort();

/** The `PODWALL-*` chains and sets a kernel state holds. */
export function heldNames(s: KernelState): Names {
  return {
    chains4: ours([...s.iptables.matchAll(/^:(\S+) /gm)].map((m) => m[1]!)),
    chains6: ours([...s.ip6tables.matchAll(/^:(\S+) /gm)].map((m) => m[1]!)),
    sets: ours([...s.ipset.matchAll(/^create (\S+) /gm)].map((m) => m[1]!)),
  };
}

/** The chains and sets a ruleset declares (its temporary sets are destroyed by its own text). */
export function declaredNames(r: Ruleset): Names {
  const destroyed = new Set([...r.ipset.matchAll(/^destroy (\S+)/gm)].map((m) => m[1]!));
  return {
    chains4: ours([...r.iptables.matchAll(/^:(\S+) /gm)].map((m) => m[1]!)),
    chains6: ours([...r.ip6tables.matchAll(/^:(\S+) /gm)].map((m) => m[1]!)),
    sets: ours([...r.ipset.matchAll(/^create (\S+) /gm)].map((m) => m[1]!).filter((n) => !destroyed.has(n))),
  };
}

/** The names a kernel holds that the ruleset does not declare. */
export function staleNames(s: KernelState, r: Ruleset): string[] {
  const held = heldNames(s);
  const want = declaredNames(r);
  return [
    ...held.chains4.filter((c) => !want.chains4.includes(c)).map((c) => `chain ${c}`),
    ...held.chains6.filter((c) => !want.chains6.includes(c)).map((c) => `ip6 chain ${c}`),
    ...held.sets.filter((s) => !want.sets.includes(s)).map((s) => `set ${s}`),
  ];
}

let scratch = 0;

/** The state a fresh node holds once `r` is applied: sets, chains (both families), then the hooks. */
export function referenceState(r: Ruleset): KernelState {
  const name = `pwref-${process.pid}-${scratch++}`;
  run(["ip", "netns", "add", name]);
  try {
    const exec = (cmd: string[], input?: string) => run(["ip", "netns", "exec", name, ...cmd], input);
    if (r.ipset !== "") exec(["ipset", "restore"], r.ipset);
    exec(["iptables-restore", "--noflush", "-w"], r.iptables);
    exec(["ip6tables-restore", "--noflush", "-w"], r.ip6tables);
    for (const h of r.hooks) {
      exec([h.family === "ipv4" ? "iptables" : "ip6tables", "-w", "-t", h.table, "-A", h.chain, ...h.rule.split(/\s+/).filter(Boolean)]);
    }
    return kernelState(name);
  } finally {
    run(["ip", "netns", "del", name]);
  }
}
