/**
 * Classes of pods for the matrix: pods that every verdict reads alike.
 * A pod as a peer is its namespace (and with it the namespace's labels), the
 * values of the label keys some peer's pod selector names (a NetworkPolicy's
 * or a cluster-scoped policy's), host network, which address peers (ipBlocks;
 * the tiers' networks and nodes peers) hold each address it may be reached
 * at, and its named ports. Its egress key is its isolating egress policies,
 * the Admin- and Baseline-tier policies that select it for egress, and its
 * address family; its ingress key the same for ingress, and its named ports
 * (see matrix.ts).
 */
import type { Cluster } from "../model/cluster.js";
import type { TierPeer, TierPolicy } from "../model/tier-types.js";
import type { Address, Direction, Family, Peer, Pod, PolicyObject, Selector } from "../model/types.js";
import { ipBlockContains, isolatingPolicies } from "../policy/match.js";
import { tierPoliciesSelecting } from "../policy/tier-evaluate.js";
import { tierPeerMatches } from "../policy/tier-match.js";

/** A pod nothing may deny in a direction: its verdict is allowed, whatever the other end. */
export const OPEN = -1;

/**
 * The pods of a matrix with their classes and keys: what does not depend on
 * the port asked, made once for every port of a question.
 */
export class PodClasses {
  /** Each pod's class as a peer, its egress key and its ingress key (OPEN when nothing may deny it). */
  readonly peerClass: Int32Array;
  readonly egressKey: Int32Array;
  readonly ingressKey: Int32Array;
  /** A pod of each class and key, to ask a verdict with. */
  readonly classPod: Pod[] = [];
  readonly egressPod: Pod[] = [];
  readonly ingressPod: Pod[] = [];
  /**
   * For the own-node exception, only where a host-network pod is: by node,
   * the indexes of every pod on it and of its host-network pods.
   */
  readonly onNode = new Map<string, { all: number[]; host: number[] }>();
  /** Whether the model held cluster-scoped policies: then a pod's own node may be denied it (see matrix.ts). */
  readonly tiered: boolean;

  constructor(
    readonly cluster: Cluster,
    readonly pods: readonly Pod[],
  ) {
    const n = pods.length;
    this.peerClass = new Int32Array(n);
    this.egressKey = new Int32Array(n);
    this.ingressKey = new Int32Array(n);
    this.tiered = cluster.tierPolicies.size > 0;
    const { addressPeers, keys } = peerReadsOf(cluster);
    const classKeys = new Map<string, number>();
    const egressKeys = new Map<readonly PolicyObject[], Map<string, number>>();
    const ingressKeys = new Map<readonly PolicyObject[], Map<string, number>>();
    for (let i = 0; i < n; i++) {
      const pod = pods[i]!;
      const ports = portsKey(pod);
      const peer = `${pod.namespace}\0${pod.hostNetwork ? 1 : 0}\0${labelsKey(pod, keys)}\0${addressesKey(cluster, pod, addressPeers)}\0${ports}`;
      this.peerClass[i] = numbered(classKeys, peer, this.classPod, pod);
      this.egressKey[i] = this.keyOf(egressKeys, pod, "egress", pod.ips[0]?.family ?? "", this.egressPod);
      this.ingressKey[i] = this.keyOf(ingressKeys, pod, "ingress", ports, this.ingressPod);
      if (pod.hostNetwork && pod.nodeName !== undefined) this.onNode.set(pod.nodeName, { all: [], host: [] });
    }
    if (this.onNode.size > 0) {
      for (let i = 0; i < n; i++) {
        const on = this.onNode.get(pods[i]!.nodeName ?? "");
        if (!on) continue;
        on.all.push(i);
        if (pods[i]!.hostNetwork) on.host.push(i);
      }
    }
  }

  /**
   * The pod's key in `dir`: its isolating NetworkPolicies (one shared list
   * per set of policies), its tier policies, and `own`, what else the verdict
   * reads of the pod. OPEN when no policy of any tier selects it there.
   */
  private keyOf(keys: Map<readonly PolicyObject[], Map<string, number>>, pod: Pod, dir: Direction, own: string, pods: Pod[]): number {
    const isolating = isolatingPolicies(this.cluster, pod, dir);
    const tiers = this.tiered ? tierKey(this.cluster, pod, dir, isolating.length > 0) : "";
    if (isolating.length === 0 && tiers === "") return OPEN;
    return numbered(inner(keys, isolating), `${own}\0${tiers}`, pods, pod);
  }
}

/**
 * The Admin- and Baseline-tier policies that select the pod in `dir`, by
 * key ("" when none). The Baseline tier is read only where no NetworkPolicy
 * isolates the pod: "v1.NetworkPolicy always makes a final decision for
 * selected pods".
 */
function tierKey(cluster: Cluster, pod: Pod, dir: Direction, isolated: boolean): string {
  const admin = tierPoliciesSelecting(cluster, pod, dir, "Admin");
  const baseline = isolated ? NO_TIER_POLICIES : tierPoliciesSelecting(cluster, pod, dir, "Baseline");
  if (admin.length === 0 && baseline.length === 0) return "";
  return `${admin.map(policyKey).join(" ")}|${baseline.map(policyKey).join(" ")}`;
}

const NO_TIER_POLICIES: readonly TierPolicy[] = [];

function policyKey(p: TierPolicy): string {
  return p.key;
}

/** The address a connection from a source of `family` reaches `pod` at, as Check resolves it. */
export function addressFor(pod: Pod, family: Family | undefined): Address | undefined {
  if (family === undefined) return pod.ips[0];
  for (const a of pod.ips) if (a.family === family) return a;
  return undefined;
}

