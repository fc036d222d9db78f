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

/** A pod is referred to by its key, "namespace/name", which the pods are looked up by. */
export type Reference = { readonly kind: "pod"; readonly key: string } | { readonly kind: "address"; readonly address: Address };

export function parseReference(text: string): Reference | { readonly kind: "invalid"; readonly detail: string } {
  const slash = text.indexOf("/");
  // No address has a "/": a pod's reference is not read as one.
  if (slash < 0) {
    const address = parseAddress(text);
    if (address) return { kind: "address", address };
  } else if (slash > 0 && slash < text.length - 1 && text.indexOf("/", slash + 1) < 0) {
    // Exactly one "/", with something on either side.
    return { kind: "pod", key: text };
  }
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
    const pod = cluster.pods.get(ref.key);
    if (!pod) {
      const slash = ref.key.indexOf("/");
      return { kind: "not-found", detail: `pods "${ref.key.slice(slash + 1)}" not found in namespace "${ref.key.slice(0, slash)}"` };
    }
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
