/**
 * The tiers put together: Admin, then NetworkPolicy, then Baseline, then the
 * default allow, for each direction; a connection flows when both directions
 * allow it.
 *
 * "If Admin tier has made a final decision (Accept or Deny) on a connection,
 * then no further evaluation is done." "v1.NetworkPolicy always makes a final
 * decision for selected pods. Further evaluation only happens for Pods not
 * selected by a v1.NetworkPolicy." "When the Pass action is matched at the
 * Admin tier, NetworkPolicy will apply next or if there is no NetworkPolicy
 * match, Baseline policies will be evaluated." "If Baseline tier has made a
 * final decision (Accept or Deny) on a connection, then no further evaluation
 * is done." A Baseline Pass skips the rest of the Baseline tier, and the next
 * tier is the default: allowed.
 */
import type { DirectionVerdict, Evaluation } from "./evaluate.js";
import type { TierDirection, TierEvaluation, TierVerdict } from "./tier-evaluate.js";

/** The tier whose answer stands; `default` is "all pods can communicate with each other". */
export type TierDecider = "Admin" | "NetworkPolicy" | "Baseline" | "default";

/**
 * The NetworkPolicy tier's answer for one direction of one pod: `isolated`
 * when a NetworkPolicy selects the pod for that direction, and then whether
 * it allows the connection, the NetworkPolicy exceptions included (traffic to
 * and from the pod's own node).
 */
export interface NetworkPolicyTier {
  readonly isolated: boolean;
  readonly allowed: boolean;
}

export interface ComposedDirection {
  readonly allowed: boolean;
  readonly decidedBy: TierDecider;
  /** The cluster-scoped tiers' verdicts in the order consulted: each but a deciding last one is Pass or none. */
  readonly consulted: readonly TierVerdict[];
}

export function composeDirection(d: TierDirection, np: NetworkPolicyTier): ComposedDirection {
  const admin = d.Admin.verdict;
  switch (admin.action) {
    case "Accept":
      return { allowed: true, decidedBy: "Admin", consulted: [admin] };
    case "Deny":
      return { allowed: false, decidedBy: "Admin", consulted: [admin] };
    case "Pass":
    case "none":
      break;
  }
  if (np.isolated) return { allowed: np.allowed, decidedBy: "NetworkPolicy", consulted: [admin] };
  const baseline = d.Baseline.verdict;
  switch (baseline.action) {
    case "Accept":
      return { allowed: true, decidedBy: "Baseline", consulted: [admin, baseline] };
    case "Deny":
      return { allowed: false, decidedBy: "Baseline", consulted: [admin, baseline] };
    case "Pass":
    case "none":
      return { allowed: true, decidedBy: "default", consulted: [admin, baseline] };
  }
}

/**
 * A pod reaching itself is allowed: "A Pod connecting to its own Pod IP is
 * not subject to CNP", nor to NetworkPolicy. Otherwise each direction is
 * composed.
 */
export interface TierDecision {
  readonly allowed: boolean;
  readonly reason: "policy" | "same-pod";
  readonly egress: ComposedDirection;
  readonly ingress: ComposedDirection;
}

/**
 * Composes the tiers with the NetworkPolicy evaluation of the same
 * connection (evaluate.ts). The NetworkPolicy exception for the pod's own
 * node belongs to the NetworkPolicy tier: it allows the direction when a
 * NetworkPolicy isolates it, and an Admin Deny of the node (a `nodes` or
 * `networks` peer) still denies it.
 */
export function composeEvaluation(tiers: TierEvaluation, np: Evaluation): TierDecision {
  const ownNode = np.reason === "own-node";
  const egress = composeDirection(tiers.egress, networkPolicyTier(np.egress, ownNode));
  const ingress = composeDirection(tiers.ingress, networkPolicyTier(np.ingress, ownNode));
  if (np.reason === "same-pod") return { allowed: true, reason: "same-pod", egress, ingress };
  return { allowed: egress.allowed && ingress.allowed, reason: "policy", egress, ingress };
}

function networkPolicyTier(v: DirectionVerdict, ownNode: boolean): NetworkPolicyTier {
  return { isolated: v.isolated, allowed: v.allowed || ownNode };
}
