/**
 * The rule compiler: a pure function of the model and a node. It asks the
 * same semantics module as Check (policiesSelecting, selectPeerPods,
 * resolvePortMatcher, the ipBlock's cidr and except), so the rules cannot
 * disagree with Check.
 *
 * Shape, per family:
 *   PODWALL-FORWARD (hooked from FORWARD): accept replies (conntrack), return
 *     for traffic from and to the node's own addresses, then jump to each
 *     shard chain.
 *   PODWALL-FWD-n (16 shards of the local pods, by a hash of the pod's key):
 *     `-s POD -j PODWALL-EG-…` for each pod isolated for egress, and
 *     `-s POD -d POD -j RETURN` (itself), `-d POD -j PODWALL-IN-…` for each
 *     isolated for ingress. A change of one pod rewrites one small shard.
 *   PODWALL-EG-… / PODWALL-IN-… (one per list of selecting policies and
 *     direction, shared by every pod with that list, on every node): clear the
 *     allow mark, jump to each selecting policy's chain and return once the
 *     mark is set; else reject.
 *   PODWALL-PE-… / PODWALL-PI-… (one per policy and direction): one rule per
 *     peer × port entry of each rule, setting the mark. Peers are ipsets:
 *     `hash:ip` of the pods a pod peer selects, `hash:net` per ipBlock (its own
 *     excepts as `nomatch`, so one peer's except never cuts another peer).
 *     Named ports are resolved on the destination pod: for ingress that is the
 *     subject, so the number goes into the chain (one chain per policy and
 *     resolution); for egress, a `hash:ip` set of the pods on which the name
 *     resolves to one number is matched together with that number.
 */
import type { Cluster } from "../model/cluster.js";
import type { Address, Direction, Family, Peer, Pod, PolicyObject, PortMatcher, Protocol } from "../model/types.js";
import { isLive } from "../model/types.js";
import { describeSelector, policiesSelecting, resolvePortMatcher } from "../policy/index.js";
import { TOP_CHAIN, podChainName, podShard, policyChainName, setName, shardChainName } from "./names.js";
import type { ChainPlan, Hook, RulePlan, RulesetPlan, SetPlan, SetSpec } from "./plan.js";
import { type CachedChain, CompileCache, egressPortNumbers, ingressPortNumbers, materialize, namedPortGroups, portGroupKey } from "./sets.js";

export const FAMILIES: readonly Family[] = ["ipv4", "ipv6"];
/** The packet mark bit that says "a policy allowed this". */
export const ALLOW_MARK = "0x10000/0x10000";

const ACCEPT = ["-j", "ACCEPT"];
const RETURN = ["-j", "RETURN"];
const SET_MARK = ["-j", "MARK", "--set-xmark", ALLOW_MARK];
const CLEAR_MARK = ["-j", "MARK", "--set-xmark", "0x0/0x10000"];
const MARKED = ["-m", "mark", "--mark", ALLOW_MARK];

/** The pods a node enforces for: live, off the host network, in name order. */
export function localPods(cluster: Cluster, node: string): Pod[] {
  return [...cluster.podsOnNode(node)].filter((p) => isLive(p) && !p.hostNetwork).sort((a, b) => (a.key < b.key ? -1 : 1));
}

