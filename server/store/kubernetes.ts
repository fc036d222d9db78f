/**
 * The model as a Kubernetes cluster holds it: list/watch informers of
 * namespaces, nodes, pods and network policies (client-node's), each event
 * staged as a change, and bursts of events committed together so that a
 * rollout gives agents few versions, not one per pod. The cluster is the
 * source: writes through Podwall are refused.
 *
 * Coalescing: a change set is committed once no event has come for
 * COALESCE_IDLE_MS, or COALESCE_MAX_MS after its first event at the latest.
 * The idle gap closes a burst (a rollout's events arrive milliseconds apart,
 * a relist's in one turn) at little cost to a single change; the cap bounds
 * what a steady stream of events waits, so a busy cluster still gives each
 * agent at most about ten versions a second.
 */
import { randomUUID } from "node:crypto";
import { type Informer, KubeConfig, type KubernetesObject, makeInformer } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { KIND_INFO, collectionPath, isNamespaced } from "../model/kinds.js";
import { KINDS, type Kind, type Manifest } from "../model/types.js";
import { PodwallError } from "../service/errors.js";
import { listAll } from "./kube-list.js";
import type { Change, Commit, ObjectRef, Store, StoreHealth, StoredModel } from "./types.js";
import { refKey } from "./types.js";

export const COALESCE_IDLE_MS = 25;
export const COALESCE_MAX_MS = 100;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 10_000;

export interface KubernetesOptions {
  /** A kubeconfig file; without one, the in-cluster service account, else the default kubeconfig. */
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly logger?: Logger;
  /** Where the watch metrics are registered. */
  readonly registry?: Registry;
}

/** The kinds followed: the list/watch path, and the apiVersion objects are written with. */
interface Resource {
  readonly kind: Kind;
  readonly apiVersion: string;
  readonly path: string;
}

/** Every kind Podwall models, followed across all namespaces. */
const RESOURCES: readonly Resource[] = KINDS.map((kind) => ({ kind, apiVersion: KIND_INFO[kind].apiVersion, path: collectionPath(kind) }));

interface Follower {
  readonly resource: Resource;
  readonly informer: Informer<KubernetesObject>;
  /** The first list is in. */
  synced: boolean;
  /** Why the list or watch is failing, while it is. */
  failing: string | undefined;
  retries: number;
  lists: number;
  /** A start (or restart) loop runs: an error it meets is its own to retry, not a reason for another loop. */
  starting: boolean;
}

export class KubernetesSource implements Store {
  readonly kind = "kubernetes";
  readonly location: string;
  readonly readOnly: string;
  private readonly id = randomUUID();
  private readonly kc: KubeConfig;
  private readonly followers: Follower[];
  private readonly metrics: ReturnType<typeof watchMetrics> | undefined;
  private follow: ((c: Commit) => void) | undefined;
  private generation = 0;
  /** Changes staged since the last commit, by object: the last event of an object wins. */
  private pending = new Map<string, Change>();
  private firstPendingAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastEventAt = 0;
  private closed = false;

  constructor(private readonly o: KubernetesOptions = {}) {
    this.kc = new KubeConfig();
    if (o.kubeconfig) this.kc.loadFromFile(o.kubeconfig);
    else this.kc.loadFromDefault();
    if (o.context) this.kc.setCurrentContext(o.context);
    const server = this.kc.getCurrentCluster()?.server ?? "(no cluster in the kubeconfig)";
    this.location = `kubernetes ${server}`;
    this.readOnly = `the model follows the Kubernetes cluster at ${server}: change the cluster, not Podwall`;
    this.metrics = o.registry ? watchMetrics(o.registry, () => this.lastEventAt) : undefined;
    this.followers = RESOURCES.map((resource) => this.makeFollower(resource));
  }

  private makeFollower(resource: Resource): Follower {
    const f: Follower = { resource, informer: undefined as never, synced: false, failing: undefined, retries: 0, lists: 0, starting: false };
    const counted = async () => {
      if (f.lists++ > 0) this.metrics?.relists.inc({ kind: resource.kind });
      return listAll(this.kc, resource.path);
    };
    const informer = makeInformer(this.kc, resource.path, counted);
    informer.on("add", (obj) => this.event(f, "ADDED", obj));
    informer.on("update", (obj) => this.event(f, "MODIFIED", obj));
    informer.on("delete", (obj) => this.event(f, "DELETED", obj));
    informer.on("error", (err) => this.failed(f, err));
    (f as { informer: Informer<KubernetesObject> }).informer = informer;
    return f;
  }

  /** Starts every informer and resolves once each one's first list is in; the events of those lists are the model. */
  async open(follow: (c: Commit) => void): Promise<StoredModel> {
    await Promise.all(this.followers.map((f) => this.start(f)));
    if (this.closed) throw new PodwallError("unavailable", `${this.location}: closed before the first lists were in`);
    clearTimeout(this.timer);
    this.timer = undefined;
    const manifests: Manifest[] = [];
    for (const c of this.pending.values()) if (c.op === "put") manifests.push(c.manifest);
    this.pending.clear();
    this.follow = follow;
    this.generation = 1;
    return { id: this.id, generation: this.generation, manifests };
  }

