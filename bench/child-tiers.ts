/**
 * Check with and without the policy tiers, in one process: two services hold
 * the same generated profile, the second with the cluster-scoped policies of
 * tier-policies.ts added. The same questions are timed on each, uncached, as
 * child-check.ts times them, in rounds that alternate the two (without, with;
 * with, without; ...) after a full GC each, so that a noisy spell of the
 * machine hits both. Prints one JSON line.
 *
 * Arguments: PROFILE [SAMPLES-PER-ROUND] [ROUNDS].
 */
import type { Pod } from "../server/model/types.js";
import { tierPoliciesSelecting } from "../server/policy/tier-evaluate.js";
import { type Decision, PodwallService, SYSTEM } from "../server/service/index.js";
import { type CheckQuestion, checkQuestions, endsOf, referenceUs, type Round, timeRound, warmUp } from "./check-timing.js";
import { PROFILES, allObjects, generate } from "./generate.js";
import { type Pair, alternated, median, medianPair } from "./stats.js";
import { tierPolicies } from "./tier-policies.js";

const profile = PROFILES[process.argv[2] ?? "large"]!;
const perRound = Number(process.argv[3] ?? 40_000);
const roundCount = Number(process.argv[4] ?? 6);

const g = generate(profile);
const tiers = tierPolicies(g);
const loaded = async () => {
  const s = await PodwallService.start({ cacheSize: 0 });
  await s.applyObjects(SYSTEM, allObjects(g), true);
  return s;
};
const without = await loaded();
const withTiers = await loaded();
const t0 = performance.now();
await withTiers.applyObjects(SYSTEM, tiers);
const addMs = performance.now() - t0;
if (withTiers.cluster.tierPolicies.size !== tiers.length) throw new Error(`the model holds ${withTiers.cluster.tierPolicies.size} tier policies, not ${tiers.length}`);

const questions = checkQuestions(endsOf(g.pods));
warmUp(without, questions);
warmUp(withTiers, questions);

/** How many answers each tier decided, by direction: `decidedBy` of the answers to every question once. */
function decided(service: PodwallService): { answers: number; byTier: number; egress: Record<string, number>; ingress: Record<string, number> } {
  const egress: Record<string, number> = {};
  const ingress: Record<string, number> = {};
  let byTier = 0;
  const count = (into: Record<string, number>, d: Decision["egress"]) => {
    const by = d.decidedBy ?? "(none)";
    into[by] = (into[by] ?? 0) + 1;
    return by === "Admin" || by === "Baseline";
  };
  for (const q of questions) {
    const d = service.check(SYSTEM, q);
    const e = count(egress, d.egress);
    const i = count(ingress, d.ingress);
    if (e || i) byTier++;
  }
  return { answers: questions.length, byTier, egress, ingress };
}

/**
 * How many questions' source (egress) and destination (ingress) an
 * Admin-tier policy selects, and how many such policies select them on average.
 */
function selected(service: PodwallService, qs: readonly CheckQuestion[]): Record<"egress" | "ingress", { questions: number; meanPolicies: number }> {
  const c = service.cluster;
  const pod = (ref: string): Pod | undefined => c.pods.get(ref) ?? c.podsAt(ref)[0];
  const count = (dir: "egress" | "ingress") => {
    let questions = 0;
    let policies = 0;
    for (const q of qs) {
      const p = pod(dir === "egress" ? q.src : q.dst);
      const n = p ? tierPoliciesSelecting(c, p, dir, "Admin").length : 0;
      if (n > 0) questions++;
      policies += n;
    }
    return { questions, meanPolicies: policies / qs.length };
  };
  return { egress: count("egress"), ingress: count("ingress") };
}

const refUs = referenceUs(without.check(SYSTEM, { ...questions[0]!, explain: false }));
const services: Pair<PodwallService> = { without, with: withTiers };
let round = 0;
// A full GC before each condition's round; both conditions of a round ask the same questions.
const rounds = await alternated<Round>(roundCount, (c) => {
  globalThis.gc?.();
  return timeRound(services[c], questions, Math.floor(round++ / 2) * perRound, perRound);
});
// The round whose p99 ratio is the median: its figures are reported together.
const mid = medianPair(rounds, (r) => r.p99);
const pick = (k: "p50" | "p99" | "p999") => ({ without: median(rounds.map((r) => r.without[k])), with: median(rounds.map((r) => r.with[k])) });
process.stdout.write(
  `${JSON.stringify({
    profile: profile.name,
    pods: withTiers.cluster.pods.size,
    policies: withTiers.cluster.policyCount,
    tierPolicies: tiers.length,
    addMs,
    questions: questions.length,
    perRound,
    refUs,
    median: { p50: pick("p50"), p99: pick("p99"), p999: pick("p999") },
    midRound: { without: mid.without, with: mid.with, p50: mid.with.p50 / mid.without.p50, p99: mid.with.p99 / mid.without.p99, p999: mid.with.p999 / mid.without.p999 },
    rounds,
    decided: decided(withTiers),
    decidedWithout: decided(without),
    selected: selected(withTiers, questions),
  })}\n`,
);
