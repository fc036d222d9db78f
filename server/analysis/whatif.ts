/**
 * What a change would do to the matrix: which pod pairs can change, their
 * answers on each side, and the ports asked.
 *
 * A cell (src, dst) reads src's egress policies, dst's ingress policies (of
 * every tier: the NetworkPolicies that isolate the pod, and the Admin- and
 * Baseline-tier policies that select it), and each end as a pod: the object,
 * its namespace (whose labels namespace selectors read), and the nodes at its
 * addresses (whose labels a tier's nodes peer reads; a host-network pod is at
 * its node's address). So only the rows of pods whose egress policies or
 * pod side change, and the columns of pods whose ingress policies or pod side
 * change, can differ. A change to a tier policy changes the selecting lists
 * of the pods it selected or selects (the policy is a new object), so their
 * rows or columns are asked again.
 */
import type { Cluster } from "../model/cluster.js";
import type { TierPolicy, TierPort } from "../model/tier-types.js";
import type { Direction, Namespace, Node, Pod, PolicyObject, PortMatcher, Protocol } from "../model/types.js";
import { PROTOCOLS } from "../model/types.js";
import { isolatingPolicies } from "../policy/match.js";
import { tierPoliciesSelecting } from "../policy/tier-evaluate.js";
import { Matrix, type MatrixTraffic, PodClasses } from "./matrix.js";

/** A pod as a cell reads it: the object, its namespace, the nodes at its addresses, and its policies per direction. */
export interface PodState {
  readonly pod: Pod;
  readonly namespace: Namespace | undefined;
  readonly nodes: readonly Node[];
  readonly egress: readonly PolicyObject[];
  readonly ingress: readonly PolicyObject[];
  /** The Admin-tier policies that select the pod, then the Baseline-tier ones, per direction, in order. */
  readonly tiers: Readonly<Record<Direction, readonly TierPolicy[]>>;
}

/** Every pod's state, by key. */
export function podStates(cluster: Cluster): Map<string, PodState> {
  const out = new Map<string, PodState>();
  const tiered = cluster.tierPolicies.size > 0;
  for (const pod of cluster.pods.values()) {
    out.set(pod.key, {
      pod,
      namespace: cluster.namespaces.get(pod.namespace),
      nodes: pod.ips.length === 0 ? NO_NODES : pod.ips.flatMap((a) => cluster.nodesAt(a.text)),
      egress: isolatingPolicies(cluster, pod, "egress"),
      ingress: isolatingPolicies(cluster, pod, "ingress"),
      tiers: tiered ? { egress: tierPolicies(cluster, pod, "egress"), ingress: tierPolicies(cluster, pod, "ingress") } : NO_TIERS,
    });
  }
  return out;
}

function tierPolicies(cluster: Cluster, pod: Pod, dir: Direction): readonly TierPolicy[] {
  const admin = tierPoliciesSelecting(cluster, pod, dir, "Admin");
  const baseline = tierPoliciesSelecting(cluster, pod, dir, "Baseline");
  return baseline.length === 0 ? admin : admin.length === 0 ? baseline : [...admin, ...baseline];
}

const NO_NODES: readonly Node[] = [];
const NO_TIERS: PodState["tiers"] = { egress: [], ingress: [] };

/** The pairs that may change: every pod's row whose source side changes, every column whose destination side does. */
export interface Pairs {
  /** Every pod of either side, sorted by key. */
  readonly keys: readonly string[];
  /** Indexes into keys. */
  readonly rows: readonly number[];
  readonly columns: readonly number[];
}

export function changingPairs(before: ReadonlyMap<string, PodState>, after: ReadonlyMap<string, PodState>): Pairs {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(compareKeys);
  const rows: number[] = [];
  const columns: number[] = [];
  keys.forEach((key, i) => {
    const b = before.get(key);
    const a = after.get(key);
    const moved = !b || !a || b.pod !== a.pod || b.namespace !== a.namespace || !same(b.nodes, a.nodes);
    if (moved || !same(b.egress, a.egress) || !same(b.tiers.egress, a.tiers.egress)) rows.push(i);
    if (moved || !same(b.ingress, a.ingress) || !same(b.tiers.ingress, a.tiers.ingress)) columns.push(i);
  });
  return { keys, rows, columns };
}

/** Pod keys sort by namespace, then name. */
export function compareKeys(a: string, b: string): number {
  const [an, ap] = splitKey(a);
  const [bn, bp] = splitKey(b);
  return an < bn ? -1 : an > bn ? 1 : ap < bp ? -1 : ap > bp ? 1 : 0;
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf("/");
  return [k.slice(0, i), k.slice(i + 1)];
}

/** The same objects in the same order. */
function same<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((p, i) => p === b[i]));
}

const ABSENT = 0;
const DENIED = 1;
const ALLOWED = 2;

/**
 * The answers of the model as it is now at every pair, per traffic: rows
 * first (each over every key), then columns (each over the keys that are not
 * rows). ABSENT where a pod is not in the model.
 */
