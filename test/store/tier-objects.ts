/**
 * The network-policy-api's objects as the store tests write them: one valid
 * manifest of each kind, cluster-scoped (their refs have namespace "").
 */
import type { Manifest } from "../../server/model/types.js";
import type { Change, ObjectRef } from "../../server/store/types.js";

export type TierKind = "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";

const VERSION: Record<TierKind, string> = {
  ClusterNetworkPolicy: "policy.networking.k8s.io/v1alpha2",
  AdminNetworkPolicy: "policy.networking.k8s.io/v1alpha1",
  BaselineAdminNetworkPolicy: "policy.networking.k8s.io/v1alpha1",
};

/**
 * A policy of the kind on the pods of namespace `subject`, with one ingress
 * rule from namespace `from`: `action` as the kind spells it ("Accept" is
 * written "Allow" by the v1alpha1 kinds). A BaselineAdminNetworkPolicy has no
 * priority, and only the name "default" is valid for it.
 */
export function tierPolicy(kind: TierKind, name: string, o: { subject?: string; from?: string; action?: "Accept" | "Deny" | "Pass"; priority?: number } = {}): Manifest {
  const action = o.action ?? "Deny";
  const head: Record<string, unknown> =
    kind === "ClusterNetworkPolicy" ? { tier: "Admin", priority: o.priority ?? 10 } : kind === "AdminNetworkPolicy" ? { priority: o.priority ?? 10 } : {};
  const byName = (ns: string | undefined) => (ns === undefined ? {} : { matchLabels: { "kubernetes.io/metadata.name": ns } });
  return {
    apiVersion: VERSION[kind],
    kind,
    metadata: { name },
    spec: {
      ...head,
      subject: { namespaces: byName(o.subject) },
      ingress: [{ name: "from", action: kind !== "ClusterNetworkPolicy" && action === "Accept" ? "Allow" : action, from: [{ namespaces: byName(o.from) }] }],
    },
  };
}

export function tierRef(kind: TierKind, name: string): ObjectRef {
  return { kind, namespace: "", name };
}

export const putTier = (m: Manifest): Change => ({ op: "put", ref: tierRef(m["kind"] as TierKind, (m["metadata"] as { name: string }).name), manifest: m });
export const deleteTier = (kind: TierKind, name: string): Change => ({ op: "delete", ref: tierRef(kind, name) });
