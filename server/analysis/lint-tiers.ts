/**
 * The linter's findings on the cluster-scoped policies (ClusterNetworkPolicy,
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy): rules that never decide
 * what they seem to. Which pods a policy selects, and whether a NetworkPolicy
 * isolates a pod, are asked of the functions Check decides with
 * (tierPoliciesSelecting, isolatingPolicies), so lint and Check cannot
 * disagree; that one rule matches everything another does is proved from the
 * rules (tier-cover.ts), and nothing that cannot be proved is reported.
 *
 * | code                | finding                                                                   |
 * |---------------------|---------------------------------------------------------------------------|
 * | tier-pass-undecided | an Admin Pass after which nothing decides for some selected pod           |
 * | tier-deny-shadowed  | an Admin Deny that an earlier Accept or Pass matches first for every pod  |
 * | baseline-overridden | a Baseline rule whose every selected pod a NetworkPolicy isolates         |
 * | tier-domain-names   | a domainNames peer, which matches no connection                           |
 */
import { describeObject } from "../manifests/collect.js";
import type { Cluster } from "../model/cluster.js";
import type { TierPolicy, TierRule } from "../model/tier-types.js";
import type { Direction, Pod, TierPolicyObject } from "../model/types.js";
import { isolatingPolicies } from "../policy/match.js";
import { tierPoliciesSelecting } from "../policy/tier-evaluate.js";
import { DOMAIN_NAMES_UNENFORCEABLE } from "../policy/tier-policy.js";
import { byKey, count, list } from "./lint-words.js";
import { ruleCovers } from "./tier-cover.js";

export type TierFindingCode = "tier-pass-undecided" | "tier-deny-shadowed" | "baseline-overridden" | "tier-domain-names";

export interface TierFinding {
  readonly code: TierFindingCode;
  readonly object: string;
  readonly field: string;
  readonly message: string;
}

const DIRECTIONS: readonly Direction[] = ["ingress", "egress"];

/** Every finding on the model's cluster-scoped policies, in no particular order. */
export function lintTierPolicies(cluster: Cluster): TierFinding[] {
  const out: TierFinding[] = [];
  const pods = [...cluster.pods.values()].sort(byKey);
  for (const o of cluster.tierPolicies.values()) {
    const object = describeObject(o);
    for (const dir of DIRECTIONS) {
      const rules = o.policy[dir];
      if (rules.length === 0) continue;
      const selected = pods.filter((pod) => tierPoliciesSelecting(cluster, pod, dir, o.policy.tier).includes(o.policy));
      rules.forEach((rule, k) => {
        const f = findingOf(cluster, o, dir, rule, k, selected);
        if (f !== undefined) out.push({ ...f, object });
      });
    }
    lintDomainNames(o, object, out);
  }
  return out;
}

/** What one rule may be told, given the pods its policy selects in its direction. */
function findingOf(cluster: Cluster, o: TierPolicyObject, dir: Direction, rule: TierRule, k: number, selected: readonly Pod[]): Omit<TierFinding, "object"> | undefined {
  if (selected.length === 0) return undefined;
  if (o.policy.tier === "Baseline") return baselineOverridden(cluster, dir, rule, selected);
  switch (rule.action) {
    case "Pass":
      return passUndecided(cluster, dir, rule, selected);
    case "Deny":
      return denyShadowed(cluster, o.policy, dir, k, selected);
    case "Accept":
      return undefined;
  }
}

/**
 * "When the Pass action is matched at the Admin tier, NetworkPolicy will
 * apply next or if there is no NetworkPolicy match, Baseline policies will be
 * evaluated", and after them "the default kubernetes policy is applied, which
 * says that all pods can communicate with each other". For a pod that no
 * NetworkPolicy isolates and no Baseline-tier policy selects in the
 * direction, nothing comes between the Pass and that default.
 */
