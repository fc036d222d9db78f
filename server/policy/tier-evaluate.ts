/**
 * What the Admin and Baseline tiers say about one connection, each direction
 * apart, with the explanation: the policies that select the pod, and every
 * rule evaluated, matched or why not, by field path.
 *
 * "Policy tiers are evaluated in the following order: Admin tier,
 * NetworkPolicy tier, Baseline tier." "If a given connection wasn't allowed or
 * denied by any of the tiers, the default kubernetes policy is applied, which
 * says that all pods can communicate with each other." This module answers for
 * the two cluster-scoped tiers; tier-compose.ts puts them around the
 * NetworkPolicy tier. Within a tier, policies go in the order of tier-order.ts
 * and "the relative precedence of ingress rules within a single CNP object
 * (all of which share the priority) will be determined by the order in which
 * the rule is written": the first rule that matches decides the tier.
 */
import type { Cluster } from "../model/cluster.js";
import type { Tier, TierAction, TierActionWord, TierPolicy, TierRule } from "../model/tier-types.js";
import type { Direction, Pod, Selector } from "../model/types.js";
import type { Endpoint } from "./endpoint.js";
import type { Traffic } from "./evaluate.js";
import { type TierRuleResult, evaluateTierRule, namespaceSelected, subjectSelects, tierPeerMatches, tierPortAllows } from "./tier-match.js";
import { type TierOrder, type TierPrecedence, orderTierPolicies, precedenceOf } from "./tier-order.js";

/**
 * What one tier says about one direction.
 * - none: no rule of the tier's policies that select the pod matched;
 * - Accept: "No further ingress ClusterNetworkPolicy or NetworkPolicy rules
 *   will be processed"; for egress, "any ingress rules at the destination do
 *   apply";
 * - Deny: "No further ClusterNetworkPolicy or NetworkPolicy rules will be processed";
 * - Pass: "Skips all further ClusterNetworkPolicy rules in the current tier
 *   for the selected traffic, and passes evaluation to the next tier."
 */
export type TierVerdict =
  | { readonly action: "none"; readonly tier: Tier }
  | {
      readonly action: TierAction;
      readonly tier: Tier;
      /** "ClusterNetworkPolicy/name" */
      readonly policy: string;
      readonly priority: number | undefined;
      /** The deciding rule: "spec.egress[2]". */
      readonly rule: string;
      readonly name: string | undefined;
      /** As the manifest spells it: "Allow" for a v1alpha1 kind. */
      readonly actionWord: TierActionWord;
      readonly precedence: TierPrecedence;
    };

/** One policy that selects the pod in that direction, as far as it was evaluated. */
export interface TierPolicyTrace {
  readonly policy: string;
  readonly precedence: TierPrecedence;
  /** Its rules in order, up to and including the one that decided the tier. */
  readonly rules: readonly TierRuleResult[];
}

export interface TierOutcome {
  readonly verdict: TierVerdict;
  /** The policies evaluated, in order; those after the deciding one are not. */
  readonly policies: readonly TierPolicyTrace[];
}

/**
 * Why a direction was or was not evaluated:
 * - not-a-pod: the end is a node or an address outside the cluster;
 * - host-network: "host-networked pods are not included in subject selection";
 * - same-pod: "A Pod connecting to its own Pod IP is not subject to CNP";
 * - evaluated: both tiers were evaluated (and may say none).
 */
export type TierDirectionReason = "not-a-pod" | "host-network" | "same-pod" | "evaluated";

export interface TierDirection {
  /** The pod whose policies were evaluated, if the end is a pod. */
  readonly subject: string | undefined;
  readonly reason: TierDirectionReason;
  readonly Admin: TierOutcome;
  readonly Baseline: TierOutcome;
}

export interface TierEvaluation {
  /** Egress of the source. */
  readonly egress: TierDirection;
  /** Ingress of the destination. */
  readonly ingress: TierDirection;
}

/**
 * Both directions of a connection, explained: the source's egress towards
 * `dst` and the destination's ingress from `src`. Each tier is evaluated
 * whatever the other says, so that the caller can compose them with the
 * NetworkPolicy tier. Without explanation, tierVerdict answers.
 */
