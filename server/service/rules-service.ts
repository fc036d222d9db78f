/**
 * Node rulesets, kept incrementally: each node's ruleset is memoised, and a
 * write recompiles only the nodes it touches (rules/dependencies.ts), reusing
 * the sets and policy chains it did not touch. Long polls and watch streams
 * are woken only when their node's version changes. Also what each node's
 * agent reports it applied.
 */
import type { ClusterObserver } from "../model/cluster.js";
import type { ModelObject } from "../model/types.js";
import {
  CompileCache,
  type Ruleset,
  type RulesetPlan,
  type SetPlan,
  type SetUse,
  type Touched,
  compileNode,
  diff,
  materialize,
  planSize,
  position,
  render,
  touchedBy,
  updateMembers,
} from "../rules/index.js";
import { authorize } from "./authorization.js";
import { OPEN, type RequestContext } from "./context.js";
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

export interface RulesLimits {
  /** Long polls and watch streams one identity may hold open at once. */
  readonly watchesPerIdentity: number;
}

export const DEFAULT_RULES_LIMITS: RulesLimits = { watchesPerIdentity: 5_000 };

const SHUTTING_DOWN = new PodwallError("unavailable", "the server is shutting down: ask another replica");

/**
 * Whose share of long polls a request counts against: an authenticated
 * identity by its name; callers of an open server, who all share one name, by
 * their address.
 */
function holder(ctx: RequestContext): string {
  const p = ctx.principal;
  return p === OPEN && ctx.peer !== undefined ? `anonymous@${ctx.peer}` : p.name;
}

/** Past this many changes in one write, every node is recompiled rather than the changes traced. */
const BULK_CHANGES = 2_000;

/**
 * How many versions of each node the server keeps the plans of, the current
 * one included, to answer deltas from: an agent that long-polls is one
 * version behind, and this covers one that missed a burst of changes (a
 * followed cluster gives at most about ten versions a second). The plans
 * share every set and chain that did not change with the current one and with
 * other nodes, so what the older versions hold alone is what changed in them.
 */
export const KEPT_VERSIONS = 8;
/** Deltas kept per node for the current version (agents and their retries, replicas behind by different amounts). */
const KEPT_DELTAS = 8;

/** A kept version: its plan, and when it was made from the version before by changing some sets alone, which. */
interface Kept {
  readonly plan: RulesetPlan;
  readonly parent?: { readonly version: string; readonly changed: readonly number[] };
}

export class RulesService implements ClusterObserver {
  private cache = new CompileCache();
  /** Each node's ruleset with the plan it was rendered from. */
  private readonly memo = new Map<string, { plan: RulesetPlan; ruleset: Ruleset }>();
  /** Each node's recent versions' plans, oldest first, the current one last: what deltas are made from. */
  private readonly history = new Map<string, Map<string, Kept>>();
  /** Deltas made for each node, by base and version; only for versions still kept. */
  private readonly deltas = new Map<string, Map<string, Ruleset>>();
  /** Nodes whose chains stand but some of whose sets' members changed, with those sets. */
  private readonly staleSets = new Map<string, Set<string>>();
  /** The sets and the named ports each memoised ruleset depends on, with their nodes. */
  private readonly deps = { sets: new Map<string, SetUse>(), portGroups: new Map<string, Set<string>>() };
  private readonly nodeDeps = new Map<string, { sets: readonly string[]; portGroups: readonly string[] }>();
  /** Changes since the last write was processed; undefined once there were too many to trace. */
  private changes: ModelObject[] | undefined = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly applied = new Map<string, AppliedStatus>();
  /** Long polls and watch streams open, by identity. */
  private readonly held = new Map<string, number>();
  private isDraining = false;
  private readonly limits: RulesLimits;

  constructor(
    private readonly service: PodwallService,
    limits: Partial<RulesLimits> = {},
  ) {
    this.limits = { ...DEFAULT_RULES_LIMITS, ...limits };
    service.cluster.observe(this);
    service.onWrite(() => {
      this.invalidate();
      this.notify();
    });
  }

  linked(obj: ModelObject): void {
    this.changed(obj);
  }

  unlinked(obj: ModelObject): void {
    this.changed(obj);
  }

  private changed(obj: ModelObject): void {
    if (this.changes === undefined) return;
    if (this.changes.length >= BULK_CHANGES) this.changes = undefined;
    else this.changes.push(obj);
  }

