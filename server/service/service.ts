/**
 * The use cases behind every front door: write and read the model, decide
 * connections. Transport-neutral: REST and gRPC are thin adapters over this.
 *
 * The model is a view of a store. A write is validated against the view,
 * committed to the store guarded by the generation it was validated against,
 * and answered once the view has applied what the store confirmed, so a
 * caller reads its own writes. Until the store's model is loaded, nothing is
 * decided and no ruleset is made from it.
 */
import { isDeepStrictEqual } from "node:util";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { Cluster } from "../model/cluster.js";
import { TIER_KINDS } from "../model/tier-types.js";
import type { Kind, ModelObject } from "../model/types.js";
import type { DecodeOptions } from "../manifests/decode.js";
import { stringifyManifests } from "../manifests/yaml-out.js";
import { decide } from "../policy/decide.js";
import { type Endpoint, type Reference, fieldError, parseReference, resolveEndpoints } from "../policy/index.js";
import { Path } from "../policy/field.js";
import { MemoryStore } from "../store/memory.js";
import { type Change, type Store, type StoreHealth, StoreConflict } from "../store/types.js";
import { type CheckInput, type CheckQuery, badQuery, checkQueryOrThrow, parseCheckQuery } from "./check-query.js";
import { authorize } from "./authorization.js";
import { type RequestContext, SYSTEM } from "./context.js";
import { type Decision, answerOf, newDecisionId, toDecision } from "./decision.js";
import { PodwallError } from "./errors.js";
import type { DecisionLog } from "./decision-log.js";
import { Metrics } from "./metrics.js";
import { ModelView } from "./model-view.js";
import {
  type Manifests,
  type WriteOptions,
  type WriteResult,
  decodeAll,
  describe,
  describeRef,
  emptyReplace,
  planApply,
  planDelete,
  planReplace,
  readForWrite,
  tryChanges,
} from "./model-writer.js";

export interface ServiceOptions {
  /** Decisions kept in the cache; 0 turns it off. */
  readonly cacheSize?: number;
  readonly metrics?: Metrics;
  /** Where the model lives; a MemoryStore when not given. */
  readonly store?: Store;
  readonly logger?: Logger;
  /**
   * Take the IP and CIDR forms an API server accepted before
   * StrictIPCIDRValidation (host bits set, leading zeros) in written manifests,
   * for users of older clusters. What a store or a cluster already holds is
   * always read so.
   */
  readonly legacyCidr?: boolean;
  /** Where each decision is recorded; none when not given. */
  readonly decisionLog?: DecisionLog;
  /** The most questions one batch may ask. */
  readonly maxBatch?: number;
}

/** The most questions one batch asks, unless configured. */
export const DEFAULT_MAX_BATCH = 10_000;

export type WriteListener = (generation: number) => void;

/** Where the service is in its life, and what /readyz says of it. */
export interface Readiness {
  readonly ready: boolean;
  readonly status: string;
  readonly generation: number;
  readonly store: StoreHealth & { readonly kind: string };
}

/** How often a write validated against a view that another replica's write overtook is validated again. */
const CONFLICT_RETRIES = 5;
/** How long a write waits for the store and for its own view to catch up, unless its deadline is sooner. */
const WRITE_TIMEOUT_MS = 30_000;

export class PodwallService {
  readonly view: ModelView;
  readonly metrics: Metrics;
  readonly store: Store;
  private readonly logger: Logger | undefined;
  /** How written manifests are read: strict, or with the legacy IP and CIDR forms. */
  private readonly written: DecodeOptions;
  private readonly cache: LRUCache<string, Decision> | undefined;
  private readonly listeners = new Set<WriteListener>();
  private readonly readyListeners = new Set<() => void>();
  /** Why nothing is served yet; undefined once the model is loaded and served. */
  private loading: string | undefined = "the model is not loaded yet";
  private readonly decisionLog: DecisionLog | undefined;
  private readonly maxBatch: number;
  /** Set once the server stops: it says it is not ready while in-flight requests finish. */
  private draining = false;
  /** Writes of this instance, one at a time: each is validated against the view the previous one left. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(opts: ServiceOptions = {}) {
    this.metrics = opts.metrics ?? new Metrics();
    this.store = opts.store ?? new MemoryStore();
    this.logger = opts.logger;
    this.written = { cidr: opts.legacyCidr ? "legacy" : "strict" };
    this.decisionLog = opts.decisionLog;
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.view = new ModelView(this.store, {
      applied: () => this.afterWrite(),
      unreadable: (object, problem) => {
        this.metrics.unreadable.inc();
        this.logger?.error({ store: this.store.location, object, problem }, "an object of the store cannot be read; it is left out of the model");
      },
    });
    const size = opts.cacheSize ?? 100_000;
    this.cache = size > 0 ? new LRUCache({ max: size }) : undefined;
  }

  /** A service on its store, loaded and serving: offline commands and tests. */
  static async start(opts: ServiceOptions = {}): Promise<PodwallService> {
    const s = new PodwallService(opts);
    await s.load();
    s.markReady();
    return s;
  }

