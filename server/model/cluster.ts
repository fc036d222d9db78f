/**
 * The cluster model: every object by name, plus the indexes that decisions
 * and rulesets go through (pods and policies per namespace, labels per
 * namespace, address → pod and address → node). Writes go through
 * `transaction`, which undoes every change if the body throws, so a write is
 * atomic; `trial` runs a write and always undoes it.
 */
import { LabelIndex } from "./label-index.js";
import type { Kind, ModelObject, Namespace, Node, Pod, PolicyObject, TierPolicyObject } from "./types.js";
import { isLive } from "./types.js";

type Undo = () => void;

/**
 * Told of every object linked into or unlinked from the model, undos
 * included, so that an index kept beside the model stays exact.
 */
export interface ClusterObserver {
  linked(obj: ModelObject): void;
  unlinked(obj: ModelObject): void;
}

export class Cluster {
  private gen = 0;
  readonly namespaces = new Map<string, Namespace>();
  readonly nodes = new Map<string, Node>();
  /** Pods by "namespace/name". */
  readonly pods = new Map<string, Pod>();
  private readonly podsByNs = new Map<string, LabelIndex<Pod>>();
  private readonly policiesByNs = new Map<string, Map<string, PolicyObject>>();
  /** The cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) by "Kind/name". */
  readonly tierPolicies = new Map<string, TierPolicyObject>();
  /**
   * Counts changes of what decides which cluster-scoped policies select a pod
   * besides the pod itself: the policies, and namespaces (their labels). A
   * pod's cached selection is good while this stands and the pod object is
   * the same. Changed in trials too, as every index here.
   */
  private tierEpochCount = 0;
  readonly namespaceLabels = new LabelIndex<Namespace>();
  /** Live pods off the host network, by canonical address. More than one only while a write is checked. */
  private readonly podsByAddress = new Map<string, Pod[]>();
  /** Nodes by InternalIP. More than one only while a write is checked. */
  private readonly nodesByAddress = new Map<string, Node[]>();
  private readonly podsByNode = new Map<string, Set<Pod>>();
  /** Live pods off the host network by "PROTOCOL/name" of a container port. */
  private readonly podsByPortName = new Map<string, Set<Pod>>();
  private undoLog: Undo[] | undefined;
  /**
   * Inside a trial, observers are not told of links that will be undone, but
   * in an observed trial those that follow trials are (the indexes Check reads).
   */
  private quiet = false;
  private observedTrial = false;
  private readonly observers: { readonly o: ClusterObserver; readonly followsTrials: boolean }[] = [];

  get generation(): number {
    return this.gen;
  }

  get tierEpoch(): number {
    return this.tierEpochCount;
  }

  /** `followsTrials`: also told inside observed trials, so that what is asked inside one is answered on the trial's model. */
  observe(o: ClusterObserver, followsTrials = false): void {
    this.observers.push({ o, followsTrials });
  }

  /**
   * Runs `body` as one write: if it throws, every change it made is undone and
   * the error is rethrown; otherwise the model is at `generation` (by default
   * one more than before: a store gives the generation it committed).
   */
  transaction<T>(body: () => T, generation = this.gen + 1): T {
    const result = this.run(body, false);
    this.gen = generation;
    return result;
  }

  /**
   * Runs `body` against the model and undoes everything it did, returning its
   * value or rethrowing its error: a write is tried against the view before
   * it is committed. Observers are not told, since nothing stays; in an
   * `observed` trial those that follow trials are, so that questions asked
   * inside it (what-if) are answered on the model as the trial left it.
   */
  trial<T>(body: () => T, observed = false): T {
    this.observedTrial = observed;
    try {
      return this.run(body, true);
    } finally {
      this.observedTrial = false;
    }
  }

  private run<T>(body: () => T, undoAlways: boolean): T {
    if (this.undoLog) throw new Error("nested transaction");
    const log: Undo[] = [];
    this.undoLog = log;
    this.quiet = undoAlways;
    try {
      const result = body();
      if (undoAlways) this.undo(log);
      return result;
    } catch (e) {
      this.undo(log);
      throw e;
    } finally {
      this.undoLog = undefined;
      this.quiet = false;
    }
  }

