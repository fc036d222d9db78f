/**
 * What compiled rulesets share between nodes and keep across writes, and the
 * members of sets: made from a set's source and the model alone, so that a
 * set that a write touched is made again on its own.
 */
import type { Cluster } from "../model/cluster.js";
import type { TierPolicy, TierPort } from "../model/tier-types.js";
import type { Cidr, Family, Pod, PolicyObject, PortMatcher, Protocol, Selector } from "../model/types.js";
import { PROTOCOLS, isLive } from "../model/types.js";
import { matches, resolvePortMatcher, selectPeerPods } from "../policy/index.js";
import { changeSet, makeSet, position, entryValue } from "./members.js";
import type { ChainPlan, SetEntry, SetPlan, SetSource, SetSpec } from "./plan.js";

/**
 * What nodes share, kept across writes by the rules service: set contents
 * by name, policy chains by policy object, a NetworkPolicy's or a tier
 * policy's (a chain depends on the policy, the family and, for named ports,
 * the numbers they resolve to on the destination pod, never on the node; an
 * updated policy is a new object), and named-port groupings. Whoever keeps it
 * across writes must drop what a write touches.
 */
export class CompileCache {
  readonly sets = new Map<string, SetPlan>();
  readonly chains: WeakMap<PolicyObject | TierPolicy, Map<string, CachedChain>>;
  readonly portGroups = new Map<string, Map<number, Pod[]>>();
  /** Pod chains by name: a pod chain's name says all its rules (see FamilyCompiler.podChain). */
  readonly podChains: Map<string, ChainPlan>;
  /** Each pod's chain per family and direction, with what it was made for: a recompiled node asks again only of pods whose policies changed. */
  readonly podResults: WeakMap<Pod, Map<string, CachedPodChain>>;

  /**
   * `shared`: a cache whose chains this one reads and adds to. They hold for
   * any model: a policy chain is keyed by its policy object and what shaped
   * it, a pod chain by a name that says its rules, and a pod's result says
   * what it was made for and is checked before it is used.
   */
  constructor(shared?: CompileCache) {
    this.chains = shared?.chains ?? new WeakMap();
    this.podChains = shared?.podChains ?? new Map();
    this.podResults = shared?.podResults ?? new WeakMap();
  }

  /**
   * A cache for a model that differs from `base`'s by a change that touched
   * `sets` and `portGroups`: it starts with every other set and named-port
   * grouping of `base`, shares its chains, and changes none of `base`'s sets.
   */
  static overlay(base: CompileCache, sets: ReadonlySet<string>, portGroups: ReadonlySet<string>): CompileCache {
    const c = new CompileCache(base);
    for (const [name, set] of base.sets) if (!sets.has(name)) c.sets.set(name, set);
    for (const [key, group] of base.portGroups) if (!portGroups.has(key)) c.portGroups.set(key, group);
    return c;
  }

  rememberPodChain(chain: ChainPlan): void {
    // Names of lists of policies no pod has any more are not worth keeping without bound.
    if (this.podChains.size >= 200_000) this.podChains.clear();
    this.podChains.set(chain.name, chain);
  }
}

/** A pod's chain, with the policy objects (NetworkPolicies, or one tier's policies) and, for egress, the named-port numbers it was made for, and the policy chains it jumps to. */
export interface CachedPodChain {
  readonly chain: ChainPlan;
  readonly policies: readonly object[];
  readonly numbers: string;
  readonly jumps: readonly CachedChain[];
}

/** A policy chain with the sets its rules name and the named ports whose numbers shaped it. */
export interface CachedChain {
  readonly chain: ChainPlan;
  readonly sets: readonly SetSpec[];
  readonly portGroups: readonly string[];
}

/** A set with its members as the model has them now, from the cache when it holds them. */
export function materialize(cluster: Cluster, cache: CompileCache, spec: SetSpec): SetPlan {
  let set = cache.sets.get(spec.name);
  if (!set) cache.sets.set(spec.name, (set = makeSet(spec, members(cluster, cache, spec))));
  return set;
}

/**
 * The set as the model has it now, when only the members at `addresses` may
 * have changed (pods changed, namespaces did not): each of those addresses is
 * asked again, and the set is made from `old` by what changed, or is `old`.
 */
