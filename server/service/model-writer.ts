/**
 * Model writes: manifests in, validated as the API server would, committed
 * atomically or not at all.
 */
import type { Cluster } from "../model/cluster.js";
import type { Kind, ModelObject, Pod } from "../model/types.js";
import { decodeObject } from "../manifests/decode.js";
import { ManifestSyntaxError, parseManifests } from "../manifests/parse.js";
import { fieldError, Path } from "../policy/field.js";
import { type ObjectFieldError, PodwallError, invalidMessage } from "./errors.js";

export interface WriteResult {
  readonly generation: number;
  /** "Kind namespace/name" of each object written. */
  readonly applied: readonly string[];
  /** Objects of kinds not modelled, "apiVersion/Kind namespace/name". */
  readonly skipped: readonly string[];
}

/** Parses manifest text; a syntax error is a 400. */
export function parseText(text: string): unknown[] {
  try {
    return parseManifests(text);
  } catch (e) {
    if (e instanceof ManifestSyntaxError) throw new PodwallError("bad-request", `malformed manifests: ${e.message}`);
    throw e;
  }
}

/** Decodes every object; any invalid one makes the whole request a 422 listing every error. */
export function decodeAll(raws: readonly unknown[]): { objects: ModelObject[]; skipped: string[] } {
  const objects: ModelObject[] = [];
  const skipped: string[] = [];
  const errors: ObjectFieldError[] = [];
  const messages: string[] = [];
  for (const raw of raws) {
    const d = decodeObject(raw);
    switch (d.kind) {
      case "object":
        objects.push(d.object);
        break;
      case "skipped":
        skipped.push(d.what);
        break;
      case "invalid":
        messages.push(invalidMessage(d.what, d.errors));
        errors.push(...d.errors.map((e) => ({ ...e, object: d.what })));
        break;
    }
  }
  if (errors.length > 0) throw new PodwallError("invalid", messages.join("; "), errors);
  return { objects, skipped };
}

export function describe(o: ModelObject): string {
  return describeRef(o.kind, "namespace" in o ? o.namespace : "", o.name);
}

/** "Kind namespace/name", or "Kind name" for the kinds that live in no namespace. */
export function describeRef(kind: Kind, namespace: string, name: string): string {
  return `${kind} ${namespaced(kind) && namespace ? `${namespace}/` : ""}${name}`;
}

function namespaced(kind: Kind): boolean {
  return kind === "Pod" || kind === "NetworkPolicy";
}

/** Writes objects inside the cluster's transaction, then checks what spans objects. */
export function writeObjects(cluster: Cluster, objects: readonly ModelObject[], replace: boolean): void {
  if (replace) cluster.clear();
  for (const o of objects) cluster.put(o);
  checkReferences(cluster, objects);
}

export function deleteObject(cluster: Cluster, kind: Kind, namespace: string, name: string): void {
  if (!cluster.remove(kind, namespace, name)) {
    const resource = { Namespace: "namespaces", Node: "nodes", Pod: "pods", NetworkPolicy: "networkpolicies.networking.k8s.io" }[kind];
    throw new PodwallError("not-found", `${resource} "${name}" not found${namespaced(kind) && namespace ? ` in namespace "${namespace}"` : ""}`);
  }
}

/**
 * What no single object can check: the namespace of a pod or policy must exist
 * (the API server answers NotFound), and no two live pods or nodes may claim
 * one address, or "the pod at this address" would have two answers.
 */
function checkReferences(cluster: Cluster, written: readonly ModelObject[]): void {
  for (const o of written) {
    if ((o.kind === "Pod" || o.kind === "NetworkPolicy") && !cluster.namespaces.has(o.namespace)) {
      throw new PodwallError("not-found", `namespaces "${o.namespace}" not found (${describe(o)})`);
    }
  }
  const errors: ObjectFieldError[] = [];
  for (const o of written) {
    if (o.kind === "Pod" && cluster.pods.get(o.key) === o) errors.push(...addressConflicts(cluster, o));
    if (o.kind === "Node" && cluster.nodes.get(o.name) === o) {
      o.addresses.forEach((a, i) => {
        const other = cluster.nodesAt(a.text).find((n) => n !== o);
        const pod = cluster.podsAt(a.text)[0];
        const holder = other ? `node ${other.name}` : pod ? `pod ${pod.key}` : undefined;
        if (holder) errors.push({ ...fieldError.duplicate(nodeAddressPath(i), a.text), detail: `also the address of ${holder}`, object: describe(o) });
      });
    }
  }
  if (errors.length > 0) {
    throw new PodwallError("invalid", invalidMessage("the request", errors), errors);
  }
}

function nodeAddressPath(i: number): Path {
  return Path.root("status").child("addresses").index(i).child("address");
}

function addressConflicts(cluster: Cluster, pod: Pod): ObjectFieldError[] {
  const out: ObjectFieldError[] = [];
  pod.ips.forEach((a, i) => {
    const others = cluster.podsAt(a.text).filter((p) => p !== pod);
    const node = cluster.nodeAt(a.text);
    const holder = others[0] ? `pod ${others[0].key}` : node && !pod.hostNetwork ? `node ${node.name}` : undefined;
    if (holder && cluster.podsAt(a.text).includes(pod)) {
      out.push({ ...fieldError.duplicate(Path.root("status").child("podIPs").index(i).child("ip"), a.text), detail: `also the address of ${holder}`, object: describe(pod) });
    }
  });
  return out;
}
