/**
 * The delta figures of one profile, in a fresh process so that what a
 * profile holds (huge's joined texts run to gigabytes) goes with it:
 * `child-deltas.ts PROFILE REPS LOAD_ROUNDS RESTORES`. LOAD_ROUNDS > 0 also
 * times PUT /v1/model against a cold compile; RESTORES > 0 also times
 * restores in network namespaces. Prints one JSON line.
 */
import { PodwallService, SYSTEM } from "../server/service/index.js";
import { type DeltaFigures, type RestoreFigures, deltaBench, loadThenCold, restoreFigures } from "./delta-bench.js";
import { PROFILES, allObjects, generate } from "./generate.js";

export interface ChildDeltaFigures {
  deltas: DeltaFigures;
  /** In-process load of the objects the figures ran on (applyObjects, not HTTP). */
  loadMs: number;
  loadThenCold?: { loadMs: number; coldMs: number; bodyMB: number }[];
  restore?: RestoreFigures;
  restoreSkipped?: string;
  rssMB: number;
}

const [profileName, repsArg, loadRoundsArg, restoresArg] = process.argv.slice(2);
const g = generate(PROFILES[profileName ?? "large"]!);
const loadRounds = Number(loadRoundsArg ?? 0);
const restores = Number(restoresArg ?? 0);

const pairs = loadRounds > 0 ? await loadThenCold(g, loadRounds) : undefined;
const service = await PodwallService.start({ cacheSize: 0 });
globalThis.gc?.();
const t0 = performance.now();
await service.applyObjects(SYSTEM, allObjects(g), true);
const loadMs = performance.now() - t0;
const big = g.nodes.length > 100;
const { figures, biggest, typical } = await deltaBench(service, g, { reps: Number(repsArg ?? 5), wholeSample: big ? 25 : g.nodes.length, keepBases: restores > 0 });
const out: ChildDeltaFigures = { deltas: figures, loadMs, rssMB: process.memoryUsage().rss / 2 ** 20, ...(pairs ? { loadThenCold: pairs } : {}) };
if (restores > 0) {
  try {
    if (!typical) throw new Error("no one-pod label change made a delta");
    out.restore = await restoreFigures(biggest, typical, restores);
  } catch (e) {
    out.restoreSkipped = e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
