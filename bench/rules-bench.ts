/** Ruleset figures: cold compile, incremental updates, restore time, and many agents long-polling. */
import { execFileSync } from "node:child_process";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { constants, gunzipSync } from "node:zlib";
import type { PodwallService } from "../server/service/index.js";
import { RulesService, SYSTEM } from "../server/service/index.js";
import type { Ruleset } from "../server/rules/index.js";
import { type Generated, type Manifest, rng } from "./generate.js";

export interface RulesetFigures {
  /** Ruleset text joined over the whole run, MiB. */
  textMB: number;
  nodes: number;
  coldMs: number;
  /** The same, until the versions were known (texts not yet joined). */
  coldVersionsMs: number;
  labelVersionsMs: number[];
  policyVersionsMs: number[];
  labelChangeMs: number[];
  labelChangedNodes: number;
  policyAddMs: number[];
  policyChangedNodes: number;
  biggest: { node: string; rules: number; sets: number; members: number };
  restoreMs?: number;
  restoreSkipped?: string;
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

export async function rulesetBench(service: PodwallService, g: Generated): Promise<RulesetFigures> {
  const rules = new RulesService(service);
  const nodes = [...service.cluster.nodes.keys()];
  let versions: string[] = [];
  /**
   * Every node's current version, then the texts of those that changed joined
   * as an agent would read them; `versionsAt` is when the versions were known.
   */
  let versionsAt = 0;
  const serveAll = () => {
    const rs = nodes.map((n) => rules.rules(SYSTEM, n));
    versionsAt = performance.now();
    rs.forEach((r, i) => {
      if (r.version !== versions[i]) texts += r.ipset.length + r.iptables.length + r.ip6tables.length;
    });
    return rs.map((r) => r.version);
  };
  let texts = 0;
  globalThis.gc?.();
  let t0 = performance.now();
  versions = serveAll();
  const coldMs = performance.now() - t0;
  const coldVersionsMs = versionsAt - t0;

  let biggest: Ruleset = rules.rules(SYSTEM, nodes[0]!);
  const size = (r: Ruleset) => count(r.iptables, /^-A /gm) + count(r.ip6tables, /^-A /gm);
  for (const n of nodes) if (size(rules.rules(SYSTEM, n)) > size(biggest)) biggest = rules.rules(SYSTEM, n);

  const rand = rng(3);
  const changed = (before: string[], after: string[]) => after.filter((v, i) => v !== before[i]).length;
  const labelChangeMs: number[] = [];
  const labelVersionsMs: number[] = [];
  let labelChangedNodes = 0;
  for (let i = 0; i < 7; i++) {
    const pod = structuredClone(g.pods[Math.floor(rand() * g.pods.length)]!) as Manifest & { metadata: { labels: Record<string, string> } };
    pod.metadata.labels = { ...pod.metadata.labels, app: `app-${String(Math.floor(rand() * 10)).padStart(3, "0")}`, tier: "frontend" };
    t0 = performance.now();
    await service.applyObjects(SYSTEM, [pod]);
    const after = serveAll();
    labelChangeMs.push(performance.now() - t0);
    labelVersionsMs.push(versionsAt - t0);
    labelChangedNodes = Math.max(labelChangedNodes, changed(versions, after));
    versions = after;
  }
  const policyAddMs: number[] = [];
  const policyVersionsMs: number[] = [];
  let policyChangedNodes = 0;
  for (let i = 0; i < 7; i++) {
    const ns = (g.namespaces[1 + Math.floor(rand() * (g.namespaces.length - 1))]!["metadata"] as { name: string }).name;
    const policy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `bench-added-${i}`, namespace: ns },
      spec: {
        podSelector: { matchLabels: { tier: "backend" } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: "prod" } }, podSelector: { matchLabels: { tier: "frontend" } } }], ports: [{ port: "grpc" }] }],
      },
    };
    t0 = performance.now();
    await service.applyObjects(SYSTEM, [policy]);
    const after = serveAll();
    policyAddMs.push(performance.now() - t0);
    policyVersionsMs.push(versionsAt - t0);
    policyChangedNodes = Math.max(policyChangedNodes, changed(versions, after));
    versions = after;
  }

  const figures: RulesetFigures = {
    textMB: texts / 2 ** 20,
    nodes: nodes.length,
    coldMs,
    coldVersionsMs,
    labelVersionsMs,
    policyVersionsMs,
    labelChangeMs,
    labelChangedNodes,
    policyAddMs,
    policyChangedNodes,
    biggest: { node: biggest.node, rules: size(biggest), sets: count(biggest.ipset, /^create /gm) / 2, members: count(biggest.ipset, /^add /gm) },
  };
  try {
    figures.restoreMs = restoreTime(biggest);
  } catch (e) {
    figures.restoreSkipped = e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
  return figures;
}

