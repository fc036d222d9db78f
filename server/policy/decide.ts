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
import { type ComposedDirection, composeDirection, composeEvaluation } from "./tier-compose.js";
import { type TierEvaluation, evaluateTierDirection, evaluateTiers } from "./tier-evaluate.js";

export interface Decided {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The NetworkPolicy tier. */
  readonly np: Evaluation;
  /** The tiers, when the model holds cluster-scoped policies: each one's verdicts, and how they composed. */
  readonly tiers: TieredDirections | undefined;
}

export interface TieredDirections {
  readonly evaluation: TierEvaluation;
  readonly egress: ComposedDirection;
  readonly ingress: ComposedDirection;
}

export function decide(cluster: Cluster, src: Endpoint, dst: Endpoint, t: Traffic, explain = true): Decided {
  const np = evaluate(cluster, src, dst, t, explain);
  if (cluster.tierPolicies.size === 0) return { allowed: np.allowed, reason: np.reason, np, tiers: undefined };
  const evaluation = evaluateTiers(cluster, src, dst, t, explain);
  const composed = composeEvaluation(evaluation, np);
  // The own-node exception is the NetworkPolicy tier's: it stands where that tier decided or nothing did.
  const reason = np.reason === "own-node" && composed.allowed ? "own-node" : composed.reason;
  return { allowed: composed.allowed, reason, np, tiers: { evaluation, egress: composed.egress, ingress: composed.ingress } };
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
  const tiers = evaluateTierDirection(cluster, { kind: "pod", pod: subject, ip: undefined }, dir, peer, dstPod, t, false);
  return composeDirection(tiers, { isolated: np.isolated, allowed: np.allowed }).allowed;
}
