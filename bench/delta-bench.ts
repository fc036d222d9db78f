/**
 * Ruleset deltas, in process: how long from one write until every node whose
 * version changed is served as its long-polling agent would be (a delta from
 * the version it holds, made into JSON), how big those answers are beside
 * the whole rulesets, how a cold compile of every node compares with loading
 * the model, and what applying a delta on a node costs beside applying the
 * whole ruleset.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { applyDelta, applyRuleset } from "../client/agent/apply.js";
import { SystemRunner } from "../client/agent/runner.js";
import { serve } from "../server/main.js";
import { type Ruleset, type RulesetDelta, isDelta } from "../server/rules/index.js";
import { type PodwallService, RulesService, SYSTEM } from "../server/service/index.js";
import { type Generated, type Manifest, allObjects, rng } from "./generate.js";
import { median } from "./stats.js";

export const CHANGES = ["label", "policy", "pod", "namespace"] as const;
export type ChangeKind = (typeof CHANGES)[number];

export interface ChangeFigures {
  /** From the write until every changed node's answer was made into JSON, per repetition. */
  servedMs: number[];
  /** From the write until every node's version was known, per repetition. */
  versionsMs: number[];
  changedNodes: number[];
  /** Answers that were the whole ruleset rather than a delta, of all answers made. */
  wholes: number;
  answers: number;
}

export interface ColdFigures {
  nodes: number;
  /** Every node's ruleset with its texts joined. */
  ms: number;
  /** The same, until the versions were known. */
  versionsMs: number;
  textMB: number;
}

export interface DeltaFigures {
  profile: string;
  cold: ColdFigures;
  changes: Record<ChangeKind, ChangeFigures>;
  /**
   * One pod label change: each changed node's answer as JSON, bytes, over
   * every repetition (the largest also without the relabelled pod's own
   * node); beside the whole rulesets of (a sample of) those nodes.
   */
  labelBytes: { median: number; max: number; maxOthers: number; answers: number; wholes: number; wholeMedian: number; wholeSampled: number };
  /** A JSON round trip of a pod manifest, µs, timed before each repetition: the machine's pace during this run. */
  paceUs: number;
  /** The node with the most ruleset text after the cold compile. */
  biggest: { node: string; textBytes: number };
}

/** A delta of a one-pod label change, with the version it applies onto and the version it makes. */
export interface Typical {
  node: string;
  why: string;
  base: Ruleset;
  delta: RulesetDelta;
  whole: Ruleset;
}

/** Rulesets of every node from cold, on a fresh RulesService after a full collection. */
export function coldCompile(service: PodwallService): { rules: RulesService; cold: ColdFigures; rulesets: Ruleset[] } {
  const rules = new RulesService(service);
  const nodes = [...service.cluster.nodes.keys()];
  globalThis.gc?.();
  const t0 = performance.now();
  const rulesets = nodes.map((n) => rules.rules(SYSTEM, n));
  const versionsAt = performance.now();
  let text = 0;
  for (const r of rulesets) text += r.ipset.length + r.iptables.length + r.ip6tables.length;
  const ms = performance.now() - t0;
  return { rules, rulesets, cold: { nodes: nodes.length, ms, versionsMs: versionsAt - t0, textMB: text / 2 ** 20 } };
}

/**
 * Model load through a real HTTP PUT /v1/model to a server started in this
 * process, then a cold compile of every node on a fresh RulesService over the
 * model that load made, after a full collection; `rounds` times, each on a
 * server of its own.
 */