export function evaluateTiers(cluster: Cluster, src: Endpoint, dst: Endpoint, t: Traffic): TierEvaluation {
  const dstPod = dst.kind === "pod" ? dst.pod : undefined;
  if (src.kind === "pod" && src.pod === dstPod) {
    return { egress: skipped(src.pod.key, "same-pod"), ingress: skipped(dstPod.key, "same-pod") };
  }
  return {
    egress: evaluateTierDirection(cluster, src, "egress", dst, dstPod, t),
    ingress: evaluateTierDirection(cluster, dst, "ingress", src, dstPod, t),
  };
}

/** One direction of the pod at `end`: `other` is the other end, `dstPod` resolves named ports. */
function evaluateTierDirection(cluster: Cluster, end: Endpoint, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic): TierDirection {
  if (end.kind !== "pod") return skipped(undefined, "not-a-pod");
  const pod = end.pod;
  if (pod.hostNetwork) return skipped(pod.key, "host-network");
  const selection = selectionOf(cluster, pod);
  return {
    subject: pod.key,
    reason: "evaluated",
    Admin: evaluateTier(cluster, "Admin", selection.Admin[dir], dir, other, dstPod, t),
    Baseline: evaluateTier(cluster, "Baseline", selection.Baseline[dir], dir, other, dstPod, t),
  };
}

/**
 * What one tier says of one direction, without explanation: the verdict of
 * the first rule that matches (made once per rule), or the tier's none.
 * `end` is a pod off the host network.
 */
export function tierVerdict(cluster: Cluster, tier: Tier, pod: Pod, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic): TierVerdict {
  const s = selectionOf(cluster, pod);
  const selecting = s[tier][dir];
  if (selecting.length === 0) return NO_VERDICT[tier];
  const flat = (s.flats[tier][dir] ??= flatten(selecting, dir, tier));
  const r = firstMatch(cluster, flat, other, dstPod, t);
  return r < 0 ? NO_VERDICT[tier] : verdictAt(flat, r);
}

/**
 * "CNPs with no ingress rules do not affect ingress traffic": a policy with
 * no rule in the direction is not listed. The first rule that matches, in
 * policy order then rule order, decides the tier.
 */
function evaluateTier(cluster: Cluster, tier: Tier, selecting: readonly TierPolicy[], dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic): TierOutcome {
  if (selecting.length === 0) return NONE[tier];
  const policies: TierPolicyTrace[] = [];
  for (let i = 0; i < selecting.length; i++) {
    const p = selecting[i]!;
    const rules: TierRuleResult[] = [];
    policies.push({ policy: p.key, precedence: precedenceOf(selecting, i), rules });
    for (const rule of p[dir]) {
      const r = evaluateTierRule(cluster, rule, other, dstPod, t);
      rules.push(r);
      if (r.result === "matched") return { verdict: verdictOf(tier, p, rule, selecting, i), policies };
    }
  }
  return { verdict: NONE[tier].verdict, policies };
}

function verdictOf(tier: Tier, p: TierPolicy, rule: TierRule, selecting: readonly TierPolicy[], i: number): TierVerdict {
  return {
    action: rule.action,
    tier,
    policy: p.key,
    priority: p.priority,
    rule: rule.field,
    name: rule.name,
    actionWord: rule.actionWord,
    precedence: precedenceOf(selecting, i),
  };
}

/**
 * A selecting list's rules for one direction, made once per list (lists are
 * shared by every pod with the same selection, see tierPoliciesSelecting):
 * the rules in evaluation order; for each protocol and port asked, the rules
 * with a port entry for it, and for each port name, the rules that name it,
 * so that a question looks only at the rules its port may match; and each
 * rule's verdict, made the first time it decides.
 */