export function updateMembers(cluster: Cluster, old: SetPlan, addresses: Iterable<string>): SetPlan {
  const s = old.source;
  if (s.kind === "nets") return old;
  // Nodes are few, and a node's change is not a pod's: its members are asked again, all of them.
  if (s.kind === "nodes") return withMembers(old, nodeEntries(cluster, s.nodes, old.family));
  const added: SetEntry[] = [];
  const removed: string[] = [];
  for (const address of addresses) {
    const holds = cluster.podsAt(address).some((pod) => pod.ips.find((a) => a.family === old.family)?.text === address && selects(cluster, s, pod));
    if (holds !== (old.entries[position(old.entries, address, entryValue)]?.value === address)) {
      if (holds) added.push({ value: address, nomatch: false });
      else removed.push(address);
    }
  }
  return added.length === 0 && removed.length === 0 ? old : changeSet(old, added, removed);
}

/** `old` with exactly these members (sorted), made by what changed; `old` itself when nothing did. */
function withMembers(old: SetPlan, entries: readonly SetEntry[]): SetPlan {
  const now = new Set(entries.map(entryValue));
  const removed = old.entries.filter((e) => !now.has(e.value)).map(entryValue);
  const was = new Set(old.entries.map(entryValue));
  const added = entries.filter((e) => !was.has(e.value));
  return added.length === 0 && removed.length === 0 ? old : changeSet(old, added, removed);
}

/** Whether a set of this source takes a live pod off the host network (as selectPeerPods and namedPortGroups choose). */
function selects(cluster: Cluster, s: SetSource & { kind: "pods" | "port" }, pod: Pod): boolean {
  if (s.kind === "port") return resolvePortMatcher({ kind: "named", field: "", protocol: s.protocol, name: s.name }, pod)?.from === s.port;
  if (s.namespaces.kind === "same") {
    if (pod.namespace !== s.policyNamespace) return false;
  } else {
    const ns = cluster.namespaces.get(pod.namespace);
    if (!ns || !matches(s.namespaces.selector, ns.labels)) return false;
  }
  return matches(s.pods, pod.labels);
}

function members(cluster: Cluster, cache: CompileCache, spec: SetSpec): SetEntry[] {
  const s = spec.source;
  switch (s.kind) {
    case "nets":
      // Each member once: ipset refuses to add an element twice, and an except may be a half of a /0.
      return [
        ...splitZero(s.cidr)
          .filter((value) => !s.except.some((c) => c.text === value))
          .map((value) => ({ value, nomatch: false })),
        ...s.except.map((c) => ({ value: c.text, nomatch: true })),
      ];
    case "pods":
      return podEntries(selectPeerPods(cluster, s.policyNamespace, { kind: "pods", field: "", namespaces: s.namespaces, pods: s.pods }), spec.family);
    case "port":
      return podEntries(namedPortGroups(cluster, cache, s.protocol, s.name).get(s.port) ?? [], spec.family);
    case "nodes":
      return nodeEntries(cluster, s.nodes, spec.family);
  }
}

/**
 * A `nodes` peer: "It selects the nodeIPs as the peer type by matching on the
 * IPs present in the node.Status.Addresses field of the node" (the model
 * keeps the InternalIPs), of the nodes whose labels the selector matches.
 */
function nodeEntries(cluster: Cluster, sel: Selector, family: Family): SetEntry[] {
  const ips = new Set<string>();
  for (const node of cluster.nodes.values()) {
    if (!matches(sel, node.labels)) continue;
    for (const a of node.addresses) if (a.family === family) ips.add(a.text);
  }
  return [...ips].sort().map((value) => ({ value, nomatch: false }));
}

function podEntries(pods: Iterable<Pod>, family: Family): SetEntry[] {
  const ips = new Set<string>();
  for (const pod of pods) {
    const ip = isLive(pod) ? pod.ips.find((a) => a.family === family) : undefined;
    if (ip) ips.add(ip.text);
  }
  return [...ips].sort().map((value) => ({ value, nomatch: false }));
}

export function portGroupKey(protocol: Protocol, name: string): string {
  return `${protocol}\0${name}`;
}

/** The pods of the cluster with a named port, grouped by the number it resolves to. */
export function namedPortGroups(cluster: Cluster, cache: CompileCache, protocol: Protocol, name: string): Map<number, Pod[]> {
  const key = portGroupKey(protocol, name);
  const known = cache.portGroups.get(key);
  if (known) return known;
  const m: PortMatcher = { kind: "named", field: "", protocol, name };
  const byPort = new Map<number, Pod[]>();
  for (const pod of cluster.podsWithPortName(protocol, name)) {
    const r = resolvePortMatcher(m, pod);
    if (!r) continue;
    const list = byPort.get(r.from);
    if (list) list.push(pod);
    else byPort.set(r.from, [pod]);
  }
  cache.portGroups.set(key, byPort);
  return byPort;
}

const namedIngressPorts = new WeakMap<PolicyObject, PortMatcher[]>();
const namedEgressPorts = new WeakMap<PolicyObject, (PortMatcher & { kind: "named" })[]>();

