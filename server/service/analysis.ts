/**
 * Whole-cluster answers: the reachability matrix and what a change would do
 * (what-if). Both ask the same semantics as Check, over classes of pods.
 */
import { Matrix } from "../analysis/matrix.js";
import { type Cell, type Pairs, answersAt, changingPairs, differences, namedTraffic, podStates, unionTraffic } from "../analysis/whatif.js";
import type { MatrixAnswer } from "../analysis/matrix-output.js";
import type { ModelObject, Pod, Selector } from "../model/types.js";
import type { Change } from "../store/types.js";
import { type FieldError, Path, fieldError } from "../policy/field.js";
import { matches } from "../policy/selector.js";
import { listOf, parseWhatIf, selectorOf } from "./analysis-query.js";
import { authorize } from "./authorization.js";
import { parseFlag, parseTraffic } from "./check-query.js";
import type { RequestContext } from "./context.js";
import { PodwallError } from "./errors.js";
import { applyChanges, describe, describeRef, planApply, planDelete, tryChanges } from "./model-writer.js";
import type { RulesService } from "./rules-service.js";
import type { PodwallService } from "./service.js";

export interface MatrixInput {
  readonly protocol?: unknown;
  readonly port?: unknown;
  /** "x,y", or a list. */
  readonly namespaces?: unknown;
  /** A label selector as kubectl's -l writes it. */
  readonly pods?: unknown;
  readonly group?: unknown;
}

export interface WhatIfInput {
  /** Manifests to apply, as a write takes them. */
  readonly apply?: unknown;
  /** Objects to delete: `[{"kind","namespace","name"}]`. */
  readonly delete?: unknown;
  /** "80", "UDP/53"; when absent, every port and protocol a policy names. */
  readonly ports?: unknown;
  /** The most cells listed (all are counted). */
  readonly limit?: unknown;
}

export interface WhatIfAnswer {
  readonly generation: number;
  /** The ports the cells were asked on, "TCP/80". */
  readonly ports: readonly string[];
  /** Cells whose answer would change, by protocol, port, source and destination; `null` where the pod is not there. */
  readonly cells: readonly Cell[];
  /** How many cells would change in all (`cells` lists up to the limit). */
  readonly cellsChanged: number;
  readonly truncated: boolean;
  /** Nodes whose ruleset version would change; `null` where the node is not there. */
  readonly nodes: readonly { readonly node: string; readonly before: string | null; readonly after: string | null }[];
  readonly applied: readonly string[];
  readonly deleted: readonly string[];
  readonly skipped: readonly string[];
  readonly warnings?: readonly string[];
}

export interface AnalysisLimits {
  /** The most pods a matrix may have (its rows; as many columns). */
  readonly matrixPods: number;
  /** The most changed cells one what-if lists, unless it asks for fewer. */
  readonly whatIfCells: number;
  /**
   * The most cells one what-if asks, before and after, over all its ports: it
   * is answered in one turn of the event loop (its trial must not be seen),
   * so this bounds how long it holds every other request.
   */
  readonly whatIfWork: number;
}

export const DEFAULT_ANALYSIS_LIMITS: AnalysisLimits = { matrixPods: 20_000, whatIfCells: 10_000, whatIfWork: 20_000_000 };

export class AnalysisService {
  private readonly limits: AnalysisLimits;

  constructor(
    private readonly service: PodwallService,
    private readonly rules: RulesService,
    limits: Partial<AnalysisLimits> = {},
  ) {
    this.limits = { ...DEFAULT_ANALYSIS_LIMITS, ...limits };
  }

  /**
   * The matrix of the pods asked for, every verdict asked at once (so that
   * its rows are read from this generation, however long they take to send).
   * 400 for a bad question, 404 for an unknown namespace, 413 past the limit.
   */
  matrix(ctx: RequestContext, input: MatrixInput): MatrixAnswer {
    authorize(ctx, "check");
    this.service.requireReady();
    const errs: FieldError[] = [];
    const { protocol, port } = parseTraffic(input, undefined, errs);
    const namespaces = listOf(input.namespaces, "namespaces", errs);
    const selector = selectorOf(input.pods, errs);
    const group = parseFlag(input.group, "group", errs);
    if (errs.length > 0) throw new PodwallError("bad-request", `invalid matrix: ${errs.map((e) => `${e.field}: ${e.detail}`).join("; ")}`, errs);
    const cluster = this.service.cluster;
    for (const ns of namespaces ?? []) {
      if (!cluster.namespaces.has(ns)) throw new PodwallError("not-found", `namespaces "${ns}" not found`);
    }
    const pods = podsOf(this.service, namespaces, selector);
    if (pods.length > this.limits.matrixPods) {
      this.service.metrics.rejected.inc({ reason: "matrix" });
      throw new PodwallError(
        "too-large",
        `the matrix would have ${pods.length} pods, more than the ${this.limits.matrixPods} one matrix may have: narrow it with namespaces or a pod selector`,
        [fieldError.tooMany(Path.root("pods"), pods.length, this.limits.matrixPods)],
      );
    }
    const matrix = Matrix.of(cluster, pods, { protocol, port }).prepare();
    return { generation: cluster.generation, protocol, port, matrix, ...(group ? { groups: matrix.groups() } : {}) };
  }

