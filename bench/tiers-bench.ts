/**
 * Check on large with 100 Admin-tier policies and the BaselineAdminNetworkPolicy
 * added (tier-policies.ts), as a ratio to the same model without them, the
 * same questions asked of both: in process and uncached (child-tiers.ts), then
 * through gRPC, one caller, to two servers in child processes with the
 * decision cache off. The two conditions are measured in alternating rounds
 * and the median round's ratio is the figure.
 */
import { type CheckQuestion, type Round, checkQuestions, endsOf } from "./check-timing.js";
import { PROFILES, generate } from "./generate.js";
import { type Child, type Load, child, load, run } from "./processes.js";
import type { Row } from "./soak-bench.js";
import { type Pair, alternated, medianPair } from "./stats.js";

type Percentiles = { p50: number; p99: number; p999: number };

/** What child-tiers.ts prints. */
interface TierFigures {
  pods: number;
  policies: number;
  tierPolicies: number;
  addMs: number;
  questions: number;
  perRound: number;
  refUs: number;
  midRound: Pair<Round> & Percentiles;
  rounds: Pair<Round>[];
  decided: { answers: number; byTier: number; egress: Record<string, number>; ingress: Record<string, number> };
  selected: Record<"egress" | "ingress", { questions: number; meanPolicies: number }>;
}

/** What grpc-load.ts measures besides the rate. */
type GrpcLoad = Load & { calls: number; p50us: number; p99us: number; p999us: number };

/** The gRPC questions: the first of child-tiers.ts's, as many as one argument of a process may carry. */
const SERVED_QUESTIONS = 1000;

export async function tiersSection(add: (r: Row) => void, opts: { quick: boolean; seconds: number }): Promise<void> {
  console.error("Check with the policy tiers: 100 Admin-tier policies and 1 Baseline added to large, ÷ without");
  const t = await run<TierFigures>("child-tiers.ts", ["large", opts.quick ? "20000" : "60000", opts.quick ? "4" : "6"]);
  inProcessRows(add, t);
  const questions = checkQuestions(endsOf(generate(PROFILES["large"]!).pods)).slice(0, SERVED_QUESTIONS);
  add(await servedRow(questions, opts));
}

function inProcessRows(add: (r: Row) => void, t: TierFigures): void {
  const m = t.midRound;
  const us = (k: keyof Percentiles) => `${m.with[k].toFixed(1)} µs vs ${m.without[k].toFixed(1)} µs`;
  add({
    figure: "Check in-process, large, uncached: p99 with 100 Admin + 1 Baseline tier policies ÷ without",
    value:
      `${m.p99.toFixed(2)} (p99 ${us("p99")}; p50 ${m.p50.toFixed(2)}, ${us("p50")}; p999 ${m.p999.toFixed(2)}, ${us("p999")}; ` +
      `the median round of ${t.rounds.length}, ${t.perRound} questions each, the two alternated; a JSON round trip took ${t.refUs.toFixed(1)} µs)`,
    target: "≤ 1.2",
    met: m.p99 <= 1.2,
    raw: t,
  });
  const d = t.decided;
  const sel = (dir: "egress" | "ingress") => `${share(t.selected[dir].questions, t.questions)} (${t.selected[dir].meanPolicies.toFixed(1)} policies on average)`;
  add({
    figure: "answers decided by a tier, with the tier policies (the same questions)",
    value:
      `${share(d.byTier, d.answers)} of ${d.answers} have a direction decided by the Admin or Baseline tier (egress: ${tally(d.egress)}; ingress: ${tally(d.ingress)}); ` +
      `Admin-tier policies select the source's egress in ${sel("egress")}, the destination's ingress in ${sel("ingress")}; ` +
      `${t.tierPolicies} tier policies added through one write in ${t.addMs.toFixed(0)} ms`,
    target: "report",
  });
}

async function servedRow(questions: readonly CheckQuestion[], opts: { quick: boolean; seconds: number }): Promise<Row> {
  const servers: Pair<Child<{ grpc: number; rest: number }>> = {
    without: await child("child-server.ts", ["podwall", "large", "uncached"]),
    with: await child("child-server.ts", ["podwall", "large", "uncached,tiers"]),
  };
  try {
    await expectTiers(servers.with.ready.rest, questions[1]!);
    const grpc = (c: keyof Pair<unknown>, seconds = opts.seconds) => load<GrpcLoad>("grpc-load.ts", `127.0.0.1:${servers[c].ready.grpc}`, seconds, 1, questions);
    // Each server's code warms up before anything is counted.
    await grpc("without", 2);
    await grpc("with", 2);
    const pairs = await alternated(opts.quick ? 2 : 4, (c) => grpc(c));
    const p = medianPair(pairs, (l) => l.p99us);
    const ratio = (k: "p50us" | "p99us" | "p999us") => p.with[k] / p.without[k];
    const both = (k: "p50us" | "p99us" | "p999us") => `${ratio(k).toFixed(2)}, ${p.with[k].toFixed(0)} µs vs ${p.without[k].toFixed(0)} µs`;
    return {
      figure: "gRPC Check, one caller, large, decision cache off: p99 with the tier policies ÷ without",
      value:
        `${ratio("p99us").toFixed(2)} (p99 ${both("p99us")}; p50 ${both("p50us")}; p999 ${both("p999us")}; ` +
        `the median round of ${pairs.length}, ${opts.seconds} s each, alternated; ${p.with.calls} vs ${p.without.calls} calls)`,
      target: "≤ 1.2",
      met: ratio("p99us") <= 1.2,
      raw: pairs,
    };
  } finally {
    servers.without.stop();
    servers.with.stop();
  }
}

/** Throws unless the server's Check answers with the tiers (a direction's `decidedBy`). */
async function expectTiers(restPort: number, q: CheckQuestion): Promise<void> {
  const query = new URLSearchParams({ src: q.src, dst: q.dst, protocol: q.protocol, port: String(q.port) });
  const answer = (await (await fetch(`http://127.0.0.1:${restPort}/v1/check?${query}`)).json()) as { egress?: { decidedBy?: string } };
  if (answer.egress?.decidedBy === undefined) throw new Error(`the served Check does not answer with the tiers: ${JSON.stringify(answer)}`);
}

const share = (n: number, of: number) => `${((100 * n) / of).toFixed(0)}%`;

/** "Admin 2295, default 1243, ...", the most first. */
const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
