/**
 * Classes of pods for the matrix: pods that every verdict reads alike.
 * A pod as a peer is its namespace, the values of the label keys some peer
 * selector names, host network, which ipBlocks hold each address it may be
 * reached at, and its named ports; its egress key is its isolating egress
 * policies and address family, its ingress key its isolating ingress
 * policies and named ports (see matrix.ts).
 */
import type { Cluster } from "../model/cluster.js";
import type { Address, Family, Peer, Pod, PolicyObject } from "../model/types.js";
import { ipBlockContains, isolatingPolicies } from "../policy/match.js";

/** A pod no policy isolates in a direction: its verdict is allowed, whatever the other end. */
export const OPEN = -1;

/**
 * The pods of a matrix with their classes and keys: what does not depend on
 * the port asked, made once for every port of a question.
 */
export class PodClasses {
  /** Each pod's class as a peer, its egress key and its ingress key (OPEN when not isolated). */
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

  constructor(
    readonly cluster: Cluster,
    readonly pods: readonly Pod[],
  ) {
    const n = pods.length;
    this.peerClass = new Int32Array(n);
    this.egressKey = new Int32Array(n);
    this.ingressKey = new Int32Array(n);
    const { blocks, keys } = peerReadsOf(cluster);
    const classKeys = new Map<string, number>();
    const egressKeys = new Map<readonly PolicyObject[], Map<string, number>>();
    const ingressKeys = new Map<readonly PolicyObject[], Map<string, number>>();
    for (let i = 0; i < n; i++) {
      const pod = pods[i]!;
      const ports = portsKey(pod);
      const peer = `${pod.namespace}\0${pod.hostNetwork ? 1 : 0}\0${labelsKey(pod, keys)}\0${addressesKey(pod, blocks)}\0${ports}`;
      this.peerClass[i] = numbered(classKeys, peer, this.classPod, pod);
      const eg = isolatingPolicies(cluster, pod, "egress");
      this.egressKey[i] = eg.length === 0 ? OPEN : numbered(inner(egressKeys, eg), pod.ips[0]?.family ?? "", this.egressPod, pod);
      const ing = isolatingPolicies(cluster, pod, "ingress");
      this.ingressKey[i] = ing.length === 0 ? OPEN : numbered(inner(ingressKeys, ing), ports, this.ingressPod, pod);
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

/** What a policy's peers read of the other end: its distinct ipBlocks (by CIDR and exceptions) and the label keys its pod selectors name. */
interface PeerReads {
  readonly blocks: ReadonlyMap<string, Peer & { kind: "ipBlock" }>;
  readonly keys: readonly string[];
}

/** Per policy object (immutable: an updated policy is a new object), made once. */
const peerReads = new WeakMap<PolicyObject, PeerReads>();

function readsOf(p: PolicyObject): PeerReads {
  let r = peerReads.get(p);
  if (r === undefined) {
    const blocks = new Map<string, Peer & { kind: "ipBlock" }>();
    const keys = new Set<string>();
    for (const rule of [...(p.policy.ingress ?? []), ...(p.policy.egress ?? [])]) {
      for (const peer of rule.peers) {
        if (peer.kind === "ipBlock") blocks.set(`${peer.cidr.text} ${peer.except.map((e) => e.text).join(" ")}`, peer);
        else if (peer.kind === "pods" && peer.pods.kind === "match") for (const q of peer.pods.requirements) keys.add(q.key);
      }
    }
    peerReads.set(p, (r = { blocks, keys: [...keys] }));
  }
  return r;
}

/** One ipBlock peer of each distinct CIDR and exceptions some policy names, and the label keys some peer's pod selector names: the only labels a peer match reads of the other end. */
function peerReadsOf(cluster: Cluster): { blocks: (Peer & { kind: "ipBlock" })[]; keys: string[] } {
  const blocks = new Map<string, Peer & { kind: "ipBlock" }>();
  const keys = new Set<string>();
  for (const ns of cluster.namespacesInUse()) {
    for (const p of cluster.policiesIn(ns)) {
      const r = readsOf(p);
      for (const [k, b] of r.blocks) blocks.set(k, b);
      for (const k of r.keys) keys.add(k);
    }
  }
  return { blocks: [...blocks.values()], keys: [...keys].sort() };
}

function labelsKey(pod: Pod, keys: readonly string[]): string {
  let out = "";
  for (const k of keys) {
    const v = pod.labels[k];
    out += v === undefined ? "\u0001" : `=${v}\u0001`;
  }
  return out;
}

/** Which ipBlocks hold each address the pod may be reached at: its primary one, and its first of each family. */
function addressesKey(pod: Pod, blocks: readonly (Peer & { kind: "ipBlock" })[]): string {
  if (blocks.length === 0 || pod.ips.length === 0) return pod.ips.length === 0 ? "-" : "";
  let out = "";
  for (const a of [pod.ips[0], addressFor(pod, "ipv4"), addressFor(pod, "ipv6")]) {
    out += "|";
    if (a === undefined) {
      out += "-";
      continue;
    }
    for (let b = 0; b < blocks.length; b++) if (ipBlockContains(blocks[b]!, a)) out += `${b},`;
  }
  return out;
}

/** The pod's named ports: what a named port entry resolves on. */
function portsKey(pod: Pod): string {
  let out = "";
  for (const p of pod.ports) if (p.name !== undefined) out += `${p.protocol}/${p.name}=${p.port},`;
  return out;
}
