/**
 * In-process Check latency and memory for one profile, in a fresh process so
 * that its RSS is this profile's alone: loads the profile, then times
 * uncached decisions one by one. Prints one JSON line.
 */
import { PodwallService } from "../server/service/index.js";
import { PROFILES, allObjects, generate, rng } from "./generate.js";
import { percentile } from "./stats.js";

const profile = PROFILES[process.argv[2] ?? "large"]!;
const samples = Number(process.argv[3] ?? 100_000);
let objects: unknown[] | undefined = allObjects(generate(profile));
const service = new PodwallService({ cacheSize: 0 });
const t0 = performance.now();
service.applyObjects(objects, true);
const loadMs = performance.now() - t0;
objects = undefined;
globalThis.gc?.();
const rssMB = process.memoryUsage().rss / 2 ** 20;

const pods = [...service.cluster.pods.values()];
const rand = rng(7);
const ports = [8080, 8000, 9090, 50051, 443, 53];
const questions = Array.from({ length: 4096 }, (_, i) => {
  const a = pods[Math.floor(rand() * pods.length)]!;
  const b = pods[Math.floor(rand() * pods.length)]!;
  // One in eight asks by address, as node agents and packet logs do.
  const dst = i % 8 === 0 ? b.ips[0]?.text ?? b.key : b.key;
  return { src: a.key, dst, port: ports[i % ports.length]!, protocol: i % 6 === 5 ? "UDP" : "TCP" };
});
for (let i = 0; i < 20_000; i++) service.check(questions[i % questions.length]!);
const times = new Float64Array(samples);
let allowed = 0;
for (let i = 0; i < samples; i++) {
  const q = questions[i % questions.length]!;
  const s = process.hrtime.bigint();
  const d = service.check(q);
  times[i] = Number(process.hrtime.bigint() - s) / 1000;
  if (d.allowed) allowed++;
}
times.sort();
process.stdout.write(
  `${JSON.stringify({ profile: profile.name, loadMs, rssMB, p50us: percentile(times, 0.5), p99us: percentile(times, 0.99), allowedShare: allowed / samples, pods: pods.length, policies: service.cluster.policyCount })}\n`,
);
