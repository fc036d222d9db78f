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
import type { DirectionVerdict } from "./evaluate.js";
import type { TierDirection, TierVerdict } from "./tier-evaluate.js";

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
  return composeVerdicts(d.Admin.verdict, np, d.Baseline.verdict);
}

/** Whether the Baseline tier is consulted after this Admin verdict and NetworkPolicy tier. */
export function baselineConsulted(admin: TierVerdict, np: NetworkPolicyTier): boolean {
  return (admin.action === "Pass" || admin.action === "none") && !np.isolated;
}

/**
 * The direction's answer from each tier's verdict; `baseline` is read only
 * where baselineConsulted says so. Verdicts are made once per rule that
 * decides (tier-evaluate.ts), so each combination's answer is made once too,
 * and whatever is made of it (an answer's view) can be kept with it.
 */
export function composeVerdicts(admin: TierVerdict, np: NetworkPolicyTier, baseline: TierVerdict): ComposedDirection {
  let known = byAdmin.get(admin);
  if (known === undefined) byAdmin.set(admin, (known = { alone: [admin], admin: undefined, npAllows: undefined, npDenies: undefined, with: new WeakMap() }));
  switch (admin.action) {
    case "Accept":
      return (known.admin ??= { allowed: true, decidedBy: "Admin", consulted: known.alone });
    case "Deny":
      return (known.admin ??= { allowed: false, decidedBy: "Admin", consulted: known.alone });
    case "Pass":
    case "none":
      break;
  }
  if (np.isolated) {
    return np.allowed
      ? (known.npAllows ??= { allowed: true, decidedBy: "NetworkPolicy", consulted: known.alone })
      : (known.npDenies ??= { allowed: false, decidedBy: "NetworkPolicy", consulted: known.alone });
  }
  let pair = known.with.get(baseline);
  if (pair === undefined) known.with.set(baseline, (pair = withBaseline([admin, baseline])));
  return pair;
}

function withBaseline(consulted: readonly [TierVerdict, TierVerdict]): ComposedDirection {
  switch (consulted[1].action) {
    case "Accept":
      return { allowed: true, decidedBy: "Baseline", consulted };
    case "Deny":
      return { allowed: false, decidedBy: "Baseline", consulted };
    case "Pass":
    case "none":
      return { allowed: true, decidedBy: "default", consulted };
  }
}

/** Per Admin verdict, the answers it leads to: its own (Accept, Deny), the NetworkPolicy tier's, or with each Baseline verdict. */
interface Composed {
  readonly alone: readonly TierVerdict[];
  admin: ComposedDirection | undefined;
  npAllows: ComposedDirection | undefined;
  npDenies: ComposedDirection | undefined;
  readonly with: WeakMap<TierVerdict, ComposedDirection>;
}

const byAdmin = new WeakMap<TierVerdict, Composed>();

/** The NetworkPolicy tier's answer for one direction, its own-node exception included. */
export function networkPolicyTier(v: DirectionVerdict, ownNode: boolean): NetworkPolicyTier {
  return { isolated: v.isolated, allowed: v.allowed || ownNode };
}
