/**
 * Model writes: manifests in, validated as the API server would, planned as
 * the change set a store commits atomically or not at all.
 */
import type { Cluster } from "../model/cluster.js";
import { type Change, refKey, refOf } from "../store/types.js";
import { KIND_INFO, isNamespaced } from "../model/kinds.js";
import type { Kind, ModelObject, Pod } from "../model/types.js";
import { type Collected, Collector, describeObject } from "../manifests/collect.js";
import type { DecodeOptions } from "../manifests/decode.js";
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from "../manifests/limits.js";
import { ManifestSyntaxError, ManifestTooLargeError } from "../manifests/parse.js";
import { type ReadOptions, readItems } from "../manifests/read.js";
import { ReadCancelled, readManifests } from "../manifests/reader-thread.js";
import { fieldError, Path } from "../policy/field.js";
import { MAX_ERRORS, type ObjectFieldError, PodwallError, invalidMessage } from "./errors.js";

export interface WriteResult {
  readonly generation: number;
  /** "Kind namespace/name" of each object written. */
  readonly applied: readonly string[];
  /** Objects of kinds not modelled, "apiVersion/Kind namespace/name". */
  readonly skipped: readonly string[];
  /** Fields the API server would drop, `unknown field "spec.foo" (NetworkPolicy x/p)`; absent when there are none. */
  readonly warnings?: readonly string[];
}

/** How a write of manifests is made. */
export interface WriteOptions {
  /** A replace may leave the model empty, deleting every object it holds. */
  readonly allowEmpty?: boolean;
  /** The reader's limits, where they differ from the defaults. */
  readonly limits?: Partial<ManifestLimits>;
}

/** The objects of a write, decoded and valid, and the warnings about them. */
export type Manifests = Omit<Collected, "refusal">;

/**
 * Reads the manifests of a write: text (large text on the reader thread, so
 * that other requests are answered meanwhile) or values already parsed.
 * Throws PodwallError: 400 malformed or an object the API server could not
 * decode, 413 too large to read, 422 an invalid object (every object's
 * errors, up to the limit).
 */
export async function readForWrite(source: string | readonly unknown[], decode: DecodeOptions, limits: Partial<ManifestLimits> = {}, signal?: AbortSignal): Promise<Manifests> {
  const opts: ReadOptions = { decode, limits: { ...DEFAULT_MANIFEST_LIMITS, ...limits, maxErrors: MAX_ERRORS } };
  const c = new Collector(opts.limits);
  try {
    await readManifests(
      source,
      opts,
      (items) => {
        for (const item of items) c.add(item);
      },
      signal,
    );
  } catch (e) {
    throw readError(e);
  }
  return accepted(c.collected());
}

/** Decodes parsed objects at once, as readForWrite does (manifests given at start). */
export function decodeAll(raws: readonly unknown[], opts: DecodeOptions = {}): Manifests {
  const read: ReadOptions = { decode: opts, limits: { ...DEFAULT_MANIFEST_LIMITS, maxErrors: MAX_ERRORS } };
  const c = new Collector(read.limits);
  try {
    for (const item of readItems(raws, read)) c.add(item);
  } catch (e) {
    throw readError(e);
  }
  return accepted(c.collected());
}

function readError(e: unknown): unknown {
  if (e instanceof ManifestSyntaxError) return new PodwallError("bad-request", `malformed manifests: ${e.message}`);
  if (e instanceof ManifestTooLargeError) return new PodwallError("too-large", `manifests too large: ${e.message}`);
  if (e instanceof ReadCancelled) return new PodwallError("unavailable", e.message);
  return e;
}

function accepted(c: Collected): Manifests {
  const r = c.refusal;
  if (r) throw new PodwallError(r.strict ? "bad-request" : "invalid", r.message, r.errors, r.omitted);
  return { objects: c.objects, skipped: c.skipped, warnings: c.warnings };
}

/**
 * A replace whose manifests hold no object would delete the whole model; it
 * is made only when asked for by name, as `kubectl apply --prune` prunes
 * everything only with `--all`.
 */
export function emptyReplace(): PodwallError {
  return new PodwallError(
    "bad-request",
    "refusing to replace the model with manifests that hold no object: that would delete every object; " +
      "to empty the model, ask for it with allowEmpty (REST: PUT /v1/model?allowEmpty=true, gRPC: allow_empty: true)",
  );
}

export function describe(o: ModelObject): string {
  return describeObject(o);
}

/** "Kind namespace/name", or "Kind name" for the kinds that live in no namespace. */
export function describeRef(kind: Kind, namespace: string, name: string): string {
  return `${kind} ${isNamespaced(kind) && namespace ? `${namespace}/` : ""}${name}`;
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
    throw new PodwallError("not-found", `${KIND_INFO[kind].resource} "${name}" not found${isNamespaced(kind) && namespace ? ` in namespace "${namespace}"` : ""}`);
  }
  const changes: Change[] = [];
  if (obj.kind === "Namespace") {
    for (const o of [...cluster.podsIn(name), ...cluster.policiesIn(name)]) changes.push({ op: "delete", ref: refOf(o) });
  }
  changes.push({ op: "delete", ref: refOf(obj) });
  return changes;
}

/** Every object of the model, namespaces first, so that a replay of puts in this order is valid; policies of a namespace the model lacks included, then the cluster-scoped policies. */
export function* allObjects(cluster: Cluster): Iterable<ModelObject> {
  yield* cluster.namespaces.values();
  yield* cluster.nodes.values();
  yield* cluster.pods.values();
  for (const ns of cluster.namespacesInUse()) yield* cluster.policiesIn(ns);
  yield* cluster.tierPolicies.values();
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
    if ("namespace" in o && !cluster.namespaces.has(o.namespace)) {
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
