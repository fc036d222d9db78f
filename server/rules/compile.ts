/**
 * The rule compiler: a pure function of the model and a node. It asks the
 * same semantics module as Check (policiesSelecting, tierPoliciesSelecting,
 * selectPeerPods, resolvePortMatcher, the ipBlock's cidr and except), so the
 * rules cannot disagree with Check.
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
 *
 * When the model holds cluster-scoped policies, a pod's jumps in its shard
 * are, per direction, those of tiers.ts: the Admin tier's chain, then the
 * NetworkPolicy chain (isolated pods) or the Baseline tier's chain (others),
 * skipped when the Admin tier accepted. A pod's traffic to an address of its
 * own node is delivered to the node (INPUT), not forwarded: there
 * PODWALL-INPUT (hooked from INPUT) sends it to PODWALL-NODE, which holds the
 * same tier jumps without the NetworkPolicy one, whose own-node exception
 * allows that traffic. Without cluster-scoped policies the ruleset is as it
 * was before they existed, to the byte.
 */
import type { Cluster } from "../model/cluster.js";
import type { Address, Direction, Family, Peer, Pod, PolicyObject } from "../model/types.js";
import { isLive } from "../model/types.js";
import { policiesSelecting } from "../policy/index.js";
import { TOP_CHAIN, inputChainName, ownNodeChainName, podChainName, podShard, policyChainName, shardChainName } from "./names.js";
import type { ChainPlan, Hook, RulePlan, RulesetPlan, SetPlan } from "./plan.js";
import { ChainScope, type Fragment, fieldPart, podChainOf, sideOf } from "./scope.js";
import { type CachedChain, CompileCache, egressPortNumbers, ingressPortNumbers } from "./sets.js";
import { NOT_ACCEPTED, TierChains } from "./tiers.js";

export const FAMILIES: readonly Family[] = ["ipv4", "ipv6"];
/** The packet mark bit that says "a policy allowed this". */
export const ALLOW_MARK = "0x10000/0x10000";

const ACCEPT = ["-j", "ACCEPT"];
const RETURN = ["-j", "RETURN"];
const REPLIES = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"];
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
  const hook = (family: Family, chain: string, target: string): Hook => ({ family, table: "filter", chain, rule: `-j ${target}` });
  return {
    node: nodeName,
    sets: [...sets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    chains,
    hooks: [
      ...FAMILIES.map((family) => hook(family, "FORWARD", TOP_CHAIN)),
      ...FAMILIES.filter((family) => chains[family].some((c) => c.name === inputChainName(family))).map((family) => hook(family, "INPUT", inputChainName(family))),
    ],
    portGroups: [...portGroups].sort(),
  };
}

/**
 * One chain a pod's traffic in one direction is sent to: a tier's, or the
 * NetworkPolicy one; `guarded` when it follows the Admin tier's and is
 * skipped once that tier accepted.
 */
interface Step {
  readonly tier: "Admin" | "NetworkPolicy" | "Baseline";
  readonly chain: ChainPlan;
  readonly guarded: boolean;
}

const NO_STEPS: readonly Step[] = [];

class FamilyCompiler {
  private readonly locals: Pod[];
  private readonly nodeAddresses: Address[];
  private readonly scope: ChainScope;
  /** The tiers' chains, when the model holds cluster-scoped policies: without them nothing is asked per pod. */
  private readonly tiers: TierChains | undefined;
  /** The pod chains (of NetworkPolicies and of tiers) this node uses, by name. */
  private readonly podChains = new Map<string, ChainPlan>();

  constructor(
    private readonly cluster: Cluster,
    nodeName: string,
    private readonly family: Family,
    sets: Map<string, SetPlan>,
    portGroups: Set<string>,
    private readonly cache: CompileCache,
  ) {
    this.locals = localPods(cluster, nodeName).filter((p) => this.ipOf(p));
    this.nodeAddresses = (cluster.nodes.get(nodeName)?.addresses ?? []).filter((a) => a.family === family);
    this.scope = new ChainScope(cluster, family, cache, sets, portGroups);
    this.tiers = cluster.tierPolicies.size > 0 ? new TierChains(this.scope) : undefined;
  }

