/**
 * The matching primitives of the cluster-scoped policies: which pods a
 * subject selects, whether a peer matches the other end of a connection, and
 * whether a port entry matches the traffic. One rule, explained, by field path.
 */
import type { Cluster } from "../model/cluster.js";
import type { TierActionWord, TierPeer, TierPort, TierRule, TierSubject } from "../model/tier-types.js";
import type { Pod, Selector } from "../model/types.js";
import { cidrContains } from "./address.js";
import type { Endpoint } from "./endpoint.js";
import type { RuleResult, Traffic } from "./evaluate.js";
import { portMatcherAllows } from "./match.js";
import { matches } from "./selector.js";

/** A rule's result, as evaluate.ts words it, with the rule's name and action as the manifest spells them. */
export type TierRuleResult = RuleResult & { readonly name: string | undefined; readonly actionWord: TierActionWord };

/**
 * "Subject defines the pods to which this ClusterNetworkPolicy applies."
 * "Note that host-networked pods are not included in subject selection."
 * - namespaces: "Namespaces is used to select pods via namespace selectors."
 * - pods: "Pods is used to select pods via namespace AND pod selectors."
 * A pod whose namespace the model does not hold is in no namespace a selector
 * selects, as for a NetworkPolicy's namespaceSelector.
 */
export function subjectSelects(cluster: Cluster, s: TierSubject, pod: Pod): boolean {
  if (pod.hostNetwork || !inNamespaces(cluster, s.namespaces, pod)) return false;
  switch (s.kind) {
    case "namespaces":
      return true;
    case "pods":
      return matches(s.pods, pod.labels);
  }
}

function inNamespaces(cluster: Cluster, sel: Selector, pod: Pod): boolean {
  return namespaceSelected(cluster, sel, pod.namespace);
}

/** Whether a namespace selector selects the namespace of that name; one the model does not hold is selected by none. */
export function namespaceSelected(cluster: Cluster, sel: Selector, namespace: string): boolean {
  const ns = cluster.namespaces.get(namespace);
  return ns !== undefined && matches(sel, ns.labels);
}

/**
 * Whether a peer matches the other end of the connection:
 * - namespaces, pods: a pod off the host network ("host-networked pods are
 *   not included in this type of peer");
 * - nodes: "It selects the nodeIPs as the peer type by matching on the IPs
 *   present in the node.Status.Addresses field of the node": the address of
 *   the other end is an InternalIP of a node the selector selects, which is
 *   also how a host-network pod is reached;
 * - networks: the address is in one of the CIDRs, "cluster-internal traffic
 *   will be checked against the rule as well";
 * - domainNames: never, by address: a name's addresses are known only from DNS
 *   answers at run time.
 */
export function tierPeerMatches(cluster: Cluster, p: TierPeer, other: Endpoint): boolean {
  switch (p.kind) {
    case "namespaces":
      return other.kind === "pod" && !other.pod.hostNetwork && inNamespaces(cluster, p.namespaces, other.pod);
    case "pods":
      return other.kind === "pod" && !other.pod.hostNetwork && inNamespaces(cluster, p.namespaces, other.pod) && matches(p.pods, other.pod.labels);
    case "nodes": {
      const ip = other.ip;
      return ip !== undefined && cluster.nodesAt(ip.text).some((n) => matches(p.nodes, n.labels));
    }
    case "networks": {
      const ip = other.ip;
      return ip !== undefined && p.networks.some((c) => cidrContains(c, ip));
    }
    case "domainNames":
      return false;
  }
}

/**
 * Whether a port entry matches the traffic towards `dst`. A named port
 * "selects a destination port on a pod based on the ContainerPort name", of
 * whatever protocol that container port has; a host-network pod's ports are
 * its node's, so its names resolve to nothing (as for a NetworkPolicy).
 */
export function tierPortAllows(m: TierPort, dst: Pod | undefined, t: Traffic): boolean {
  if (m.kind !== "namedAnyProtocol") return portMatcherAllows(m, dst, t);
  if (dst === undefined || dst.hostNetwork) return false;
  return dst.ports.some((cp) => cp.name === m.name && cp.protocol === t.protocol && cp.port === t.port);
}

/**
 * One rule, explained: "If any element matches the source of incoming
 * traffic [the destination of outgoing traffic] then the specified action is
 * applied", when a port entry matches too.
 */
export function evaluateTierRule(cluster: Cluster, rule: TierRule, other: Endpoint, dst: Pod | undefined, t: Traffic): TierRuleResult {
  const named = { name: rule.name, actionWord: rule.actionWord };
  const peer = rule.peers.find((p) => tierPeerMatches(cluster, p, other));
  if (peer === undefined) {
    const domains = rule.peers.some((p) => p.kind === "domainNames");
    return { field: rule.field, result: "peer-mismatch", detail: domains ? PEER_MISMATCH_DOMAINS : PEER_MISMATCH, ...named };
  }
  const port = rule.ports.find((m) => tierPortAllows(m, dst, t));
  if (port !== undefined) return { field: rule.field, result: "matched", peer: peer.field, port: port.field, ...named };
  if (!rule.ports.some((m) => m.kind === "all" || m.kind === "namedAnyProtocol" || m.protocol === t.protocol)) {
    return { field: rule.field, result: "protocol-mismatch", detail: `the rule matches no ${t.protocol} port`, ...named };
  }
  const on = dst ? ` on ${dst.key}` : "";
  return { field: rule.field, result: "port-mismatch", detail: `the rule matches no ${t.protocol} port ${t.port}${on}`, ...named };
}

const PEER_MISMATCH = "no peer of the rule matches the other end";
const PEER_MISMATCH_DOMAINS = "no peer of the rule matches the other end (domain names are not matched by address)";