  /** Drops what the changes since the last write touched: memoised rulesets, set members, named-port groupings. */
  private invalidate(): void {
    const changes = this.changes;
    this.changes = [];
    if (changes === undefined) {
      // Every set and chain is made again: a delta would be as big as the whole, and old plans would hold a second model.
      this.cache = new CompileCache();
      this.memo.clear();
      this.history.clear();
      this.deltas.clear();
      this.staleSets.clear();
      this.deps.sets.clear();
      this.deps.portGroups.clear();
      this.nodeDeps.clear();
      return;
    }
    const touched: Touched = { nodes: new Set(), sets: new Set(), portGroups: new Set() };
    touchedBy(this.service.cluster, changes, this.deps, touched);
    for (const key of touched.portGroups) this.cache.portGroups.delete(key);
    // No namespace changed: a pod set's members can differ only at the changed pods' addresses, asked again
    // one by one (a set of nodes is asked again whole).
    const addresses = changes.some((o) => o.kind === "Namespace") ? undefined : new Set(changes.flatMap((o) => (o.kind === "Pod" ? o.ips.map((a) => a.text) : [])));
    for (const name of touched.sets) {
      const old = this.cache.sets.get(name);
      const now = old && this.remade(old, addresses);
      // A set whose members stand leaves its nodes as they are.
      if (old && now === old) continue;
      if (now) this.cache.sets.set(name, now);
      else this.cache.sets.delete(name);
      for (const node of this.deps.sets.get(name)?.nodes ?? []) {
        let names = this.staleSets.get(node);
        if (!names) this.staleSets.set(node, (names = new Set()));
        names.add(name);
      }
    }
    for (const node of touched.nodes) {
      this.memo.delete(node);
      this.staleSets.delete(node);
      if (!this.service.cluster.nodes.has(node)) this.record(node, undefined);
    }
  }

  /** A touched set as the model has it now: asked again at `addresses` only when pods alone changed; `old` itself when its members stand. */
  private remade(old: SetPlan, addresses: ReadonlySet<string> | undefined): SetPlan {
    if (addresses) return updateMembers(this.service.cluster, old, addresses);
    this.cache.sets.delete(old.name);
    const now = materialize(this.service.cluster, this.cache, old);
    if (now.digest !== old.digest) return now;
    this.cache.sets.set(old.name, old);
    return old;
  }

  /** The model's generation the rulesets are current at, and which stored model that generation counts in. */
  get generation(): { readonly model: string; readonly generation: number } {
    return { model: this.service.modelId, generation: this.service.generation };
  }

  /** The node's current ruleset, for a caller that may read it; 404 for a node the model does not have, 503 before the model is loaded. */
  rules(ctx: RequestContext, node: string): Ruleset {
    authorize(ctx, "rules:read", node);
    return this.current(node);
  }

  private current(node: string): Ruleset {
    this.service.requireReady();
    const cluster = this.service.cluster;
    if (!cluster.nodes.has(node)) throw new PodwallError("not-found", `nodes "${node}" not found`);
    const known = this.memo.get(node);
    if (known && !this.staleSets.has(node)) return known.ruleset;
    const end = this.service.metrics.compileSeconds.startTimer();
    const stale = this.staleSets.get(node);
    let plan: RulesetPlan;
    let ruleset: Ruleset;
    let parent: Kept["parent"];
    if (known && stale) {
      let changed: number[];
      ({ plan, ruleset, changed } = this.withSets(known, stale, this.cache));
      parent = { version: known.ruleset.version, changed };
      planSize(plan, known.plan, changed);
    } else {
      plan = compileNode(cluster, node, this.cache);
      ruleset = render(plan);
      planSize(plan);
    }
    end();
    this.memo.set(node, { plan, ruleset });
    this.staleSets.delete(node);
    if (!known) this.record(node, plan);
    this.remember(node, ruleset.version, { plan, ...(parent && parent.version !== ruleset.version ? { parent } : {}) });
    return ruleset;
  }

  /** Every node's current ruleset version, each compiled if it is not yet: what a what-if compares with. */
  versions(ctx: RequestContext): Map<string, string> {
    authorize(ctx, "nodes:list");
    const out = new Map<string, string>();
    for (const node of [...this.service.cluster.nodes.keys()].sort()) out.set(node, this.current(node).version);
    return out;
  }

