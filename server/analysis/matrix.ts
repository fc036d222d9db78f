/**
 * The reachability matrix: for one protocol and port, Check's answer for
 * every ordered pair of a set of pods, computed over classes of equivalent
 * pods rather than pod by pod.
 *
 * A cell (src, dst) is Check's `allowed`: an exception (a pod reaching itself,
 * a host-network pod and its own node) or both directions' verdicts, each of
 * them directionAllowed (decide.ts): the Admin tier, then the NetworkPolicy
 * tier or, where no NetworkPolicy isolates the pod, the Baseline tier. Each
 * verdict reads only some of each end:
 * - egress, of the source: its isolating egress policies, the Admin- and
 *   Baseline-tier policies that select it for egress, and its address family
 *   (which of the destination's addresses the connection uses); of the
 *   destination, its class as a peer;
 * - ingress, of the destination: the same for ingress, and its named ports;
 *   of the source, its class as a peer.
 * A pod's class as a peer is everything a peer match or a named port reads:
 * namespace (and so the namespace's labels), the values of the label keys
 * some peer selector names, host network, which address peers (ipBlocks, the
 * tiers' networks and nodes peers) hold each address it may be reached at,
 * and its named ports. So each verdict is asked once per (policies, class)
 * pair with any two pods that have them, by the same directionAllowed as
 * Check; the cells are then two table look-ups.
 *
 * The own-node exception belongs to the NetworkPolicy tier: with
 * cluster-scoped policies in the model, an Admin-tier Deny of the node's
 * address (or a Baseline-tier one where no NetworkPolicy isolates the pod)
 * still denies it. Those cells, few (the pods of a node that has a
 * host-network pod, with its host-network pods), are then asked of decide()
 * one by one.
 */
import type { Cluster } from "../model/cluster.js";
import type { Pod, Protocol } from "../model/types.js";
import type { Endpoint } from "../policy/endpoint.js";
import { decide, directionAllowed } from "../policy/decide.js";
import { someRuleMayAllowPort } from "../policy/evaluate.js";
import { tierPoliciesSelecting } from "../policy/tier-evaluate.js";
import { OPEN, PodClasses, addressFor } from "./pod-classes.js";

export { PodClasses } from "./pod-classes.js";

export interface MatrixTraffic {
  readonly protocol: Protocol;
  readonly port: number;
}

const UNKNOWN = 0;
const DENIED = 1;
const ALLOWED = 2;

export class Matrix {
  /** The pods, rows and columns in this order. */
  readonly pods: readonly Pod[];
  private readonly cluster: Cluster;
  private readonly peerClass: Int32Array;
  private readonly egressKey: Int32Array;
  private readonly ingressKey: Int32Array;
  private readonly classPod: readonly Pod[];
  private readonly egressPod: readonly Pod[];
  private readonly ingressPod: readonly Pod[];
  private readonly onNode: PodClasses["onNode"];
  private readonly tiered: boolean;
  /** Own-node cells by `i * pods + j`, where the model holds tier policies (see ownNodeAllowed). */
  private readonly ownNodeCells = new Map<number, boolean>();
  /** Verdicts: egress by [egress key][peer class of dst], ingress by [ingress key][peer class of src]; UNKNOWN until asked. */
  private readonly egress: Uint8Array;
  private readonly ingress: Uint8Array;
  /** Every verdict is asked (prepare): rows are read from the tables alone. */
  private prepared = false;

