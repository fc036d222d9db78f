/**
 * In-process Check latency and memory for one profile, in a fresh process so
 * that its RSS is this profile's alone: loads the profile, then times
 * uncached decisions one by one, in rounds. Prints one JSON line.
 */
import { PodwallService, SYSTEM } from "../server/service/index.js";
import { checkQuestions, referenceUs, type Round, timeRound, warmUp } from "./check-timing.js";
import { PROFILES, allObjects, generate } from "./generate.js";
import { median } from "./stats.js";

const profile = PROFILES[process.argv[2] ?? "large"]!;
const samples = Number(process.argv[3] ?? 100_000);
let objects: unknown[] | undefined = allObjects(generate(profile));
const service = await PodwallService.start({ cacheSize: 0 });
const t0 = performance.now();
await service.applyObjects(SYSTEM, objects, true);
const loadMs = performance.now() - t0;
objects = undefined;
globalThis.gc?.();
const rssMB = process.memoryUsage().rss / 2 ** 20;

const pods = [...service.cluster.pods.values()];
const questions = checkQuestions(pods.map((p) => ({ key: p.key, ip: p.ips[0]?.text })));
warmUp(service, questions);
const refUs = referenceUs(service.check(SYSTEM, { ...questions[0]!, explain: false }));

// In rounds: a noisy spell on a shared machine spoils a round, not the figure,
// which is the median round's percentile.
const ROUNDS = 5;
const perRound = Math.ceil(samples / ROUNDS);
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(timeRound(service, questions, r * perRound, perRound));
const allowed = rounds.reduce((n, r) => n + r.allowed, 0);
process.stdout.write(
  `${JSON.stringify({
    profile: profile.name,
    loadMs,
    rssMB,
    p50us: median(rounds.map((r) => r.p50)),
    p99us: median(rounds.map((r) => r.p99)),
    refUs,
    rounds: rounds.map((r) => ({ p50: r.p50, p99: r.p99 })),
    allowedShare: allowed / (perRound * ROUNDS),
    pods: pods.length,
    policies: service.cluster.policyCount,
  })}\n`,
);
