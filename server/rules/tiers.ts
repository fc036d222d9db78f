/**
 * The Admin and Baseline tiers as chains, for the pods that cluster-scoped
 * policies select (tierPoliciesSelecting, as Check asks).
 *
 * Two mark bits beside the NetworkPolicy allow mark (0x10000) carry a tier's
 * verdict for the direction being walked: ACCEPTED_MARK (0x20000) and
 * PASSED_MARK (0x40000).
 *   PODWALL-AE-… / PODWALL-AI-… (Admin), PODWALL-BE-… / PODWALL-BI-…
 *     (Baseline): one per list of selecting policies of the tier and
 *     direction, shared by every pod with that list, on every node: clear
 *     both bits, then jump to each policy's chain in the tier's order and
 *     return once a bit is set ("the first rule that matches decides").
 *   PODWALL-TE-… / PODWALL-TI-… (one per policy and direction): each rule's
 *     peer × port entries in rule order. Deny: DROP ("Drops the selected
 *     traffic"). Accept: set ACCEPTED_MARK; Pass: set PASSED_MARK; after the
 *     rule's entries, return once a bit is set, so no later rule is evaluated.
 * In the pod's shard the tier's chain comes first; the next chain (the
 * NetworkPolicy one, or the Baseline tier's) is skipped when ACCEPTED_MARK is
 * set. Whatever does not drop or reject continues, so the other direction of
 * the same packet (the other pod's chains, which clear the bits again) is
 * still checked: "allowed" is never ACCEPT.
 *
 * Peers: namespaces and pods as the NetworkPolicy pod sets of the same
 * members; nodes as `hash:ip` of the matching nodes' InternalIPs; each network
 * as a `hash:net`; domain names never match an address, so they give no rule.
 * A named port of any protocol is resolved on the subject for ingress; for
 * egress it is the pods where the name takes a number, per protocol.
 */
import type { Tier, TierAction, TierPeer, TierPolicy, TierPort } from "../model/tier-types.js";
import { type Direction, PROTOCOLS, type Pod } from "../model/types.js";
import { EVERYTHING } from "../policy/selector.js";
import { tierPoliciesSelecting } from "../policy/tier-evaluate.js";
import { tierChainName, tierPolicyChainName } from "./names.js";
import type { ChainPlan, RulePlan } from "./plan.js";
import { type ChainScope, type Fragment, fieldPart, podChainOf, proto, sideOf } from "./scope.js";
import { type CachedChain, tierEgressPortNumbers, tierIngressPortNumbers } from "./sets.js";

/** The packet mark bit that says "this tier accepted": the next tier of this direction is skipped. */
export const ACCEPTED_MARK = "0x20000/0x20000";
/** The packet mark bit that says "this tier passed": the rest of the tier is skipped. */
export const PASSED_MARK = "0x40000/0x40000";
/** Both bits: the tier has decided. */
const VERDICT_BITS = "0x60000";

/** Matches while the Admin tier did not accept: the guard of the chain that follows it. */
export const NOT_ACCEPTED: readonly string[] = ["-m", "mark", "--mark", "0x0/0x20000"];
const DECIDED = ["-m", "mark", "!", "--mark", `0x0/${VERDICT_BITS}`];
const CLEAR_VERDICT = ["-j", "MARK", "--set-xmark", `0x0/${VERDICT_BITS}`];
const RETURN = ["-j", "RETURN"];

const TARGET: Readonly<Record<TierAction, readonly string[]>> = {
  Deny: ["-j", "DROP"],
  Accept: ["-j", "MARK", "--set-xmark", ACCEPTED_MARK],
  Pass: ["-j", "MARK", "--set-xmark", PASSED_MARK],
};

export class TierChains {
  constructor(private readonly scope: ChainScope) {}

  /** The chain of the tier's policies that select the pod in `dir`, or none when no policy of the tier does. */
  chain(pod: Pod, dir: Direction, tier: Tier): ChainPlan | undefined {
    const { cluster, cache, family } = this.scope;
    const policies = tierPoliciesSelecting(cluster, pod, dir, tier);
    if (policies.length === 0) return undefined;
    const numbers = dir === "egress" ? policies.map((p) => tierEgressPortNumbers(cluster, cache, p)).join(";") : "";
    return podChainOf(this.scope, pod, `${family}\0${dir}\0${tier}`, policies, numbers, () => {
      const jumps = policies.map((p) => this.policyChain(p, dir, pod));
      return { chain: this.sharedChain(tier, dir, policies, jumps), jumps };
    });
  }

