/**
 * A gRPC load generator in its own process: keeps `concurrency` Check calls
 * in flight for `seconds`, cycling through the questions, and prints the
 * completed calls per second. The same client for Podwall and the baseline.
 */
import { decisionClient } from "../client/grpc-client.js";

const [address, secondsText, concurrencyText, questionsJson] = process.argv.slice(2);
const questions = JSON.parse(questionsJson ?? "[]") as { src: string; dst: string; port: number }[];
const client = decisionClient(address!);
const seconds = Number(secondsText);
let done = 0;
let errors = 0;
let next = 0;
const end = performance.now() + seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const q = questions[next++ % questions.length]!;
    try {
      await client.unary("check", q);
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
process.stdout.write(`${JSON.stringify({ perSecond: done / elapsed, errors })}\n`);
client.close();
