/**
 * A small model of one node's netfilter state, for tests: ipsets and the
 * filter table's chains per family, changed only through the texts and
 * commands the agent runs (`ipset restore`, `iptables-restore --noflush`,
 * `iptables -I/-D`, `ipset destroy`), read back as `iptables -S`,
 * `iptables-save` and `ipset list -n` print them, and a walk of a first packet
 * through FORWARD (forwarded) or INPUT (delivered to the node).
 *
 * It is stricter than the kernel where that catches mistakes: an option it
 * does not know throws, as does a set or chain that does not exist, a set of
 * the other family, a duplicate set member, a REJECT type of the other family,
 * or destroying a set or chain still in use.
 */
import ipaddr from "ipaddr.js";
import type { Runner } from "../../client/agent/runner.js";

export type Family = "ipv4" | "ipv6";
export type Verdict = "ACCEPT" | "REJECT" | "DROP";
export type Protocol = "TCP" | "UDP" | "SCTP";

export const BUILTIN_CHAINS = ["INPUT", "FORWARD", "OUTPUT"] as const;

export interface Packet {
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  readonly protocol: Protocol;
  readonly dport: number;
  /** A first packet is NEW; replies are not simulated. */
  readonly ctstate?: "NEW" | "ESTABLISHED" | "RELATED";
  /** The mark the packet comes with (other rules of the node may have set bits); 0 if not given. */
  readonly mark?: number;
}

export interface SetState {
  readonly type: "hash:ip" | "hash:net";
  readonly family: Family;
  /** Normalised member (`addr` or `net/len`) → nomatch. */
  entries: Map<string, boolean>;
}

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type Match =
  | { readonly kind: "addr"; readonly side: "src" | "dst"; readonly net: Net }
  | { readonly kind: "proto"; readonly protocol: string }
  | { readonly kind: "dport"; readonly from: number; readonly to: number }
  | { readonly kind: "set"; readonly name: string; readonly side: "src" | "dst" }
  /** `-m mark [!] --mark value/mask`: (mark & mask) == value, or != with `!`. */
  | { readonly kind: "mark"; readonly value: number; readonly mask: number; readonly negated: boolean }
  | { readonly kind: "ctstate"; readonly states: readonly string[] };

export type Target =
  | { readonly kind: "ACCEPT" | "DROP" | "RETURN" | "none" }
  | { readonly kind: "REJECT"; readonly with: string }
  | { readonly kind: "MARK"; readonly value: number; readonly mask: number }
  | { readonly kind: "jump"; readonly chain: string };

export interface Rule {
  /** The arguments after `-A CHAIN`, unquoted. */
  readonly args: readonly string[];
  readonly matches: readonly Match[];
  readonly target: Target;
  readonly comment: string | undefined;
}

export interface Chain {
  /** Built-in chains have a policy; ours have none. */
  policy: string | undefined;
  rules: Rule[];
}

type Table = Map<string, Chain>;

function freshTable(): Table {
  return new Map(BUILTIN_CHAINS.map((c) => [c, { policy: "ACCEPT", rules: [] }]));
}

function cloneTable(t: Table): Table {
  return new Map([...t].map(([k, c]) => [k, { policy: c.policy, rules: [...c.rules] }]));
}

/** Splits a line into words, honouring double quotes as iptables-restore does. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2]!);
  return out;
}

function quoteWord(w: string): string {
  return /[\s"]/.test(w) || w === "" ? `"${w}"` : w;
}

function parseNumberMask(text: string): { value: number; mask: number } {
  const m = /^(0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?$/i.exec(text);
  if (!m) throw new Error(`bad mark ${text}`);
  return { value: Number(m[1]) >>> 0, mask: m[2] === undefined ? 0xffffffff : Number(m[2]) >>> 0 };
}

function familyOf(a: ipaddr.IPv4 | ipaddr.IPv6): Family {
  return a.kind() === "ipv4" ? "ipv4" : "ipv6";
}

function parseNet(text: string, family: Family): Net {
  let net: Net;
  if (text.includes("/")) net = ipaddr.parseCIDR(text);
  else {
    const a = ipaddr.parse(text);
    net = [a, a.kind() === "ipv4" ? 32 : 128];
  }
  if (familyOf(net[0]) !== family) throw new Error(`address ${text} is not ${family}`);
  return net;
}

const PROTOCOL_MODULES = ["tcp", "udp", "sctp"];

/** The packet mark as the kernel keeps it, per packet walk. */
interface WalkState {
  mark: number;
}