export function answersAt(cluster: Cluster, pairs: Pairs, traffic: readonly MatrixTraffic[]): Uint8Array[] {
  const pods = pairs.keys.map((k) => cluster.pods.get(k));
  const present = pods.filter((p): p is Pod => p !== undefined);
  const index = new Int32Array(pairs.keys.length).fill(-1);
  let n = 0;
  pods.forEach((p, i) => {
    if (p) index[i] = n++;
  });
  const classes = new PodClasses(cluster, present);
  const isRow = new Uint8Array(pairs.keys.length);
  for (const r of pairs.rows) isRow[r] = 1;
  return traffic.map((t) => {
    const m = new Matrix(classes, t);
    const out = new Uint8Array(pairs.rows.length * pairs.keys.length + pairs.columns.length * pairs.keys.length);
    let at = 0;
    const cell = (s: number, d: number) => {
      const i = index[s]!;
      const j = index[d]!;
      out[at++] = i < 0 || j < 0 ? ABSENT : m.allowed(i, j) ? ALLOWED : DENIED;
    };
    for (const s of pairs.rows) for (let d = 0; d < pairs.keys.length; d++) cell(s, d);
    for (const d of pairs.columns) for (let s = 0; s < pairs.keys.length; s++) if (!isRow[s]) cell(s, d);
    return out;
  });
}

export interface Cell {
  readonly src: string;
  readonly dst: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** null: the pod is not there. */
  readonly before: boolean | null;
  readonly after: boolean | null;
}

/** The cells whose answers differ, by traffic, then source, then destination: the first `limit`, and how many in all. */
export function differences(
  pairs: Pairs,
  traffic: readonly MatrixTraffic[],
  before: readonly Uint8Array[],
  after: readonly Uint8Array[],
  limit: number,
): { cells: Cell[]; count: number } {
  const isRow = new Uint8Array(pairs.keys.length);
  for (const r of pairs.rows) isRow[r] = 1;
  const cells: Cell[] = [];
  let count = 0;
  traffic.forEach((t, ti) => {
    const b = before[ti]!;
    const a = after[ti]!;
    const found: [number, number, number][] = [];
    let at = 0;
    const look = (s: number, d: number) => {
      if (b[at] !== a[at]) found.push([s, d, at]);
      at++;
    };
    for (const s of pairs.rows) for (let d = 0; d < pairs.keys.length; d++) look(s, d);
    for (const d of pairs.columns) for (let s = 0; s < pairs.keys.length; s++) if (!isRow[s]) look(s, d);
    count += found.length;
    if (cells.length >= limit) return;
    found.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (const [s, d, i] of found.slice(0, limit - cells.length)) {
      cells.push({ src: pairs.keys[s]!, dst: pairs.keys[d]!, protocol: t.protocol, port: t.port, before: answer(b[i]!), after: answer(a[i]!) });
    }
  });
  return { cells, count };
}

function answer(v: number): boolean | null {
  return v === ABSENT ? null : v === ALLOWED;
}

/**
 * Every port and protocol a policy of any tier names: each end of a port
 * range, the numbers a named port takes on the pods that define it (a tier's
 * named port, of whatever protocol each pod gives it), and, per protocol
 * named (TCP always), the lowest port no entry names, standing for all such.
 */
export function namedTraffic(cluster: Cluster): MatrixTraffic[] {
  const ports = new Map<Protocol, Set<number>>([["TCP", new Set()]]);
  const ranges = new Map<Protocol, [number, number][]>();
  const add = (protocol: Protocol, port: number) => {
    let set = ports.get(protocol);
    if (!set) ports.set(protocol, (set = new Set()));
    set.add(port);
  };
  const named = (protocol: Protocol, name: string) => {
    for (const pod of cluster.podsWithPortName(protocol, name)) {
      for (const cp of pod.ports) if (cp.name === name && cp.protocol === protocol) add(protocol, cp.port);
    }
  };
  for (const m of policyPorts(cluster)) {
    switch (m.kind) {
      case "range": {
        add(m.protocol, m.from);
        add(m.protocol, m.to);
        let list = ranges.get(m.protocol);
        if (!list) ranges.set(m.protocol, (list = []));
        list.push([m.from, m.to]);
        break;
      }
      case "named":
        named(m.protocol, m.name);
        break;
      case "namedAnyProtocol":
        for (const protocol of PROTOCOLS) named(protocol, m.name);
        break;
      case "protocol":
        if (!ports.has(m.protocol)) ports.set(m.protocol, new Set());
        break;
      case "all":
        break;
    }
  }
  const out: MatrixTraffic[] = [];
  for (const protocol of PROTOCOLS) {
    const set = ports.get(protocol);
    if (!set) continue;
    const inRange = (n: number) => set.has(n) || (ranges.get(protocol) ?? []).some(([from, to]) => n >= from && n <= to);
    let other = 1;
    while (other <= 65535 && inRange(other)) other++;
    if (other <= 65535) set.add(other);
    for (const port of [...set].sort((a, b) => a - b)) out.push({ protocol, port });
  }
  return out;
}

/** Every port entry of every rule of every policy, NetworkPolicies and tier policies. */
function* policyPorts(cluster: Cluster): Iterable<PortMatcher | TierPort> {
  for (const ns of cluster.namespacesInUse()) {
    for (const p of cluster.policiesIn(ns)) for (const rule of [...(p.policy.ingress ?? []), ...(p.policy.egress ?? [])]) yield* rule.ports;
  }
  for (const o of cluster.tierPolicies.values()) for (const rule of [...o.policy.ingress, ...o.policy.egress]) yield* rule.ports;
}

/** Both lists' traffic, each once, in protocol then port order. */
export function unionTraffic(a: readonly MatrixTraffic[], b: readonly MatrixTraffic[]): MatrixTraffic[] {
  const seen = new Map<string, MatrixTraffic>();
  for (const t of [...a, ...b]) seen.set(`${t.protocol}/${t.port}`, t);
  return [...seen.values()].sort((x, y) => PROTOCOLS.indexOf(x.protocol) - PROTOCOLS.indexOf(y.protocol) || x.port - y.port);
}
