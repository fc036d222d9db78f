/**
 * The model as a Kubernetes cluster holds it: list/watch informers of
 * namespaces, nodes, pods and network policies, and of the network-policy-api's
 * cluster-scoped policies (client-node's), each event staged as a change, and
 * bursts of events committed together so that a rollout gives agents few
 * versions, not one per pod. The cluster is the source: writes through
 * Podwall are refused.
 *
 * The network-policy-api's kinds are custom resources, served only where
 * their CRDs are installed: their absence is not an error. A kind whose
 * collection the API server does not serve (404) is followed as a kind with
 * no objects, said once at info level, and looked for again with the retries'
 * backoff, so that a CRD installed later is picked up; one the server account
 * may not list (403) is said once as a warning and looked for again the same
 * way. Neither holds readiness back. The built-in kinds must be served: until
 * their first lists are in, the model is not loaded.
 *
 * Coalescing: a change set is committed once no event has come for
 * COALESCE_IDLE_MS, or COALESCE_MAX_MS after its first event at the latest.
 * The idle gap closes a burst (a rollout's events arrive milliseconds apart,
 * a relist's in one turn) at little cost to a single change; the cap bounds
 * what a steady stream of events waits, so a busy cluster still gives each
 * agent at most about ten versions a second.
 */
import { randomUUID } from "node:crypto";
import { type Informer, KubeConfig, type KubernetesObject, type ObjectCache, makeInformer } from "@kubernetes/client-node";
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

/** The kinds followed: the list/watch path, the apiVersion objects are written with, and whether a cluster may lack it. */
interface Resource {
  readonly kind: Kind;
  readonly apiVersion: string;
  readonly path: string;
  readonly optional: boolean;
}

/** Every kind Podwall models, followed across all namespaces. */
const RESOURCES: readonly Resource[] = KINDS.map((kind) => ({ kind, apiVersion: KIND_INFO[kind].apiVersion, path: collectionPath(kind), optional: KIND_INFO[kind].custom }));

/** An informer with its cache of the objects it follows. */
type FollowedInformer = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

/** Why an optional kind is not followed: its collection is not served (404), or the account may not read it (403). */
type Absence = "not-served" | "forbidden";