export class FakeNode {
  readonly tables: Record<Family, Table> = { ipv4: freshTable(), ipv6: freshTable() };
  readonly sets = new Map<string, SetState>();

  // ----- loading: the commands the agent runs -----

  /** `ipset restore`: like the real one, applies line by line and stops at the first error. */
  ipsetRestore(text: string): void {
    text.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      try {
        this.ipsetCommand(tokenize(line));
      } catch (e) {
        throw new Error(`ipset restore: line ${i + 1} (${line}): ${(e as Error).message}`);
      }
    });
  }

  ipsetCommand(w: readonly string[]): void {
    const [op, name, ...rest] = w;
    if (!op || !name) throw new Error(`bad ipset command: ${w.join(" ")}`);
    switch (op) {
      case "create": {
        const [type, ...opts] = rest;
        if (type !== "hash:ip" && type !== "hash:net") throw new Error(`set type ${type} not supported`);
        let family: Family = "ipv4";
        let exist = false;
        for (let i = 0; i < opts.length; i++) {
          const o = opts[i];
          if (o === "family") {
            const f = opts[++i];
            if (f !== "inet" && f !== "inet6") throw new Error(`bad family ${f}`);
            family = f === "inet" ? "ipv4" : "ipv6";
          } else if (o === "maxelem" || o === "hashsize") {
            if (!/^\d+$/.test(opts[++i] ?? "")) throw new Error(`bad ${o}`);
          } else if (o === "-exist") exist = true;
          else throw new Error(`unknown create option ${o}`);
        }
        const known = this.sets.get(name);
        if (known) {
          if (!exist || known.type !== type || known.family !== family) throw new Error(`set ${name} already exists`);
          return;
        }
        this.sets.set(name, { type, family, entries: new Map() });
        return;
      }
      case "flush":
        this.set(name).entries.clear();
        return;
      case "add": {
        const set = this.set(name);
        const [value, ...flags] = rest;
        if (!value) throw new Error("add needs a member");
        const nomatch = flags.includes("nomatch");
        const exist = flags.includes("-exist");
        if (flags.some((f) => f !== "nomatch" && f !== "-exist")) throw new Error(`unknown add flags ${flags.join(" ")}`);
        const key = this.member(set, value);
        if (nomatch && set.type !== "hash:net") throw new Error(`${set.type} has no nomatch`);
        // The kernel refuses a duplicate unless -exist, which keeps the element as it is.
        if (set.entries.has(key)) {
          if (!exist) throw new Error(`element ${key} is already in ${name}`);
          return;
        }
        set.entries.set(key, nomatch);
        return;
      }
      case "del": {
        const set = this.set(name);
        const [value, ...flags] = rest;
        if (!value) throw new Error("del needs a member");
        if (flags.some((f) => f !== "-exist")) throw new Error(`unknown del flags ${flags.join(" ")}`);
        const key = this.member(set, value);
        if (!set.entries.delete(key) && !flags.includes("-exist")) throw new Error(`element ${key} is not in ${name}`);
        return;
      }
      case "swap": {
        const other = rest[0];
        if (!other) throw new Error("swap needs two sets");
        const a = this.set(name);
        const b = this.set(other);
        if (a.type !== b.type || a.family !== b.family) throw new Error(`sets ${name} and ${other} cannot be swapped: types differ`);
        const t = a.entries;
        a.entries = b.entries;
        b.entries = t;
        return;
      }
      case "destroy": {
        this.set(name);
        const user = this.setUser(name);
        if (user) throw new Error(`set ${name} cannot be destroyed: it is in use by ${user}`);
        this.sets.delete(name);
        return;
      }
      default:
        throw new Error(`unknown ipset command ${op}`);
    }
  }

  private set(name: string): SetState {
    const s = this.sets.get(name);
    if (!s) throw new Error(`set ${name} does not exist`);
    return s;
  }

  private member(set: SetState, value: string): string {
    if (set.type === "hash:ip") {
      if (value.includes("/")) throw new Error(`hash:ip members are addresses here, not ${value}`);
      const a = ipaddr.parse(value);
      if (familyOf(a) !== set.family) throw new Error(`${value} is not ${set.family}`);
      return a.toString();
    }
    const [addr, len] = parseNet(value, set.family);
    if (len === 0) throw new Error(`hash:net cannot hold a /0 (${value})`);
    return `${networkOf(addr, len)}/${len}`;
  }

  /** A rule that references the set, if any. */
  private setUser(name: string): string | undefined {
    for (const f of ["ipv4", "ipv6"] as const) {
      for (const [chain, c] of this.tables[f]) {
        if (c.rules.some((r) => r.matches.some((m) => m.kind === "set" && m.name === name))) return `${f} chain ${chain}`;
      }
    }
    return undefined;
  }

  /** `iptables-restore [--noflush]` of the filter table: all of a COMMIT or nothing. */
  iptablesRestore(family: Family, text: string, noflush: boolean): void {
    let work: Table | undefined;
    text.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      const fail = (msg: string) => new Error(`${family === "ipv4" ? "iptables" : "ip6tables"}-restore: line ${i + 1} (${line}): ${msg}`);
      if (line === "" || line.startsWith("#")) return;
      if (line.startsWith("*")) {
        if (line !== "*filter") throw fail("only the filter table is simulated");
        if (work) throw fail("table started twice");
        work = noflush ? cloneTable(this.tables[family]) : flushedTable(this.tables[family]);
        return;
      }
      if (!work) throw fail("no table started");
      if (line === "COMMIT") {
        this.tables[family] = work;
        work = undefined;
        return;
      }
      try {
        if (line.startsWith(":")) {
          const [name, policy] = tokenize(line.slice(1));
          if (!name || !policy) throw new Error("bad chain line");
          const builtin = (BUILTIN_CHAINS as readonly string[]).includes(name);
          if (builtin) {
            if (policy !== "ACCEPT" && policy !== "DROP") throw new Error(`bad policy ${policy}`);
            // A built-in chain's line sets its policy and, as iptables-restore does, flushes it.
            work.set(name, { policy, rules: [] });
          } else {
            if (policy !== "-") throw new Error(`user chain ${name} cannot have policy ${policy}`);
            work.set(name, { policy: undefined, rules: [] });
          }
          return;
        }
        this.tableCommand(family, work, tokenize(line));
      } catch (e) {
        throw fail((e as Error).message);
      }
    });
    if (work) throw new Error(`${family}-restore: no COMMIT`);
  }

  /** One `iptables` command line (without the binary): -A, -I, -D, -X, -N. */
  tableCommand(family: Family, t: Table, w: readonly string[]): void {
    const args = w.filter((x, i) => x !== "-w" && !(x === "-t" && w[i + 1] === "filter") && !(x === "filter" && w[i - 1] === "-t"));
    const [op, chain, ...rest] = args;
    if (!op || !chain) throw new Error(`bad command ${w.join(" ")}`);
    const c = t.get(chain);
    switch (op) {
      case "-A":
        if (!c) throw new Error(`no chain ${chain}`);
        c.rules.push(this.parseRule(family, t, rest));
        return;
      case "-I": {
        if (!c) throw new Error(`no chain ${chain}`);
        let pos = 1;
        let spec = rest;
        if (rest[0] !== undefined && /^\d+$/.test(rest[0])) {
          pos = Number(rest[0]);
          spec = rest.slice(1);
        }
        if (pos < 1 || pos > c.rules.length + 1) throw new Error(`index ${pos} out of range`);
        c.rules.splice(pos - 1, 0, this.parseRule(family, t, spec));
        return;
      }
      case "-D": {
        if (!c) throw new Error(`no chain ${chain}`);
        const i = c.rules.findIndex((r) => sameArgs(r.args, rest));
        if (i < 0) throw new Error(`bad rule (does a matching rule exist in that chain?): ${rest.join(" ")}`);
        c.rules.splice(i, 1);
        return;
      }
      case "-N":
        if (c) throw new Error(`chain ${chain} already exists`);
        t.set(chain, { policy: undefined, rules: [] });
        return;
      case "-X": {
        if (!c) throw new Error(`no chain ${chain}`);
        if (c.policy !== undefined) throw new Error(`cannot delete built-in chain ${chain}`);
        if (c.rules.length > 0) throw new Error(`chain ${chain} is not empty`);
        for (const [other, oc] of t) {
          if (oc.rules.some((r) => r.target.kind === "jump" && r.target.chain === chain)) throw new Error(`chain ${chain} is referenced by ${other}`);
        }
        t.delete(chain);
        return;
      }
      default:
        throw new Error(`unsupported command ${op}`);
    }
  }

  parseRule(family: Family, t: Table, w: readonly string[]): Rule {
    const matches: Match[] = [];
    let target: Target = { kind: "none" };
    let comment: string | undefined;
    let proto: string | undefined;
    const modules = new Set<string>();
    const need = (i: number): string => {
      const v = w[i];
      if (v === undefined) throw new Error(`${w[i - 1]} needs a value`);
      return v;
    };
    for (let i = 0; i < w.length; i++) {
      const word = w[i]!;
      switch (word) {
        case "-s":
        case "-d":
          matches.push({ kind: "addr", side: word === "-s" ? "src" : "dst", net: parseNet(need(++i), family) });
          break;
        case "-p": {
          proto = need(++i);
          if (!PROTOCOL_MODULES.includes(proto)) throw new Error(`protocol ${proto} not simulated`);
          matches.push({ kind: "proto", protocol: proto });
          break;
        }
        case "--dport": {
          if (!proto || (!modules.has(proto) && !PROTOCOL_MODULES.includes(proto))) throw new Error("--dport needs -p tcp|udp|sctp");
          const m = /^(\d+)(?::(\d+))?$/.exec(need(++i));
          if (!m) throw new Error(`bad port ${w[i]}`);
          const from = Number(m[1]);
          const to = m[2] === undefined ? from : Number(m[2]);
          if (from < 0 || to > 65535 || from > to) throw new Error(`bad port range ${w[i]}`);
          matches.push({ kind: "dport", from, to });
          break;
        }
        case "-m": {
          const mod = need(++i);
          switch (mod) {
            case "comment":
              if (w[++i] !== "--comment") throw new Error("-m comment needs --comment");
              comment = need(++i);
              if (comment.length > 256) throw new Error("comment longer than 256 characters");
              break;
            case "conntrack":
              if (w[++i] !== "--ctstate") throw new Error("-m conntrack needs --ctstate");
              matches.push({ kind: "ctstate", states: need(++i).split(",") });
              break;
            case "set": {
              if (w[++i] !== "--match-set") throw new Error("-m set needs --match-set");
              const name = need(++i);
              const dir = need(++i);
              if (dir !== "src" && dir !== "dst") throw new Error(`set direction ${dir} not simulated`);
              const s = this.sets.get(name);
              if (!s) throw new Error(`set ${name} doesn't exist`);
              if (s.family !== family) throw new Error(`set ${name} is ${s.family}, the rule is ${family}`);
              matches.push({ kind: "set", name, side: dir });
              break;
            }
            case "mark": {
              const negated = w[i + 1] === "!";
              if (negated) i++;
              if (w[++i] !== "--mark") throw new Error("-m mark needs --mark");
              matches.push({ kind: "mark", ...parseNumberMask(need(++i)), negated });
              break;
            }
            case "tcp":
            case "udp":
            case "sctp":
              if (proto !== mod) throw new Error(`-m ${mod} needs -p ${mod} before it`);
              modules.add(mod);
              break;
            default:
              throw new Error(`match module ${mod} not simulated`);
          }
          break;
        }
        case "-j": {
          const name = need(++i);
          const opts = w.slice(i + 1);
          i = w.length;
          target = this.parseTarget(family, t, name, opts, proto);
          break;
        }
        default:
          throw new Error(`option ${word} not simulated`);
      }
    }
    return { args: [...w], matches, target, comment };
  }

  private parseTarget(family: Family, t: Table, name: string, opts: readonly string[], proto: string | undefined): Target {
    switch (name) {
      case "ACCEPT":
      case "DROP":
      case "RETURN":
        if (opts.length) throw new Error(`${name} takes no options`);
        return { kind: name };
      case "MARK":
        if (opts.length !== 2 || opts[0] !== "--set-xmark") throw new Error(`MARK options ${opts.join(" ")} not simulated`);
        return { kind: "MARK", ...parseNumberMask(opts[1]!) };
      case "REJECT": {
        const def = family === "ipv4" ? "icmp-port-unreachable" : "icmp6-port-unreachable";
        if (opts.length !== 0 && (opts.length !== 2 || opts[0] !== "--reject-with")) throw new Error(`REJECT options ${opts.join(" ")}`);
        const type = opts[1] ?? def;
        const ok =
          family === "ipv4"
            ? ["icmp-port-unreachable", "icmp-host-unreachable", "icmp-net-unreachable", "icmp-admin-prohibited", "tcp-reset"]
            : ["icmp6-port-unreachable", "icmp6-adm-prohibited", "icmp6-no-route", "tcp-reset"];
        if (!ok.includes(type)) throw new Error(`--reject-with ${type} is not valid for ${family}`);
        if (type === "tcp-reset" && proto !== "tcp") throw new Error("tcp-reset needs -p tcp");
        return { kind: "REJECT", with: type };
      }
      default: {
        if (opts.length) throw new Error(`jump to ${name} takes no options`);
        const c = t.get(name);
        if (!c) throw new Error(`Couldn't load target \`${name}'`);
        if (c.policy !== undefined) throw new Error(`cannot jump to built-in chain ${name}`);
        return { kind: "jump", chain: name };
      }
    }
  }

  // ----- reading: what the agent reads back -----

  /** `iptables -S CHAIN`. */
  listChain(family: Family, chain: string): string {
    const c = this.tables[family].get(chain);
    if (!c) throw new Error(`iptables: No chain/target/match by that name (${chain})`);
    const head = c.policy !== undefined ? `-P ${chain} ${c.policy}` : `-N ${chain}`;
    return `${[head, ...c.rules.map((r) => `-A ${chain} ${r.args.map(quoteWord).join(" ")}`)].join("\n")}\n`;
  }

  /** `iptables-save -t filter`. */
  save(family: Family): string {
    // As iptables-save lists them: built-in chains first, then ours by name.
    const t = [...this.tables[family]].sort(
      ([a, ca], [b, cb]) =>
        (ca.policy === undefined ? 1 : 0) - (cb.policy === undefined ? 1 : 0) || (ca.policy === undefined && a < b ? -1 : ca.policy === undefined && a > b ? 1 : 0),
    );
    const lines = ["# Generated by the test simulator", "*filter"];
    for (const [name, c] of t) lines.push(`:${name} ${c.policy ?? "-"} [0:0]`);
    for (const [name, c] of t) for (const r of c.rules) lines.push(`-A ${name} ${r.args.map(quoteWord).join(" ")}`);
    lines.push("COMMIT", "# Completed");
    return `${lines.join("\n")}\n`;
  }

  /** `ipset list -n`. */
  setNames(): string {
    return [...this.sets.keys()].map((n) => `${n}\n`).join("");
  }

  /** Chains of a family, by name, as argument lists. */
  chainArgs(family: Family): Map<string, string[][]> {
    return new Map([...this.tables[family]].map(([k, c]) => [k, c.rules.map((r) => [...r.args])]));
  }

  // ----- a first packet through FORWARD or INPUT -----

  /** The verdict of a forwarded packet, each rule that matched as a line of text, and the rules themselves. */
  forward(pkt: Packet): { verdict: Verdict; trace: string[]; hits: Rule[] } {
    return this.through("FORWARD", pkt);
  }

  /** The same for a packet delivered to the node itself (to one of its addresses). */
  input(pkt: Packet): { verdict: Verdict; trace: string[]; hits: Rule[] } {
    return this.through("INPUT", pkt);
  }

  private through(builtin: "FORWARD" | "INPUT", pkt: Packet): { verdict: Verdict; trace: string[]; hits: Rule[] } {
    const t = this.tables[pkt.family];
    const trace: string[] = [];
    const hits: Rule[] = [];
    const state: WalkState = { mark: pkt.mark ?? 0 };
    const r = this.walk(t, builtin, pkt, state, trace, hits, 0);
    const verdict = r === "RETURN" ? (t.get(builtin)!.policy as Verdict) : r;
    return { verdict, trace, hits };
  }

  private walk(t: Table, name: string, pkt: Packet, state: WalkState, trace: string[], hits: Rule[], depth: number): Verdict | "RETURN" {
    if (depth > 32) throw new Error(`chain loop at ${name}`);
    const chain = t.get(name);
    if (!chain) throw new Error(`no chain ${name}`);
    for (const [i, rule] of chain.rules.entries()) {
      if (!rule.matches.every((m) => this.matches(m, pkt, state))) continue;
      trace.push(`${name}#${i + 1}${rule.comment ? ` (${rule.comment})` : ""} -> ${targetText(rule.target)}`);
      hits.push(rule);
      const tg = rule.target;
      switch (tg.kind) {
        case "none":
          continue;
        case "ACCEPT":
        case "DROP":
          return tg.kind;
        case "REJECT":
          return "REJECT";
        case "RETURN":
          return "RETURN";
        case "MARK":
          state.mark = ((state.mark & ~tg.mask) ^ tg.value) >>> 0;
          continue;
        case "jump": {
          const r = this.walk(t, tg.chain, pkt, state, trace, hits, depth + 1);
          if (r !== "RETURN") return r;
          continue;
        }
      }
    }
    return "RETURN";
  }

  private matches(m: Match, pkt: Packet, state: WalkState): boolean {
    switch (m.kind) {
      case "addr": {
        const a = ipaddr.parse(m.side === "src" ? pkt.src : pkt.dst);
        return a.kind() === m.net[0].kind() && a.match(m.net);
      }
      case "proto":
        return pkt.protocol.toLowerCase() === m.protocol;
      case "dport":
        return pkt.dport >= m.from && pkt.dport <= m.to;
      case "set":
        return setContains(this.set(m.name), m.side === "src" ? pkt.src : pkt.dst);
      case "mark":
        return ((state.mark & m.mask) >>> 0 === m.value) !== m.negated;
      case "ctstate":
        return m.states.includes(pkt.ctstate ?? "NEW");
    }
  }
}

