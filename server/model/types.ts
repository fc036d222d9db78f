/**
 * The cluster model's objects, as Podwall keeps them once decoded and
 * validated. No semantics lives here: what a policy means is in server/policy.
 */
import type { TierKind, TierPolicy } from "./tier-types.js";

export type Labels = Readonly<Record<string, string>>;

export type Protocol = "TCP" | "UDP" | "SCTP";
export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

export type Family = "ipv4" | "ipv6";

/** One parsed address: `text` is canonical (ipaddr.js normal form). */
export interface Address {
  readonly text: string;
  readonly family: Family;
  readonly bytes: readonly number[];
}

export interface Namespace {
  readonly kind: "Namespace";
  readonly name: string;
  readonly labels: Labels;
  readonly manifest: Manifest;
}

export interface Node {
  readonly kind: "Node";
  readonly name: string;
  readonly labels: Labels;
  /** InternalIP addresses, in the order the manifest gives them. */
  readonly addresses: readonly Address[];
  readonly manifest: Manifest;
}

export interface ContainerPort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: Protocol;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface Pod {
  readonly kind: "Pod";
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name" */
  readonly key: string;
  readonly labels: Labels;
  readonly nodeName: string | undefined;
  readonly hostNetwork: boolean;
  /** status.podIPs (or status.podIP), primary first. */
  readonly ips: readonly Address[];
  readonly phase: PodPhase | undefined;
  readonly ports: readonly ContainerPort[];
  readonly manifest: Manifest;
}

/**
 * A label selector, normalised. `matchLabels` entries become `In` requirements
 * with one value; an empty selector (`{}`) is `everything`.
 */
export type Selector = { readonly kind: "everything" } | { readonly kind: "match"; readonly requirements: readonly Requirement[] };

export type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";
export const OPERATORS: readonly Operator[] = ["In", "NotIn", "Exists", "DoesNotExist"];

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export type Direction = "ingress" | "egress";

/** A CIDR: canonical network address and prefix length. */
export interface Cidr {
  readonly text: string;
  readonly family: Family;
  readonly bytes: readonly number[];
  readonly prefix: number;
}

/**
 * A NetworkPolicy translated once into closed cases. After this nothing tests
 * missing-versus-empty again; the table of cases is in policy/network-policy.ts.
 */
export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name" */
  readonly key: string;
  readonly podSelector: Selector;
  /** undefined: the policy does not isolate for ingress; []: it isolates and allows nothing. */
  readonly ingress: readonly Rule[] | undefined;
  readonly egress: readonly Rule[] | undefined;
}

export interface Rule {
  /** "spec.ingress[0]" */
  readonly field: string;
  readonly peers: readonly Peer[];
  readonly ports: readonly PortMatcher[];
}

/** Which namespaces a pod peer may be in. */
export type NamespaceScope = { readonly kind: "same" } | { readonly kind: "selector"; readonly selector: Selector };

export type Peer =
  /** A rule with no `from`/`to`: every peer, in the cluster or outside it. */
  | { readonly kind: "all"; readonly field: string }
  | { readonly kind: "ipBlock"; readonly field: string; readonly cidr: Cidr; readonly except: readonly Cidr[] }
  | { readonly kind: "pods"; readonly field: string; readonly namespaces: NamespaceScope; readonly pods: Selector };

export type PortMatcher =
  /** A rule with no `ports`: every port of every protocol. */
  | { readonly kind: "all"; readonly field: string }
  /** A port entry without `port`: every port of one protocol. */
  | { readonly kind: "protocol"; readonly field: string; readonly protocol: Protocol }
  /** `port`, or `port`..`endPort` inclusive. */
  | { readonly kind: "range"; readonly field: string; readonly protocol: Protocol; readonly from: number; readonly to: number }
  /** A named port, resolved on the destination pod's container ports. */
  | { readonly kind: "named"; readonly field: string; readonly protocol: Protocol; readonly name: string };

export interface PolicyObject {
  readonly kind: "NetworkPolicy";
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name" */
  readonly key: string;
  readonly policy: NetworkPolicy;
  readonly manifest: Manifest;
}

/**
 * A cluster-scoped policy of the network-policy-api: ClusterNetworkPolicy,
 * AdminNetworkPolicy or BaselineAdminNetworkPolicy, in one model.
 */
export interface TierPolicyObject {
  readonly kind: TierKind;
  readonly name: string;
  /** "ClusterNetworkPolicy/name" */
  readonly key: string;
  readonly policy: TierPolicy;
  readonly manifest: Manifest;
}

export type ModelObject = Namespace | Node | Pod | PolicyObject | TierPolicyObject;
export type Kind = ModelObject["kind"];
export const KINDS: readonly Kind[] = ["Namespace", "Node", "Pod", "NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"];

/** A kind by its name, in any case ("pod", "NetworkPolicy"). */
export function parseKind(text: string): Kind | undefined {
  return KINDS.find((k) => k.toLowerCase() === text.toLowerCase());
}

/** A Kubernetes object as JSON, kept to give the model back as a List. */
export type Manifest = Readonly<Record<string, unknown>>;

/**
 * A pod holds its addresses only while it may run: the kubelet releases the
 * IP of a pod that has terminated, and another pod may get it.
 */
export function isLive(pod: Pod): boolean {
  return pod.phase !== "Succeeded" && pod.phase !== "Failed";
}