  /**
   * What applying and deleting the objects would change, without changing
   * anything: the cells of every pod pair whose answer differs, and the nodes
   * whose ruleset version differs. Bad input is answered as the write would
   * be (400, 404, 413, 422).
   *
   * The change is applied in an observed trial of the served model and
   * undone in the same turn of the event loop, so no other request sees it.
   * Only the rows of pods whose egress policies (of any tier), object,
   * namespace or nodes at their addresses change, and the columns of those
   * whose ingress policies, object, namespace or nodes change, can differ;
   * only they are asked, before and after (see whatif.ts). Node versions
   * are made again only for the nodes the change touches, with the sets it
   * did not touch as they are.
   */
  async whatIf(ctx: RequestContext, input: unknown): Promise<WhatIfAnswer> {
    authorize(ctx, "check");
    this.service.requireReady();
    const q = parseWhatIf(input, this.limits.whatIfCells);
    const read = q.apply === undefined ? { objects: [], skipped: [], warnings: [] } : await this.service.readWritten(ctx, q.apply);
    // From here to the answer, one turn of the event loop: no write comes between.
    const cluster = this.service.cluster;
    const changes: Change[] = planApply(read.objects);
    for (const d of q.deletes) changes.push(...planDelete(cluster, d.kind, d.namespace, d.name));
    tryChanges(cluster, changes);
    const changed: ModelObject[] = [];
    for (const c of changes) {
      const old = cluster.get(c.ref.kind, c.ref.namespace, c.ref.name);
      if (old) changed.push(old);
      if (c.op === "put" && c.object) changed.push(c.object);
    }
    const versions = this.rules.versions(ctx);
    const states = podStates(cluster);
    let traffic = q.traffic ?? namedTraffic(cluster);
    const after = cluster.trial(() => {
      applyChanges(cluster, changes, () => undefined);
      if (!q.traffic) traffic = unionTraffic(traffic, namedTraffic(cluster));
      const pairs = changingPairs(states, podStates(cluster));
      this.withinWork(pairs, traffic.length);
      return { pairs, answers: answersAt(cluster, pairs, traffic), versions: this.rules.versionsAfter(changed) };
    }, true);
    const cells = differences(after.pairs, traffic, answersAt(cluster, after.pairs, traffic), after.answers, q.limit);
    const nodes: { node: string; before: string | null; after: string | null }[] = [];
    for (const [node, version] of after.versions) {
      const was = versions.get(node) ?? null;
      if (was !== version) nodes.push({ node, before: was, after: version });
    }
    return {
      generation: cluster.generation,
      ports: traffic.map((t) => `${t.protocol}/${t.port}`),
      cells: cells.cells,
      cellsChanged: cells.count,
      truncated: cells.count > cells.cells.length,
      nodes,
      applied: read.objects.map(describe),
      deleted: q.deletes.map((d) => describeRef(d.kind, d.namespace, d.name)),
      skipped: read.skipped,
      ...(read.warnings.length > 0 ? { warnings: read.warnings } : {}),
    };
  }

  /** 413 when the cells a what-if would ask (each port, the pairs that may change) are past the limit. */
  private withinWork(pairs: Pairs, ports: number): void {
    const lines = pairs.rows.length + pairs.columns.length;
    const cells = ports * lines * pairs.keys.length;
    if (cells <= this.limits.whatIfWork) return;
    this.service.metrics.rejected.inc({ reason: "whatif" });
    throw new PodwallError(
      "too-large",
      `this what-if would ask ${cells} cells (${ports} ports × ${pairs.rows.length} rows and ${pairs.columns.length} columns that may change × ${pairs.keys.length} pods); ` +
        `at most ${this.limits.whatIfWork} are asked in one: give fewer ports, or split the change`,
      [fieldError.tooMany(Path.root("ports"), ports, Math.max(1, Math.floor(this.limits.whatIfWork / Math.max(1, lines * pairs.keys.length))))],
    );
  }
}

/** The pods of a matrix, sorted by namespace, then name. */
function podsOf(service: PodwallService, namespaces: readonly string[] | undefined, selector: Selector | undefined): Pod[] {
  const cluster = service.cluster;
  const out: Pod[] = [];
  const from = namespaces ? namespaces.flatMap((ns) => [...cluster.podsIn(ns)]) : cluster.pods.values();
  for (const pod of from) if (selector === undefined || matches(selector, pod.labels)) out.push(pod);
  return out.sort(byKey);
}

export function byKey(a: Pod, b: Pod): number {
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
