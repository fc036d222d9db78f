/**
 * Each kind Podwall models, declared once: its API group and version, its
 * name in the API server's messages, its resource (path segment and the name
 * NotFound errors use), and whether it lives in a namespace. Whatever branches
 * on a kind switches over `Kind` exhaustively, so a new kind is a compile
 * error until every place handles it.
 */
import type { Kind } from "./types.js";

export interface KindInfo {
  /** "networking.k8s.io/v1" */
  readonly apiVersion: string;
  /** The kind as the API server names it in errors: "NetworkPolicy.networking.k8s.io". */
  readonly what: string;
  /** The resource's plural: "networkpolicies". */
  readonly plural: string;
  /** The resource as NotFound names it: "networkpolicies.networking.k8s.io". */
  readonly resource: string;
  readonly namespaced: boolean;
  /** A custom resource, served only by a cluster that has its CRD installed. */
  readonly custom: boolean;
}

export const KIND_INFO: Readonly<Record<Kind, KindInfo>> = {
  Namespace: { apiVersion: "v1", what: "Namespace", plural: "namespaces", resource: "namespaces", namespaced: false, custom: false },
  Node: { apiVersion: "v1", what: "Node", plural: "nodes", resource: "nodes", namespaced: false, custom: false },
  Pod: { apiVersion: "v1", what: "Pod", plural: "pods", resource: "pods", namespaced: true, custom: false },
  NetworkPolicy: {
    apiVersion: "networking.k8s.io/v1",
    what: "NetworkPolicy.networking.k8s.io",
    plural: "networkpolicies",
    resource: "networkpolicies.networking.k8s.io",
    namespaced: true,
    custom: false,
  },
  ClusterNetworkPolicy: tierKind("ClusterNetworkPolicy", "v1alpha2", "clusternetworkpolicies"),
  AdminNetworkPolicy: tierKind("AdminNetworkPolicy", "v1alpha1", "adminnetworkpolicies"),
  BaselineAdminNetworkPolicy: tierKind("BaselineAdminNetworkPolicy", "v1alpha1", "baselineadminnetworkpolicies"),
};

/** The network-policy-api's kinds: custom resources of policy.networking.k8s.io, cluster-scoped. */
function tierKind(kind: string, version: string, plural: string): KindInfo {
  return {
    apiVersion: `policy.networking.k8s.io/${version}`,
    what: `${kind}.policy.networking.k8s.io`,
    plural,
    resource: `${plural}.policy.networking.k8s.io`,
    namespaced: false,
    custom: true,
  };
}

/** Whether objects of the kind live in a namespace. */
export function isNamespaced(kind: Kind): boolean {
  return KIND_INFO[kind].namespaced;
}

/** The kind an (apiVersion, kind) pair of a manifest names, if Podwall models it. */
export function kindOf(apiVersion: string, kind: string): Kind | undefined {
  const info = (KIND_INFO as Readonly<Record<string, KindInfo>>)[kind];
  return info !== undefined && info.apiVersion === apiVersion ? (kind as Kind) : undefined;
}

/** The path of the kind's collection on a Kubernetes API server: "/apis/networking.k8s.io/v1/networkpolicies". */
export function collectionPath(kind: Kind): string {
  const info = KIND_INFO[kind];
  return `${info.apiVersion.includes("/") ? "/apis" : "/api"}/${info.apiVersion}/${info.plural}`;
}