  private ipOf(pod: Pod): Address | undefined {
    return pod.ips.find((a) => a.family === this.family);
  }

  compile(): ChainPlan[] {
    const top: RulePlan[] = [{ match: REPLIES, target: ACCEPT, origin: { note: "replies of allowed connections" } }];
    // "Traffic to and from the node where a Pod is running is always allowed."
    for (const a of this.nodeAddresses) {
      top.push({ match: ["-s", a.text], target: RETURN, origin: { note: "from its own node" } });
      top.push({ match: ["-d", a.text], target: RETURN, origin: { note: "to its own node" } });
    }
    const shards = new Map<number, RulePlan[]>();
    const toNode: RulePlan[] = [];
    for (const pod of this.locals) {
      const ip = this.ipOf(pod)!.text;
      const rules: RulePlan[] = [];
      for (const dir of ["egress", "ingress"] as const) {
        const steps = this.steps(pod, dir);
        if (steps.length === 0) continue;
        if (dir === "ingress") rules.push({ match: ["-s", ip, "-d", ip], target: RETURN, origin: { pod: pod.key, note: "itself" } });
        for (const s of steps) rules.push(jump([dir === "egress" ? "-s" : "-d", ip], s, pod, dir));
        // The NetworkPolicy tier allows a pod's traffic to its own node: the tiers around it decide.
        if (dir === "egress" && this.tiers) for (const s of steps) if (s.tier !== "NetworkPolicy") toNode.push(jump(["-s", ip], s, pod, "egress to its own node,"));
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
    const input = toNode.length > 0 && this.nodeAddresses.length > 0 ? this.inputChains(toNode) : [];
    return [{ name: TOP_CHAIN, rules: top }, ...input, ...shardChains, ...[...this.podChains.values()].sort(byName), ...[...this.scope.used.values()].sort(byName)];
  }

  /**
   * The chains a pod's traffic in one direction goes through, in order.
   * Without tiers: the NetworkPolicy chain, if the pod is isolated. With them:
   * "Policy tiers are evaluated in the following order: Admin tier,
   * NetworkPolicy tier, Baseline tier"; "v1.NetworkPolicy always makes a final
   * decision for selected pods. Further evaluation only happens for Pods not
   * selected by a v1.NetworkPolicy."
   */
  private steps(pod: Pod, dir: Direction): readonly Step[] {
    const policies = policiesSelecting(this.cluster, pod, dir);
    const np = policies.length > 0 ? this.podChain(pod, dir, policies) : undefined;
    if (np) this.podChains.set(np.name, np);
    if (!this.tiers) return np ? [{ tier: "NetworkPolicy", chain: np, guarded: false }] : NO_STEPS;
    const admin = this.tiers.chain(pod, dir, "Admin");
    const next = np ?? this.tiers.chain(pod, dir, "Baseline");
    const steps: Step[] = [];
    if (admin) steps.push({ tier: "Admin", chain: admin, guarded: false });
    if (next) steps.push({ tier: np ? "NetworkPolicy" : "Baseline", chain: next, guarded: admin !== undefined });
    for (const s of steps) this.podChains.set(s.chain.name, s.chain);
    return steps;
  }

  /** PODWALL-INPUT: replies pass; traffic to an address of this node goes to PODWALL-NODE, which holds the pods' tier jumps. */
  private inputChains(toNode: RulePlan[]): ChainPlan[] {
    const node = ownNodeChainName(this.family);
    const input: RulePlan[] = [{ match: REPLIES, target: RETURN, origin: { note: "replies of allowed connections" } }];
    for (const a of this.nodeAddresses) input.push({ match: ["-d", a.text], target: ["-j", node], origin: { note: "to its own node" } });
    return [
      { name: inputChainName(this.family), rules: input },
      { name: node, rules: toNode },
    ];
  }

  /**
   * The chain of the pods a list of policies selects, in one direction: named
   * by the policy chains it jumps to (for ingress, those name how the subject's
   * named ports resolve), so every pod with the same policies shares it, on
   * every node. It stands while the pod, its policies and, for egress, the
   * numbers their named ports take do.
   */
  private podChain(pod: Pod, dir: Direction, policies: readonly PolicyObject[]): ChainPlan {
    const numbers = dir === "egress" ? policies.map((p) => egressPortNumbers(this.cluster, this.cache, p)).join(";") : "";
    return podChainOf(this.scope, pod, `${this.family}\0${dir}`, policies, numbers, () => {
      const jumps = policies.map((p) => this.policyChain(p, dir, pod));
      return { chain: this.sharedPodChain(dir, policies, jumps), jumps };
    });
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

  /**
   * A policy's chain for one direction. For ingress the destination is the
   * subject pod itself, so its named ports are resolved here, into the chain:
   * pods on which they resolve alike share one chain.
   */
  private policyChain(p: PolicyObject, dir: Direction, subject: Pod): CachedChain {
    const resolved = dir === "ingress" ? ingressPortNumbers(p, subject) : egressPortNumbers(this.cluster, this.cache, p);
    const key = `${this.family}\0${dir}\0${resolved}`;
    let ofPolicy = this.cache.chains.get(p);
    if (!ofPolicy) this.cache.chains.set(p, (ofPolicy = new Map()));
    let cached = ofPolicy.get(key);
    if (!cached) {
      const built = this.scope.collect(() => this.policyRules(p, dir, subject));
      const name = policyChainName(`${p.key}\0${dir === "ingress" ? resolved : ""}`, dir, this.family);
      ofPolicy.set(key, (cached = { chain: { name, rules: built.rules }, sets: built.sets, portGroups: built.portGroups }));
    }
    this.scope.adopt(cached);
    return cached;
  }

  private policyRules(p: PolicyObject, dir: Direction, subject: Pod): RulePlan[] {
    const rules: RulePlan[] = [];
    for (const rule of p.policy[dir] ?? []) {
      const peers = rule.peers.flatMap((peer) => this.peerMatch(p, peer, dir));
      const ports = rule.ports.flatMap((m) => this.scope.portMatch(m, dir, subject));
      for (const peer of peers) {
        for (const port of ports) {
          rules.push({
            match: [...peer.match, ...port.match],
            target: SET_MARK,
            origin: { policy: p.key, field: rule.field, note: `${fieldPart(peer, rule.field, "all peers")} ${fieldPart(port, rule.field, "all ports")}` },
          });
        }
      }
    }
    return rules;
  }

  /** The other end is the source for ingress, the destination for egress. */
  private peerMatch(p: PolicyObject, peer: Peer, dir: Direction): Fragment[] {
    const side = sideOf(dir);
    switch (peer.kind) {
      case "all":
        return [{ match: [], field: peer.field }];
      case "ipBlock": {
        if (peer.cidr.family !== this.family) return [];
        // `except` may name one CIDR twice: the set holds it once.
        const except = [...new Map(peer.except.map((c) => [c.text, c])).values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
        return [{ match: ["-m", "set", "--match-set", this.scope.netsSet(peer.cidr, except), side], field: peer.field }];
      }
      case "pods":
        return [{ match: ["-m", "set", "--match-set", this.scope.podsSet(p.namespace, peer.namespaces, peer.pods), side], field: peer.field }];
    }
  }
}

/** A pod's jump to one chain of one direction, from its shard (or, for its own node, from PODWALL-NODE). */
function jump(match: readonly string[], s: Step, pod: Pod, what: string): RulePlan {
  // Without tiers a jump is as it was before they existed.
  const note =
    s.tier === "NetworkPolicy" && !s.guarded
      ? what
      : `${what} ${s.tier === "NetworkPolicy" ? "NetworkPolicy" : `${s.tier} tier`}${s.guarded ? " unless the Admin tier accepted" : ""}`;
  return { match: s.guarded ? [...match, ...NOT_ACCEPTED] : match, target: ["-j", s.chain.name], origin: { pod: pod.key, note } };
}