/** The numbers the egress named ports of a policy take over the cluster: the rules of its egress chain follow them. */
export function egressPortNumbers(cluster: Cluster, cache: CompileCache, p: PolicyObject): string {
  let named = namedEgressPorts.get(p);
  if (!named) {
    named = (p.policy.egress ?? []).flatMap((r) => r.ports.filter((m): m is PortMatcher & { kind: "named" } => m.kind === "named"));
    namedEgressPorts.set(p, named);
  }
  if (named.length === 0) return "";
  return named.map((m) => `${m.protocol}/${m.name}=${[...namedPortGroups(cluster, cache, m.protocol, m.name).keys()].sort((a, b) => a - b).join("+")}`).join(",");
}

/** The numbers the ingress named ports of a policy resolve to on one pod: what tells its chains apart. */
export function ingressPortNumbers(p: PolicyObject, pod: Pod): string {
  let named = namedIngressPorts.get(p);
  if (!named) namedIngressPorts.set(p, (named = (p.policy.ingress ?? []).flatMap((r) => r.ports.filter((m) => m.kind === "named"))));
  if (named.length === 0) return "";
  // Pods with the same container ports resolve alike: remember the answer per port list.
  const ports = portsSignature(pod);
  let byPorts = resolutions.get(p);
  if (!byPorts) resolutions.set(p, (byPorts = new Map()));
  let out = byPorts.get(ports);
  if (out === undefined) {
    out = named.map((m) => `${m.kind === "named" ? `${m.protocol}/${m.name}` : ""}=${resolvePortMatcher(m, pod)?.from ?? "none"}`).join(",");
    byPorts.set(ports, out);
  }
  return out;
}

type NamedAnyProtocol = TierPort & { kind: "namedAnyProtocol" };

const tierNamedPorts: Readonly<Record<"ingress" | "egress", WeakMap<TierPolicy, NamedAnyProtocol[]>>> = { ingress: new WeakMap(), egress: new WeakMap() };

function namedOf(p: TierPolicy, dir: "ingress" | "egress"): NamedAnyProtocol[] {
  let named = tierNamedPorts[dir].get(p);
  if (!named) tierNamedPorts[dir].set(p, (named = p[dir].flatMap((r) => r.ports.filter((m): m is NamedAnyProtocol => m.kind === "namedAnyProtocol"))));
  return named;
}

/** The numbers a tier policy's egress named ports take over the cluster, per protocol: the rules of its egress chain follow them. */
export function tierEgressPortNumbers(cluster: Cluster, cache: CompileCache, p: TierPolicy): string {
  const named = namedOf(p, "egress");
  if (named.length === 0) return "";
  const numbers = (name: string, protocol: Protocol) => [...namedPortGroups(cluster, cache, protocol, name).keys()].sort((a, b) => a - b).join("+");
  return named.map((m) => `${m.name}=${PROTOCOLS.map((protocol) => `${protocol}:${numbers(m.name, protocol)}`).join("/")}`).join(",");
}

/** The container ports a tier policy's ingress named ports name on one pod: what tells its chains apart. */
export function tierIngressPortNumbers(p: TierPolicy, pod: Pod): string {
  const named = namedOf(p, "ingress");
  if (named.length === 0) return "";
  let byPorts = tierResolutions.get(p);
  if (!byPorts) tierResolutions.set(p, (byPorts = new Map()));
  const ports = portsSignature(pod);
  let out = byPorts.get(ports);
  if (out === undefined) {
    const on = (name: string) => pod.ports.filter((cp) => cp.name === name).map((cp) => `${cp.protocol}/${cp.port}`);
    out = named.map((m) => `${m.name}=${on(m.name).join("+") || "none"}`).join(",");
    byPorts.set(ports, out);
  }
  return out;
}

const tierResolutions = new WeakMap<TierPolicy, Map<string, string>>();
const resolutions = new WeakMap<PolicyObject, Map<string, string>>();
const signatures = new WeakMap<Pod, string>();

function portsSignature(pod: Pod): string {
  let sig = signatures.get(pod);
  if (sig === undefined) signatures.set(pod, (sig = pod.hostNetwork ? "host" : pod.ports.map((p) => `${p.protocol}/${p.name ?? ""}=${p.port}`).join(",")));
  return sig;
}

/** hash:net cannot hold a /0: it is the two halves of the space instead. */
function splitZero(c: Cidr): string[] {
  if (c.prefix !== 0) return [c.text];
  return c.family === "ipv4" ? ["0.0.0.0/1", "128.0.0.0/1"] : ["::/1", "8000::/1"];
}
