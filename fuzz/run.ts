/**
 * One fuzz run against `podwall serve` in its own process: each input is
 * generated, sent, judged; the model and rulesets are compared after every
 * write (and every few reads); a crash is recorded and the server restarted;
 * a bad write that got in is undone so the next input sees the same model.
 */
import type { FuzzContext } from "./context.js";
import { type Finding, finding, formatFinding } from "./findings.js";
import type { GrpcAnswer } from "./grpc-send.js";
import { type RestAnswer, sendRest } from "./http-send.js";
import { type Problem, type ProblemKind, judgeGrpc, judgeRest } from "./judge.js";
import type { FuzzRequest } from "./requests.js";
import { ServerUnderTest } from "./server-under-test.js";
import { ServerState, type Snapshot } from "./state.js";
import { generate, targetOf } from "./targets.js";
import { sameAnswer } from "./twin.js";

/** Problems after which the server may not be the one that answered: a twin is not asked. */
const LOST = new Set<ProblemKind>(["crash", "hang", "dropped"]);

/** The model a run starts from: the example cluster, and tier policies of every kind on top of it. */
export const DEFAULT_MANIFESTS: readonly string[] = ["examples/cluster", new URL("tier-policies.yaml", import.meta.url).pathname];

export interface RunOptions {
  readonly seed: number;
  readonly count: number;
  /** Run these input indices only (reproducing), instead of 0..count-1. */
  readonly indices?: readonly number[];
  /** Only targets whose name includes this. */
  readonly target?: string;
  /** A request that takes longer is a hang; undefined: no limit. */
  readonly limitMs?: number;
  /** Compare the model after every this many reads (every write is compared). */
  readonly sampleEvery: number;
  readonly manifests: readonly string[];
  readonly serveArgs?: readonly string[];
  readonly token?: string;
  readonly log: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly executed: number;
  readonly ms: number;
  readonly findings: Finding[];
  /** The slowest answers, slowest first. */
  readonly slowest: readonly Slow[];
}

export interface Slow {
  readonly index: number;
  readonly target: string;
  readonly tag: string;
  readonly ms: number;
}

const SLOWEST = 5;

const ctx = (s: Snapshot): FuzzContext => ({
  namespaces: s.namespaces,
  names: s.names,
  objects: s.objects,
  items: s.items,
  labels: s.labels,
  versions: new Map(
    s.versions
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("=") as [string, string]),
  ),
});

/**
 * What a request left behind: a dead or deaf server is a crash (the run goes
 * on against a fresh one); a model or ruleset that differs is a finding, and
 * the model is put back. Returns the model the next input starts from.
 */
async function settle(server: ServerUnderTest, compare: boolean, problems: Problem[], baseline: Snapshot, original: Snapshot, previous?: number): Promise<Snapshot> {
  const health = server.alive() ? await server.state.health() : `the process exited (${server.proc.proc.exitCode ?? server.proc.proc.signalCode})`;
  if (health !== "ok") {
    const before = previous !== undefined ? `; the input before was #${previous}` : "";
    problems.push({ kind: "crash", detail: `${server.lastWords() || "no error printed"} (${health}${before})` });
    await server.restart();
    return server.state.snapshot();
  }
  if (!compare) return baseline;
  const now = await server.state.snapshot().catch((e: Error) => e);
  if (now instanceof Error) {
    problems.push({ kind: "model-changed", detail: `the model can no longer be read: ${now.message}` });
    await server.restart();
    return server.state.snapshot();
  }
  const changed = ServerState.difference(baseline, now);
  if (changed === undefined) return baseline;
  const accepted = problems.findIndex((p) => p.kind === "accepted" || p.kind === "status");
  if (accepted >= 0) problems[accepted] = { kind: problems[accepted]!.kind, detail: `${problems[accepted]!.detail}; ${changed}` };
  else problems.push({ kind: "model-changed", detail: changed });
  await server.state.restore(original);
  return server.state.snapshot();
}

export async function runFuzz(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const server = new ServerUnderTest(["--in-memory", ...o.manifests.flatMap((m) => ["--manifests", m]), ...(o.serveArgs ?? [])], o.token, o.limitMs);
  await server.start();
  const original = await server.state.snapshot();
  let baseline = original;
  const findings: Finding[] = [];
  let executed = 0;
  let reads = 0;
  let previous: number | undefined;
  const slowest: Slow[] = [];
  const isReady = () => server.state.ready();
  const ask = async (r: FuzzRequest): Promise<{ answer: RestAnswer | GrpcAnswer; ms: number; problems: Problem[] }> => {
    if (r.door === "rest") {
      const a = await sendRest(new URL(server.proc.url), r, o.limitMs, server.agent);
      return { answer: a, ms: a.ms, problems: await judgeRest(r, a, o.limitMs, isReady) };
    }
    const a = await server.grpc.send(r, o.limitMs);
    return { answer: a, ms: a.ms, problems: await judgeGrpc(r, a, o.limitMs, isReady) };
  };
  try {
    for (const index of o.indices ?? Array.from({ length: o.count }, (_, i) => i)) {
      if (o.target !== undefined && !targetOf(index).includes(o.target)) continue;
      const r = generate(o.seed, index, ctx(baseline), o.token);
      executed++;
      const { answer, ms, problems } = await ask(r);
      if (slowest.length < SLOWEST || ms > slowest[SLOWEST - 1]!.ms) {
        slowest.push({ index, target: r.target, tag: r.tag, ms: Math.round(ms) });
        slowest.sort((a, b) => b.ms - a.ms).splice(SLOWEST);
      }
      const compare = r.expect.write || ++reads % o.sampleEvery === 0 || problems.length > 0;
      baseline = await settle(server, compare, problems, baseline, original, previous);
      if (problems.some((p) => p.kind === "hang" || p.kind === "dropped" || p.kind === "grpc-status")) server.fresh();
      const twin = r.expect.twin;
      if (twin !== undefined && !problems.some((p) => LOST.has(p.kind))) {
        // The same question as a write, after the question: its own faults, and any difference between the answers.
        const t = await ask(twin);
        const twinProblems = t.problems.map((p) => ({ kind: p.kind, detail: `${twin.target} of the same: ${p.detail}` }));
        twinProblems.push(...sameAnswer(answer, t.answer, twin.target));
        baseline = await settle(server, true, twinProblems, baseline, original, index);
        if (twinProblems.some((p) => p.kind === "hang" || p.kind === "dropped" || p.kind === "grpc-status")) server.fresh();
        problems.push(...twinProblems);
      }
      previous = index;
      for (const p of problems) {
        const f = finding(o.seed, index, r, p.kind, p.detail, ms);
        findings.push(f);
        o.log(formatFinding(f));
      }
      if (executed % 1000 === 0) o.log(`fuzz: ${executed} inputs, ${findings.length} failures, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    await server.stop();
  }
  return { seed: o.seed, executed, ms: performance.now() - started, findings, slowest };
}
