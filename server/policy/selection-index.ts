/**
 * Which policies select which pods, kept exact as the model changes: the
 * policy lookup of every decision and every ruleset, without matching each
 * policy of a namespace against the pod again.
 */
import type { Cluster, ClusterObserver } from "../model/cluster.js";
import type { Direction, ModelObject, Pod, PolicyObject } from "../model/types.js";
import { select } from "./resolve.js";
import { matches } from "./selector.js";

const NONE: ReadonlySet<PolicyObject> = new Set();
const NO_POLICIES: readonly PolicyObject[] = [];

/** A pod's isolating policies per direction, in name order. */
interface Selecting {
  ingress: readonly PolicyObject[] | undefined;
  egress: readonly PolicyObject[] | undefined;
}

export class SelectionIndex implements ClusterObserver {
  private readonly byPod = new Map<Pod, Set<PolicyObject>>();
  private readonly byPolicy = new Map<PolicyObject, Set<Pod>>();
  /**
   * `selecting` as last made for each pod, dropped whenever the pod's set of
   * policies changes: every decision asks for it, and it changes only on
   * writes. Weak: a pod asked about inside an unobserved trial is never unlinked.
   */
  private readonly sorted = new WeakMap<Pod, Selecting>();
  /**
   * The lists in use, by their first policy: one list for every pod with the
   * same policies (the pods of one workload have the same), so that what
   * Check makes once per list is made once for them all. Weak: a list lives
   * while a pod's entry in `sorted` holds it.
   */
  private readonly lists = new WeakMap<PolicyObject, WeakRef<readonly PolicyObject[]>[]>();

  private constructor(private readonly cluster: Cluster) {
    cluster.observe(this, true);
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

  /**
   * The policies that select the pod and have `dir` in their policyTypes, in
   * name order (names are unique: they are all of the pod's namespace). The
   * list is shared: callers must not change it.
   */
  selecting(pod: Pod, dir: Direction): readonly PolicyObject[] {
    let s = this.sorted.get(pod);
    if (s === undefined) this.sorted.set(pod, (s = { ingress: undefined, egress: undefined }));
    return s[dir] ?? (s[dir] = this.isolating(pod, dir));
  }

  private isolating(pod: Pod, dir: Direction): readonly PolicyObject[] {
    const set = this.byPod.get(pod);
    if (set === undefined) return NO_POLICIES;
    const out: PolicyObject[] = [];
    for (const p of set) if (p.policy[dir] !== undefined) out.push(p);
    if (out.length === 0) return NO_POLICIES;
    if (out.length > 1) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.shared(out);
  }

  /** The list in use of these policies in this order, else this one; lists no longer in use are dropped. */
  private shared(list: readonly PolicyObject[]): readonly PolicyObject[] {
    let made = this.lists.get(list[0]!);
    if (made === undefined) this.lists.set(list[0]!, (made = []));
    for (let i = made.length - 1; i >= 0; i--) {
      const l = made[i]!.deref();
      if (l === undefined) made.splice(i, 1);
      else if (l.length === list.length && l.every((p, j) => p === list[j])) return l;
    }
    made.push(new WeakRef(list));
    return list;
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
      this.sorted.delete(obj);
    } else if (obj.kind === "NetworkPolicy") {
      for (const pod of this.byPolicy.get(obj) ?? []) {
        const set = this.byPod.get(pod);
        set?.delete(obj);
        if (set?.size === 0) this.byPod.delete(pod);
        this.sorted.delete(pod);
      }
      this.byPolicy.delete(obj);
    }
  }

  private pair(pod: Pod, p: PolicyObject): void {
    let set = this.byPod.get(pod);
    if (!set) this.byPod.set(pod, (set = new Set()));
    set.add(p);
    this.sorted.delete(pod);
    let pods = this.byPolicy.get(p);
    if (!pods) this.byPolicy.set(p, (pods = new Set()));
    pods.add(pod);
  }
}