function flushedTable(t: Table): Table {
  const out = freshTable();
  for (const [k, c] of t) if (c.policy !== undefined) out.set(k, { policy: c.policy, rules: [] });
  return out;
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function targetText(t: Target): string {
  switch (t.kind) {
    case "jump":
      return t.chain;
    case "REJECT":
      return `REJECT ${t.with}`;
    case "MARK":
      return `MARK 0x${t.value.toString(16)}/0x${t.mask.toString(16)}`;
    default:
      return t.kind;
  }
}

function networkOf(a: ipaddr.IPv4 | ipaddr.IPv6, len: number): string {
  const bytes = a.toByteArray();
  for (let bit = len; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes).toString();
}

/** hash:ip: the address is a member. hash:net: the most specific entry that contains it decides; nomatch means no. */
/** Everything a node holds of netfilter, comparable: sets with their members, every chain (built-in ones too, for the hooks) with its rules. */
export function nodeState(n: FakeNode): unknown {
  const byName = <T extends { name: string }>(xs: T[]) => xs.sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    sets: byName([...n.sets].map(([name, s]) => ({ name, type: s.type, family: s.family, entries: [...s.entries].sort() }))),
    tables: Object.fromEntries(
      (["ipv4", "ipv6"] as const).map((f) => [f, byName([...n.tables[f]].map(([name, c]) => ({ name, policy: c.policy, rules: c.rules.map((r) => r.args.join(" ")) })))]),
    ),
  };
}

