/**
 * The use cases behind every front door: write and read the model, decide
 * connections. Transport-neutral: REST and gRPC are thin adapters over this.
 */
import { LRUCache } from "lru-cache";
import { stringify } from "yaml";
import { Cluster } from "../model/cluster.js";
import type { Kind, ModelObject } from "../model/types.js";
import { type Endpoint, type Reference, evaluate, fieldError, parseReference, resolveEndpoints } from "../policy/index.js";
import { type CheckInput, type CheckQuery, badQuery, checkQueryOrThrow, parseCheckQuery } from "./check-query.js";
import { type Decision, toDecision } from "./decision.js";
import { PodwallError } from "./errors.js";
import { Metrics } from "./metrics.js";
import { type WriteResult, decodeAll, deleteObject, describe, describeRef, parseText, writeObjects } from "./model-writer.js";
import { Path } from "../policy/field.js";

export interface ServiceOptions {
  /** Decisions kept in the cache; 0 turns it off. */
  readonly cacheSize?: number;
  readonly metrics?: Metrics;
}

export type WriteListener = (generation: number) => void;

export class PodwallService {
  readonly cluster = new Cluster();
  readonly metrics: Metrics;
  private readonly cache: LRUCache<string, Decision> | undefined;
  private readonly listeners = new Set<WriteListener>();
  private loaded = false;

  constructor(opts: ServiceOptions = {}) {
    this.metrics = opts.metrics ?? new Metrics();
    const size = opts.cacheSize ?? 100_000;
    this.cache = size > 0 ? new LRUCache({ max: size }) : undefined;
  }

  get generation(): number {
    return this.cluster.generation;
  }

  /** True once a model has been loaded (or written) and is being served. */
  get ready(): boolean {
    return this.loaded;
  }

  markReady(): void {
    this.loaded = true;
  }

  onWrite(fn: WriteListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** `PUT /v1/model`: the whole model becomes what the manifests say. */
  replace(text: string): WriteResult {
    return this.load("replace", () => parseText(text), true);
  }

  /** `POST /v1/apply`: create or update the objects in the manifests. */
  apply(text: string): WriteResult {
    return this.load("apply", () => parseText(text), false);
  }

  /** Apply (or replace with) already parsed objects: manifest files read at start-up. */
  applyObjects(raws: readonly unknown[], replace = false): WriteResult {
    return this.load(replace ? "replace" : "apply", () => raws, replace);
  }

  private load(op: string, read: () => readonly unknown[], replace: boolean): WriteResult {
    return this.write(op, () => {
      const { objects, skipped } = decodeAll(read());
      this.cluster.transaction(() => writeObjects(this.cluster, objects, replace));
      return { objects, skipped };
    });
  }

  delete(kind: Kind, namespace: string, name: string): WriteResult {
    return this.write("delete", () => {
      this.cluster.transaction(() => deleteObject(this.cluster, kind, namespace, name));
      return { objects: [], skipped: [], applied: [describeRef(kind, namespace, name)] };
    });
  }

  private write(op: string, body: () => { objects: ModelObject[]; skipped: string[]; applied?: string[] }): WriteResult {
    const end = this.metrics.writeSeconds.startTimer();
    try {
      const r = body();
      this.metrics.writes.inc({ op, outcome: "ok" });
      this.loaded = true;
      this.afterWrite();
      return { generation: this.generation, applied: r.applied ?? r.objects.map(describe), skipped: r.skipped };
    } catch (e) {
      this.metrics.writes.inc({ op, outcome: e instanceof PodwallError ? e.code : "internal" });
      throw e;
    } finally {
      end();
    }
  }

  private afterWrite(): void {
    const c = this.cluster;
    this.metrics.generation.set(c.generation);
    this.metrics.objects.set({ kind: "Namespace" }, c.namespaces.size);
    this.metrics.objects.set({ kind: "Node" }, c.nodes.size);
    this.metrics.objects.set({ kind: "Pod" }, c.pods.size);
    this.metrics.objects.set({ kind: "NetworkPolicy" }, c.policyCount);
    for (const fn of this.listeners) fn(c.generation);
  }

  /** The model as a `v1 List`, in a stable order. */
  model(format: "yaml" | "json"): { generation: number; text: string; list: Record<string, unknown> } {
    const c = this.cluster;
    const items: unknown[] = [];
    const byName = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ns of byName(c.namespaces.values())) items.push(ns.manifest);
    for (const n of byName(c.nodes.values())) items.push(n.manifest);
    for (const ns of byName(c.namespaces.values())) {
      for (const p of byName(c.podsIn(ns.name))) items.push(p.manifest);
      for (const p of byName(c.policiesIn(ns.name))) items.push(p.manifest);
    }
    const list = { apiVersion: "v1", kind: "List", metadata: { generation: c.generation }, items };
    return { generation: c.generation, list, text: format === "json" ? `${JSON.stringify(list, null, 2)}\n` : stringify(list) };
  }

  /** One decision. Throws PodwallError: 400 for a bad question, 404 for an unknown pod. */
  check(input: CheckInput): Decision {
    return this.decide(checkQueryOrThrow(input));
  }

  /** Decisions in order, all against one generation; any bad question fails the batch with its index. */
  batch(inputs: readonly CheckInput[]): { results: Decision[]; generation: number } {
    const queries: CheckQuery[] = [];
    inputs.forEach((input, i) => {
      const q = parseCheckQuery(input, Path.root("checks").index(i));
      if (Array.isArray(q)) throw badQuery(q);
      queries.push(q);
    });
    return { results: queries.map((q) => this.decide(q)), generation: this.generation };
  }

  private decide(q: CheckQuery): Decision {
    const gen = this.generation;
    const key = `${gen}\u0000${q.src}\u0000${q.dst}\u0000${q.protocol}\u0000${q.port}\u0000${q.explain ? 1 : 0}`;
    const hit = this.cache?.get(key);
    if (hit) {
      this.metrics.decided(hit.allowed, true);
      return hit;
    }
    const ends = this.resolve(q);
    const decision = toDecision(evaluate(this.cluster, ends.src, ends.dst, q, q.explain), ends, q, gen);
    this.cache?.set(key, decision);
    this.metrics.decided(decision.allowed, false);
    return decision;
  }

  private resolve(q: CheckQuery): { src: Endpoint; dst: Endpoint } {
    const ref = (name: "src" | "dst"): Reference => {
      const r = parseReference(q[name]);
      if (r.kind !== "invalid") return r;
      throw new PodwallError("bad-request", `${name}: ${r.detail}`, [fieldError.invalid(Path.root(name), q[name], r.detail)]);
    };
    const ends = resolveEndpoints(this.cluster, ref("src"), ref("dst"));
    if ("detail" in ends) throw new PodwallError("not-found", ends.detail);
    return ends;
  }
}