  /** Starts (or restarts) one informer until its list is in, with backoff on errors. */
  private async start(f: Follower): Promise<void> {
    f.starting = true;
    try {
      while (!this.closed) {
        f.failing = undefined;
        await f.informer.start();
        // start() resolves once the list is in and the watch is asked for, or after it reported an error.
        if (f.failing === undefined) {
          f.synced = true;
          f.retries = 0;
          this.metrics?.synced.set({ kind: f.resource.kind }, 1);
          return;
        }
        await this.backoff(f);
      }
    } finally {
      f.starting = false;
    }
  }

  private failed(f: Follower, err: unknown): void {
    // Stopping an informer aborts its watch, which it reports as an error.
    if (this.closed) return;
    f.failing = errorText(err);
    this.metrics?.synced.set({ kind: f.resource.kind }, 0);
    this.o.logger?.warn({ kind: f.resource.kind, err: f.failing }, "list/watch failing; retrying");
    // An informer stops after an error (a failed list or watch, a connection reset); it is
    // restarted here unless a start loop is running, which retries on its own. It resumes its
    // watch where it was, or relists when its version was cleared.
    if (!f.starting) {
      f.starting = true;
      void this.backoff(f).then(() => this.start(f));
    }
  }

  private backoff(f: Follower): Promise<void> {
    const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(16, f.retries++));
    return new Promise((resolve) => setTimeout(resolve, base / 2 + Math.random() * (base / 2)));
  }

  private event(f: Follower, type: "ADDED" | "MODIFIED" | "DELETED", obj: KubernetesObject): void {
    const kind = f.resource.kind;
    this.metrics?.events.inc({ kind, type });
    this.lastEventAt = Date.now();
    const meta = obj.metadata ?? {};
    const ref: ObjectRef = { kind, namespace: isNamespaced(kind) ? (meta.namespace ?? "") : "", name: meta.name ?? "" };
    const key = refKey(ref);
    this.pending.delete(key);
    this.pending.set(key, type === "DELETED" ? { op: "delete", ref } : { op: "put", ref, manifest: asManifest(obj, f.resource) });
    if (!this.follow) return;
    const now = Date.now();
    if (this.pending.size === 1) this.firstPendingAt = now;
    clearTimeout(this.timer);
    const due = Math.min(COALESCE_IDLE_MS, this.firstPendingAt + COALESCE_MAX_MS - now);
    this.timer = setTimeout(() => this.flush(), Math.max(0, due));
  }

  /** Commits what is staged as one change set. */
  private flush(): void {
    this.timer = undefined;
    if (this.pending.size === 0 || !this.follow) return;
    const changes = [...this.pending.values()];
    this.pending = new Map();
    this.follow({ generation: ++this.generation, changes });
  }

  async commit(): Promise<number> {
    throw new PodwallError("read-only", this.readOnly);
  }

  health(): StoreHealth {
    const failing = this.followers.filter((f) => f.failing !== undefined).map((f) => `${f.resource.kind}: ${f.failing}`);
    return { writable: false, reason: failing.length > 0 ? `${this.readOnly}; list/watch failing (retrying): ${failing.join("; ")}` : this.readOnly };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.follow = undefined;
    await Promise.all(this.followers.map((f) => f.informer.stop()));
  }
}

/** An object as the API server holds it, as plain JSON with its kind (list items come without one). */
function asManifest(obj: KubernetesObject, r: Resource): Manifest {
  const plain = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
  return { ...plain, apiVersion: r.apiVersion, kind: r.kind };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null) {
    const e = err as { statusCode?: number; code?: number; message?: string; body?: unknown };
    return e.message ?? `HTTP ${e.statusCode ?? e.code ?? "error"}`;
  }
  return String(err);
}

function watchMetrics(registry: Registry, lastEventAt: () => number) {
  return {
    events: new Counter({ name: "podwall_kubernetes_events_total", help: "Watch events received, by kind and type", labelNames: ["kind", "type"] as const, registers: [registry] }),
    relists: new Counter({
      name: "podwall_kubernetes_relists_total",
      help: "Lists after the first (a watch that expired or failed), by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    synced: new Gauge({ name: "podwall_kubernetes_synced", help: "1 while the list/watch of a kind is in and running", labelNames: ["kind"] as const, registers: [registry] }),
    sinceLast: new Gauge({
      name: "podwall_kubernetes_seconds_since_last_event",
      help: "Seconds since the last watch event of any kind",
      registers: [registry],
      collect() {
        const at = lastEventAt();
        this.set(at === 0 ? -1 : (Date.now() - at) / 1000);
      },
    }),
  };
}