export function setContains(s: SetState, ip: string): boolean {
  const a = ipaddr.parse(ip);
  if (familyOf(a) !== s.family) return false;
  if (s.type === "hash:ip") return s.entries.get(a.toString()) === false;
  let best: { len: number; nomatch: boolean } | undefined;
  for (const [key, nomatch] of s.entries) {
    const net = ipaddr.parseCIDR(key);
    if (a.match(net) && (!best || net[1] > best.len)) best = { len: net[1], nomatch };
  }
  return best !== undefined && !best.nomatch;
}

export interface Call {
  readonly kind: "read" | "write";
  readonly cmd: readonly string[];
  readonly input?: string;
}

/**
 * The agent's Runner over a FakeNode: records every command (and its stdin),
 * and throws for the commands `failing` picks, as a failing binary would.
 */
export class FakeRunner implements Runner {
  readonly calls: Call[] = [];
  failing: ((cmd: readonly string[]) => boolean) | undefined;

  constructor(readonly node: FakeNode = new FakeNode()) {}

  async read(cmd: readonly string[]): Promise<string> {
    this.calls.push({ kind: "read", cmd: [...cmd] });
    this.maybeFail(cmd);
    const [bin, ...args] = cmd;
    switch (bin) {
      case "iptables":
      case "ip6tables": {
        const family: Family = bin === "iptables" ? "ipv4" : "ipv6";
        const i = args.indexOf("-S");
        const chain = args[i + 1];
        if (i < 0 || !chain) throw new Error(`read not simulated: ${cmd.join(" ")}`);
        return this.node.listChain(family, chain);
      }
      case "iptables-save":
      case "ip6tables-save":
        if (args.join(" ") !== "-t filter") throw new Error(`read not simulated: ${cmd.join(" ")}`);
        return this.node.save(bin === "iptables-save" ? "ipv4" : "ipv6");
      case "ipset":
        if (args.join(" ") !== "list -n") throw new Error(`read not simulated: ${cmd.join(" ")}`);
        return this.node.setNames();
      default:
        throw new Error(`read not simulated: ${cmd.join(" ")}`);
    }
  }