/** Applies a ruleset in a fresh network namespace of our own, timing ipset restore + iptables-restore. */
function restoreTime(r: Ruleset): number {
  if (process.getuid?.() !== 0) throw new Error("needs root");
  const ns = `pwb-${randomBytes(3).toString("hex")}`;
  const sh = (cmd: string[], input?: string) => execFileSync(cmd[0]!, cmd.slice(1), { input, stdio: ["pipe", "ignore", "pipe"] });
  sh(["ip", "netns", "add", ns]);
  try {
    const t0 = performance.now();
    sh(["ip", "netns", "exec", ns, "ipset", "restore"], r.ipset);
    sh(["ip", "netns", "exec", ns, "iptables-restore", "--noflush"], r.iptables);
    return performance.now() - t0;
  } finally {
    sh(["ip", "netns", "del", ns]);
  }
}

export interface AgentFigures {
  agents: number;
  rounds: number;
  woken: number;
  medianMs: number;
  maxMs: number;
  /** Ruleset bodies the agents received (gzip), MiB. */
  servedMB: number;
  /** From the write until its answer, each round. */
  writeMs: number[];
  /** From the write until the first changed agent held the new version, each round. */
  firstMs: number[];
  /** Bytes the agents received in each round (gzip, as on the wire). */
  roundBytes: number[];
  /** Answers of the rounds that were deltas, of all answers of the rounds. */
  deltas: number;
  answers: number;
}

export interface AgentOptions {
  agents?: number;
  /** Each agent asks with `?since=` the version it holds, and so gets a delta. */
  since?: boolean;
  /**
   * The agents start holding the version GET /v1/nodes lists for their node,
   * as agents that have applied it, instead of downloading every whole
   * ruleset first (on huge, gigabytes of text to join and compress).
   */
  startFromList?: boolean;
  /** Changes written first and not counted: the server's code warms up on them. */
  warmup?: number;
  /** The objects written in a round; by default one policy added. */
  change?: (round: number) => Manifest[];
}

/** One policy added in some namespace: what a round writes by default. */
function policyAdded(rand: () => number): (round: number) => Manifest[] {
  return (round) => [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `agents-bench-${round}-0`, namespace: `ns-${String(Math.floor(rand() * 200)).padStart(4, "0")}` },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "web" } } }], ports: [{ port: 8080 }] }] },
    },
  ];
}

/**
 * 1,000 agents, spread over the nodes, long-polling one server; a change is
 * written each round (by default a policy added), and the round is timed
 * from the write until every agent whose node got a new version holds it.
 */