  /** The chain every pod with these policies of the tier (and so these policy chains) shares. */
  private sharedChain(tier: Tier, dir: Direction, policies: readonly TierPolicy[], cached: readonly CachedChain[]): ChainPlan {
    const jumps = cached.map((c) => c.chain.name);
    const name = tierChainName(jumps.join(","), tier, dir, this.scope.family);
    let chain = this.scope.cache.podChains.get(name);
    if (chain) return chain;
    const rules: RulePlan[] = [{ match: [], target: CLEAR_VERDICT, origin: { note: `${dir} ${tier} tier` } }];
    policies.forEach((p, i) => {
      rules.push({ match: [], target: ["-j", jumps[i]!], origin: { policy: p.key, note: `${dir} ${tier} tier` } });
      rules.push({ match: DECIDED, target: RETURN, origin: { policy: p.key, note: "decided" } });
    });
    chain = { name, rules };
    this.scope.cache.rememberPodChain(chain);
    return chain;
  }

  /**
   * A policy's chain for one direction. For ingress its named ports are
   * resolved on the subject, into the chain: pods on which they resolve alike
   * share one chain.
   */
  private policyChain(p: TierPolicy, dir: Direction, subject: Pod): CachedChain {
    const { cluster, cache, family } = this.scope;
    const resolved = dir === "ingress" ? tierIngressPortNumbers(p, subject) : tierEgressPortNumbers(cluster, cache, p);
    const key = `${family}\0${dir}\0${resolved}`;
    let ofPolicy = cache.chains.get(p);
    if (!ofPolicy) cache.chains.set(p, (ofPolicy = new Map()));
    let cached = ofPolicy.get(key);
    if (!cached) {
      const built = this.scope.collect(() => this.policyRules(p, dir, subject));
      const name = tierPolicyChainName(`${p.key}\0${dir === "ingress" ? resolved : ""}`, dir, family);
      ofPolicy.set(key, (cached = { chain: { name, rules: built.rules }, sets: built.sets, portGroups: built.portGroups }));
    }
    this.scope.adopt(cached);
    return cached;
  }

  /**
   * "The relative precedence of ingress rules within a single CNP object (all
   * of which share the priority) will be determined by the order in which the
   * rule is written": each rule's entries, then, unless it drops, a return
   * once it decided.
   */
  private policyRules(p: TierPolicy, dir: Direction, subject: Pod): RulePlan[] {
    const rules: RulePlan[] = [];
    for (const rule of p[dir]) {
      const peers = rule.peers.flatMap((peer) => this.peerMatch(peer, dir));
      const ports = rule.ports.flatMap((m) => this.portMatch(m, dir, subject));
      const what = `${p.tier} ${rule.actionWord}${rule.name === undefined ? "" : ` (${rule.name})`}`;
      const before = rules.length;
      for (const peer of peers) {
        for (const port of ports) {
          rules.push({
            match: [...peer.match, ...port.match],
            target: TARGET[rule.action],
            origin: { policy: p.key, field: rule.field, note: `${what} ${fieldPart(peer, rule.field, "all peers")} ${fieldPart(port, rule.field, "all ports")}` },
          });
        }
      }
      if (rules.length > before && rule.action !== "Deny") rules.push({ match: DECIDED, target: RETURN, origin: { policy: p.key, field: rule.field, note: `${what} decided` } });
    }
    return rules;
  }

  /** The other end: the source for ingress, the destination for egress. */
  private peerMatch(peer: TierPeer, dir: Direction): Fragment[] {
    const side = sideOf(dir);
    const inSet = (name: string, field: string): Fragment => ({ match: ["-m", "set", "--match-set", name, side], field });
    switch (peer.kind) {
      case "namespaces":
        return [inSet(this.scope.podsSet("", { kind: "selector", selector: peer.namespaces }, EVERYTHING), peer.field)];
      case "pods":
        return [inSet(this.scope.podsSet("", { kind: "selector", selector: peer.namespaces }, peer.pods), peer.field)];
      case "nodes":
        return [inSet(this.scope.nodesSet(peer.nodes), peer.field)];
      case "networks":
        return peer.networks.flatMap((c, i) => (c.family === this.scope.family ? [inSet(this.scope.netsSet(c, []), `${peer.field}.networks[${i}]`)] : []));
      case "domainNames":
        // A domain name's addresses are known only from DNS answers at run time: it matches no connection, as in Check.
        return [];
    }
  }

  /**
   * "DestinationNamedPort selects a destination port on a pod based on the
   * ContainerPort name", with that container port's protocol.
   */
  private portMatch(m: TierPort, dir: Direction, subject: Pod): Fragment[] {
    if (m.kind !== "namedAnyProtocol") return this.scope.portMatch(m, dir, subject);
    if (dir === "egress") return PROTOCOLS.flatMap((protocol) => this.scope.namedPortToAnyPod(protocol, m.name, m.field));
    const seen = new Set<string>();
    const out: Fragment[] = [];
    for (const cp of subject.ports) {
      const key = `${cp.protocol}/${cp.port}`;
      if (cp.name !== m.name || seen.has(key)) continue;
      seen.add(key);
      out.push({ match: [...proto(cp.protocol), "--dport", `${cp.port}`], field: m.field });
    }
    return out;
  }
}
