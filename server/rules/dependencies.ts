/**
 * Which nodes' rulesets and which shared sets a change of the model touches.
 * A change is an object linked or unlinked (an update is both: the old object
 * unlinked, the new one linked), and each is looked at on its own, so a set
 * that held the old object or holds the new one is found either way.
 */
import type { Cluster } from "../model/cluster.js";
import type { ModelObject, Pod } from "../model/types.js";
import { portGroupKey } from "./sets.js";
import type { SetSource } from "./plan.js";
import { matches, select } from "../policy/index.js";

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

/** Adds to `out` what one change touches. */
export function touchedBy(cluster: Cluster, obj: ModelObject, deps: Dependencies, out: Touched): void {
  const uses = deps.sets;
  switch (obj.kind) {
    case "Node":
      out.nodes.add(obj.name);
      return;
    case "Namespace":
      for (const [name, use] of uses) {
        const s = use.source;
        if (s.kind === "pods" && s.namespaces.kind === "selector" && matches(s.namespaces.selector, obj.labels)) out.sets.add(name);
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
  }
}

/** Whether a set of this source holds, or may hold, the pod (whatever its address or state). */
function setMayHold(cluster: Cluster, s: SetSource, pod: Pod): boolean {
  switch (s.kind) {
    case "nets":
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
