/**
 * The watch path on `large`: a server following a Kubernetes API server
 * double (the real client library, list/watch over loopback, in this process)
 * absorbs pod churn (1,000 pods created, relabelled, deleted), and one pod
 * relabelled at a time shows the time from the event leaving the API server
 * until every affected node's new ruleset is served.
 */
import { PodwallService, RulesService } from "../server/service/index.js";
import { KubernetesSource } from "../server/store/index.js";
import { type Manifest, startKubeApiServer } from "../test/helpers/kube-apiserver.js";
import { type Generated, allObjects } from "./generate.js";
import { median, percentile } from "./stats.js";
import { SYSTEM } from "../server/service/index.js";

export interface WatchFigures {
  readonly churnEvents: number;
  readonly churnMs: number;
  readonly churnCommits: number;
  /** Event to every changed ruleset served, and to the model holding the change. */
  readonly latencyMs: readonly number[];
  readonly appliedMs: readonly number[];
  readonly changedNodes: number;
}

type Pod = Manifest & { metadata: { name: string; namespace: string; labels?: Record<string, string> } };

export async function watchBench(large: Generated, quick: boolean): Promise<WatchFigures> {
  const double = await startKubeApiServer();
  try {
    for (const o of allObjects(large)) double.create(o as unknown as Manifest);
    const service = await PodwallService.start({ store: new KubernetesSource({ kubeconfig: double.kubeconfig() }), cacheSize: 0 });
    const rules = new RulesService(service);
    const nodes = [...service.cluster.nodes.keys()];
    const serveAll = () => nodes.map((n) => rules.rules(SYSTEM, n).version);
    let versions = serveAll();

    // Churn: 1,000 pods created, relabelled and deleted, each phase a burst, as a rollout's events come.
    const template = large.pods[0] as unknown as Pod;
    const churn = quick ? 300 : 1000;
    const made: Pod[] = Array.from({ length: churn }, (_, i) => ({
      ...structuredClone(template),
      metadata: { ...structuredClone(template.metadata), name: `churn-${i}`, labels: { app: "churn", tier: "frontend" } },
      status: { phase: "Running", podIP: `10.250.${i >> 8}.${i & 255}`, podIPs: [{ ip: `10.250.${i >> 8}.${i & 255}` }] },
    }));
    const g0 = service.generation;
    const t0 = performance.now();
    for (const p of made) double.create(p);
    await until(service, () => made.every((p) => service.cluster.pods.has(`${p.metadata.namespace}/${p.metadata.name}`)));
    for (const p of made) double.update({ ...p, metadata: { ...p.metadata, labels: { app: "churn", tier: "backend" } } });
    await until(service, () => made.every((p) => service.cluster.pods.get(`${p.metadata.namespace}/${p.metadata.name}`)?.labels["tier"] === "backend"));
    for (const p of made) double.delete("Pod", p.metadata.namespace, p.metadata.name);
    await until(service, () => made.every((p) => !service.cluster.pods.has(`${p.metadata.namespace}/${p.metadata.name}`)));
    const churnMs = performance.now() - t0;
    const churnCommits = service.generation - g0;
    versions = serveAll();

    // One pod relabelled at a time: event to every changed ruleset served.
    const latencyMs: number[] = [];
    const appliedMs: number[] = [];
    let changedNodes = 0;
    const samples = quick ? 15 : 60;
    for (let i = 0; i < samples; i++) {
      const p = structuredClone(large.pods[(i * 97) % large.pods.length]!) as unknown as Pod;
      const current = double.objects("Pod").find((x) => x.metadata.name === p.metadata.name && x.metadata.namespace === p.metadata.namespace)!;
      // Another app (and so other peer sets) every time, and a label no other sample has, so that every update is an event.
      const labels = { ...(current.metadata.labels ?? {}), app: `app-${String((i * 7) % 10).padStart(3, "0")}`, "bench/sample": String(i) };
      const g = service.generation;
      const t = performance.now();
      double.update({ ...(current as unknown as Pod), metadata: { ...current.metadata, labels } });
      await until(service, () => service.generation > g);
      appliedMs.push(performance.now() - t);
      const after = serveAll();
      latencyMs.push(performance.now() - t);
      changedNodes = Math.max(changedNodes, after.filter((v, j) => v !== versions[j]).length);
      versions = after;
    }
    await service.close();
    return { churnEvents: churn * 3, churnMs, churnCommits, latencyMs, appliedMs, changedNodes };
  } finally {
    await double.close();
  }
}

/** Resolves once the condition holds after a commit (or at once). */
function until(s: PodwallService, condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = s.onWrite(() => {
      if (!condition()) return;
      off();
      resolve();
    });
  });
}

export function latencySummary(ms: readonly number[]): { median: number; p99: number } {
  const sorted = Float64Array.from(ms).sort();
  return { median: median([...ms]), p99: percentile(sorted, 0.99) };
}