  async write(cmd: readonly string[], input?: string): Promise<void> {
    this.calls.push({ kind: "write", cmd: [...cmd], ...(input !== undefined ? { input } : {}) });
    this.maybeFail(cmd);
    const [bin, ...args] = cmd;
    switch (bin) {
      case "ipset":
        if (args[0] === "restore") this.node.ipsetRestore(input ?? "");
        else this.node.ipsetCommand(args);
        return;
      case "iptables-restore":
      case "ip6tables-restore": {
        const noflush = args.includes("--noflush");
        if (args.some((a) => a !== "--noflush" && a !== "-w")) throw new Error(`write not simulated: ${cmd.join(" ")}`);
        this.node.iptablesRestore(bin === "iptables-restore" ? "ipv4" : "ipv6", input ?? "", noflush);
        return;
      }
      case "iptables":
      case "ip6tables": {
        const family: Family = bin === "iptables" ? "ipv4" : "ipv6";
        const t = cloneTable(this.node.tables[family]);
        this.node.tableCommand(family, t, args);
        this.node.tables[family] = t;
        return;
      }
      default:
        throw new Error(`write not simulated: ${cmd.join(" ")}`);
    }
  }

  private maybeFail(cmd: readonly string[]): void {
    if (this.failing?.(cmd)) throw new Error(`${cmd.join(" ")} failed (exit 1): injected failure`);
  }

  /** The write commands, as one line each (stdin left out). */
  writes(): string[] {
    return this.calls.filter((c) => c.kind === "write").map((c) => c.cmd.join(" "));
  }
}