export async function loadThenCold(g: Generated, rounds: number): Promise<{ loadMs: number; coldMs: number; bodyMB: number }[]> {
  const body = JSON.stringify({ apiVersion: "v1", kind: "List", items: allObjects(g) });
  const out = [];
  for (let i = 0; i < rounds; i++) {
    const running = await serve({ listen: "127.0.0.1:0", grpcListen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
    try {
      await running.ready;
      globalThis.gc?.();
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${running.restPort}/v1/model`, { method: "PUT", body, headers: { "content-type": "application/json" } });
      if (!res.ok) throw new Error(`PUT /v1/model: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      const loadMs = performance.now() - t0;
      const { cold } = coldCompile(running.service);
      out.push({ loadMs, coldMs: cold.ms, bodyMB: body.length / 2 ** 20 });
    } finally {
      await running.close();
    }
  }
  return out;
}

type Pod = Manifest & { metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: { nodeName: string } };

/** One change of each kind per call, deterministic for a profile. */
export function changeMakers(g: Generated): Record<ChangeKind, (i: number) => Manifest> {
  const rand = rng(17);
  const appPods = g.pods.filter((p) => (p as Pod).metadata.namespace !== "kube-system") as Pod[];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const appsPerNs = new Set(appPods.map((p) => p.metadata.labels["app"])).size;
  const namespaces = g.namespaces.slice(1) as (Manifest & { metadata: { name: string; labels: Record<string, string> } })[];
  const teams = [...new Set(namespaces.map((n) => n.metadata.labels["team"]!))].sort();
  const takenIPs = new Set(g.pods.map((p) => (p as { status: { podIP: string } }).status.podIP));
  return {
    // As the in-process ruleset figures do: another app of its namespace (never its own, so that each is a change), and the frontend tier.
    label: () => {
      const pod = structuredClone(pick(appPods));
      const others = Array.from({ length: appsPerNs }, (_, k) => `app-${String(k).padStart(3, "0")}`).filter((a) => a !== pod.metadata.labels["app"]);
      pod.metadata.labels = { ...pod.metadata.labels, app: pick(others), tier: "frontend" };
      return pod;
    },
    policy: (i) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `delta-bench-${i}`, namespace: pick(namespaces).metadata.name },
      spec: {
        podSelector: { matchLabels: { tier: "backend" } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: "prod" } }, podSelector: { matchLabels: { tier: "frontend" } } }], ports: [{ port: "grpc" }] }],
      },
    }),
    // A new replica of an existing app, on some node, at an address no pod has.
    pod: (i) => {
      const pod = structuredClone(pick(appPods)) as Pod & { status: Record<string, unknown> };
      const node = Math.floor(rand() * g.nodes.length);
      const ip = `10.${node >> 8}.${node & 255}.${240 + (i % 14)}`;
      if (takenIPs.has(ip)) throw new Error(`address ${ip} is taken`);
      takenIPs.add(ip);
      pod.metadata.name = `${pod.metadata.labels["app"]}-delta-${i}`;
      pod.spec.nodeName = (g.nodes[node]!["metadata"] as { name: string }).name;
      pod.status = { phase: "Running", podIP: ip, podIPs: [{ ip }] };
      return pod;
    },
    namespace: () => {
      const ns = structuredClone(pick(namespaces));
      ns.metadata.labels = { ...ns.metadata.labels, team: pick(teams.filter((t) => t !== ns.metadata.labels["team"])) };
      return ns;
    },
  };
}

/**
 * The delta figures of one loaded profile: a cold compile, then each kind of
 * change `reps` times, each timed from the write until every node whose
 * version changed has its answer made as the rules route makes it
 * (`since(node, current, held)`, then JSON). `wholeSample` bounds how many
 * changed nodes per repetition have their whole ruleset made into JSON for
 * the size beside the deltas' (outside the timing). With `keepBases`, the
 * versions replaced are kept, for the restore timings.
 */
