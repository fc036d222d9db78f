/**
 * A gRPC load generator in its own process: keeps `concurrency` Check calls
 * in flight for `seconds`, cycling through the questions, and prints the
 * completed calls per second and the calls' latency percentiles (µs, from the
 * call to its answer). The same client for Podwall and the baseline.
 */
import { decisionClient } from "../client/grpc-client.js";
import { percentile } from "./stats.js";

const [address, secondsText, concurrencyText, questionsJson] = process.argv.slice(2);
const questions = JSON.parse(questionsJson ?? "[]") as { src: string; dst: string; port: number; protocol?: string }[];
const client = decisionClient(address!);
const seconds = Number(secondsText);
let done = 0;
let errors = 0;
let next = 0;
const latencies: number[] = [];
const end = performance.now() + seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const q = questions[next++ % questions.length]!;
    try {
      const s = process.hrtime.bigint();
      await client.unary("check", q);
      latencies.push(Number(process.hrtime.bigint() - s) / 1000);
      done++;
    } catch {
      errors++;
    }
  }
}

// Warm up, then measure.
await Promise.all(Array.from({ length: 8 }, () => client.unary("check", questions[0]!)));
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
const elapsed = (performance.now() - t0) / 1000;
const sorted = Float64Array.from(latencies).sort();
const [p50us, p99us, p999us] = [0.5, 0.99, 0.999].map((q) => percentile(sorted, q));
process.stdout.write(`${JSON.stringify({ perSecond: done / elapsed, errors, calls: done, p50us, p99us, p999us })}\n`);
client.close();
