/**
 * The model as a view of a store: the cluster with its indexes, loaded from
 * what the store holds and kept current from the commits it confirms, each
 * applied in order as one transaction at the store's generation. A writer
 * waits here until its own commit is in (read-your-writes).
 */
import { Cluster } from "../model/cluster.js";
import type { Manifest, ModelObject } from "../model/types.js";
import { type DecodeOptions, decodeObject } from "../manifests/decode.js";
import type { Commit, Store } from "../store/types.js";
import { type RequestContext, remainingMs } from "./context.js";
import { PodwallError } from "./errors.js";
import { applyChanges } from "./model-writer.js";

/** How what a store or a cluster holds is read: as the API server reads what it holds, legacy values included. */
const STORED: DecodeOptions = { cidr: "legacy" };

export interface ViewEvents {
  /** After every transaction the view applied (the load included). */
  applied(): void;
  /** An object the store holds that cannot be read: it is left out of the model. */
  unreadable(object: string, problem: string): void;
}

export class ModelView {
  readonly cluster = new Cluster();
  private id = "";
  /** Commits that arrive while the stored model is being read, applied right after it. */
  private early: Commit[] | undefined;
  private readonly waiters = new Set<{ generation: number; resolve: () => void }>();

  constructor(
    private readonly store: Store,
    private readonly events: ViewEvents,
  ) {}

  get generation(): number {
    return this.cluster.generation;
  }

  /** The identity of the stored model: generations compare only within one ("" before it is loaded). */
  get modelId(): string {
    return this.id;
  }

  /** Reads what the store holds and follows it from then on; resolves with the number of objects loaded. */
  async load(): Promise<number> {
    this.early = [];
    const stored = await this.store.open((c) => (this.early ? this.early.push(c) : this.follow(c)));
    this.id = stored.id;
    const objects: ModelObject[] = [];
    for (const m of stored.manifests) {
      const o = this.decode(m);
      if (o) objects.push(o);
    }
    this.cluster.transaction(() => {
      for (const o of objects) this.cluster.put(o);
    }, stored.generation);
    const early = this.early;
    this.early = undefined;
    for (const c of early) this.follow(c);
    this.applied();
    return objects.length;
  }

  /** Resolves once the view is at `generation` or later; 503 when it does not get there within the request's time. */
  reach(generation: number, ctx: RequestContext, fallbackMs: number): Promise<void> {
    if (this.generation >= generation) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        generation,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(
        () => {
          this.waiters.delete(waiter);
          reject(new PodwallError("unavailable", `generation ${generation} is committed, but this instance has not received it yet (at ${this.generation})`));
        },
        remainingMs(ctx, fallbackMs),
      );
      this.waiters.add(waiter);
    });
  }

  /** A commit the store confirmed. */
  private follow(c: Commit): void {
    if (c.generation <= this.generation) return;
    this.cluster.transaction(() => applyChanges(this.cluster, c.changes, (ch) => this.decode(ch.manifest)), c.generation);
    this.applied();
  }

  /** What still cannot be read is left out and said, never half-applied. */
  private decode(m: Manifest): ModelObject | undefined {
    const d = decodeObject(m, STORED);
    if (d.kind === "object") return d.object;
    this.events.unreadable(d.what, d.kind === "invalid" ? d.message : "not a kind podwall models");
    return undefined;
  }

  private applied(): void {
    this.events.applied();
    for (const w of this.waiters) {
      if (w.generation > this.generation) continue;
      this.waiters.delete(w);
      w.resolve();
    }
  }
}