  /** The model: the view's cluster with its indexes. */
  get cluster(): Cluster {
    return this.view.cluster;
  }

  get generation(): number {
    return this.view.generation;
  }

  /** The identity of the stored model: generations compare only within one. */
  get modelId(): string {
    return this.view.modelId;
  }

  /** True once the store's model is loaded and is being served. */
  get ready(): boolean {
    return this.loading === undefined;
  }

  readiness(): Readiness {
    const store = { kind: this.store.kind, ...this.store.health() };
    // While loading, why the store is not answering (etcd away, a list failing) is the reason to give.
    const trouble = !store.writable && store.reason !== this.store.readOnly ? store.reason : undefined;
    if (this.draining) return { ready: false, status: "shutting down", generation: this.generation, store };
    const status =
      this.loading !== undefined
        ? `${this.loading}${trouble ? `: ${trouble}` : ""}`
        : store.writable
          ? "ready"
          : `ready, read-only: ${store.reason ?? "the store takes no writes"}`;
    return { ready: this.ready, status, generation: this.generation, store };
  }

  /**
   * Reads the stored model into the view and follows the store from then on.
   * Rejects when the store cannot be read (StoreOpenError).
   */
  async load(): Promise<void> {
    this.loading = `loading the model from ${this.store.kind} (${this.store.location})`;
    const objects = await this.view.load();
    this.logger?.info({ store: this.store.kind, location: this.store.location, objects, generation: this.generation }, "model loaded from the store");
  }

  /** From now on the model is served: decisions, rulesets and writes. */
  markReady(): void {
    this.loading = undefined;
    this.metrics.ready.set(1);
    for (const fn of this.readyListeners) fn();
    this.readyListeners.clear();
  }

  /** The server stops: from now on /readyz answers 503, while requests in flight are still answered. */
  drain(): void {
    this.draining = true;
    this.metrics.ready.set(0);
  }

  /** Calls `fn` once the model is served (at once if it is). */
  onReady(fn: () => void): void {
    if (this.ready) fn();
    else this.readyListeners.add(fn);
  }