  /** The matrix of `classes`' pods for one protocol and port; its verdicts are asked of the model as it is when they are first needed (see prepare). */
  constructor(
    classes: PodClasses,
    private readonly traffic: MatrixTraffic,
  ) {
    ({ cluster: this.cluster, pods: this.pods, peerClass: this.peerClass, egressKey: this.egressKey, ingressKey: this.ingressKey } = classes);
    ({ classPod: this.classPod, egressPod: this.egressPod, ingressPod: this.ingressPod, onNode: this.onNode, tiered: this.tiered } = classes);
    const cluster = this.cluster;
    const classCount = this.classPod.length;
    this.egress = new Uint8Array(this.egressPod.length * classCount);
    this.ingress = new Uint8Array(this.ingressPod.length * classCount);
    // A key whose NetworkPolicy rules allow no entry of this port denies every peer: its row is known without
    // asking per class. Not where an Admin-tier policy selects the pod: its Accept comes before them.
    const npDecides = (pod: Pod, dir: "ingress" | "egress") => !this.tiered || tierPoliciesSelecting(cluster, pod, dir, "Admin").length === 0;
    this.egressPod.forEach((pod, k) => {
      if (npDecides(pod, "egress") && !someRuleMayAllowPort(cluster, pod, "egress", undefined, traffic)) this.egress.fill(DENIED, k * classCount, (k + 1) * classCount);
    });
    this.ingressPod.forEach((pod, k) => {
      if (npDecides(pod, "ingress") && !someRuleMayAllowPort(cluster, pod, "ingress", pod, traffic)) this.ingress.fill(DENIED, k * classCount, (k + 1) * classCount);
    });
  }

  /** The matrix of `pods` for one protocol and port. */
  static of(cluster: Cluster, pods: readonly Pod[], traffic: MatrixTraffic): Matrix {
    return new Matrix(new PodClasses(cluster, pods), traffic);
  }

  /** How many distinct classes and keys the pods fall in: what the matrix costs to compute. */
  get size(): { pods: number; classes: number; egressKeys: number; ingressKeys: number } {
    return { pods: this.pods.length, classes: this.classPod.length, egressKeys: this.egressPod.length, ingressKeys: this.ingressPod.length };
  }

  /**
   * Asks every verdict the matrix needs now, so that its rows can be read
   * after the model has moved on: every key against every class (each key
   * and each class is some pod's, so no pair goes unasked or is asked twice),
   * and the own-node cells that the tiers decide.
   */
  prepare(): this {
    const classes = this.classPod.length;
    for (let k = 0; k < this.egressPod.length; k++) for (let c = 0; c < classes; c++) this.egressVerdict(k, c);
    for (let k = 0; k < this.ingressPod.length; k++) for (let c = 0; c < classes; c++) this.ingressVerdict(k, c);
    if (this.tiered) {
      for (const on of this.onNode.values()) {
        for (const h of on.host) {
          for (const j of on.all) {
            if (j === h) continue;
            this.ownNodeAllowed(h, j);
            this.ownNodeAllowed(j, h);
          }
        }
      }
    }
    this.prepared = true;
    return this;
  }

  /** Check's answer from pods[i] to pods[j]. */
  allowed(i: number, j: number): boolean {
    if (i === j) return true;
    if (this.ownNode(i, j)) return this.ownNodeAllowed(i, j);
    return this.policyAllows(i, j);
  }

  /** Row i: out[j] is 1 when pods[i] may reach pods[j], else 0. */
  row(i: number, out: Uint8Array): void {
    if (!this.prepared) this.prepareRow(i);
    const classes = this.classPod.length;
    const peerClass = this.peerClass;
    const ingressKey = this.ingressKey;
    const ingress = this.ingress;
    const e = this.egressKey[i]!;
    const src = peerClass[i]!;
    const egress = this.egress.subarray(e === OPEN ? 0 : e * classes, e === OPEN ? 0 : (e + 1) * classes);
    const n = this.pods.length;
    for (let j = 0; j < n; j++) {
      const k = ingressKey[j]!;
      out[j] = (e === OPEN || egress[peerClass[j]!] === ALLOWED) && (k === OPEN || ingress[k * classes + src] === ALLOWED) ? 1 : 0;
    }
    out[i] = 1;
    if (this.onNode.size > 0) this.ownNodeRow(i, out);
  }

  /**
   * Groups of pods whose rows and columns are equal: same policies, same class
   * as a peer, and the same node where a host-network pod makes the node
   * matter. Each group's pods in matrix order, groups by their first pod.
   */
  groups(): number[][] {
    const byKey = new Map<string, number[]>();
    for (let i = 0; i < this.pods.length; i++) {
      const node = this.onNode.has(this.pods[i]!.nodeName ?? "") ? this.pods[i]!.nodeName : "";
      const key = `${this.peerClass[i]},${this.egressKey[i]},${this.ingressKey[i]},${node}`;
      let g = byKey.get(key);
      if (!g) byKey.set(key, (g = []));
      g.push(i);
    }
    return [...byKey.values()];
  }

