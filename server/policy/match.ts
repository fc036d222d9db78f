/**
 * The matching primitives of NetworkPolicy, shared by Check and the rule
 * compiler: which policies select a pod, whether a peer matches, and which
 * ports a port entry allows on a destination pod.
 */
import type { Cluster } from "../model/cluster.js";
import type { Address, ContainerPort, Direction, Namespace, Peer, Pod, PolicyObject, PortMatcher, Protocol, Selector } from "../model/types.js";
import { cidrContains } from "./address.js";
import { SelectionIndex } from "./selection-index.js";
import { matches } from "./selector.js";

/**
 * "Pods are isolated for ingress (egress) if there is any NetworkPolicy that
 * both selects the pod and has Ingress (Egress) in its policyTypes."
 * Host-network pods are never selected.
 */
export function policiesSelecting(cluster: Cluster, pod: Pod, dir: Direction): PolicyObject[] {
  return [...isolatingPolicies(cluster, pod, dir)];
}

/** policiesSelecting without the copy, for Check: the list is shared and must not be changed. */
export function isolatingPolicies(cluster: Cluster, pod: Pod, dir: Direction): readonly PolicyObject[] {
  return pod.hostNetwork ? NO_POLICIES : SelectionIndex.of(cluster).selecting(pod, dir);
}

const NO_POLICIES: readonly PolicyObject[] = [];

/** Whether a pod peer (not the host network) is in the peer's namespaces and matches its pod selector. */
export function peerSelectsPod(cluster: Cluster, policyNamespace: string, peer: Peer & { kind: "pods" }, pod: Pod): boolean {
  if (pod.hostNetwork) return false;
  if (peer.namespaces.kind === "same") {
    if (pod.namespace !== policyNamespace) return false;
  } else {
    const ns = cluster.namespaces.get(pod.namespace);
    if (!ns || !namespaceMatches(peer.namespaces.selector, ns)) return false;
  }
  return matches(peer.pods, pod.labels);
}

/**
 * Whether a namespace selector selects a namespace, remembered per selector
 * and namespace object: both are immutable (a relabelled namespace is a new
 * object), there are few namespaces, and every decision asks again.
 */
const namespaceMatchesCache = new WeakMap<Selector, WeakMap<Namespace, boolean>>();

function namespaceMatches(sel: Selector, ns: Namespace): boolean {
  let byNs = namespaceMatchesCache.get(sel);
  if (!byNs) namespaceMatchesCache.set(sel, (byNs = new WeakMap()));
  let m = byNs.get(ns);
  if (m === undefined) byNs.set(ns, (m = matches(sel, ns.labels)));
  return m;
}

/** `cidr` minus each `except`: this peer's own except, never another's. */
export function ipBlockContains(peer: Peer & { kind: "ipBlock" }, ip: Address): boolean {
  if (!cidrContains(peer.cidr, ip)) return false;
  for (const e of peer.except) if (cidrContains(e, ip)) return false;
  return true;
}

/**
 * The ports a port entry allows towards `dst`: a named port is "a named port on
 * a pod", so it is looked up on the destination's container ports (name and
 * protocol must both match); a destination without that name matches nothing.
 * A host-network pod's ports are its node's: on the wire nothing tells them
 * apart from the node's own, so its port names resolve to nothing.
 */
export function resolvePortMatcher(m: PortMatcher, dst: Pod | undefined): PortRange | undefined {
  switch (m.kind) {
    case "all":
      return ANY_PORT;
    case "protocol":
      return WHOLE_PROTOCOL[m.protocol];
    case "range":
      return m;
    case "named": {
      const cp = namedPort(m, dst);
      return cp ? { protocol: m.protocol, from: cp.port, to: cp.port } : undefined;
    }
  }
}

/**
 * Whether a port entry allows `t` towards `dst`: resolvePortMatcher's range
 * holds it. Check asks this of port entries on every decision, so nothing is
 * made for it.
 */
export function portMatcherAllows(m: PortMatcher, dst: Pod | undefined, t: { readonly protocol: Protocol; readonly port: number }): boolean {
  if (m.kind === "named") {
    const cp = namedPort(m, dst);
    return cp !== undefined && m.protocol === t.protocol && t.port === cp.port;
  }
  // Without a name, the range is a constant or the entry itself.
  const range = resolvePortMatcher(m, dst)!;
  return (range.protocol === "any" || range.protocol === t.protocol) && t.port >= range.from && t.port <= range.to;
}

/** The destination's container port a named port entry names, if any. */
function namedPort(m: PortMatcher & { kind: "named" }, dst: Pod | undefined): ContainerPort | undefined {
  if (dst === undefined || dst.hostNetwork) return undefined;
  for (const p of dst.ports) if (p.name === m.name && p.protocol === m.protocol) return p;
  return undefined;
}

export interface PortRange {
  readonly protocol: Protocol | "any";
  readonly from: number;
  readonly to: number;
}

const ANY_PORT: PortRange = { protocol: "any", from: 1, to: 65535 };
const WHOLE_PROTOCOL: Record<Protocol, PortRange> = {
  TCP: { protocol: "TCP", from: 1, to: 65535 },
  UDP: { protocol: "UDP", from: 1, to: 65535 },
  SCTP: { protocol: "SCTP", from: 1, to: 65535 },
};