  onWrite(fn: WriteListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Throws 401/403 unless the caller may write, 409 when the model is another system's, 503 while it is not loaded. */
  private requireWritable(ctx: RequestContext): void {
    authorize(ctx, "model:write");
    if (this.store.readOnly !== undefined) throw new PodwallError("read-only", this.store.readOnly);
    this.requireReady();
  }

  /** Throws 503 while the model is not loaded: nothing is decided from half a model. */
  requireReady(): void {
    if (this.loading !== undefined) throw new PodwallError("unavailable", `not ready: ${this.loading}`);
  }

  /** `PUT /v1/model`: the whole model becomes what the manifests say; to empty it takes `allowEmpty`. */
  async replace(ctx: RequestContext, text: string, opts: WriteOptions = {}): Promise<WriteResult> {
    this.requireWritable(ctx);
    return this.writeManifests("replace", ctx, text, true, opts);
  }

  /** `POST /v1/apply`: create or update the objects in the manifests. */
  async apply(ctx: RequestContext, text: string, opts: WriteOptions = {}): Promise<WriteResult> {
    this.requireWritable(ctx);
    return this.writeManifests("apply", ctx, text, false, opts);
  }

  /** Apply (or replace with) already parsed objects. */
  async applyObjects(ctx: RequestContext, raws: readonly unknown[], replace = false, opts: WriteOptions = {}): Promise<WriteResult> {
    this.requireWritable(ctx);
    return this.writeManifests(replace ? "replace" : "apply", ctx, raws, replace, opts);
  }

  /**
   * The manifests given at start, as `kubectl apply` takes them, on top of what
   * the store holds: objects the store holds as they are make no write, and
   * nothing is deleted. Runs before the model is served.
   */
  applyStartupManifests(raws: readonly unknown[]): Promise<WriteResult> {
    return this.write("apply", SYSTEM, () => {
      const { objects, skipped } = decodeAll(raws, this.written);
      const changes = planApply(objects).filter((c) => {
        if (c.op !== "put") return true;
        const held = this.cluster.get(c.ref.kind, c.ref.namespace, c.ref.name);
        return !held || !isDeepStrictEqual(held.manifest, c.manifest);
      });
      return { changes, objects, skipped };
    });
  }

  async delete(ctx: RequestContext, kind: Kind, namespace: string, name: string): Promise<WriteResult> {
    this.requireWritable(ctx);
    return this.write("delete", ctx, () => ({
      changes: planDelete(this.cluster, kind, namespace, name),
      objects: [],
      skipped: [],
      applied: [describeRef(kind, namespace, name)],
    }));
  }

  /**
   * Manifests read as a write of them would be (400 malformed, 413 too
   * large, 422 invalid), for a question about a write that is not made.
   */
  readWritten(ctx: RequestContext, source: string | readonly unknown[], limits?: WriteOptions["limits"]): Promise<Manifests> {
    return readForWrite(source, this.written, limits, ctx.signal);
  }

  /**
   * Reads the manifests first (large text off the event loop, and before the
   * write waits its turn: reading does not depend on the model), then writes
   * them. A refused read is counted with the writes' outcomes.
   */
  private async writeManifests(op: string, ctx: RequestContext, source: string | readonly unknown[], replace: boolean, opts: WriteOptions = {}): Promise<WriteResult> {
    const { objects, skipped, warnings } = await readForWrite(source, this.written, opts.limits, ctx.signal)
      .then((read) => {
        if (replace && read.objects.length === 0 && !opts.allowEmpty) throw emptyReplace();
        return read;
      })
      .catch((e: unknown) => {
        this.metrics.writes.inc({ op, outcome: e instanceof PodwallError ? e.code : "internal" });
        throw e;
      });
    const result = await this.write(op, ctx, () => ({ changes: replace ? planReplace(this.cluster, objects) : planApply(objects), objects, skipped }));
    return warnings.length > 0 ? { ...result, warnings } : result;
  }

  /**
   * One write: planned and tried against the view, committed guarded by the
   * generation it was tried against, answered once the view holds it. When
   * another replica's write came first, the view catches up and the write is
   * planned again from it.
   */
  private write(op: string, ctx: RequestContext, plan: () => { changes: Change[]; objects: ModelObject[]; skipped: string[]; applied?: string[] }): Promise<WriteResult> {
    const run = async (): Promise<WriteResult> => {
      const end = this.metrics.writeSeconds.startTimer();
      try {
        for (let attempt = 0; ; attempt++) {
          const base = this.generation;
          const p = plan();
          tryChanges(this.cluster, p.changes);
          const health = this.store.health();
          if (!health.writable) throw new PodwallError("unavailable", `the model cannot be written now: ${health.reason ?? "the store takes no writes"}`);
          if (ctx.signal?.aborted) throw new PodwallError("unavailable", "the request was cancelled before its write was committed");
          let generation = base;
          if (p.changes.length > 0) {
            try {
              generation = await this.store.commit(p.changes, base);
            } catch (e) {
              if (!(e instanceof StoreConflict)) throw e;
              if (attempt >= CONFLICT_RETRIES) throw new PodwallError("conflict", `${e.message}; gave up after ${attempt + 1} tries`);
              await this.view.reach(e.current, ctx, WRITE_TIMEOUT_MS);
              continue;
            }
            await this.view.reach(generation, ctx, WRITE_TIMEOUT_MS);
          }
          this.metrics.writes.inc({ op, outcome: "ok" });
          return { generation, applied: p.applied ?? p.objects.map(describe), skipped: p.skipped };
        }
      } catch (e) {
        this.metrics.writes.inc({ op, outcome: e instanceof PodwallError ? e.code : "internal" });
        throw e;
      } finally {
        end();
      }
    };
    const result = this.writing.then(run, run);
    this.writing = result.catch(() => undefined);
    return result;
  }

  private afterWrite(): void {
    const c = this.cluster;
    this.metrics.generation.set(c.generation);
    this.metrics.objects.set({ kind: "Namespace" }, c.namespaces.size);
    this.metrics.objects.set({ kind: "Node" }, c.nodes.size);
    this.metrics.objects.set({ kind: "Pod" }, c.pods.size);
    this.metrics.objects.set({ kind: "NetworkPolicy" }, c.policyCount);
    for (const kind of TIER_KINDS) this.metrics.objects.set({ kind }, 0);
    for (const p of c.tierPolicies.values()) this.metrics.objects.inc({ kind: p.kind });
    for (const fn of this.listeners) fn(c.generation);
  }

  /** The model as a `v1 List`, in a stable order. */
  model(ctx: RequestContext, format: "yaml" | "json"): { generation: number; text: string; list: Record<string, unknown> } {
    authorize(ctx, "model:read");
    this.requireReady();
    const c = this.cluster;
    const items: unknown[] = [];
    const byName = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ns of byName(c.namespaces.values())) items.push(ns.manifest);
    for (const n of byName(c.nodes.values())) items.push(n.manifest);
    // Pods and policies of a namespace the model does not hold (a cluster's watch may bring a pod before its namespace) are listed too.
    for (const ns of [...new Set([...c.namespaces.keys(), ...c.namespacesInUse()])].sort()) {
      for (const p of byName(c.podsIn(ns))) items.push(p.manifest);
      for (const p of byName(c.policiesIn(ns))) items.push(p.manifest);
    }
    for (const p of [...c.tierPolicies.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) items.push(p.manifest);
    const list = { apiVersion: "v1", kind: "List", metadata: { generation: c.generation }, items };
    return { generation: c.generation, list, text: format === "json" ? `${JSON.stringify(list, null, 2)}\n` : stringifyManifests(list) };
  }

  /** One decision. Throws PodwallError: 400 for a bad question, 404 for an unknown pod, 503 before the model is loaded. */
  check(ctx: RequestContext, input: CheckInput): Decision {
    authorize(ctx, "check");
    const q = checkQueryOrThrow(input);
    return this.answer(ctx, q, this.decide(q));
  }

  /** Decisions in order, all against one generation; any bad question fails the batch with its index. */
  batch(ctx: RequestContext, inputs: readonly CheckInput[]): { results: Decision[]; generation: number } {
    authorize(ctx, "check");
    this.requireReady();
    if (inputs.length > this.maxBatch) {
      this.metrics.rejected.inc({ reason: "batch" });
      throw new PodwallError("too-large", `a batch asks ${inputs.length} questions; at most ${this.maxBatch} are answered in one`, [
        fieldError.tooMany(Path.root("checks"), inputs.length, this.maxBatch),
      ]);
    }
    const queries: CheckQuery[] = [];
    inputs.forEach((input, i) => {
      const q = parseCheckQuery(input, Path.root("checks").index(i));
      if (Array.isArray(q)) throw badQuery(q);
      queries.push(q);
    });
    return { results: queries.map((q, i) => this.answer(ctx, q, this.decide(q), i)), generation: this.generation };
  }

  /** The decision as one caller is answered it: with its own id, recorded in the decision log. */
  private answer(ctx: RequestContext, q: CheckQuery, d: Decision, batch?: number): Decision {
    const decisionId = newDecisionId();
    this.decisionLog?.record(ctx.principal, decisionId, q, d, batch);
    return answerOf(d, decisionId);
  }

  /** `/metrics`, for a caller that may read it. */
  async metricsText(ctx: RequestContext): Promise<{ contentType: string; text: string }> {
    authorize(ctx, "metrics:read");
    return { contentType: this.metrics.registry.contentType, text: await this.metrics.registry.metrics() };
  }

  private decide(q: CheckQuery): Decision {
    this.requireReady();
    const gen = this.generation;
    const cache = this.cache;
    // The key is made only for a cache: without one, every question is decided afresh.
    const key = cache ? `${gen}\u0000${q.src}\u0000${q.dst}\u0000${q.protocol}\u0000${q.port}\u0000${q.explain ? 1 : 0}` : "";
    const hit = cache?.get(key);
    if (hit) {
      this.metrics.decided(hit.allowed, true);
      return hit;
    }
    const ends = this.resolve(q);
    const decision = toDecision(decide(this.cluster, ends.src, ends.dst, q, q.explain), ends, q, gen);
    cache?.set(key, decision);
    this.metrics.decided(decision.allowed, false);
    return decision;
  }

  private resolve(q: CheckQuery): { src: Endpoint; dst: Endpoint } {
    const ends = resolveEndpoints(this.cluster, reference(q, "src"), reference(q, "dst"));
    if ("detail" in ends) throw new PodwallError("not-found", ends.detail);
    return ends;
  }

  /** Stops following the store and closes it. */
  async close(): Promise<void> {
    await this.writing;
    await this.store.close();
    await this.decisionLog?.close();
  }
}

/** One end of a question as a reference; 400 when it is neither a pod nor an address. */
function reference(q: CheckQuery, name: "src" | "dst"): Reference {
  const r = parseReference(q[name]);
  if (r.kind !== "invalid") return r;
  throw new PodwallError("bad-request", `${name}: ${r.detail}`, [fieldError.invalid(Path.root(name), q[name], r.detail)]);
}
