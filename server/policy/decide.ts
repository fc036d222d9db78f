/**
 * Check's one question, all tiers: the NetworkPolicy evaluation (evaluate.ts)
 * and, when the model holds cluster-scoped policies, the Admin and Baseline
 * tiers around it (tier-evaluate.ts, tier-compose.ts). The rule compiler asks
 * the same functions, so the rules and Check cannot disagree.
 */
import type { Cluster } from "../model/cluster.js";
import type { Direction, Pod } from "../model/types.js";
import type { Endpoint } from "./endpoint.js";
import { type DecisionReason, type Evaluation, type Traffic, evaluate, evaluateSubject } from "./evaluate.js";
import { type ComposedDirection, baselineConsulted, composeDirection, composeVerdicts, networkPolicyTier, type NetworkPolicyTier } from "./tier-compose.js";
import { NO_VERDICT, type TierEvaluation, evaluateTiers, tierVerdict } from "./tier-evaluate.js";

export interface Decided {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The NetworkPolicy tier. */
  readonly np: Evaluation;
  /** The tiers, when the model holds cluster-scoped policies: how they composed, and with explain each one's trace. */
  readonly tiers: TieredDirections | undefined;
}

export interface TieredDirections {
  /** With explain: every tier's policies and rules as far as evaluated. */
  readonly evaluation: TierEvaluation | undefined;
  readonly egress: ComposedDirection;
  readonly ingress: ComposedDirection;
}

export function decide(cluster: Cluster, src: Endpoint, dst: Endpoint, t: Traffic, explain = true): Decided {
  const np = evaluate(cluster, src, dst, t, explain);
  if (cluster.tierPolicies.size === 0) return { allowed: np.allowed, reason: np.reason, np, tiers: undefined };
  const ownNode = np.reason === "own-node";
  let egress: ComposedDirection;
  let ingress: ComposedDirection;
  let evaluation: TierEvaluation | undefined;
  if (explain) {
    evaluation = evaluateTiers(cluster, src, dst, t);
    egress = composeDirection(evaluation.egress, networkPolicyTier(np.egress, ownNode));
    ingress = composeDirection(evaluation.ingress, networkPolicyTier(np.ingress, ownNode));
  } else {
    const dstPod = dst.kind === "pod" ? dst.pod : undefined;
    const samePod = src.kind === "pod" && src.pod === dstPod;
    egress = composed(cluster, samePod ? undefined : src, "egress", dst, dstPod, t, networkPolicyTier(np.egress, ownNode));
    ingress = composed(cluster, samePod ? undefined : dst, "ingress", src, dstPod, t, networkPolicyTier(np.ingress, ownNode));
  }
  // "A Pod connecting to its own Pod IP is not subject to CNP", nor to NetworkPolicy.
  if (np.reason === "same-pod") return { allowed: true, reason: "same-pod", np, tiers: { evaluation, egress, ingress } };
  const allowed = egress.allowed && ingress.allowed;
  // The exception for the pod's own node belongs to the NetworkPolicy tier (networkPolicyTier): it allows a
  // direction a NetworkPolicy isolates, and an Admin Deny of the node (a `nodes` or `networks` peer) still denies it.
  const reason = ownNode && allowed ? "own-node" : "policy";
  return { allowed, reason, np, tiers: { evaluation, egress, ingress } };
}

/**
 * One direction's composed answer without explanation: the tiers' verdicts
 * are asked only of a pod off the host network (`end` undefined: a pod
 * reaching itself), and the Baseline tier only where it is consulted.
 */
function composed(cluster: Cluster, end: Endpoint | undefined, dir: Direction, other: Endpoint, dstPod: Pod | undefined, t: Traffic, np: NetworkPolicyTier): ComposedDirection {
  const pod = end?.kind === "pod" && !end.pod.hostNetwork ? end.pod : undefined;
  const admin = pod === undefined ? NO_VERDICT.Admin : tierVerdict(cluster, "Admin", pod, dir, other, dstPod, t);
  const baseline = pod === undefined || !baselineConsulted(admin, np) ? NO_VERDICT.Baseline : tierVerdict(cluster, "Baseline", pod, dir, other, dstPod, t);
  return composeVerdicts(admin, np, baseline);
}

/**
 * One direction of one pod, all tiers, without explanation: whether `subject`
 * lets the connection with `peer` through in `dir` (`dstPod` resolves named
 * ports). The exceptions of the whole connection (itself, its own node) are
 * the caller's.
 */
export function directionAllowed(cluster: Cluster, subject: Pod, dir: Direction, peer: Endpoint, dstPod: Pod | undefined, t: Traffic): boolean {
  const np = evaluateSubject(cluster, subject, dir, peer, dstPod, t, false);
  if (cluster.tierPolicies.size === 0) return np.allowed;
  return composed(cluster, { kind: "pod", pod: subject, ip: undefined }, dir, peer, dstPod, t, { isolated: np.isolated, allowed: np.allowed }).allowed;
}
