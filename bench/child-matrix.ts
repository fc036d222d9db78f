/**
 * The full reachability matrix of one profile for one port, served over
 * REST and read by curl (another process), in a fresh process so that its
 * memory is this question's alone. Beside it, the same cells asked pod by pod
 * through Check for a sample, timed in the same process: the baseline the
 * matrix's time is a ratio to. Prints one JSON line.
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createRestApp } from "../server/api/rest/app.js";
import { AnalysisService, PodwallService, RulesService, SYSTEM } from "../server/service/index.js";
import { CHANGES, type ChangeKind, changeMakers } from "./delta-bench.js";
import { PROFILES, allObjects, generate, rng } from "./generate.js";
import { median } from "./stats.js";

const profile = PROFILES[process.argv[2] ?? "large"]!;
const port = 80;
const rounds = Number(process.argv[3] ?? 3);

let objects: unknown[] | undefined = allObjects(generate(profile));
const service = await PodwallService.start({ cacheSize: 0 });
await service.applyObjects(SYSTEM, objects, true);
objects = undefined;
const rules = new RulesService(service);
const analysis = new AnalysisService(service, rules);
const app = createRestApp(service, { rules, analysis });
const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
  const s = app.listen(0, "127.0.0.1", () => resolve(s));
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// The baseline: Check, uncached, pod by pod, on random pairs; per cell.
const pods = [...service.cluster.pods.values()];
const rand = rng(5);
const pairs = Array.from({ length: 200_000 }, () => ({ src: pods[Math.floor(rand() * pods.length)]!.key, dst: pods[Math.floor(rand() * pods.length)]!.key }));
for (let i = 0; i < 20_000; i++) service.check(SYSTEM, { ...pairs[i]!, port });
const b0 = performance.now();
for (const p of pairs) service.check(SYSTEM, { ...p, port });
const checkUsPerCell = ((performance.now() - b0) * 1000) / pairs.length;

/** The classes and verdicts alone, in process. */
function computeMs(): { ms: number; size: unknown } {
  const t = performance.now();
  const a = analysis.matrix(SYSTEM, { port });
  return { ms: performance.now() - t, size: a.matrix.size };
}

/** One GET of the whole matrix, read to its end by curl: time to the last byte, bytes, and the server's extra memory at its peak. */
async function fetchMatrix(format: "json" | "table"): Promise<{ ms: number; bytes: number; peakExtraMB: number }> {
  globalThis.gc?.();
  const base = memory();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory());
  }, 20);
  const t = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const curl = spawn("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `${url}/v1/matrix?port=${port}&format=${format}`]);
    let text = "";
    curl.stdout.on("data", (d: Buffer) => {
      text += d.toString();
    });
    curl.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`curl exited with ${code}`))));
  });
  const ms = performance.now() - t;
  clearInterval(sampler);
  const [status, size] = out.split(" ");
  if (status !== "200") throw new Error(`GET /v1/matrix answered ${status}`);
  return { ms, bytes: Number(size), peakExtraMB: (peak - base) / 2 ** 20 };
}

/** The heap in use and the buffers outside it: what an answer held whole would grow. */
function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * What-if of one change of each kind, in process, after one that compiles
 * every node's ruleset (as a served model has them), beside the cost of
 * answering it on a copy: loading the same objects into a fresh model. Each
 * figure is the median of `reps`.
 */
async function whatIfFigures(reps: number): Promise<Record<ChangeKind, { ms: number; cells: number; nodes: number }> & { copyMs: number }> {
  const g = generate(profile);
  const make = changeMakers(g);
  await analysis.whatIf(SYSTEM, { apply: [make.label(0)], ports: ["80"] });
  const out = {} as Record<ChangeKind, { ms: number; cells: number; nodes: number }>;
  for (const kind of CHANGES) {
    const runs: { ms: number; cells: number; nodes: number }[] = [];
    for (let i = 0; i < reps; i++) {
      const change = make[kind](1000 + i);
      const t = performance.now();
      const a = await analysis.whatIf(SYSTEM, { apply: [change], ports: ["80"] });
      runs.push({ ms: performance.now() - t, cells: a.cellsChanged, nodes: a.nodes.length });
    }
    out[kind] = { ms: median(runs.map((r) => r.ms)), cells: median(runs.map((r) => r.cells)), nodes: median(runs.map((r) => r.nodes)) };
  }
  const copies: number[] = [];
  for (let i = 0; i < Math.min(3, reps); i++) {
    const copy = await PodwallService.start({ cacheSize: 0 });
    const objects = allObjects(g);
    const t = performance.now();
    await copy.applyObjects(SYSTEM, objects, true);
    copies.push(performance.now() - t);
    await copy.close();
  }
  return { ...out, copyMs: median(copies) };
}

const whatIf = await whatIfFigures(rounds * 3);
const compute = Array.from({ length: rounds }, computeMs);
const json: Awaited<ReturnType<typeof fetchMatrix>>[] = [];
const table: Awaited<ReturnType<typeof fetchMatrix>>[] = [];
for (let r = 0; r < rounds; r++) {
  json.push(await fetchMatrix("json"));
  table.push(await fetchMatrix("table"));
}
server.close();
const cells = pods.length * pods.length;
const mid = (xs: { ms: number; bytes: number; peakExtraMB: number }[]) => ({
  ms: median(xs.map((x) => x.ms)),
  bytes: xs[0]!.bytes,
  peakExtraMB: Math.max(...xs.map((x) => x.peakExtraMB)),
});
process.stdout.write(
  `${JSON.stringify({
    profile: profile.name,
    pods: pods.length,
    cells,
    checkUsPerCell,
    podByPodMs: (checkUsPerCell * cells) / 1000,
    computeMs: median(compute.map((c) => c.ms)),
    size: compute[0]!.size,
    json: mid(json),
    table: mid(table),
    denseBitmapMB: cells / 8 / 2 ** 20,
    whatIf,
  })}\n`,
);
process.exit(0);