interface Follower {
  readonly resource: Resource;
  /** Replaced by a fresh one when the kind stops being served, so that it lists again from nothing. */
  informer: FollowedInformer;
  /** The first list is in. */
  synced: boolean;
  /** Why the list or watch is failing, while it is. */
  failing: string | undefined;
  /** The HTTP status of the last failure, if it had one. */
  status: number | undefined;
  /** Why an optional kind is not followed, while it is not. */
  absent: Absence | undefined;
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
    const f: Follower = {
      resource,
      informer: undefined as never,
      synced: false,
      failing: undefined,
      status: undefined,
      absent: undefined,
      retries: 0,
      lists: 0,
      starting: false,
    };
    f.informer = this.makeInformer(f);
    return f;
  }

  /** An informer of the follower's kind whose events count only while it is the follower's own. */
  private makeInformer(f: Follower): FollowedInformer {
    const { resource } = f;
    const counted = async () => {
      if (f.lists++ > 0) this.metrics?.relists.inc({ kind: resource.kind });
      return listAll(this.kc, resource.path);
    };
    const informer = makeInformer(this.kc, resource.path, counted);
    const own = () => f.informer === informer;
    informer.on("add", (obj) => {
      if (own()) this.event(f, "ADDED", obj);
    });
    informer.on("update", (obj) => {
      if (own()) this.event(f, "MODIFIED", obj);
    });
    informer.on("delete", (obj) => {
      if (own()) this.event(f, "DELETED", obj);
    });
    informer.on("error", (err) => {
      if (own()) this.failed(f, err);
    });
    return informer;
  }

  /**
   * Starts every informer and resolves once each one's first list is in (or,
   * for an optional kind, once the cluster is found not to serve it); the
   * events of those lists are the model.
   */
  async open(follow: (c: Commit) => void): Promise<StoredModel> {
    await Promise.all(this.followers.map((f) => new Promise<void>((settled) => void this.start(f, settled))));
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

  /**
   * Starts (or restarts) one informer until its list is in, with backoff on
   * errors. `settled` is called once the list is in, or once an optional kind
   * is found absent; the loop goes on looking for an absent kind.
   */
  private async start(f: Follower, settled: () => void = () => undefined): Promise<void> {
    f.starting = true;
    try {
      while (!this.closed) {
        f.failing = undefined;
        f.status = undefined;
        await f.informer.start();
        // start() resolves once the list is in and the watch is asked for, or after it reported an error.
        if (f.failing === undefined) {
          this.served(f);
          settled();
          return;
        }
        const absence = absenceOf(f);
        if (absence !== undefined) {
          this.absent(f, absence);
          settled();
        }
        await this.backoff(f);
      }
    } finally {
      f.starting = false;
      settled();
    }
  }

  private served(f: Follower): void {
    if (f.absent !== undefined) this.o.logger?.info({ kind: f.resource.kind, path: f.resource.path }, "the kind is served now; following it");
    f.absent = undefined;
    f.synced = true;
    f.retries = 0;
    this.metrics?.synced.set({ kind: f.resource.kind }, 1);
  }

  /**
   * An optional kind the cluster does not serve (or does not let this account read):
   * said once, not a failure. A kind that is not served has no objects: what
   * was followed of it before is deleted, and a fresh informer lists it from
   * nothing once it is served again.
   */
  private absent(f: Follower, why: Absence): void {
    const { kind, path } = f.resource;
    f.failing = undefined;
    if (f.absent !== why) {
      if (why === "not-served")
        this.o.logger?.info({ kind, path }, "the kind is not served by the API server (its CRD is not installed); following the cluster without it, and looking again");
      else this.o.logger?.warn({ kind, path }, "the kind may not be listed (forbidden: the RBAC role lacks it); following the cluster without it, and looking again");
    }
    f.absent = why;
    this.metrics?.synced.set({ kind }, 0);
    if (why !== "not-served") return;
    const old = f.informer;
    f.informer = this.makeInformer(f);
    void old.stop();
    for (const obj of old.list()) this.stage(f, "DELETED", obj);
  }

  private failed(f: Follower, err: unknown): void {
    // Stopping an informer aborts its watch, which it reports as an error.
    if (this.closed) return;
    f.failing = errorText(err);
    f.status = statusOf(err);
    this.metrics?.synced.set({ kind: f.resource.kind }, 0);
    // An optional kind that is absent is said once, by the start loop.
    if (absenceOf(f) === undefined) this.o.logger?.warn({ kind: f.resource.kind, err: f.failing }, "list/watch failing; retrying");
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
    this.metrics?.events.inc({ kind: f.resource.kind, type });
    this.lastEventAt = Date.now();
    this.stage(f, type, obj);
  }

  /** Stages the object's change, and commits it with those that follow within the coalescing window. */
  private stage(f: Follower, type: "ADDED" | "MODIFIED" | "DELETED", obj: KubernetesObject): void {
    const kind = f.resource.kind;
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
    const failing = this.followers.filter((f) => f.failing !== undefined && absenceOf(f) === undefined).map((f) => `${f.resource.kind}: ${f.failing}`);
    const forbidden = this.followers.filter((f) => f.absent === "forbidden").map((f) => f.resource.kind);
    let reason = this.readOnly;
    if (failing.length > 0) reason += `; list/watch failing (retrying): ${failing.join("; ")}`;
    if (forbidden.length > 0) reason += `; not followed, the account may not list them (retrying): ${forbidden.join(", ")}`;
    return { writable: false, reason };
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

/** Why an optional kind's list or watch failed, when that is its absence rather than a failure. */
function absenceOf(f: Follower): Absence | undefined {
  if (!f.resource.optional) return undefined;
  return f.status === 404 ? "not-served" : f.status === 403 ? "forbidden" : undefined;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  const status = e.statusCode ?? e.code;
  return typeof status === "number" ? status : undefined;
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
