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
import type { Tier, TierAction, TierActionWord, TierPolicy } from "../model/tier-types.js";
import type { Direction, Pod } from "../model/types.js";
import type { Endpoint } from "./endpoint.js";
import type { Traffic } from "./evaluate.js";
import { type TierRuleResult, evaluateTierRule, subjectSelects } from "./tier-match.js";
import { type TierOrder, type TierPrecedence, precedenceOf } from "./tier-order.js";

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
 */
export function evaluateTiers(cluster: Cluster, order: TierOrder, src: Endpoint, dst: Endpoint, t: Traffic): TierEvaluation {
  const dstPod = dst.kind === "pod" ? dst.pod : undefined;
  if (src.kind === "pod" && src.pod === dstPod) {
    return { egress: skipped(src.pod.key, "same-pod"), ingress: skipped(dstPod.key, "same-pod") };
  }
  return {
    egress: evaluateTierDirection(cluster, order, src, "egress", dst, dstPod, t),
    ingress: evaluateTierDirection(cluster, order, dst, "ingress", src, dstPod, t),
  };
}

/** One direction of the pod at `end`: `other` is the other end, `dstPod` resolves named ports. */
export function evaluateTierDirection(cluster: Cluster, order: TierOrder, end: Endpoint, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic): TierDirection {
  if (end.kind !== "pod") return skipped(undefined, "not-a-pod");
  const pod = end.pod;
  if (pod.hostNetwork) return skipped(pod.key, "host-network");
  return {
    subject: pod.key,
    reason: "evaluated",
    Admin: evaluateTier(cluster, order.Admin, "Admin", pod, dir, other, dstPod, t),
    Baseline: evaluateTier(cluster, order.Baseline, "Baseline", pod, dir, other, dstPod, t),
  };
}

/**
 * "CNPs with no ingress rules do not affect ingress traffic": a policy with
 * no rule in the direction is not listed. The first rule that matches, in
 * policy order then rule order, decides the tier.
 */
function evaluateTier(cluster: Cluster, ordered: readonly TierPolicy[], tier: Tier, pod: Pod, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic): TierOutcome {
  const selecting = ordered.filter((p) => p[dir].length > 0 && subjectSelects(cluster, p.subject, pod));
  const policies: TierPolicyTrace[] = [];
  for (let i = 0; i < selecting.length; i++) {
    const p = selecting[i]!;
    const precedence = precedenceOf(selecting, i);
    const rules: TierRuleResult[] = [];
    policies.push({ policy: p.key, precedence, rules });
    for (const rule of p[dir]) {
      const r = evaluateTierRule(cluster, rule, other, dstPod, t);
      rules.push(r);
      if (r.result !== "matched") continue;
      const verdict: TierVerdict = {
        action: rule.action,
        tier,
        policy: p.key,
        priority: p.priority,
        rule: rule.field,
        name: rule.name,
        actionWord: rule.actionWord,
        precedence,
      };
      return { verdict, policies };
    }
  }
  return { verdict: { action: "none", tier }, policies };
}

function skipped(subject: string | undefined, reason: TierDirectionReason): TierDirection {
  return { subject, reason, Admin: NONE.Admin, Baseline: NONE.Baseline };
}

const NO_POLICIES: readonly TierPolicyTrace[] = [];
const NONE: Readonly<Record<Tier, TierOutcome>> = {
  Admin: { verdict: { action: "none", tier: "Admin" }, policies: NO_POLICIES },
  Baseline: { verdict: { action: "none", tier: "Baseline" }, policies: NO_POLICIES },
};