interface TierFlat {
  readonly tier: Tier;
  readonly selecting: readonly TierPolicy[];
  readonly rules: readonly TierRule[];
  /** The index in `selecting` of each rule's policy. */
  readonly owners: readonly number[];
  /** By traffic (portKey): the rules with a port entry for it, ascending, and what they come to for pods of each namespace. Made on the first question for it. */
  readonly byPort: Map<number, PortRules>;
  /** Rule indexes, ascending, with a named port entry of that name. */
  readonly byName: ReadonlyMap<string, readonly number[]>;
  /** By namespace name, what each rule's peers say of a pod off the host network in it: made on the first question from or to such a pod. */
  readonly byNamespace: Map<string, Uint8Array>;
  readonly verdicts: (TierVerdict | undefined)[];
}

const flats: Readonly<Record<Direction, WeakMap<readonly TierPolicy[], TierFlat>>> = { ingress: new WeakMap(), egress: new WeakMap() };

function flatten(selecting: readonly TierPolicy[], dir: Direction, tier: Tier): TierFlat {
  let flat = flats[dir].get(selecting);
  if (flat !== undefined) return flat;
  const rules: TierRule[] = [];
  const owners: number[] = [];
  const byName = new Map<string, number[]>();
  selecting.forEach((p, i) => {
    for (const rule of p[dir]) {
      const r = rules.length;
      rules.push(rule);
      owners.push(i);
      for (const m of rule.ports) {
        if (m.kind !== "namedAnyProtocol") continue;
        const named = byName.get(m.name);
        if (named === undefined) byName.set(m.name, [r]);
        else if (named[named.length - 1] !== r) named.push(r);
      }
    }
  });
  flat = { tier, selecting, rules, owners, byPort: new Map(), byName, byNamespace: new Map(), verdicts: [] };
  flats[dir].set(selecting, flat);
  return flat;
}

/** The rules with a port entry for one kind of traffic. */
interface PortRules {
  /** By number (or every port), ascending. */
  readonly rules: readonly number[];
  /** By the names a destination gives the port ("" for none, else joined by newlines): `rules` and the rules naming one of them, ascending. */
  readonly candidates: Map<string, readonly number[]>;
  /** By those names, then by namespace: the walk for a pod off the host network in it, see planFor. */
  readonly plans: Map<string, Map<string, Plan>>;
}

/**
 * For the pods of one namespace: the candidate rules whose peers must be
 * asked (`ask`, in order), and the rule that decides for every such pod if
 * none of those matched first (`decided`, -1 if none).
 */
interface Plan {
  readonly ask: readonly number[];
  readonly decided: number;
}

const PROTOCOL_INDEX: Readonly<Record<Traffic["protocol"], number>> = { TCP: 0, UDP: 1, SCTP: 2 };

function rulesForPort(flat: TierFlat, t: Traffic): PortRules {
  const key = PROTOCOL_INDEX[t.protocol] * 65536 + t.port;
  const known = flat.byPort.get(key);
  if (known !== undefined) return known;
  const rules: number[] = [];
  for (let r = 0; r < flat.rules.length; r++) {
    // A named entry allows nothing without a destination: those are found by name (namesOf).
    if (flat.rules[r]!.ports.some((m) => tierPortAllows(m, undefined, t))) rules.push(r);
  }
  const made: PortRules = { rules, candidates: new Map([["", rules]]), plans: new Map() };
  // A caller sweeping every port must not grow the cache without bound: once full, it starts afresh.
  if (flat.byPort.size >= PORTS_KEPT) flat.byPort.clear();
  flat.byPort.set(key, made);
  return made;
}

/** How many kinds of traffic a list keeps the rules of. */
const PORTS_KEPT = 256;

/**
 * The names the destination gives the traffic's protocol and number that the
 * list's rules name ("DestinationNamedPort selects a destination port on a
 * pod based on the ContainerPort name"), joined by newlines; "" for none.
 */
function namesOf(flat: TierFlat, dstPod: Pod | undefined, t: Traffic): string {
  if (flat.byName.size === 0 || dstPod === undefined || dstPod.hostNetwork) return "";
  let names = "";
  for (const cp of dstPod.ports) {
    if (cp.name === undefined || cp.protocol !== t.protocol || cp.port !== t.port || !flat.byName.has(cp.name)) continue;
    names = names === "" ? cp.name : `${names}\n${cp.name}`;
  }
  return names;
}

