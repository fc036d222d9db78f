/**
 * Node rulesets: compiled on demand from the model and memoised per node and
 * generation; long-poll and watch subscriptions woken only when their node's
 * version changes; and what each node's agent reports it applied.
 */
import { type Ruleset, compileNode, render } from "../rules/index.js";
import { PodwallError } from "./errors.js";
import type { PodwallService } from "./service.js";

export interface AppliedStatus {
  readonly version: string;
  readonly appliedAt: string;
  readonly error?: string;
  /** When the server received the report. */
  readonly reportedAt: string;
}

export interface NodeStatus {
  readonly node: string;
  readonly version: string;
  readonly applied: AppliedStatus | null;
  /** The agent's last report names the current version and no error. */
  readonly inSync: boolean;
}

type Listener = (r: Ruleset | PodwallError) => void;

export class RulesService {
  private readonly memo = new Map<string, { generation: number; ruleset: Ruleset }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly applied = new Map<string, AppliedStatus>();

  constructor(private readonly service: PodwallService) {
    service.onWrite(() => this.notify());
  }

  /** The node's current ruleset; 404 for a node the model does not have. */
  rules(node: string): Ruleset {
    const cluster = this.service.cluster;
    if (!cluster.nodes.has(node)) throw new PodwallError("not-found", `nodes "${node}" not found`);
    const known = this.memo.get(node);
    if (known && known.generation === cluster.generation) return known.ruleset;
    const end = this.service.metrics.compileSeconds.startTimer();
    const ruleset = render(compileNode(cluster, node));
    end();
    this.memo.set(node, { generation: cluster.generation, ruleset });
    return ruleset;
  }

  /**
   * Calls `fn` with each new version of the node's ruleset (or a not-found
   * error once the node is deleted) until the returned function is called.
   */
  subscribe(node: string, fn: Listener): () => void {
    let set = this.listeners.get(node);
    if (!set) this.listeners.set(node, (set = new Set()));
    set.add(fn);
    this.service.metrics.watchers.inc();
    return () => {
      if (!set.delete(fn)) return;
      this.service.metrics.watchers.dec();
      if (set.size === 0) this.listeners.delete(node);
    };
  }

  /** Resolves with the ruleset once its version differs from `version`, or undefined after `timeoutMs`. */
  waitForChange(node: string, version: string, timeoutMs: number, signal?: AbortSignal): Promise<Ruleset | undefined> {
    const current = this.rules(node);
    if (current.version !== version) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
      };
      const unsubscribe = this.subscribe(node, (r) => {
        if (!(r instanceof PodwallError) && r.version === version) return;
        done();
        if (r instanceof PodwallError) reject(r);
        else resolve(r);
      });
      const timer = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
      const onAbort = () => {
        done();
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort);
    });
  }

  private notify(): void {
    for (const [node, set] of this.listeners) {
      let r: Ruleset | PodwallError;
      try {
        r = this.rules(node);
      } catch (e) {
        if (!(e instanceof PodwallError)) throw e;
        r = e;
      }
      for (const fn of [...set]) fn(r);
    }
  }

  /** `PUT /v1/nodes/{node}/status`: what the node's agent applied. */
  report(node: string, body: { version?: unknown; appliedAt?: unknown; error?: unknown }): NodeStatus {
    if (!this.service.cluster.nodes.has(node)) throw new PodwallError("not-found", `nodes "${node}" not found`);
    const errors = [];
    if (typeof body.version !== "string" || body.version === "") {
      errors.push({ field: "version", type: "FieldValueRequired" as const, detail: "the version the agent applied" });
    }
    if (body.appliedAt !== undefined && (typeof body.appliedAt !== "string" || Number.isNaN(Date.parse(body.appliedAt)))) {
      errors.push({ field: "appliedAt", type: "FieldValueInvalid" as const, value: body.appliedAt, detail: "must be an RFC 3339 time" });
    }
    if (body.error !== undefined && body.error !== null && typeof body.error !== "string") {
      errors.push({ field: "error", type: "FieldValueInvalid" as const, value: body.error, detail: "must be a string" });
    }
    if (errors.length > 0) throw new PodwallError("bad-request", "invalid status report", errors);
    const now = new Date().toISOString();
    this.applied.set(node, {
      version: body.version as string,
      appliedAt: (body.appliedAt as string | undefined) ?? now,
      ...(typeof body.error === "string" && body.error !== "" ? { error: body.error } : {}),
      reportedAt: now,
    });
    return this.status(node);
  }

  status(node: string): NodeStatus {
    const version = this.rules(node).version;
    const applied = this.applied.get(node) ?? null;
    return { node, version, applied, inSync: applied !== null && applied.version === version && applied.error === undefined };
  }

  /** `GET /v1/nodes`: every node, its current version and what its agent last applied. */
  nodes(): { generation: number; nodes: NodeStatus[] } {
    const names = [...this.service.cluster.nodes.keys()].sort();
    return { generation: this.service.generation, nodes: names.map((n) => this.status(n)) };
  }
}