export async function deltaBench(
  service: PodwallService,
  g: Generated,
  opts: { reps: number; wholeSample: number; keepBases: boolean },
): Promise<{ figures: DeltaFigures; biggest: Ruleset; typical?: Typical }> {
  const nodes = [...service.cluster.nodes.keys()];
  const { rules, cold, rulesets } = coldCompile(service);
  let held = rulesets.map((r) => r.version);
  let biggest = { node: nodes[0]!, textBytes: 0, ruleset: rulesets[0]! };
  for (const r of rulesets) {
    const size = r.ipset.length + r.iptables.length + r.ip6tables.length;
    if (size > biggest.textBytes) biggest = { node: r.node, textBytes: size, ruleset: r };
  }
  let bases: Ruleset[] | undefined = opts.keepBases ? rulesets : undefined;

  const make = changeMakers(g);
  const changes = {} as Record<ChangeKind, ChangeFigures>;
  const labelSizes: number[] = [];
  let maxOthers = 0;
  const pace: number[] = [];
  const wholeSizes: number[] = [];
  let labelWholes = 0;
  let typical: Typical | undefined;
  /** Per label repetition, the changed nodes with their deltas: a fallback for `typical`. */
  let firstLabel: { node: string; base: Ruleset; delta: RulesetDelta; whole: Ruleset; bytes: number }[] | undefined;
  for (const kind of CHANGES) {
    const f: ChangeFigures = { servedMs: [], versionsMs: [], changedNodes: [], wholes: 0, answers: 0 };
    for (let i = 0; i < opts.reps; i++) {
      const obj = make[kind](i);
      pace.push(paceUs(g.pods[0]!));
      const t0 = performance.now();
      await service.applyObjects(SYSTEM, [obj]);
      const now = nodes.map((n) => rules.rules(SYSTEM, n));
      const versionsAt = performance.now();
      const changed: number[] = [];
      const answers: Ruleset[] = [];
      const jsons: string[] = [];
      for (let k = 0; k < nodes.length; k++) {
        if (now[k]!.version === held[k]) continue;
        const answer = rules.since(nodes[k]!, now[k]!, held[k]);
        changed.push(k);
        answers.push(answer);
        jsons.push(JSON.stringify(answer));
      }
      const servedAt = performance.now();
      f.servedMs.push(servedAt - t0);
      f.versionsMs.push(versionsAt - t0);
      f.changedNodes.push(changed.length);
      f.answers += answers.length;
      for (const a of answers) if (!isDelta(a)) f.wholes++;
      if (kind === "label") {
        const podNode = (obj as Pod).spec.nodeName;
        for (const [j, a] of answers.entries()) {
          const bytes = Buffer.byteLength(jsons[j]!);
          labelSizes.push(bytes);
          if (a.node !== podNode) maxOthers = Math.max(maxOthers, bytes);
          if (!isDelta(a)) labelWholes++;
        }
        // The whole rulesets of (evenly spaced) changed nodes, for their size beside the deltas'.
        const step = Math.max(1, Math.ceil(changed.length / opts.wholeSample));
        for (let j = 0; j < changed.length; j += step) wholeSizes.push(Buffer.byteLength(JSON.stringify(now[changed[j]!]!)));
        if (bases && !typical) {
          const candidates = changed
            .map((k, j) => ({ node: nodes[k]!, base: bases![k]!, answer: answers[j]!, whole: now[k]!, bytes: Buffer.byteLength(jsons[j]!) }))
            .filter((c): c is typeof c & { answer: RulesetDelta } => isDelta(c.answer))
            .map((c) => ({ node: c.node, base: c.base, delta: c.answer, whole: c.whole, bytes: c.bytes }));
          const own = candidates.find((c) => c.node === biggest.node);
          if (own && own.node !== podNode) typical = { ...own, why: "the biggest node's own delta" };
          else if (own) {
            const bySize = [...candidates].sort((a, b) => a.bytes - b.bytes);
            const mid = bySize[Math.floor(bySize.length / 2)]!;
            typical = { ...mid, why: `the median-size delta of the changed nodes (the relabelled pod runs on the biggest node)` };
          } else firstLabel ??= candidates;
        }
      }
      if (bases) {
        const next = [...bases];
        for (const k of changed) next[k] = now[k]!;
        bases = next;
      }
      held = now.map((r) => r.version);
    }
    changes[kind] = f;
  }
  if (!typical && firstLabel && firstLabel.length > 0) {
    const bySize = [...firstLabel].sort((a, b) => a.bytes - b.bytes);
    const mid = bySize[Math.floor(bySize.length / 2)]!;
    typical = { ...mid, why: "the median-size delta of the changed nodes (no label change reached the biggest node)" };
  }
  const sortedSizes = [...labelSizes].sort((a, b) => a - b);
  const figures: DeltaFigures = {
    profile: g.profile.name,
    cold,
    changes,
    labelBytes: {
      median: median(labelSizes),
      max: sortedSizes.at(-1) ?? 0,
      maxOthers,
      answers: labelSizes.length,
      wholes: labelWholes,
      wholeMedian: median(wholeSizes),
      wholeSampled: wholeSizes.length,
    },
    biggest: { node: biggest.node, textBytes: biggest.textBytes },
    paceUs: median(pace),
  };
  return { figures, biggest: biggest.ruleset, ...(typical ? { typical } : {}) };
}

/** The median of 2,000 JSON round trips of `sample`, µs. */
function paceUs(sample: unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    JSON.parse(JSON.stringify(sample));
    times.push((performance.now() - t0) * 1000);
  }
  return median(times);
}