function passUndecided(cluster: Cluster, dir: Direction, rule: TierRule, selected: readonly Pod[]): Omit<TierFinding, "object"> | undefined {
  const open = selected.filter((pod) => isolatingPolicies(cluster, pod, dir).length === 0 && tierPoliciesSelecting(cluster, pod, dir, "Baseline").length === 0);
  const first = open[0];
  if (first === undefined) return undefined;
  const one = open.length === 1;
  const who = one ? first.key : `${open.length} pods (e.g. ${first.key})`;
  const of = open.length === selected.length ? "" : ` of the ${count(selected.length, "pod")} the policy selects`;
  return {
    code: "tier-pass-undecided",
    field: `${rule.field}.action`,
    message:
      `for ${who}${of}, nothing after this Pass decides ${dir}: no NetworkPolicy isolates ${one ? "it" : "them"} for ${dir} and no Baseline-tier policy ` +
      `selects ${one ? "it" : "them"} for ${dir}, so the Pass behaves as the default allow; write Accept if allowing is meant`,
  };
}

/**
 * An Admin Deny that never decides: for every pod its policy selects, a rule
 * evaluated before it ("policies with lower priority values have higher
 * precedence"; within a policy, "the order in which the rule is written")
 * accepts or passes every connection the Deny matches, so the Deny is never
 * the first rule that matches.
 */
function denyShadowed(cluster: Cluster, policy: TierPolicy, dir: Direction, k: number, selected: readonly Pod[]): Omit<TierFinding, "object"> | undefined {
  const deny = policy[dir][k]!;
  if (deny.peers.every((p) => p.kind === "domainNames")) return undefined;
  const earlier = new Map<string, string>();
  for (const pod of selected) {
    const before = rulesBefore(tierPoliciesSelecting(cluster, pod, dir, "Admin"), policy, dir, k);
    const cover = before.find((r) => r.rule.action !== "Deny" && ruleCovers(r.rule, deny));
    if (cover === undefined) return undefined;
    earlier.set(`${cover.policy.key} ${cover.rule.field}`, `${cover.policy.key} ${cover.rule.field} (${cover.rule.actionWord})`);
  }
  const by = [...earlier.values()];
  return {
    code: "tier-deny-shadowed",
    field: deny.field,
    message:
      `for ${selected.length === 1 ? `the one pod the policy selects, ${selected[0]!.key}` : `each of the ${selected.length} pods the policy selects (e.g. ${selected[0]!.key})`}, ` +
      `${by.length === 1 ? by[0] : `a rule (${list(by)})`} evaluated before this Deny matches every connection it matches, so this Deny never decides anything`,
  };
}

/** The rules evaluated before rule k of `policy`, in order, among the policies selecting a pod (in tier order). */
function rulesBefore(selecting: readonly TierPolicy[], policy: TierPolicy, dir: Direction, k: number): { policy: TierPolicy; rule: TierRule }[] {
  const out: { policy: TierPolicy; rule: TierRule }[] = [];
  for (const p of selecting) {
    const own = p === policy;
    for (const rule of own ? p[dir].slice(0, k) : p[dir]) out.push({ policy: p, rule });
    if (own) break;
  }
  return out;
}

/**
 * "v1.NetworkPolicy always makes a final decision for selected pods. Further
 * evaluation only happens for Pods not selected by a v1.NetworkPolicy": a
 * Baseline-tier rule applies to none of the pods a NetworkPolicy isolates.
 */
function baselineOverridden(cluster: Cluster, dir: Direction, rule: TierRule, selected: readonly Pod[]): Omit<TierFinding, "object"> | undefined {
  if (selected.some((pod) => isolatingPolicies(cluster, pod, dir).length === 0)) return undefined;
  const first = selected[0]!;
  const np = isolatingPolicies(cluster, first, dir)[0]!;
  const which =
    selected.length === 1
      ? `the one pod the policy selects, ${first.key}, is isolated for ${dir} by NetworkPolicy ${np.key}, which overrides`
      : `the ${selected.length} pods the policy selects are all isolated for ${dir} by NetworkPolicies (e.g. ${first.key} by ${np.key}), which override`;
  return { code: "baseline-overridden", field: rule.field, message: `${which} the Baseline tier: this rule never applies` };
}

/** "DomainNames provides a way to specify domain names as peers": Podwall matches by address, and a name is no address. */
function lintDomainNames(o: TierPolicyObject, object: string, out: TierFinding[]): void {
  for (const rule of o.policy.egress) {
    for (const peer of rule.peers) {
      if (peer.kind !== "domainNames") continue;
      out.push({ code: "tier-domain-names", object, field: `${peer.field}.domainNames`, message: `domainNames ${list(peer.domainNames)}: ${DOMAIN_NAMES_UNENFORCEABLE}` });
    }
  }
}