  private undo(log: readonly Undo[]): void {
    for (let i = log.length - 1; i >= 0; i--) log[i]!();
  }

  private record(undo: Undo): void {
    if (!this.undoLog) throw new Error("model writes must run inside a transaction");
    this.undoLog.push(undo);
  }

  get(kind: Kind, namespace: string, name: string): ModelObject | undefined {
    switch (kind) {
      case "Namespace":
        return this.namespaces.get(name);
      case "Node":
        return this.nodes.get(name);
      case "Pod":
        return this.pods.get(`${namespace}/${name}`);
      case "NetworkPolicy":
        return this.policiesByNs.get(namespace)?.get(name);
      case "ClusterNetworkPolicy":
      case "AdminNetworkPolicy":
      case "BaselineAdminNetworkPolicy":
        return this.tierPolicies.get(`${kind}/${name}`);
    }
  }

  /** Creates or replaces one object. */
  put(obj: ModelObject): void {
    const old = this.get(obj.kind, "namespace" in obj ? obj.namespace : "", obj.name);
    if (old) this.unlink(old);
    this.link(obj);
    this.record(() => {
      this.unlink(obj);
      if (old) this.link(old);
    });
  }

  /** Removes one object; a namespace takes its pods and policies with it. Returns false if absent. */
  remove(kind: Kind, namespace: string, name: string): boolean {
    const old = this.get(kind, namespace, name);
    if (!old) return false;
    if (old.kind === "Namespace") {
      for (const pod of [...this.podsIn(name)]) this.remove("Pod", name, pod.name);
      for (const pol of [...this.policiesIn(name)]) this.remove("NetworkPolicy", name, pol.name);
    }
    this.unlink(old);
    this.record(() => this.link(old));
    return true;
  }

  /** Removes everything. */
  clear(): void {
    for (const p of [...this.tierPolicies.values()]) this.remove(p.kind, "", p.name);
    for (const ns of [...this.namespaces.keys()]) this.remove("Namespace", "", ns);
    for (const pod of [...this.pods.values()]) this.remove("Pod", pod.namespace, pod.name);
    for (const node of [...this.nodes.keys()]) this.remove("Node", "", node);
  }

  podsIn(namespace: string): ReadonlySet<Pod> {
    return this.podsByNs.get(namespace)?.all ?? EMPTY;
  }

  /** The label index of one namespace's pods. */
  podLabels(namespace: string): LabelIndex<Pod> | undefined {
    return this.podsByNs.get(namespace);
  }

  /** The namespaces that hold pods or policies, whether or not the model holds the namespace itself. */
  namespacesInUse(): Iterable<string> {
    return new Set([...this.podsByNs.keys(), ...this.policiesByNs.keys()]);
  }

  policiesIn(namespace: string): Iterable<PolicyObject> {
    return this.policiesByNs.get(namespace)?.values() ?? [];
  }

  get policyCount(): number {
    let n = 0;
    for (const m of this.policiesByNs.values()) n += m.size;
    return n;
  }

  /** The pods that claim an address; more than one means a conflict. */
  podsAt(address: string): readonly Pod[] {
    return this.podsByAddress.get(address) ?? [];
  }

  nodeAt(address: string): Node | undefined {
    return this.nodesByAddress.get(address)?.[0];
  }

  /** The nodes that claim an address; more than one means a conflict. */
  nodesAt(address: string): readonly Node[] {
    return this.nodesByAddress.get(address) ?? [];
  }

  /** The pods scheduled to a node, whatever their state. */
  podsOnNode(node: string): ReadonlySet<Pod> {
    return this.podsByNode.get(node) ?? EMPTY;
  }

  /** Live pods off the host network with a container port of this name and protocol. */
  podsWithPortName(protocol: string, name: string): ReadonlySet<Pod> {
    return this.podsByPortName.get(`${protocol}/${name}`) ?? EMPTY;
  }

  private link(obj: ModelObject): void {
    this.linkIndexes(obj);
    for (const { o, followsTrials } of this.observers) if (!this.quiet || (followsTrials && this.observedTrial)) o.linked(obj);
  }

  private unlink(obj: ModelObject): void {
    this.unlinkIndexes(obj);
    for (const { o, followsTrials } of this.observers) if (!this.quiet || (followsTrials && this.observedTrial)) o.unlinked(obj);
  }

