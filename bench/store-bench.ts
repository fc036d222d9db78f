/**
 * The stores' figures, in process: the latency of one policy apply on each
 * store as a ratio to the in-memory store; on `large`, the time from a write
 * on replica A until replica B serves every changed ruleset; and the time to
 * ready from a data directory holding `large` as a ratio to loading the same
 * objects into memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PodwallService, RulesService, SYSTEM } from "../server/service/index.js";
import { EtcdStore, LmdbStore, MemoryStore, type Store } from "../server/store/index.js";
import { startEtcd } from "../test/helpers/etcd.js";
import { type Generated, PROFILES, allObjects, generate } from "./generate.js";
import { median } from "./stats.js";

export interface StoreFigures {
  /** Median ms of one policy apply, by store. */
  readonly applyMs: Record<"memory" | "lmdb" | "etcd", number>;
  /** Median ms from a write on replica A until replica B serves the new rulesets of every node. */
  readonly replicaMs: number;
  readonly replicaChangedNodes: number;
  /** Time to ready from a data directory holding `large`, and to load the same objects into memory. */
  readonly startFromDataDirMs: number;
  readonly loadIntoMemoryMs: number;
}

const policy = (i: number, ns: string) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: `bench-store-${i % 8}`, namespace: ns },
  spec: { podSelector: { matchLabels: { tier: "backend" } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: "frontend" } } }], ports: [{ port: 8000 + (i % 50) }] }] },
});

const nsOf = (g: Generated, i: number) => (g.namespaces[1 + (i % (g.namespaces.length - 1))]!["metadata"] as { name: string }).name;

async function applyLatency(store: Store, g: Generated, writes: number): Promise<number> {
  const s = await PodwallService.start({ store, cacheSize: 0 });
  await s.applyObjects(SYSTEM, allObjects(g), true);
  const times: number[] = [];
  for (let i = 0; i < writes; i++) {
    const t0 = performance.now();
    await s.applyObjects(SYSTEM, [policy(i, nsOf(g, i))]);
    times.push(performance.now() - t0);
  }
  await s.close();
  return median(times);
}

export async function storeBench(large: Generated, quick: boolean): Promise<StoreFigures> {
  const tmp = mkdtempSync(join(tmpdir(), "podwall-bench-store-"));
  const etcd = await startEtcd();
  try {
    const small = generate(PROFILES["small"]!);
    const writes = quick ? 15 : 40;
    const applyMs = {
      memory: await applyLatency(new MemoryStore(), small, writes),
      lmdb: await applyLatency(LmdbStore.open(join(tmp, "apply")), small, writes),
      etcd: await applyLatency(new EtcdStore({ endpoints: [etcd.url], prefix: "/bench-apply/" }), small, writes),
    };

    // Two replicas of `large` on one etcd; B's rulesets are served (memoised) before each write, as agents keep them.
    const a = await PodwallService.start({ store: new EtcdStore({ endpoints: [etcd.url], prefix: "/bench-replicas/" }), cacheSize: 0 });
    const b = await PodwallService.start({ store: new EtcdStore({ endpoints: [etcd.url], prefix: "/bench-replicas/" }), cacheSize: 0 });
    const bRules = new RulesService(b);
    const loaded = await a.applyObjects(SYSTEM, allObjects(large), true);
    await until(b, loaded.generation);
    const nodes = [...b.cluster.nodes.keys()];
    const serveAll = () => nodes.map((n) => bRules.rules(SYSTEM, n).version);
    let versions = serveAll();
    const replicaTimes: number[] = [];
    let replicaChangedNodes = 0;
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      const t0 = performance.now();
      const w = await a.applyObjects(SYSTEM, [policy(100 + i, nsOf(large, i * 7))]);
      await until(b, w.generation);
      const after = serveAll();
      replicaTimes.push(performance.now() - t0);
      replicaChangedNodes = Math.max(replicaChangedNodes, after.filter((v, j) => v !== versions[j]).length);
      versions = after;
    }
    await a.close();
    await b.close();

    // Start-up: a data directory holding `large`, against loading the same objects into memory.
    const dir = join(tmp, "large");
    const writer = await PodwallService.start({ store: LmdbStore.open(dir), cacheSize: 0 });
    await writer.applyObjects(SYSTEM, allObjects(large), true);
    await writer.close();
    globalThis.gc?.();
    let t0 = performance.now();
    const fromDisk = await PodwallService.start({ store: LmdbStore.open(dir), cacheSize: 0 });
    const startFromDataDirMs = performance.now() - t0;
    await fromDisk.close();
    globalThis.gc?.();
    const objects = allObjects(large);
    t0 = performance.now();
    const inMemory = await PodwallService.start({ cacheSize: 0 });
    await inMemory.applyObjects(SYSTEM, objects, true);
    const loadIntoMemoryMs = performance.now() - t0;
    await inMemory.close();
    return { applyMs, replicaMs: median(replicaTimes), replicaChangedNodes, startFromDataDirMs, loadIntoMemoryMs };
  } finally {
    await etcd.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Resolves once the service's view is at the generation. */
function until(s: PodwallService, generation: number): Promise<void> {
  if (s.generation >= generation) return Promise.resolve();
  return new Promise((resolve) => {
    const off = s.onWrite((g) => {
      if (g < generation) return;
      off();
      resolve();
    });
  });
}