function candidatesOf(flat: TierFlat, port: PortRules, names: string): readonly number[] {
  let rules = port.candidates.get(names);
  if (rules === undefined) {
    const all = new Set(port.rules);
    for (const name of names.split("\n")) for (const r of flat.byName.get(name) ?? []) all.add(r);
    rules = [...all].sort((x, y) => x - y);
    port.candidates.set(names, rules);
  }
  return rules;
}

function planFor(cluster: Cluster, flat: TierFlat, port: PortRules, names: string, candidates: readonly number[], ns: string): Plan {
  let byNs = port.plans.get(names);
  if (byNs === undefined) port.plans.set(names, (byNs = new Map()));
  let plan = byNs.get(ns);
  if (plan !== undefined) return plan;
  const table = namespaceTable(cluster, flat, ns);
  const ask: number[] = [];
  let decided = -1;
  for (const r of candidates) {
    if (table[r] === EVERY_POD) {
      decided = r;
      break;
    }
    if (table[r] === ASK) ask.push(r);
  }
  plan = { ask, decided };
  byNs.set(ns, plan);
  return plan;
}

/**
 * The index of the first rule that matches, or -1: the rules whose port
 * entries match (by number, or by a name the destination gives the port),
 * in order, until one's peers match the other end. For a pod at the other
 * end, what its namespace alone decides is known per namespace (planFor):
 * only the rules whose pods peers' labels or addresses decide are asked.
 */
function firstMatch(cluster: Cluster, flat: TierFlat, other: Endpoint, dstPod: Pod | undefined, t: Traffic): number {
  const port = rulesForPort(flat, t);
  const names = namesOf(flat, dstPod, t);
  const candidates = names === "" ? port.rules : candidatesOf(flat, port, names);
  if (other.kind === "pod" && !other.pod.hostNetwork) {
    const plan = planFor(cluster, flat, port, names, candidates, other.pod.namespace);
    for (const r of plan.ask) if (peersMatch(cluster, flat.rules[r]!, other)) return r;
    return plan.decided;
  }
  for (const r of candidates) if (peersMatch(cluster, flat.rules[r]!, other)) return r;
  return -1;
}

function peersMatch(cluster: Cluster, rule: TierRule, other: Endpoint): boolean {
  const peers = rule.peers;
  for (let k = 0; k < peers.length; k++) if (tierPeerMatches(cluster, peers[k]!, other)) return true;
  return false;
}

/** What a rule's peers say of the pods (off the host network) of one namespace. */
const NO_POD = 0;
const EVERY_POD = 1;
/** A pods peer's labels, or an address (nodes, networks), decide: the peers are asked. */
const ASK = 2;

/**
 * Per rule, what its peers say of the pods of namespace `ns` by the
 * namespace alone: a namespaces peer that selects it takes every pod of it;
 * a rule whose peers are all namespaces or pods peers that do not select it
 * takes none. Both are what tierPeerMatches answers for each such pod.
 */
function namespaceTable(cluster: Cluster, flat: TierFlat, ns: string): Uint8Array {
  let table = flat.byNamespace.get(ns);
  if (table !== undefined) return table;
  const selects = (sel: Selector) => namespaceSelected(cluster, sel, ns);
  table = new Uint8Array(flat.rules.length);
  flat.rules.forEach((rule, r) => {
    let says = NO_POD;
    for (const peer of rule.peers) {
      if (peer.kind === "namespaces" && selects(peer.namespaces)) {
        says = EVERY_POD;
        break;
      }
      if ((peer.kind === "pods" && selects(peer.namespaces)) || peer.kind === "nodes" || peer.kind === "networks") says = ASK;
    }
    table![r] = says;
  });
  flat.byNamespace.set(ns, table);
  return table;
}