  private linkIndexes(obj: ModelObject): void {
    switch (obj.kind) {
      case "Namespace":
        this.namespaces.set(obj.name, obj);
        this.namespaceLabels.add(obj, obj.labels);
        this.tierEpochCount++;
        return;
      case "Node":
        this.nodes.set(obj.name, obj);
        for (const a of obj.addresses) addTo(this.nodesByAddress, a.text, obj);
        return;
      case "Pod": {
        this.pods.set(obj.key, obj);
        let idx = this.podsByNs.get(obj.namespace);
        if (!idx) this.podsByNs.set(obj.namespace, (idx = new LabelIndex()));
        idx.add(obj, obj.labels);
        if (obj.nodeName !== undefined) {
          let onNode = this.podsByNode.get(obj.nodeName);
          if (!onNode) this.podsByNode.set(obj.nodeName, (onNode = new Set()));
          onNode.add(obj);
        }
        if (holdsAddresses(obj)) {
          for (const a of obj.ips) addTo(this.podsByAddress, a.text, obj);
          for (const p of obj.ports) {
            if (!p.name) continue;
            const key = `${p.protocol}/${p.name}`;
            let set = this.podsByPortName.get(key);
            if (!set) this.podsByPortName.set(key, (set = new Set()));
            set.add(obj);
          }
        }
        return;
      }
      case "NetworkPolicy": {
        let m = this.policiesByNs.get(obj.namespace);
        if (!m) this.policiesByNs.set(obj.namespace, (m = new Map()));
        m.set(obj.name, obj);
        return;
      }
      case "ClusterNetworkPolicy":
      case "AdminNetworkPolicy":
      case "BaselineAdminNetworkPolicy":
        this.tierPolicies.set(obj.key, obj);
        this.tierEpochCount++;
        return;
    }
  }

  private unlinkIndexes(obj: ModelObject): void {
    switch (obj.kind) {
      case "Namespace":
        this.namespaces.delete(obj.name);
        this.namespaceLabels.remove(obj, obj.labels);
        this.tierEpochCount++;
        return;
      case "Node":
        this.nodes.delete(obj.name);
        for (const a of obj.addresses) removeFrom(this.nodesByAddress, a.text, obj);
        return;
      case "Pod": {
        this.pods.delete(obj.key);
        const idx = this.podsByNs.get(obj.namespace);
        idx?.remove(obj, obj.labels);
        if (idx?.size === 0) this.podsByNs.delete(obj.namespace);
        if (obj.nodeName !== undefined) {
          const onNode = this.podsByNode.get(obj.nodeName);
          onNode?.delete(obj);
          if (onNode?.size === 0) this.podsByNode.delete(obj.nodeName);
        }
        if (holdsAddresses(obj)) {
          for (const a of obj.ips) removeFrom(this.podsByAddress, a.text, obj);
          for (const p of obj.ports) {
            if (!p.name) continue;
            const key = `${p.protocol}/${p.name}`;
            const set = this.podsByPortName.get(key);
            set?.delete(obj);
            if (set?.size === 0) this.podsByPortName.delete(key);
          }
        }
        return;
      }
      case "NetworkPolicy": {
        const m = this.policiesByNs.get(obj.namespace);
        m?.delete(obj.name);
        if (m?.size === 0) this.policiesByNs.delete(obj.namespace);
        return;
      }
      case "ClusterNetworkPolicy":
      case "AdminNetworkPolicy":
      case "BaselineAdminNetworkPolicy":
        this.tierPolicies.delete(obj.key);
        this.tierEpochCount++;
        return;
    }
  }
}

const EMPTY: ReadonlySet<Pod> = new Set();

function addTo<T>(index: Map<string, T[]>, key: string, item: T): void {
  index.set(key, [...(index.get(key) ?? []), item]);
}

function removeFrom<T>(index: Map<string, T[]>, key: string, item: T): void {
  const rest = (index.get(key) ?? []).filter((x) => x !== item);
  if (rest.length) index.set(key, rest);
  else index.delete(key);
}

/** Host-network pods use their node's address; terminated pods have released theirs. */
function holdsAddresses(pod: Pod): boolean {
  return !pod.hostNetwork && isLive(pod);
}
