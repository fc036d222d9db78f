/**
 * Where the model lives. A store commits change sets atomically and hands
 * every committed change set, in order, to the view that follows it; the
 * in-memory model with its indexes is only such a view. A write is: validate
 * against the view, commit to the store guarded by the generation it was
 * validated against, then the view applies what the store confirms.
 */
import type { Kind, Manifest, ModelObject } from "../model/types.js";

/** One object's identity. `namespace` is "" for the kinds that live in no namespace. */
export interface ObjectRef {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
}

/**
 * One change of a commit. A put carries the manifest as stored; when the change
 * was made in this process it also carries the decoded object, so the view
 * does not decode it again.
 */
export type Change =
  | { readonly op: "put"; readonly ref: ObjectRef; readonly manifest: Manifest; readonly object?: ModelObject }
  | { readonly op: "delete"; readonly ref: ObjectRef };

/** A committed change set: the generation it made and what it changed, all of it or nothing. */
export interface Commit {
  readonly generation: number;
  readonly changes: readonly Change[];
}

/** What a store holds when it is opened: every object, and the generation of the last commit (0 if none). */
export interface StoredModel {
  /**
   * The identity of this stored model, made when the store was first written:
   * generations are comparable only between instances with the same id (a
   * restarted in-memory server starts a new model at generation 0).
   */
  readonly id: string;
  readonly generation: number;
  readonly manifests: readonly Manifest[];
}

/** Whether the store takes writes now, and if not why. */
export interface StoreHealth {
  readonly writable: boolean;
  readonly reason?: string;
}

export type StoreKind = "memory" | "lmdb" | "etcd" | "kubernetes";

export interface Store {
  readonly kind: StoreKind;
  /** Where it lives, for logs and errors: a directory, etcd endpoints and prefix. */
  readonly location: string;
  /** Set when the model is another system's and takes no writes through Podwall: why (answered 409). */
  readonly readOnly?: string;
  /**
   * Reads what the store holds, then follows it: every commit after the
   * returned generation is passed to `follow` exactly once, in generation
   * order, whoever made it. Resolves once the read is done and following runs.
   */
  open(follow: (commit: Commit) => void): Promise<StoredModel>;
  /**
   * Commits the changes as one transaction if the store's generation is still
   * `base` (the one the write was validated against). Resolves with the new
   * generation once the commit is durable; `follow` has it by then or gets it
   * soon after. Rejects with StoreConflict if another write came first, and
   * with a PodwallError ("unavailable", "too-large") when the store cannot take it.
   */
  commit(changes: readonly Change[], base: number): Promise<number>;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** Another write was committed after the one this write was validated against. */
export class StoreConflict extends Error {
  constructor(readonly current: number) {
    super(`the model changed (now at generation ${current}) after the write was validated`);
  }
}

/** A store that cannot be opened: corrupt, from a newer format, locked. The server exits with code 2. */
export class StoreOpenError extends Error {}

/** "Kind/namespace/name": the ref as one string, the key stores keep objects under. */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function refOf(o: ModelObject): ObjectRef {
  return { kind: o.kind, namespace: "namespace" in o ? o.namespace : "", name: o.name };
}