  /** The cell between two groups: between any pod of one and any other pod of the other. */
  groupAllowed(from: readonly number[], to: readonly number[]): boolean {
    const i = from[0]!;
    const j = from === to ? (to[1] ?? i) : to[0]!;
    return this.allowed(i, j);
  }

  private ownNode(i: number, j: number): boolean {
    if (this.onNode.size === 0) return false;
    const a = this.pods[i]!;
    const b = this.pods[j]!;
    return a.nodeName !== undefined && a.nodeName === b.nodeName && (a.hostNetwork || b.hostNetwork);
  }

  private ownNodeRow(i: number, out: Uint8Array): void {
    const pod = this.pods[i]!;
    const on = this.onNode.get(pod.nodeName ?? "");
    if (!on) return;
    for (const j of pod.hostNetwork ? on.all : on.host) if (j !== i) out[j] = this.ownNodeAllowed(i, j) ? 1 : 0;
  }

  /**
   * A cell between a host-network pod and a pod of its node (or two
   * host-network pods of one node). Without tier policies: allowed, "traffic
   * to and from the node where a Pod is running is always allowed". With them,
   * decide() composes that exception into the NetworkPolicy tier, around
   * which an Admin- or Baseline-tier Deny of the node may still stand.
   */
  private ownNodeAllowed(i: number, j: number): boolean {
    if (!this.tiered) return true;
    const at = i * this.pods.length + j;
    let v = this.ownNodeCells.get(at);
    if (v === undefined) {
      const a = this.pods[i]!;
      const b = this.pods[j]!;
      const src: Endpoint = { kind: "pod", pod: a, ip: a.ips[0] };
      const dst: Endpoint = { kind: "pod", pod: b, ip: addressFor(b, a.ips[0]?.family) };
      this.ownNodeCells.set(at, (v = decide(this.cluster, src, dst, this.traffic, false).allowed));
    }
    return v;
  }

  private policyAllows(i: number, j: number): boolean {
    const e = this.egressKey[i]!;
    const k = this.ingressKey[j]!;
    return (e === OPEN || this.egressVerdict(e, this.peerClass[j]!)) && (k === OPEN || this.ingressVerdict(k, this.peerClass[i]!));
  }

  /** Every verdict row i reads: its egress key against every class, and every ingress key against its class. */
  private prepareRow(i: number): void {
    const classes = this.classPod.length;
    const e = this.egressKey[i]!;
    if (e !== OPEN) for (let c = 0; c < classes; c++) this.egressVerdict(e, c);
    const src = this.peerClass[i]!;
    for (let k = 0; k < this.ingressPod.length; k++) this.ingressVerdict(k, src);
  }

  private egressVerdict(key: number, dstClass: number): boolean {
    const at = key * this.classPod.length + dstClass;
    let v = this.egress[at]!;
    if (v === UNKNOWN) {
      const src = this.egressPod[key]!;
      const dst = this.classPod[dstClass]!;
      const peer: Endpoint = { kind: "pod", pod: dst, ip: addressFor(dst, src.ips[0]?.family) };
      this.egress[at] = v = directionAllowed(this.cluster, src, "egress", peer, dst, this.traffic) ? ALLOWED : DENIED;
    }
    return v === ALLOWED;
  }

  private ingressVerdict(key: number, srcClass: number): boolean {
    const at = key * this.classPod.length + srcClass;
    let v = this.ingress[at]!;
    if (v === UNKNOWN) {
      const dst = this.ingressPod[key]!;
      const src = this.classPod[srcClass]!;
      const peer: Endpoint = { kind: "pod", pod: src, ip: src.ips[0] };
      this.ingress[at] = v = directionAllowed(this.cluster, dst, "ingress", peer, dst, this.traffic) ? ALLOWED : DENIED;
    }
    return v === ALLOWED;
  }
}
