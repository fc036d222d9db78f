/**
 * Workload references: "namespace/name" is a pod; an address is the pod that
 * holds it, else the node that has it, else a host outside the cluster.
 */
import type { Cluster } from "../model/cluster.js";
import type { Address, Family, Node, Pod } from "../model/types.js";
import { parseAddress } from "./address.js";

export type Endpoint =
  | { readonly kind: "pod"; readonly pod: Pod; readonly ip: Address | undefined }
  | { readonly kind: "node"; readonly node: Node; readonly ip: Address }
  | { readonly kind: "external"; readonly ip: Address };

export type Reference = { readonly kind: "pod"; readonly namespace: string; readonly name: string } | { readonly kind: "address"; readonly address: Address };

export function parseReference(text: string): Reference | { readonly kind: "invalid"; readonly detail: string } {
  const address = parseAddress(text);
  if (address) return { kind: "address", address };
  const parts = text.split("/");
  if (parts.length === 2 && parts[0] && parts[1]) return { kind: "pod", namespace: parts[0], name: parts[1] };
  return { kind: "invalid", detail: `${JSON.stringify(text)} is neither "namespace/name" nor an IP address` };
}

/**
 * Resolves both ends of a connection. A connection has one address family:
 * that of an address given, else the source pod's primary address.
 */
export function resolveEndpoints(cluster: Cluster, src: Reference, dst: Reference): { src: Endpoint; dst: Endpoint } | { kind: "not-found"; detail: string } {
  const family: Family | undefined = src.kind === "address" ? src.address.family : dst.kind === "address" ? dst.address.family : undefined;
  const s = resolve(cluster, src, family);
  if ("detail" in s) return s;
  const d = resolve(cluster, dst, family ?? s.ip?.family);
  if ("detail" in d) return d;
  return { src: s, dst: d };
}

function resolve(cluster: Cluster, ref: Reference, family: Family | undefined): Endpoint | { kind: "not-found"; detail: string } {
  if (ref.kind === "pod") {
    const pod = cluster.pods.get(`${ref.namespace}/${ref.name}`);
    if (!pod) return { kind: "not-found", detail: `pods "${ref.name}" not found in namespace "${ref.namespace}"` };
    const ip = family === undefined ? pod.ips[0] : addressOf(pod, family);
    return { kind: "pod", pod, ip };
  }
  const a = ref.address;
  const node = cluster.nodeAt(a.text);
  if (node) return { kind: "node", node, ip: a };
  const pod = cluster.podsAt(a.text)[0];
  if (pod) return { kind: "pod", pod, ip: a };
  return { kind: "external", ip: a };
}

function addressOf(pod: Pod, family: Family): Address | undefined {
  for (const a of pod.ips) if (a.family === family) return a;
  return undefined;
}

/** The node an endpoint runs on or is: a host-network pod is its node's traffic. */
export function nodeOf(e: Endpoint): string | undefined {
  switch (e.kind) {
    case "pod":
      return e.pod.nodeName;
    case "node":
      return e.node.name;
    case "external":
      return undefined;
  }
}

export function describeEndpoint(e: Endpoint): string {
  switch (e.kind) {
    case "pod":
      return e.pod.key;
    case "node":
      return `node ${e.node.name}`;
    case "external":
      return e.ip.text;
  }
}