export interface RestoreFigures {
  node: string;
  /** Node whose delta was timed, and why that one. */
  deltaNode: string;
  why: string;
  wholeMs: number[];
  deltaMs: number[];
  wholeBytes: number;
  deltaBytes: number;
  /** The delta's base applied whole, then the delta (the agent's way, removals and hooks included), gave what the new version applied whole gives. */
  sameAsWhole: boolean;
}

/**
 * `ipset restore` + `iptables-restore --noflush`, timed, in fresh network
 * namespaces of our own (each one removed again): the biggest node's whole
 * ruleset into an empty one; a delta into one that holds its base (applied
 * whole first, not timed). Each `times` times, a namespace each.
 */
export function restoreFigures(biggest: Ruleset, typical: Typical, times: number): Promise<RestoreFigures> {
  if (process.getuid?.() !== 0) throw new Error("needs root");
  const restore = (ns: string, r: Pick<Ruleset, "ipset" | "iptables">) => {
    if (r.ipset !== "") sh(["ip", "netns", "exec", ns, "ipset", "restore"], r.ipset);
    if (r.iptables !== "") sh(["ip", "netns", "exec", ns, "iptables-restore", "--noflush"], r.iptables);
  };
  const timed = (before: Ruleset | undefined, r: Pick<Ruleset, "ipset" | "iptables">) =>
    inNamespace((ns) => {
      if (before) restore(ns, before);
      const t0 = performance.now();
      restore(ns, r);
      return performance.now() - t0;
    });
  const wholeMs: number[] = [];
  const deltaMs: number[] = [];
  // Alternated, so that a change in the machine's load hits both alike.
  for (let i = 0; i < times; i++) {
    wholeMs.push(timed(undefined, biggest));
    deltaMs.push(timed(typical.base, typical.delta));
  }
  return sameAsWhole(typical).then((same) => ({
    node: biggest.node,
    deltaNode: typical.node,
    why: typical.why,
    wholeMs,
    deltaMs,
    wholeBytes: biggest.ipset.length + biggest.iptables.length,
    deltaBytes: typical.delta.ipset.length + typical.delta.iptables.length,
    sameAsWhole: same,
  }));
}

function sh(cmd: string[], input?: string): string {
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { input, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 1 << 30 }).toString();
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim().split("\n").slice(0, 2).join(" / ");
    throw new Error(`${cmd.join(" ")} failed${stderr ? `: ${stderr}` : ""}`);
  }
}

function inNamespace<T>(fn: (ns: string) => T): T {
  const ns = `pwb-${randomBytes(4).toString("hex")}`;
  sh(["ip", "netns", "add", ns]);
  try {
    return fn(ns);
  } finally {
    sh(["ip", "netns", "del", ns]);
  }
}

async function inNamespaceAsync<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `pwb-${randomBytes(4).toString("hex")}`;
  sh(["ip", "netns", "add", ns]);
  try {
    return await fn(ns);
  } finally {
    sh(["ip", "netns", "del", ns]);
  }
}

/**
 * A namespace's sets and filter rules, in an order that does not depend on
 * the order they were written in: set lines sorted, rules sorted by chain
 * with each chain's order kept.
 */
function state(ns: string): string {
  const lines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  // A set's hash seed and sizing are the kernel's choice, not the ruleset's.
  const sets = lines(sh(["ip", "netns", "exec", ns, "ipset", "save"]))
    .map((l) => l.replace(/ (hashsize|bucketsize|initval) \S+/g, ""))
    .sort();
  const chainOf = (l: string) => l.split(" ", 2).join(" ");
  const rules = lines(sh(["ip", "netns", "exec", ns, "iptables-save", "-t", "filter"]))
    .map((l) => l.replace(/\[\d+:\d+\]/, ""))
    .sort((a, b) => (chainOf(a) < chainOf(b) ? -1 : chainOf(a) > chainOf(b) ? 1 : 0));
  return [...sets, ...rules].join("\n");
}

/** The base applied whole then the delta, as the agent applies them, against the new version applied whole. */
async function sameAsWhole(t: Typical): Promise<boolean> {
  const viaDelta = await inNamespaceAsync(async (ns) => {
    const run = new SystemRunner(["ip", "netns", "exec", ns]);
    await applyRuleset(run, t.base);
    await applyDelta(run, t.delta);
    return state(ns);
  });
  const whole = await inNamespaceAsync(async (ns) => {
    await applyRuleset(new SystemRunner(["ip", "netns", "exec", ns]), t.whole);
    return state(ns);
  });
  return viaDelta === whole;
}