function numbered(keys: Map<string, number>, key: string, pods: Pod[], pod: Pod): number {
  let n = keys.get(key);
  if (n === undefined) {
    keys.set(key, (n = pods.length));
    pods.push(pod);
  }
  return n;
}

function inner<K>(outer: Map<K, Map<string, number>>, key: K): Map<string, number> {
  let m = outer.get(key);
  if (!m) outer.set(key, (m = new Map()));
  return m;
}

/**
 * A peer that reads the other end's address alone: an ipBlock, or a tier
 * policy's networks or nodes peer (a node's InternalIP is how a host-network
 * pod is reached).
 */
type AddressPeer = { readonly kind: "ipBlock"; readonly peer: Peer & { kind: "ipBlock" } } | { readonly kind: "tier"; readonly peer: TierPeer & { kind: "networks" | "nodes" } };

/** What a policy's peers read of the other end: its distinct address peers (by content) and the label keys its pod selectors name. */
interface PeerReads {
  readonly addressPeers: ReadonlyMap<string, AddressPeer>;
  readonly keys: readonly string[];
}

/** Per policy (immutable: an updated policy is a new object), made once. */
const peerReads = new WeakMap<object, PeerReads>();

function readsOf(p: PolicyObject): PeerReads {
  let r = peerReads.get(p);
  if (r === undefined) {
    const addressPeers = new Map<string, AddressPeer>();
    const keys = new Set<string>();
    for (const rule of [...(p.policy.ingress ?? []), ...(p.policy.egress ?? [])]) {
      for (const peer of rule.peers) {
        if (peer.kind === "ipBlock") addressPeers.set(`ipBlock ${peer.cidr.text} ${peer.except.map((e) => e.text).join(" ")}`, { kind: "ipBlock", peer });
        else if (peer.kind === "pods") addKeys(keys, peer.pods);
      }
    }
    peerReads.set(p, (r = { addressPeers, keys: [...keys] }));
  }
  return r;
}

function tierReadsOf(p: TierPolicy): PeerReads {
  let r = peerReads.get(p);
  if (r === undefined) {
    const addressPeers = new Map<string, AddressPeer>();
    const keys = new Set<string>();
    for (const rule of [...p.ingress, ...p.egress]) {
      for (const peer of rule.peers) {
        if (peer.kind === "networks") addressPeers.set(`networks ${peer.networks.map((c) => c.text).join(" ")}`, { kind: "tier", peer });
        else if (peer.kind === "nodes") addressPeers.set(`nodes ${JSON.stringify(peer.nodes)}`, { kind: "tier", peer });
        else if (peer.kind === "pods") addKeys(keys, peer.pods);
      }
    }
    peerReads.set(p, (r = { addressPeers, keys: [...keys] }));
  }
  return r;
}

/** The label keys a pod selector reads. */
function addKeys(keys: Set<string>, sel: Selector): void {
  if (sel.kind === "match") for (const q of sel.requirements) keys.add(q.key);
}

/**
 * One address peer of each distinct content some policy of any tier names,
 * and the label keys some peer's pod selector names: the only labels a peer
 * match reads of the other end (its namespace's labels are its namespace's).
 */
function peerReadsOf(cluster: Cluster): { addressPeers: AddressPeer[]; keys: string[] } {
  const addressPeers = new Map<string, AddressPeer>();
  const keys = new Set<string>();
  const add = (r: PeerReads) => {
    for (const [k, b] of r.addressPeers) addressPeers.set(k, b);
    for (const k of r.keys) keys.add(k);
  };
  for (const ns of cluster.namespacesInUse()) for (const p of cluster.policiesIn(ns)) add(readsOf(p));
  for (const o of cluster.tierPolicies.values()) add(tierReadsOf(o.policy));
  return { addressPeers: [...addressPeers.values()], keys: [...keys].sort() };
}

function labelsKey(pod: Pod, keys: readonly string[]): string {
  let out = "";
  for (const k of keys) {
    const v = pod.labels[k];
    out += v === undefined ? "\u0001" : `=${v}\u0001`;
  }
  return out;
}

/** Which address peers hold each address the pod may be reached at: its primary one, and its first of each family. */
function addressesKey(cluster: Cluster, pod: Pod, peers: readonly AddressPeer[]): string {
  if (peers.length === 0 || pod.ips.length === 0) return pod.ips.length === 0 ? "-" : "";
  let out = "";
  for (const a of [pod.ips[0], addressFor(pod, "ipv4"), addressFor(pod, "ipv6")]) {
    out += "|";
    if (a === undefined) {
      out += "-";
      continue;
    }
    for (let b = 0; b < peers.length; b++) if (addressPeerHolds(cluster, peers[b]!, pod, a)) out += `${b},`;
  }
  return out;
}

/** As Check matches the peer: ipBlockContains, or tierPeerMatches with the pod at that address. */
function addressPeerHolds(cluster: Cluster, p: AddressPeer, pod: Pod, a: Address): boolean {
  switch (p.kind) {
    case "ipBlock":
      return ipBlockContains(p.peer, a);
    case "tier":
      return tierPeerMatches(cluster, p.peer, { kind: "pod", pod, ip: a });
  }
}

/** The pod's named ports: what a named port entry resolves on (a tier's named port, of any protocol, too). */
function portsKey(pod: Pod): string {
  let out = "";
  for (const p of pod.ports) if (p.name !== undefined) out += `${p.protocol}/${p.name}=${p.port},`;
  return out;
}
