/**
 * Which policies select which pods, kept exact as the model changes: the
 * policy lookup of every decision and every ruleset, without matching each
 * policy of a namespace against the pod again.
 */
import type { Cluster, ClusterObserver } from "../model/cluster.js";
import type { ModelObject, Pod, PolicyObject } from "../model/types.js";
import { select } from "./resolve.js";
import { matches } from "./selector.js";

const NONE: ReadonlySet<PolicyObject> = new Set();

export class SelectionIndex implements ClusterObserver {
  private readonly byPod = new Map<Pod, Set<PolicyObject>>();
  private readonly byPolicy = new Map<PolicyObject, Set<Pod>>();

  private constructor(private readonly cluster: Cluster) {
    cluster.observe(this);
    for (const ns of cluster.namespaces.keys()) for (const p of cluster.policiesIn(ns)) this.linked(p);
  }

  private static readonly indexes = new WeakMap<Cluster, SelectionIndex>();

  /** The index of a cluster, made (from its current state) on first use. */
  static of(cluster: Cluster): SelectionIndex {
    let index = SelectionIndex.indexes.get(cluster);
    if (!index) SelectionIndex.indexes.set(cluster, (index = new SelectionIndex(cluster)));
    return index;
  }

  /** The policies whose podSelector selects the pod (either direction). */
  policiesOf(pod: Pod): ReadonlySet<PolicyObject> {
    return this.byPod.get(pod) ?? NONE;
  }

  /** The pods a policy's podSelector selects. */
  podsOf(policy: PolicyObject): ReadonlySet<Pod> {
    return this.byPolicy.get(policy) ?? new Set();
  }

  linked(obj: ModelObject): void {
    if (obj.kind === "Pod") {
      for (const p of this.cluster.policiesIn(obj.namespace)) if (matches(p.policy.podSelector, obj.labels)) this.pair(obj, p);
    } else if (obj.kind === "NetworkPolicy") {
      const index = this.cluster.podLabels(obj.namespace);
      this.byPolicy.set(obj, new Set());
      if (index) for (const pod of select(index, obj.policy.podSelector)) this.pair(pod, obj);
    }
  }

  unlinked(obj: ModelObject): void {
    if (obj.kind === "Pod") {
      for (const p of this.byPod.get(obj) ?? []) this.byPolicy.get(p)?.delete(obj);
      this.byPod.delete(obj);
    } else if (obj.kind === "NetworkPolicy") {
      for (const pod of this.byPolicy.get(obj) ?? []) {
        const set = this.byPod.get(pod);
        set?.delete(obj);
        if (set?.size === 0) this.byPod.delete(pod);
      }
      this.byPolicy.delete(obj);
    }
  }

  private pair(pod: Pod, p: PolicyObject): void {
    let set = this.byPod.get(pod);
    if (!set) this.byPod.set(pod, (set = new Set()));
    set.add(p);
    let pods = this.byPolicy.get(p);
    if (!pods) this.byPolicy.set(p, (pods = new Set()));
    pods.add(pod);
  }
}