  /**
   * Inside an observed trial of a change (the objects it linked and
   * unlinked), after `versions`: the version each node whose ruleset the
   * change may alter would have, compiled on the trial's model with the sets
   * it did not touch taken as they are. Nothing served changes.
   */
  versionsAfter(changed: readonly ModelObject[]): Map<string, string | null> {
    const cluster = this.service.cluster;
    const touched: Touched = { nodes: new Set(), sets: new Set(), portGroups: new Set() };
    touchedBy(cluster, changed, this.deps, touched);
    // Nodes whose chains may change are compiled; those that only hold touched sets keep their chains, as the served rulesets do.
    const setsOf = new Map<string, string[]>();
    for (const name of touched.sets) {
      for (const node of this.deps.sets.get(name)?.nodes ?? []) {
        if (touched.nodes.has(node)) continue;
        let names = setsOf.get(node);
        if (!names) setsOf.set(node, (names = []));
        names.push(name);
      }
    }
    const cache = CompileCache.overlay(this.cache, touched.sets, touched.portGroups);
    const out = new Map<string, string | null>();
    for (const node of [...touched.nodes, ...setsOf.keys()].sort()) {
      const known = this.memo.get(node);
      const names = setsOf.get(node);
      if (!cluster.nodes.has(node)) out.set(node, null);
      else if (names && known) out.set(node, this.withSets(known, names, cache).ruleset.version);
      else out.set(node, render(compileNode(cluster, node, cache)).version);
    }
    return out;
  }

  /** A node whose chains stand, with the named sets it holds as `cache` has them now: chains keep their text, only those sets are put in, at their places. */
  private withSets(known: { plan: RulesetPlan; ruleset: Ruleset }, names: Iterable<string>, cache: CompileCache): { plan: RulesetPlan; ruleset: Ruleset; changed: number[] } {
    const sets = known.plan.sets.slice();
    const changed: number[] = [];
    for (const name of names) {
      const i = position(sets, name, (s) => s.name);
      if (sets[i]?.name !== name) continue;
      sets[i] = cache.sets.get(name) ?? materialize(this.service.cluster, cache, sets[i]!);
      changed.push(i);
    }
    const plan = { ...known.plan, sets };
    return { plan, ruleset: render(plan, { sets: known.plan.sets, changed }), changed };
  }

  private remember(node: string, version: string, kept: Kept): void {
    let versions = this.history.get(node);
    if (!versions) this.history.set(node, (versions = new Map()));
    versions.delete(version);
    versions.set(version, kept);
    if (versions.size > KEPT_VERSIONS) versions.delete(versions.keys().next().value!);
  }

  /**
   * `r` (a version of the node's ruleset) as the caller who has applied
   * `since` should get it: a delta from `since` when the server still knows
   * that version and the delta is smaller than the whole, `r` otherwise.
   */
  since(node: string, r: Ruleset, since: string | undefined): Ruleset {
    if (since === undefined || since === "") return r;
    const kept = this.history.get(node);
    const from = kept?.get(since)?.plan;
    const to = kept?.get(r.version);
    if (!from || !to) return r;
    let made = this.deltas.get(node);
    if (!made) this.deltas.set(node, (made = new Map()));
    const key = `${since} ${r.version}`;
    let d = made.get(key);
    if (d === undefined) {
      if (made.size >= KEPT_DELTAS) made.clear();
      d = diff(from, since, to.plan, r, to.parent?.version === since ? to.parent.changed : undefined) ?? r;
      made.set(key, d);
    }
    return d;
  }

  /** Keeps the dependency index exact; forgets a set's members once no node holds it (nothing would keep them fresh). */
  private record(node: string, plan: RulesetPlan | undefined): void {
    const old = this.nodeDeps.get(node);
    for (const name of old?.sets ?? []) {
      const use = this.deps.sets.get(name);
      use?.nodes.delete(node);
      if (use?.nodes.size === 0) {
        this.deps.sets.delete(name);
        this.cache.sets.delete(name);
      }
    }
    for (const key of old?.portGroups ?? []) {
      const nodes = this.deps.portGroups.get(key);
      nodes?.delete(node);
      if (nodes?.size === 0) this.deps.portGroups.delete(key);
    }
    if (!plan) {
      this.nodeDeps.delete(node);
      this.history.delete(node);
      this.deltas.delete(node);
      return;
    }
    for (const s of plan.sets) {
      let use = this.deps.sets.get(s.name);
      if (!use) this.deps.sets.set(s.name, (use = { source: s.source, nodes: new Set() }));
      use.nodes.add(node);
    }
    for (const key of plan.portGroups) {
      let nodes = this.deps.portGroups.get(key);
      if (!nodes) this.deps.portGroups.set(key, (nodes = new Set()));
      nodes.add(node);
    }
    this.nodeDeps.set(node, { sets: plan.sets.map((s) => s.name), portGroups: plan.portGroups });
  }

