/**
 * Cluster-scoped policies of the network-policy-api (policy.networking.k8s.io),
 * one model for the three kinds: ClusterNetworkPolicy (v1alpha2, tiers Admin
 * and Baseline), AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1).
 * "Policy tiers are evaluated in the following order: Admin tier,
 * NetworkPolicy tier, Baseline tier." The decoding, with the case table of
 * missing versus empty fields, is in policy/tier-policy.ts.
 */
import type { Cidr, PortMatcher, Selector } from "./types.js";

export type TierKind = "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";
export const TIER_KINDS: readonly TierKind[] = ["ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"];

/**
 * "The Admin tier takes precedence over all other policies." "Baseline tier
 * is a cluster-wide policy that can be overridden by the v1.NetworkPolicy."
 * AdminNetworkPolicy is of the Admin tier, BaselineAdminNetworkPolicy of the Baseline tier.
 */
export type Tier = "Admin" | "Baseline";

/**
 * - Accept: "Accepts the selected traffic, including replies to that traffic
 *   and related ICMP traffic. No further ingress ClusterNetworkPolicy or
 *   NetworkPolicy rules will be processed." (AdminNetworkPolicy's "Allow".)
 * - Deny: "Drops the selected traffic. No further ClusterNetworkPolicy or
 *   NetworkPolicy rules will be processed."
 * - Pass: "Skips all further ClusterNetworkPolicy rules in the current tier
 *   for the selected traffic, and passes evaluation to the next tier."
 */
export type TierAction = "Accept" | "Deny" | "Pass";

/** The action as the manifest spells it: ClusterNetworkPolicy's "Accept" is the v1alpha1 kinds' "Allow". */
export type TierActionWord = "Accept" | "Allow" | "Deny" | "Pass";

export interface TierPolicy {
  readonly kind: TierKind;
  readonly name: string;
  /** "ClusterNetworkPolicy/name": the kinds are cluster-scoped, and two kinds may use one name. */
  readonly key: string;
  readonly tier: Tier;
  /**
   * "Priority is a value from 0 to 1000 indicating the precedence of the
   * policy within its tier. Policies with lower priority values have higher
   * precedence." Undefined for a BaselineAdminNetworkPolicy: it has no
   * priority field, being the single object of its kind ("Only one baseline
   * admin network policy with metadata.name="default" can be created in the
   * cluster"). No number is made up for it, so that an explanation never
   * shows a priority nobody wrote; where it stands among Baseline-tier
   * ClusterNetworkPolicies is the evaluator's to decide, in one place.
   */
  readonly priority: number | undefined;
  /** "Subject defines the pods to which this ClusterNetworkPolicy applies." */
  readonly subject: TierSubject;
  /**
   * "The relative precedence of ingress rules within a single CNP object (all
   * of which share the priority) will be determined by the order in which the
   * rule is written." "CNPs with no ingress rules do not affect ingress traffic."
   */
  readonly ingress: readonly TierRule[];
  readonly egress: readonly TierRule[];
  /**
   * Field paths of peers that are valid but cannot be enforced with ipsets of
   * addresses (`spec.egress[0].to[1].domainNames`): a domain name's addresses
   * are known only from DNS answers at run time. Empty for most policies.
   */
  readonly unenforceable: readonly string[];
}

/**
 * "Note that host-networked pods are not included in subject selection."
 * - namespaces: "Namespaces is used to select pods via namespace selectors."
 * - pods: "Pods is used to select pods via namespace AND pod selectors."
 */
export type TierSubject =
  | { readonly kind: "namespaces"; readonly field: string; readonly namespaces: Selector }
  | { readonly kind: "pods"; readonly field: string; readonly namespaces: Selector; readonly pods: Selector };

export interface TierRule {
  /** "spec.ingress[0]" */
  readonly field: string;
  /**
   * "Name is an identifier for this rule, that may be no more than 100
   * characters in length." Undefined when omitted or empty.
   */
  readonly name: string | undefined;
  readonly action: TierAction;
  readonly actionWord: TierActionWord;
  /**
   * "If any element matches the source of incoming traffic then the specified
   * action is applied. This field must be defined and contain at least one item."
   */
  readonly peers: readonly TierPeer[];
  /**
   * "If unspecified, protocol-specific attributes will not be used to match
   * traffic": `[{kind: "all"}]`, as a NetworkPolicy rule without ports.
   */
  readonly ports: readonly TierPort[];
}

/**
 * "Exactly one of the fields must be set for a given peer." Host-networked
 * pods are in neither namespaces nor pods peers.
 * - namespaces: "a way to select all pods within a set of Namespaces."
 * - pods: "a way to select a set of pods in a set of namespaces."
 * - nodes (egress only): "It selects the nodeIPs as the peer type by matching
 *   on the IPs present in the node.Status.Addresses field of the node."
 * - networks (egress only): "a way to select peers via CIDR blocks ... note
 *   that cluster-internal traffic will be checked against the rule as well."
 *   Host bits are cleared, as `isCIDR` accepts them.
 * - domainNames (egress only, ClusterNetworkPolicy and AdminNetworkPolicy):
 *   "DomainNames provides a way to specify domain names as peers." Listed in
 *   the policy's `unenforceable`.
 */
export type TierPeer =
  | { readonly kind: "namespaces"; readonly field: string; readonly namespaces: Selector }
  | { readonly kind: "pods"; readonly field: string; readonly namespaces: Selector; readonly pods: Selector }
  | { readonly kind: "nodes"; readonly field: string; readonly nodes: Selector }
  | { readonly kind: "networks"; readonly field: string; readonly networks: readonly Cidr[] }
  | { readonly kind: "domainNames"; readonly field: string; readonly domainNames: readonly string[] };

/**
 * A NetworkPolicy port matcher (all, a number or a range of one protocol), or
 * a named port of any protocol: "DestinationNamedPort selects a destination
 * port on a pod based on the ContainerPort name"; the container port gives
 * the protocol, where a NetworkPolicy named port names one.
 */
export type TierPort = PortMatcher | { readonly kind: "namedAnyProtocol"; readonly field: string; readonly name: string };
