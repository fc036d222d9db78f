/**
 * How the benchmark times Check in process: the questions it asks (random
 * pairs of pods, one in eight by address, the ports generated policies name,
 * one in six over UDP), a reference operation that gauges the machine's pace,
 * and one round of uncached decisions timed one by one.
 */
import type { Decision, PodwallService } from "../server/service/index.js";
import { SYSTEM } from "../server/service/index.js";
import { type Manifest, rng } from "./generate.js";
import { percentile } from "./stats.js";

/** A pod as a question names it: by key, or by its address. */
export interface CheckEnd {
  readonly key: string;
  readonly ip: string | undefined;
}

export interface CheckQuestion {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

const PORTS = [8080, 8000, 9090, 50051, 443, 53];

/** The ends of generated pod manifests, in their order. */
export function endsOf(pods: readonly Manifest[]): CheckEnd[] {
  return pods.map((p) => {
    const m = p["metadata"] as { name: string; namespace: string };
    return { key: `${m.namespace}/${m.name}`, ip: (p["status"] as { podIP?: string } | undefined)?.podIP };
  });
}

/** `n` questions about random pairs of `pods`, the same for the same seed. */
export function checkQuestions(pods: readonly CheckEnd[], n = 4096, seed = 7): CheckQuestion[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = pods[Math.floor(rand() * pods.length)]!;
    const b = pods[Math.floor(rand() * pods.length)]!;
    // One in eight asks by address, as node agents and packet logs do.
    const dst = i % 8 === 0 ? (b.ip ?? b.key) : b.key;
    return { src: a.key, dst, port: PORTS[i % PORTS.length]!, protocol: i % 6 === 5 ? "UDP" : "TCP" };
  });
}

/** The median time of a JSON round trip of a decision-sized object, in µs: a gauge of the machine's speed during this run. */
export function referenceUs(sample: Decision): number {
  const times = new Float64Array(20_000);
  for (let i = 0; i < times.length; i++) {
    const s = process.hrtime.bigint();
    JSON.parse(JSON.stringify(sample));
    times[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  times.sort();
  return percentile(times, 0.5);
}

export interface Round {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly allowed: number;
}

/** Asks `count` questions from `from` on (cycling), each timed alone; percentiles in µs. */
export function timeRound(service: PodwallService, questions: readonly CheckQuestion[], from: number, count: number): Round {
  const times = new Float64Array(count);
  let allowed = 0;
  for (let i = 0; i < count; i++) {
    const q = questions[(from + i) % questions.length]!;
    const s = process.hrtime.bigint();
    const d = service.check(SYSTEM, q);
    times[i] = Number(process.hrtime.bigint() - s) / 1000;
    if (d.allowed) allowed++;
  }
  times.sort();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), p999: percentile(times, 0.999), allowed };
}

/** Asks `count` questions (cycling), untimed, so that the code is compiled and the caches are filled. */
export function warmUp(service: PodwallService, questions: readonly CheckQuestion[], count = 20_000): void {
  for (let i = 0; i < count; i++) service.check(SYSTEM, questions[i % questions.length]!);
}
