/**
 * Model writes: manifests in, validated as the API server would, planned as
 * the change set a store commits atomically or not at all.
 */
import type { Cluster } from "../model/cluster.js";
import { type Change, refKey, refOf } from "../store/types.js";
import type { Kind, ModelObject, Pod } from "../model/types.js";
import { type DecodeOptions, decodeObject } from "../manifests/decode.js";
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
export function decodeAll(raws: readonly unknown[], opts: DecodeOptions = {}): { objects: ModelObject[]; skipped: string[] } {
  const objects: ModelObject[] = [];
  const skipped: string[] = [];
  const errors: ObjectFieldError[] = [];
  const messages: string[] = [];
  for (const raw of raws) {
    const d = decodeObject(raw, opts);
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

/** `POST /v1/apply`: a put of every object; an object named twice in one request is written as it is last given. */
export function planApply(objects: readonly ModelObject[]): Change[] {
  const byKey = new Map<string, Change>();
  for (const o of objects) {
    const ref = refOf(o);
    const key = refKey(ref);
    byKey.delete(key);
    byKey.set(key, { op: "put", ref, manifest: o.manifest, object: o });
  }
  return [...byKey.values()];
}

/** `PUT /v1/model`: the objects, and a delete of everything the model holds that they do not name. */
export function planReplace(cluster: Cluster, objects: readonly ModelObject[]): Change[] {
  const puts = planApply(objects);
  const kept = new Set(puts.map((c) => refKey(c.ref)));
  const deletes: Change[] = [];
  for (const o of allObjects(cluster)) {
    const ref = refOf(o);
    if (!kept.has(refKey(ref))) deletes.push({ op: "delete", ref });
  }
  return [...deletes, ...puts];
}

/** A delete of one object; a namespace's pods and policies go with it, as the API server's namespace controller does. */
export function planDelete(cluster: Cluster, kind: Kind, namespace: string, name: string): Change[] {
  const obj = cluster.get(kind, namespace, name);
  if (!obj) {
    const resource = { Namespace: "namespaces", Node: "nodes", Pod: "pods", NetworkPolicy: "networkpolicies.networking.k8s.io" }[kind];
    throw new PodwallError("not-found", `${resource} "${name}" not found${namespaced(kind) && namespace ? ` in namespace "${namespace}"` : ""}`);
  }
  const changes: Change[] = [];
  if (obj.kind === "Namespace") {
    for (const o of [...cluster.podsIn(name), ...cluster.policiesIn(name)]) changes.push({ op: "delete", ref: refOf(o) });
  }
  changes.push({ op: "delete", ref: refOf(obj) });
  return changes;
}

/** Every object of the model, namespaces first, so that a replay of puts in this order is valid; policies of a namespace the model lacks included. */
export function* allObjects(cluster: Cluster): Iterable<ModelObject> {
  yield* cluster.namespaces.values();
  yield* cluster.nodes.values();
  yield* cluster.pods.values();
  for (const ns of cluster.namespacesInUse()) yield* cluster.policiesIn(ns);
}

/** Applies committed changes to the model, inside the caller's transaction. */
export function applyChanges(cluster: Cluster, changes: readonly Change[], decode: (c: Change & { op: "put" }) => ModelObject | undefined): void {
  for (const c of changes) {
    if (c.op === "delete") {
      cluster.remove(c.ref.kind, c.ref.namespace, c.ref.name);
      continue;
    }
    const o = c.object ?? decode(c);
    if (o) cluster.put(o);
  }
}

/**
 * Tries the changes against the model and undoes them: throws what the API
 * server would answer (a missing namespace, an address two objects claim).
 */
export function tryChanges(cluster: Cluster, changes: readonly Change[]): void {
  cluster.trial(() => {
    applyChanges(cluster, changes, () => undefined);
    const written: ModelObject[] = [];
    for (const c of changes) if (c.op === "put" && c.object) written.push(c.object);
    checkReferences(cluster, written);
  });
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
