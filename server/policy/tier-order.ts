/**
 * The order in which the cluster-scoped policies of a tier are evaluated.
 *
 * "Priority is a value from 0 to 1000 indicating the precedence of the policy
 * within its tier. Policies with lower priority values have higher precedence,
 * and are checked before policies with higher priority values in the same
 * tier." What upstream leaves open is decided here, once:
 *
 * - Equal priorities. "If two (or more) policies in the same tier with the
 *   same priority could match a connection, then the implementation can apply
 *   any of the matching policies to the connection." Podwall applies them by
 *   kind (ClusterNetworkPolicy, then AdminNetworkPolicy: the order of
 *   TIER_KINDS, the current API version first), then by name in code-point
 *   order, so the same model always gives the same answer. An explanation
 *   whose deciding policy shares its priority with another policy selecting
 *   the same pod says so (`precedence.kind: "tie"`), since the user cannot
 *   rely on that order.
 * - The BaselineAdminNetworkPolicy among Baseline-tier ClusterNetworkPolicies.
 *   It has no priority ("Only one baseline admin network policy with
 *   metadata.name="default" can be created in the cluster") and was the
 *   cluster's one default posture, evaluated just before the default allow.
 *   Podwall keeps it there: after every Baseline-tier ClusterNetworkPolicy,
 *   whatever their priorities. Every priority of the v1alpha2 range then keeps
 *   its meaning (priority 1000 still precedes it), no number is made up for
 *   it, and moving from the v1alpha1 object to ClusterNetworkPolicies is
 *   additive: each Baseline ClusterNetworkPolicy created takes precedence over
 *   the object it replaces, until that object is deleted.
 */
import type { TierPolicy } from "../model/tier-types.js";
import { TIER_KINDS } from "../model/tier-types.js";

/** How policies of one tier with one priority are ordered. */
export const TIE_ORDER = "equal priorities are applied by kind (ClusterNetworkPolicy, then AdminNetworkPolicy), then by name";

/** Where the BaselineAdminNetworkPolicy stands in the Baseline tier. */
export const BASELINE_ADMIN_ORDER = "a BaselineAdminNetworkPolicy is applied after every Baseline-tier ClusterNetworkPolicy";

/** The policies of each tier, in evaluation order. Made once per set of policies and held by whoever owns that set. */
export interface TierOrder {
  readonly Admin: readonly TierPolicy[];
  readonly Baseline: readonly TierPolicy[];
}

export function orderTierPolicies(policies: readonly TierPolicy[]): TierOrder {
  const Admin = policies.filter((p) => p.tier === "Admin").sort(comparePolicies);
  const Baseline = policies.filter((p) => p.tier === "Baseline").sort(comparePolicies);
  return { Admin, Baseline };
}

/**
 * Where a policy stands in its tier, for the explanation:
 * - priority: its priority alone places it among the policies selecting the pod;
 * - tie: other policies selecting the pod share its priority (both undefined
 *   for BaselineAdminNetworkPolicies), and TIE_ORDER placed them;
 * - last: a BaselineAdminNetworkPolicy, placed by BASELINE_ADMIN_ORDER.
 */
export type TierPrecedence =
  | { readonly kind: "priority"; readonly priority: number }
  | { readonly kind: "tie"; readonly priority: number | undefined; readonly tiedWith: readonly string[]; readonly order: string }
  | { readonly kind: "last"; readonly order: string };

/**
 * The precedence of `selecting[i]` among the policies of one tier that select
 * a pod in one direction (in evaluation order, so equal priorities are
 * neighbours).
 */
export function precedenceOf(selecting: readonly TierPolicy[], i: number): TierPrecedence {
  const p = selecting[i]!;
  const tiedWith: string[] = [];
  for (let j = i - 1; j >= 0 && selecting[j]!.priority === p.priority; j--) tiedWith.unshift(selecting[j]!.key);
  for (let j = i + 1; j < selecting.length && selecting[j]!.priority === p.priority; j++) tiedWith.push(selecting[j]!.key);
  if (tiedWith.length > 0) return { kind: "tie", priority: p.priority, tiedWith, order: TIE_ORDER };
  if (p.priority === undefined) return { kind: "last", order: BASELINE_ADMIN_ORDER };
  return { kind: "priority", priority: p.priority };
}

/** Lower priority first; no priority (BaselineAdminNetworkPolicy) last; then kind, then name. */
function comparePolicies(a: TierPolicy, b: TierPolicy): number {
  if (a.priority !== b.priority) {
    if (a.priority === undefined) return 1;
    if (b.priority === undefined) return -1;
    return a.priority - b.priority;
  }
  const kinds = TIER_KINDS.indexOf(a.kind) - TIER_KINDS.indexOf(b.kind);
  if (kinds !== 0) return kinds;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
