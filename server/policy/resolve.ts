/**
 * Selector resolution through the label indexes: which namespaces and pods a
 * selector or a peer selects, without scanning every object. Filters with the
 * same `matches` that Check uses, so both agree by construction.
 */
import type { Cluster } from "../model/cluster.js";
import type { LabelIndex } from "../model/label-index.js";
import type { Labels, Namespace, Peer, Pod, Selector } from "../model/types.js";
import { matches } from "./selector.js";

/** The objects of an index that a selector selects. */
export function select<T extends { labels: Labels }>(index: LabelIndex<T>, sel: Selector): T[] {
  if (sel.kind === "everything") return [...index.all];
  // Start from the narrowest posting list an In or Exists requirement gives.
  let candidates: Iterable<T> = index.all;
  let size = index.size;
  for (const req of sel.requirements) {
    const list = req.operator === "In" ? index.withValues(req.key, req.values) : req.operator === "Exists" ? index.withKey(req.key) : undefined;
    if (list && list.length < size) {
      candidates = list;
      size = list.length;
    }
  }
  const out: T[] = [];
  for (const item of candidates) if (matches(sel, item.labels)) out.push(item);
  return out;
}

export function selectNamespaces(cluster: Cluster, sel: Selector): Namespace[] {
  return select(cluster.namespaceLabels, sel);
}

/** The pods a pod peer of a policy in `policyNamespace` selects (host-network pods never). */
export function selectPeerPods(cluster: Cluster, policyNamespace: string, peer: Peer & { kind: "pods" }): Pod[] {
  const namespaces = peer.namespaces.kind === "same" ? [policyNamespace] : selectNamespaces(cluster, peer.namespaces.selector).map((n) => n.name);
  const out: Pod[] = [];
  for (const ns of namespaces) {
    const index = cluster.podLabels(ns);
    if (!index) continue;
    for (const pod of select(index, peer.pods)) if (!pod.hostNetwork) out.push(pod);
  }
  return out;
}
