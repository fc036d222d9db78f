/**
 * Which nodes' rulesets and which shared sets a change of the model touches.
 * A change is an object linked or unlinked (an update is both: the old object
 * unlinked, the new one linked), and each is looked at on its own, so a set
 * that held the old object or holds the new one is found either way. Which
 * cluster-scoped policies select a pod follows the policies and its
 * namespace's labels: a policy's change is weighed against the namespaces as
 * they are, a namespace's against every policy, those of the same write that
 * are gone included.
 */
import type { Cluster } from "../model/cluster.js";
import { TIER_KINDS, type TierSubject } from "../model/tier-types.js";
import type { ModelObject, Pod, TierPolicyObject } from "../model/types.js";
import { matches, select, selectNamespaces } from "../policy/index.js";
import type { SetSource } from "./plan.js";
import { portGroupKey } from "./sets.js";

export interface SetUse {
  readonly source: SetSource;
  readonly nodes: Set<string>;
}

export interface Touched {
  /** Nodes whose chains may change: compile again. */
  readonly nodes: Set<string>;
  /** Sets whose members are made again; the nodes that hold them keep their chains. */
  readonly sets: Set<string>;
  readonly portGroups: Set<string>;
}

/** What the memoised rulesets depend on: the sets they hold, the named ports that shaped them, each with its nodes. */
export interface Dependencies {
  readonly sets: ReadonlyMap<string, SetUse>;
  readonly portGroups: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Adds to `out` what the changes of one write touch. */
export function touchedBy(cluster: Cluster, changes: readonly ModelObject[], deps: Dependencies, out: Touched): void {
  const tierChanges = changes.filter(isTierPolicy);
  for (const obj of changes) touchedByOne(cluster, obj, deps, out, tierChanges);
}

function touchedByOne(cluster: Cluster, obj: ModelObject, deps: Dependencies, out: Touched, tierChanges: readonly TierPolicyObject[]): void {
  const uses = deps.sets;
  switch (obj.kind) {
    case "Node":
      out.nodes.add(obj.name);
      for (const [name, use] of uses) if (use.source.kind === "nodes" && matches(use.source.nodes, obj.labels)) out.sets.add(name);
      return;
    case "Namespace":
      for (const [name, use] of uses) {
        const s = use.source;
        if (s.kind === "pods" && s.namespaces.kind === "selector" && matches(s.namespaces.selector, obj.labels)) out.sets.add(name);
      }
      // Which cluster-scoped policies select its pods follows its labels.
      for (const p of [...cluster.tierPolicies.values(), ...tierChanges]) {
        if (matches(p.policy.subject.namespaces, obj.labels)) subjectNodes(cluster, p.policy.subject, [obj.name], out);
      }
      return;
    case "Pod":
      if (obj.nodeName !== undefined) out.nodes.add(obj.nodeName);
      // Egress named ports: which numbers a name takes decides which rules a chain has.
      for (const p of obj.ports) {
        if (!p.name) continue;
        const key = portGroupKey(p.protocol, p.name);
        out.portGroups.add(key);
        for (const n of deps.portGroups.get(key) ?? []) out.nodes.add(n);
      }
      for (const [name, use] of uses) if (setMayHold(cluster, use.source, obj)) out.sets.add(name);
      return;
    case "NetworkPolicy": {
      // Its chains are keyed by the policy object: only the nodes of the pods it selects change.
      const index = cluster.podLabels(obj.namespace);
      if (index) for (const pod of select(index, obj.policy.podSelector)) if (pod.nodeName !== undefined) out.nodes.add(pod.nodeName);
      return;
    }
    case "ClusterNetworkPolicy":
    case "AdminNetworkPolicy":
    case "BaselineAdminNetworkPolicy": {
      // Likewise: the nodes of the pods it selects (a namespace relabelled by the same write is that namespace's to weigh).
      const subject = obj.policy.subject;
      subjectNodes(
        cluster,
        subject,
        selectNamespaces(cluster, subject.namespaces).map((n) => n.name),
        out,
      );
      return;
    }
  }
}

function isTierPolicy(o: ModelObject): o is TierPolicyObject {
  return (TIER_KINDS as readonly string[]).includes(o.kind);
}

/** The nodes of the pods of these namespaces that the subject's pod selector (if any) selects; host-network pods are never subjects. */
function subjectNodes(cluster: Cluster, subject: TierSubject, namespaces: Iterable<string>, out: Touched): void {
  for (const ns of namespaces) {
    const index = cluster.podLabels(ns);
    if (!index) continue;
    for (const pod of subject.kind === "pods" ? select(index, subject.pods) : index.all) {
      if (!pod.hostNetwork && pod.nodeName !== undefined) out.nodes.add(pod.nodeName);
    }
  }
}

/** Whether a set of this source holds, or may hold, the pod (whatever its address or state). */
function setMayHold(cluster: Cluster, s: SetSource, pod: Pod): boolean {
  switch (s.kind) {
    case "nets":
    case "nodes":
      return false;
    case "port":
      return pod.ports.some((p) => p.name === s.name && p.protocol === s.protocol);
    case "pods": {
      if (s.namespaces.kind === "same") {
        if (pod.namespace !== s.policyNamespace) return false;
      } else {
        const ns = cluster.namespaces.get(pod.namespace);
        if (ns && !matches(s.namespaces.selector, ns.labels)) return false;
      }
      return matches(s.pods, pod.labels);
    }
  }
}