/** Rule `r`'s verdict, made the first time it decides. */
function verdictAt(flat: TierFlat, r: number): TierVerdict {
  let v = flat.verdicts[r];
  if (v === undefined) {
    const i = flat.owners[r]!;
    v = flat.verdicts[r] = verdictOf(flat.tier, flat.selecting[i]!, flat.rules[r]!, flat.selecting, i);
  }
  return v;
}

/** The order of each tier's policies, made once per change of the cluster's policies or namespaces. */
export function tierOrder(cluster: Cluster): TierOrder {
  return tierState(cluster).order;
}

/**
 * The cluster's tier state for its current epoch: the order, and the
 * selecting lists made so far, by their policies' keys, so that pods with
 * the same selection share one list (and one TierFlat).
 */
function tierState(cluster: Cluster): TierState {
  const known = states.get(cluster);
  if (known !== undefined && known.epoch === cluster.tierEpoch) return known;
  const state: TierState = { epoch: cluster.tierEpoch, order: orderTierPolicies([...cluster.tierPolicies.values()].map((o) => o.policy)), lists: new Map() };
  states.set(cluster, state);
  return state;
}

interface TierState {
  readonly epoch: number;
  readonly order: TierOrder;
  readonly lists: Map<string, readonly TierPolicy[]>;
}

const states = new WeakMap<Cluster, TierState>();

/**
 * The policies of one tier that select a pod and have rules in `dir`, in
 * evaluation order. Kept per pod object (an updated pod is a new object)
 * while the cluster's tier epoch stands: most questions then read no
 * selector at all.
 */
export function tierPoliciesSelecting(cluster: Cluster, pod: Pod, dir: Direction, tier: Tier): readonly TierPolicy[] {
  return selectionOf(cluster, pod)[tier][dir];
}

/** Both tiers' selecting lists of a pod, both directions. */
function selectionOf(cluster: Cluster, pod: Pod): Selection {
  let s = selections.get(pod);
  if (s === undefined || s.cluster !== cluster || s.epoch !== cluster.tierEpoch) {
    const state = tierState(cluster);
    const pick = (ordered: readonly TierPolicy[], d: Direction) => {
      const out = ordered.filter((p) => p[d].length > 0 && subjectSelects(cluster, p.subject, pod));
      if (out.length === 0) return NO_TIER_POLICIES;
      const key = `${d}\n${out.map((p) => p.key).join("\n")}`;
      const shared = state.lists.get(key);
      if (shared !== undefined) return shared;
      state.lists.set(key, out);
      return out;
    };
    s = {
      cluster,
      epoch: cluster.tierEpoch,
      Admin: { ingress: pick(state.order.Admin, "ingress"), egress: pick(state.order.Admin, "egress") },
      Baseline: { ingress: pick(state.order.Baseline, "ingress"), egress: pick(state.order.Baseline, "egress") },
      flats: { Admin: {}, Baseline: {} },
    };
    selections.set(pod, s);
  }
  return s;
}

interface Selection {
  readonly cluster: Cluster;
  readonly epoch: number;
  readonly Admin: Readonly<Record<Direction, readonly TierPolicy[]>>;
  readonly Baseline: Readonly<Record<Direction, readonly TierPolicy[]>>;
  /** Each list's TierFlat, once asked for: found here without a lookup by list. */
  readonly flats: Record<Tier, Partial<Record<Direction, TierFlat>>>;
}

const selections = new WeakMap<Pod, Selection>();
const NO_TIER_POLICIES: readonly TierPolicy[] = [];

function skipped(subject: string | undefined, reason: TierDirectionReason): TierDirection {
  return { subject, reason, Admin: NONE.Admin, Baseline: NONE.Baseline };
}

const NO_POLICIES: readonly TierPolicyTrace[] = [];
/** Each tier's "none". */
export const NO_VERDICT: Readonly<Record<Tier, TierVerdict>> = { Admin: { action: "none", tier: "Admin" }, Baseline: { action: "none", tier: "Baseline" } };
const NONE: Readonly<Record<Tier, TierOutcome>> = {
  Admin: { verdict: NO_VERDICT.Admin, policies: NO_POLICIES },
  Baseline: { verdict: NO_VERDICT.Baseline, policies: NO_POLICIES },
};
