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
import type { Direction, Pod } from "../model/types.js";
import type { Endpoint } from "./endpoint.js";
import type { Traffic } from "./evaluate.js";
import { type TierRuleResult, evaluateTierRule, subjectSelects, tierRuleMatches } from "./tier-match.js";
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
 * Both directions of a connection: the source's egress towards `dst` and the
 * destination's ingress from `src`. Each tier is evaluated whatever the other
 * says, so that the caller can compose them with the NetworkPolicy tier.
 * Without `explain`, only the verdicts are made: no trace of the policies and
 * rules evaluated.
 */
export function evaluateTiers(cluster: Cluster, src: Endpoint, dst: Endpoint, t: Traffic, explain = true): TierEvaluation {
  const dstPod = dst.kind === "pod" ? dst.pod : undefined;
  if (src.kind === "pod" && src.pod === dstPod) {
    return { egress: skipped(src.pod.key, "same-pod"), ingress: skipped(dstPod.key, "same-pod") };
  }
  return {
    egress: evaluateTierDirection(cluster, src, "egress", dst, dstPod, t, explain),
    ingress: evaluateTierDirection(cluster, dst, "ingress", src, dstPod, t, explain),
  };
}

/** One direction of the pod at `end`: `other` is the other end, `dstPod` resolves named ports. */
export function evaluateTierDirection(cluster: Cluster, end: Endpoint, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic, explain = true): TierDirection {
  if (end.kind !== "pod") return skipped(undefined, "not-a-pod");
  const pod = end.pod;
  if (pod.hostNetwork) return skipped(pod.key, "host-network");
  return {
    subject: pod.key,
    reason: "evaluated",
    Admin: evaluateTier(cluster, "Admin", pod, dir, other, dstPod, t, explain),
    Baseline: evaluateTier(cluster, "Baseline", pod, dir, other, dstPod, t, explain),
  };
}

/**
 * "CNPs with no ingress rules do not affect ingress traffic": a policy with
 * no rule in the direction is not listed. The first rule that matches, in
 * policy order then rule order, decides the tier.
 */
function evaluateTier(cluster: Cluster, tier: Tier, pod: Pod, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic, explain: boolean): TierOutcome {
  const selecting = tierPoliciesSelecting(cluster, pod, dir, tier);
  if (selecting.length === 0) return NONE[tier];
  if (!explain) {
    for (let i = 0; i < selecting.length; i++) {
      const p = selecting[i]!;
      for (const rule of p[dir]) if (tierRuleMatches(cluster, rule, other, dstPod, t)) return { verdict: verdictOf(tier, p, rule, selecting, i), policies: NO_POLICIES };
    }
    return NONE[tier];
  }
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

/** The order of each tier's policies, made once per change of the cluster's policies or namespaces. */
export function tierOrder(cluster: Cluster): TierOrder {
  const known = orders.get(cluster);
  if (known !== undefined && known.epoch === cluster.tierEpoch) return known.order;
  const order = orderTierPolicies([...cluster.tierPolicies.values()].map((o) => o.policy));
  orders.set(cluster, { epoch: cluster.tierEpoch, order });
  return order;
}

const orders = new WeakMap<Cluster, { readonly epoch: number; readonly order: TierOrder }>();

/**
 * The policies of one tier that select a pod and have rules in `dir`, in
 * evaluation order. Kept per pod object (an updated pod is a new object)
 * while the cluster's tier epoch stands: most questions then read no
 * selector at all.
 */
export function tierPoliciesSelecting(cluster: Cluster, pod: Pod, dir: Direction, tier: Tier): readonly TierPolicy[] {
  let s = selections.get(pod);
  if (s === undefined || s.cluster !== cluster || s.epoch !== cluster.tierEpoch) {
    const order = tierOrder(cluster);
    const pick = (ordered: readonly TierPolicy[], d: Direction) => {
      const out = ordered.filter((p) => p[d].length > 0 && subjectSelects(cluster, p.subject, pod));
      return out.length === 0 ? NO_TIER_POLICIES : out;
    };
    s = {
      cluster,
      epoch: cluster.tierEpoch,
      Admin: { ingress: pick(order.Admin, "ingress"), egress: pick(order.Admin, "egress") },
      Baseline: { ingress: pick(order.Baseline, "ingress"), egress: pick(order.Baseline, "egress") },
    };
    selections.set(pod, s);
  }
  return s[tier][dir];
}

interface Selection {
  readonly cluster: Cluster;
  readonly epoch: number;
  readonly Admin: Readonly<Record<Direction, readonly TierPolicy[]>>;
  readonly Baseline: Readonly<Record<Direction, readonly TierPolicy[]>>;
}

const selections = new WeakMap<Pod, Selection>();
const NO_TIER_POLICIES: readonly TierPolicy[] = [];

function skipped(subject: string | undefined, reason: TierDirectionReason): TierDirection {
  return { subject, reason, Admin: NONE.Admin, Baseline: NONE.Baseline };
}

const NO_POLICIES: readonly TierPolicyTrace[] = [];
const NONE: Readonly<Record<Tier, TierOutcome>> = {
  Admin: { verdict: { action: "none", tier: "Admin" }, policies: NO_POLICIES },
  Baseline: { verdict: { action: "none", tier: "Baseline" }, policies: NO_POLICIES },
};