export async function agentsBench(url: string, rounds: number, opts: AgentOptions = {}): Promise<AgentFigures> {
  const agentCount = opts.agents ?? 1000;
  const change = opts.change ?? policyAdded(rng(5));
  const nodesOf = async () => ((await (await fetch(`${url}/v1/nodes`)).json()) as { nodes: { node: string; version: string }[] }).nodes;
  const nodes = await nodesOf();
  let stopped = false;
  const controllers: AbortController[] = [];
  let firstError: unknown;
  let bytes = 0;
  const agents = Array.from({ length: agentCount }, (_, i) => ({
    node: nodes[i % nodes.length]!.node,
    held: opts.startFromList ? nodes[i % nodes.length]!.version : "",
    at: 0,
    /** The start of the last body, enough to tell a delta from a whole ruleset, and whether it came compressed. */
    head: undefined as Buffer | undefined,
    gzip: false,
  }));
  // Plain HTTP/1.1 with keep-alive, taking gzip (small bodies come as they
  // are) and reading every byte of the body as an agent must; decompressing
  // and parsing are left to the agents' own machines, not this process.
  const pool = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const poll = (a: (typeof agents)[number], signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const since = opts.since && a.held ? `&since=${a.held}` : "";
      const req = http.get(
        `${url}/v1/nodes/${a.node}/rules?wait=60${since}`,
        { agent: pool, signal, headers: { "accept-encoding": "gzip", ...(a.held ? { "if-none-match": `"${a.held}"` } : {}) } },
        (res) => {
          let n = 0;
          let head: Buffer | undefined;
          res.on("data", (chunk: Buffer) => {
            head ??= Buffer.from(chunk.subarray(0, 512));
            n += chunk.length;
          });
          res.on("end", () => {
            if (res.statusCode === 200) {
              a.held = String(res.headers.etag ?? "").replaceAll('"', "");
              a.at = performance.now();
              a.head = head;
              a.gzip = res.headers["content-encoding"] === "gzip";
              bytes += n;
            }
            resolve();
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
    });
  const loops = agents.map(async (a, i) => {
    while (!stopped) {
      const c = (controllers[i] = new AbortController());
      try {
        await poll(a, c.signal);
      } catch (e) {
        firstError ??= e;
        if (!stopped) await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  const allHold = async (want: Map<string, string>, deadline: number) => {
    while (!agents.every((a) => a.held === want.get(a.node))) {
      if (performance.now() > deadline) throw new Error(`agents did not all get the new version within 30 s (first error: ${String((firstError as Error)?.cause ?? firstError)})`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  await allHold(new Map(nodes.map((n) => [n.node, n.version])), performance.now() + 30_000);
  const times: number[] = [];
  const roundBytes: number[] = [];
  const writeMs: number[] = [];
  const firstMs: number[] = [];
  let woken = 0;
  let deltas = 0;
  let answers = 0;
  /** Until every agent has a long poll open on the server (its gauge says so): each write finds them all waiting. */
  const allPolling = async () => {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const text = await (await fetch(`${url}/metrics`)).text();
      if (Number(/^podwall_long_polls_open (\d+)/m.exec(text)?.[1] ?? 0) >= agentCount) return;
      if (performance.now() > deadline) throw new Error("the agents' long polls were not all open within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const warmup = opts.warmup ?? 0;
  for (let round = 0; round < warmup + rounds; round++) {
    await allPolling();
    const before = new Map((await nodesOf()).map((n) => [n.node, n.version]));
    const docs = change(round).map((d) => JSON.stringify(d));
    const bytesBefore = bytes;
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/apply`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"apiVersion":"v1","kind":"List","items":[${docs.join(",")}]}`,
    });
    if (!res.ok) throw new Error(`apply: ${res.status}`);
    await res.arrayBuffer();
    const answeredMs = performance.now() - t0;
    const want = new Map((await nodesOf()).map((n) => [n.node, n.version]));
    const affected = agents.filter((a) => want.get(a.node) !== before.get(a.node));
    await allHold(want, t0 + 30_000);
    // A write that changed no node's ruleset wakes no agent: it is no round.
    if (round < warmup || affected.length === 0) continue;
    writeMs.push(answeredMs);
    woken += affected.length;
    times.push(Math.max(0, ...affected.map((a) => a.at - t0)));
    firstMs.push(Math.min(...affected.map((a) => a.at - t0)));
    roundBytes.push(bytes - bytesBefore);
    // Told apart after the round, so that the agents' timings do not pay for it.
    for (const a of affected) {
      answers++;
      if (a.head && (a.gzip ? gunzipSync(a.head, { finishFlush: constants.Z_SYNC_FLUSH }) : a.head).toString().includes('"base":')) deltas++;
    }
  }
  stopped = true;
  for (const c of controllers) c.abort();
  await Promise.allSettled(loops);
  pool.destroy();
  const sorted = [...times].sort((a, b) => a - b);
  return {
    agents: agentCount,
    rounds: times.length,
    woken,
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    maxMs: sorted.at(-1)!,
    servedMB: bytes / 2 ** 20,
    writeMs,
    firstMs,
    roundBytes,
    deltas,
    answers,
  };
}