  /**
   * Calls `fn` with each new version of the node's ruleset (or a not-found
   * error once the node is deleted, or unavailable once the server drains)
   * until the returned function is called. Each identity holds a bounded
   * number of long polls and watch streams at once (429 past it).
   */
  subscribe(ctx: RequestContext, node: string, fn: Listener): () => void {
    authorize(ctx, "rules:read", node);
    if (this.isDraining) throw SHUTTING_DOWN;
    const who = holder(ctx);
    const held = this.held.get(who) ?? 0;
    if (held >= this.limits.watchesPerIdentity) {
      this.service.metrics.rejected.inc({ reason: "watches" });
      throw new PodwallError("too-many-requests", `${who} already holds ${held} long polls and watch streams, the most one identity may hold`);
    }
    this.held.set(who, held + 1);
    let set = this.listeners.get(node);
    if (!set) this.listeners.set(node, (set = new Set()));
    set.add(fn);
    this.service.metrics.watchers.inc();
    return () => {
      if (!set.delete(fn)) return;
      const left = (this.held.get(who) ?? 1) - 1;
      if (left > 0) this.held.set(who, left);
      else this.held.delete(who);
      this.service.metrics.watchers.dec();
      if (set.size === 0) this.listeners.delete(node);
    };
  }

  /** Resolves with the ruleset once its version differs from `version`, or undefined after `timeoutMs`. */
  waitForChange(ctx: RequestContext, node: string, version: string, timeoutMs: number): Promise<Ruleset | undefined> {
    const current = this.rules(ctx, node);
    if (current.version !== version) return Promise.resolve(current);
    if (this.isDraining) return Promise.resolve(undefined);
    const signal = ctx.signal;
    const open = this.service.metrics.longPolls;
    return new Promise((resolve, reject) => {
      const done = () => {
        open.dec();
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
      };
      const unsubscribe = this.subscribe(ctx, node, (r) => {
        if (!(r instanceof PodwallError) && r.version === version) return;
        done();
        // A draining server answers "unchanged": the agent asks again, of another replica.
        if (r === SHUTTING_DOWN) resolve(undefined);
        else if (r instanceof PodwallError) reject(r);
        else resolve(r);
      });
      open.inc();
      const timer = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
      const onAbort = () => {
        done();
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort);
      if (signal?.aborted) onAbort();
    });
  }

  private notify(): void {
    for (const [node, set] of this.listeners) {
      let r: Ruleset | PodwallError;
      try {
        r = this.current(node);
      } catch (e) {
        if (!(e instanceof PodwallError)) throw e;
        r = e;
      }
      for (const fn of [...set]) fn(r);
    }
  }

  /**
   * The server stops: every long poll is answered "unchanged" and every watch
   * stream ends UNAVAILABLE at once, so that agents move to another replica;
   * new ones are refused alike.
   */
  get draining(): boolean {
    return this.isDraining;
  }

  drain(): void {
    this.isDraining = true;
    for (const set of this.listeners.values()) for (const fn of [...set]) fn(SHUTTING_DOWN);
  }

  /** `PUT /v1/nodes/{node}/status`: what the node's agent applied. */
  report(ctx: RequestContext, node: string, body: { version?: unknown; appliedAt?: unknown; error?: unknown }): NodeStatus {
    authorize(ctx, "status:report", node);
    this.service.requireReady();
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
    const version = this.current(node).version;
    const applied = this.applied.get(node) ?? null;
    return { node, version, applied, inSync: applied !== null && applied.version === version && applied.error === undefined };
  }

  /** `GET /v1/nodes`: every node, its current version and what its agent last applied. */
  nodes(ctx: RequestContext): { generation: number; nodes: NodeStatus[] } {
    authorize(ctx, "nodes:list");
    this.service.requireReady();
    const names = [...this.service.cluster.nodes.keys()].sort();
    return { generation: this.service.generation, nodes: names.map((n) => this.status(n)) };
  }
}