export function compileNode(cluster: Cluster, nodeName: string, cache = new CompileCache()): RulesetPlan {
  const sets = new Map<string, SetPlan>();
  const portGroups = new Set<string>();
  const chains = {} as Record<Family, ChainPlan[]>;
  for (const family of FAMILIES) chains[family] = new FamilyCompiler(cluster, nodeName, family, sets, portGroups, cache).compile();
  return {
    node: nodeName,
    sets: [...sets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    chains,
    hooks: FAMILIES.map((family): Hook => ({ family, table: "filter", chain: "FORWARD", rule: `-j ${TOP_CHAIN}` })),
    portGroups: [...portGroups].sort(),
  };
}

interface Fragment {
  readonly match: readonly string[];
  readonly field: string;
}

class FamilyCompiler {
  private readonly locals: Pod[];
  private readonly nodeAddresses: Address[];
  /** The chains this node uses, by name. */
  private readonly used = new Map<string, ChainPlan>();
  /** While a policy chain is built: the sets its rules name, the named ports it consulted. */
  private specs: SetSpec[] | undefined;
  private consulted: Set<string> | undefined;

  constructor(
    private readonly cluster: Cluster,
    nodeName: string,
    private readonly family: Family,
    private readonly sets: Map<string, SetPlan>,
    private readonly portGroups: Set<string>,
    private readonly cache: CompileCache,
  ) {
    this.locals = localPods(cluster, nodeName).filter((p) => this.ipOf(p));
    this.nodeAddresses = (cluster.nodes.get(nodeName)?.addresses ?? []).filter((a) => a.family === family);
  }

  private ipOf(pod: Pod): Address | undefined {
    return pod.ips.find((a) => a.family === this.family);
  }

  compile(): ChainPlan[] {
    const top: RulePlan[] = [{ match: ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"], target: ACCEPT, origin: { note: "replies of allowed connections" } }];
    // "Traffic to and from the node where a Pod is running is always allowed."
    for (const a of this.nodeAddresses) {
      top.push({ match: ["-s", a.text], target: RETURN, origin: { note: "from its own node" } });
      top.push({ match: ["-d", a.text], target: RETURN, origin: { note: "to its own node" } });
    }
    const shards = new Map<number, RulePlan[]>();
    const podChains = new Map<string, ChainPlan>();
    for (const pod of this.locals) {
      const ip = this.ipOf(pod)!.text;
      const rules: RulePlan[] = [];
      for (const dir of ["egress", "ingress"] as const) {
        const policies = policiesSelecting(this.cluster, pod, dir);
        if (policies.length === 0) continue;
        const chain = this.podChain(pod, dir, policies);
        podChains.set(chain.name, chain);
        if (dir === "ingress") rules.push({ match: ["-s", ip, "-d", ip], target: RETURN, origin: { pod: pod.key, note: "itself" } });
        rules.push({ match: [dir === "egress" ? "-s" : "-d", ip], target: ["-j", chain.name], origin: { pod: pod.key, note: dir } });
      }
      if (rules.length === 0) continue;
      const shard = podShard(pod.key);
      const known = shards.get(shard);
      if (known) known.push(...rules);
      else shards.set(shard, rules);
    }
    const shardChains: ChainPlan[] = [];
    for (const shard of [...shards.keys()].sort((a, b) => a - b)) {
      const name = shardChainName(shard, this.family);
      top.push({ match: [], target: ["-j", name], origin: { note: `pods of shard ${shard.toString(16).toUpperCase()}` } });
      shardChains.push({ name, rules: shards.get(shard)! });
    }
    const byName = (a: ChainPlan, b: ChainPlan) => (a.name < b.name ? -1 : 1);
    return [{ name: TOP_CHAIN, rules: top }, ...shardChains, ...[...podChains.values()].sort(byName), ...[...this.used.values()].sort(byName)];
  }

  /**
   * The chain of the pods a list of policies selects, in one direction: named
   * by the policy chains it jumps to (for ingress, those name how the subject's
   * named ports resolve), so every pod with the same policies shares it, on
   * every node.
   */
  private podChain(pod: Pod, dir: Direction, policies: readonly PolicyObject[]): ChainPlan {
    // A pod's chain stands while the pod (an updated pod is a new object), its
    // policies (objects, in order) and, for egress, the numbers their named
    // ports take do; then so do the policy chains it jumps to.
    const numbers = dir === "egress" ? policies.map((p) => egressPortNumbers(this.cluster, this.cache, p)).join(";") : "";
    const key = `${this.family}\0${dir}`;
    let byPod = this.cache.podResults.get(pod);
    if (!byPod) this.cache.podResults.set(pod, (byPod = new Map()));
    const known = byPod.get(key);
    if (known && known.numbers === numbers && known.policies.length === policies.length && known.policies.every((p, i) => p === policies[i])) {
      for (const c of known.jumps) this.adopt(c);
      return known.chain;
    }
    const cached = policies.map((p) => this.policyChain(p, dir, pod));
    const chain = this.sharedPodChain(dir, policies, cached);
    byPod.set(key, { chain, policies, numbers, jumps: cached });
    return chain;
  }

  /** The chain every pod with these policies (and so these policy chains) shares. */
  private sharedPodChain(dir: Direction, policies: readonly PolicyObject[], cached: readonly CachedChain[]): ChainPlan {
    const jumps = cached.map((c) => c.chain.name);
    const name = podChainName(jumps.join(","), dir, this.family);
    let chain = this.cache.podChains.get(name);
    if (chain) return chain;
    const rules: RulePlan[] = [{ match: [], target: CLEAR_MARK, origin: { note: `${dir} isolated` } }];
    policies.forEach((p, i) => {
      rules.push({ match: [], target: ["-j", jumps[i]!], origin: { policy: p.key, note: dir } });
      rules.push({ match: MARKED, target: RETURN, origin: { policy: p.key, note: "allowed" } });
    });
    const unreachable = this.family === "ipv4" ? "icmp-port-unreachable" : "icmp6-port-unreachable";
    rules.push({ match: ["-p", "tcp"], target: ["-j", "REJECT", "--reject-with", "tcp-reset"], origin: { note: `${dir} denied` } });
    rules.push({ match: [], target: ["-j", "REJECT", "--reject-with", unreachable], origin: { note: `${dir} denied` } });
    chain = { name, rules };
    this.cache.rememberPodChain(chain);
    return chain;
  }

  /** This node uses a policy chain: the chain, its sets, the named ports that shaped it. */
  private adopt(c: CachedChain): void {
    if (this.used.get(c.chain.name) === c.chain) return;
    this.used.set(c.chain.name, c.chain);
    for (const spec of c.sets) this.useSet(spec);
    for (const g of c.portGroups) this.portGroups.add(g);
  }

  /**
   * A policy's chain for one direction. For ingress the destination is the
   * subject pod itself, so its named ports are resolved here, into the chain:
   * pods on which they resolve alike share one chain.
   */
  private policyChain(p: PolicyObject, dir: Direction, subject: Pod): CachedChain {
    const rulesOf = p.policy[dir] ?? [];
    const resolved = dir === "ingress" ? ingressPortNumbers(p, subject) : egressPortNumbers(this.cluster, this.cache, p);
    const key = `${this.family}\0${dir}\0${resolved}`;
    let ofPolicy = this.cache.chains.get(p);
    if (!ofPolicy) this.cache.chains.set(p, (ofPolicy = new Map()));
    let cached = ofPolicy.get(key);
    if (!cached) {
      const specs: SetSpec[] = [];
      const consulted = new Set<string>();
      this.specs = specs;
      this.consulted = consulted;
      const rules: RulePlan[] = [];
      for (const rule of rulesOf) {
        const peers = rule.peers.flatMap((peer) => this.peerMatch(p, peer, dir));
        const ports = rule.ports.flatMap((m) => this.portMatch(m, dir, subject));
        for (const peer of peers) {
          for (const port of ports) {
            rules.push({
              match: [...peer.match, ...port.match],
              target: SET_MARK,
              origin: {
                policy: p.key,
                field: rule.field,
                note: `${peer.field.slice(rule.field.length + 1) || "all peers"} ${port.field.slice(rule.field.length + 1) || "all ports"}`,
              },
            });
          }
        }
      }
      this.specs = undefined;
      this.consulted = undefined;
      const name = policyChainName(`${p.key}\0${dir === "ingress" ? resolved : ""}`, dir, this.family);
      ofPolicy.set(key, (cached = { chain: { name, rules }, sets: specs, portGroups: [...consulted] }));
    }
    this.adopt(cached);
    return cached;
  }

  /** The other end is the source for ingress, the destination for egress. */
  private peerMatch(p: PolicyObject, peer: Peer, dir: Direction): Fragment[] {
    const side = dir === "ingress" ? "src" : "dst";
    switch (peer.kind) {
      case "all":
        return [{ match: [], field: peer.field }];
      case "ipBlock": {
        if (peer.cidr.family !== this.family) return [];
        // `except` may name one CIDR twice: the set holds it once.
        const except = [...new Map(peer.except.map((c) => [c.text, c])).values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
        const texts = except.map((c) => c.text);
        const name = this.addSet(
          "NETS",
          `nets\0${this.family}\0${peer.cidr.text}\0${texts.join(",")}`,
          "hash:net",
          { kind: "nets", cidr: peer.cidr, except },
          `${peer.cidr.text}${texts.length ? ` except ${texts.join(", ")}` : ""}`,
        );
        return [{ match: ["-m", "set", "--match-set", name, side], field: peer.field }];
      }
      case "pods": {
        const ns = peer.namespaces;
        const scope = ns.kind === "same" ? `ns:${p.namespace}` : `nsSelector:${JSON.stringify(ns.selector)}`;
        const name = this.addSet(
          "PODS",
          `pods\0${this.family}\0${scope}\0${JSON.stringify(peer.pods)}`,
          "hash:ip",
          { kind: "pods", policyNamespace: p.namespace, namespaces: ns, pods: peer.pods },
          `pods ${ns.kind === "same" ? `of namespace ${p.namespace}` : `of namespaces ${describeSelector(ns.selector)}`} matching ${describeSelector(peer.pods)}`,
        );
        return [{ match: ["-m", "set", "--match-set", name, side], field: peer.field }];
      }
    }
  }

  private portMatch(m: PortMatcher, dir: Direction, subject: Pod): Fragment[] {
    switch (m.kind) {
      case "all":
        return [{ match: [], field: m.field }];
      case "protocol":
        return [{ match: proto(m.protocol), field: m.field }];
      case "range":
        return [{ match: [...proto(m.protocol), "--dport", m.from === m.to ? `${m.from}` : `${m.from}:${m.to}`], field: m.field }];
      case "named": {
        if (dir === "ingress") {
          const r = resolvePortMatcher(m, subject);
          return r ? [{ match: [...proto(m.protocol), "--dport", `${r.from}`], field: m.field }] : [];
        }
        // Egress: the destination is any pod of the cluster where the name resolves.
        this.consulted?.add(portGroupKey(m.protocol, m.name));
        const ports = [...namedPortGroups(this.cluster, this.cache, m.protocol, m.name).keys()].sort((a, b) => a - b);
        return ports.map((port) => {
          const name = this.addSet(
            "PORT",
            `port\0${this.family}\0${m.protocol}\0${m.name}\0${port}`,
            "hash:ip",
            { kind: "port", protocol: m.protocol, name: m.name, port },
            `pods where ${m.protocol} port ${m.name} is ${port}`,
          );
          return { match: ["-m", "set", "--match-set", name, "dst", ...proto(m.protocol), "--dport", `${port}`], field: m.field };
        });
      }
    }
  }

  private addSet(kind: "PODS" | "NETS" | "PORT", definition: string, type: SetSpec["type"], source: SetSpec["source"], about: string): string {
    const spec: SetSpec = { name: setName(kind, definition), family: this.family, type, about, source };
    this.specs?.push(spec);
    this.useSet(spec);
    return spec.name;
  }

  private useSet(spec: SetSpec): void {
    if (!this.sets.has(spec.name)) this.sets.set(spec.name, materialize(this.cluster, this.cache, spec));
  }
}

function proto(p: Protocol): string[] {
  const lower = p.toLowerCase();
  return ["-p", lower, "-m", lower];
}
