/**
 * Faults on a real kernel: a real `podwall serve` on a persistent store, one
 * real `podwall agent` per node applying into its node's network namespace,
 * and the server or an agent killed at chosen points. The rules in force
 * stay while the server is away; an agent killed half-way through an apply
 * converges once restarted, leaving nothing stale; an agent asked to stop in
 * the middle of an apply finishes it first. Every probed cell is compared
 * with Check, and a node's kernel with what applying the current version to a
 * fresh node gives.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Ruleset } from "../../server/rules/index.js";
import { type ServeProcess, spawnServe, untilReady } from "../helpers/process.js";
import { eventually } from "../rules/support.js";
import { AgentProcess } from "./agent-process.js";
import { PODS, PORTS, baseManifests } from "./cluster.js";
import { Gate } from "./gate.js";
import { CELLS, decide, differences, observe } from "./matrix.js";
import { policy } from "./scenarios.js";
import { type KernelState, declaredNames, heldNames, kernelState, referenceState, staleNames } from "./state.js";
import { NODES, Topology, kernelTestAvailable } from "./topology.js";

const unavailable = kernelTestAvailable();
if (unavailable && process.env["CI"]) throw new Error(`the kernel test cannot run in CI: ${unavailable}`);

const docs = (...d: string[]) => d.join("---\n");

/** Models one after another; each changes the chains and sets node-1 holds. */
const MODELS = {
  start: docs(
    policy("x", "a-from-y", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: 'y'}"),
    policy("z", "deny-egress", "podSelector: {}\npolicyTypes: [Egress]"),
  ),
  afterRestart: policy("y", "from-z", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: z}"),
  interrupted: docs(
    policy("x", "egress-blocks", "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to:\n      - ipBlock:\n          cidr: 10.244.0.0/16\n          except: [10.244.2.0/24]"),
    policy("z", "udp", "podSelector: {}\ningress:\n  - ports:\n      - protocol: UDP\n        port: 80"),
    policy("x", "c-from-b", "podSelector:\n  matchLabels: {pod: c}\ningress:\n  - from:\n      - podSelector:\n          matchLabels: {pod: b}"),
  ),
  current: docs(
    policy("x", "to-y", "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to:\n      - namespaceSelector:\n          matchLabels: {ns: 'y'}"),
    policy(
      "y",
      "from-xa",
      "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: x}\n        podSelector:\n          matchLabels: {pod: a}",
    ),
    policy("z", "named", "podSelector:\n  matchLabels: {pod: c}\ningress:\n  - ports:\n      - port: serve-81-tcp"),
  ),
  afterChains: docs(
    policy("y", "named-egress", "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - ports:\n      - port: serve-80-tcp\n      - protocol: UDP\n        port: serve-81-udp"),
    policy(
      "x",
      "exprs",
      "podSelector:\n  matchExpressions:\n    - {key: pod, operator: NotIn, values: [a]}\ningress:\n  - from:\n      - namespaceSelector: {}\n        podSelector:\n          matchExpressions:\n            - {key: pod, operator: In, values: [a, b]}",
    ),
  ),
  stopping: docs(
    policy("z", "deny-all", "podSelector: {}\npolicyTypes: [Ingress, Egress]"),
    policy("x", "a-from-b", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - podSelector:\n          matchLabels: {pod: b}"),
  ),
  stoppingGroup: docs(
    policy("y", "deny-ingress", "podSelector: {}\npolicyTypes: [Ingress]"),
    policy("x", "from-z", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: z}"),
  ),
};

const UNREACHABLE = "server unreachable or failing; keeping the rules in force";

interface NodesAnswer {
  generation: number;
  nodes: { node: string; version: string; inSync: boolean; applied: { version: string; error?: string } | null }[];
}

/** Whether `signal` is still pending for process `pid` (not yet taken by any of its threads); false once it is gone. */
function signalPending(pid: number, signal: NodeJS.Signals): boolean {
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return false;
  }
  return ["ShdPnd", "SigPnd"].some((key) => {
    const m = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status);
    return m !== null && (BigInt(`0x${m[1]}`) & bit) !== 0n;
  });
}

describe("faults on a real kernel", { skip: unavailable, timeout: 600_000 }, () => {
  const topo = new Topology();
  let dataDir = "";
  let server: ServeProcess | undefined;
  let listen = "";
  /** The agent of each node now, with the gate its commands pass through. */
  const agents = new Map<string, { agent: AgentProcess; gate: Gate }>();
  const everyAgent: AgentProcess[] = [];
  const everyGate: Gate[] = [];

  const url = () => server!.url;

  async function call<T = any>(method: string, path: string, body?: string): Promise<T> {
    const res = await fetch(`${url()}${path}`, { method, ...(body !== undefined ? { body, headers: { "content-type": "application/yaml" } } : {}) });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  const putModel = (policies: string) => call<{ generation: number }>("PUT", "/v1/model", docs(baseManifests(), policies));
  const rules = (node: string) => call<Ruleset>("GET", `/v1/nodes/${node}/rules`);

  /** Starts the agent of a node, once the one before it (if any) has stopped: one agent per node. */
  async function startAgent(node: string, opts: { detached?: boolean } = {}): Promise<AgentProcess> {
    const previous = agents.get(node)?.agent;
    if (previous?.running) {
      previous.proc.kill("SIGTERM");
      await previous.exited;
    }
    const gate = new Gate();
    everyGate.push(gate);
    const agent = new AgentProcess({ server: url(), node, netns: topo.ns(node), env: gate.env(), ...opts });
    everyAgent.push(agent);
    agents.set(node, { agent, gate });
    return agent;
  }

  const agentOf = (node: string) => agents.get(node)!;

  /** Waits until the agents of `nodes` report the current version applied (an error report fails at once). */
  async function inSync(nodes: readonly string[] = Object.keys(NODES)): Promise<NodesAnswer> {
    return eventually(
      async () => {
        const answer = await call<NodesAnswer>("GET", "/v1/nodes");
        const failed = answer.nodes.find((n) => nodes.includes(n.node) && n.applied?.error);
        if (failed) throw new Error(`the agent of ${failed.node} failed to apply: ${failed.applied!.error}`);
        return answer.nodes.filter((n) => nodes.includes(n.node)).every((n) => n.inSync) ? answer : undefined;
      },
      120_000,
      `the agents of ${nodes.join(", ")} to apply the current version`,
    );
  }

  function dumps(): string {
    return Object.keys(NODES)
      .map((n) => `--- ${n}\n${topo.exec(n, "iptables-save", "-t", "filter")}${topo.exec(n, "ipset", "list", "-n")}`)
      .join("\n");
  }

  /** Probes every cell and compares it with Check; returns what the kernel did. */
  async function matchesCheck(label: string): Promise<boolean[]> {
    const expected = await decide(url());
    const observed = await observe(topo);
    const wrong = differences(expected, observed, "Check", "the kernel");
    if (wrong.length > 0) assert.fail(`${label}: ${wrong.length} of ${CELLS.length} cells differ\n${wrong.join("\n")}\n${dumps()}`);
    return observed;
  }

  /** The node's kernel holds exactly `r`: no chain or set it does not declare, and the state of a fresh node given `r`. */
  function assertHolds(node: string, r: Ruleset, label: string): void {
    const state = kernelState(topo.ns(node));
    assert.deepEqual(staleNames(state, r), [], `${label}: stale PODWALL-* chains or sets left on ${node}`);
    assert.deepEqual(heldNames(state), declaredNames(r), `${label}: the PODWALL-* chains and sets on ${node} are not those version ${r.version} declares`);
    const fresh = referenceState(r);
    assert.equal(state.iptables, fresh.iptables, `${label}: iptables on ${node} differ from a fresh node given ${r.version}`);
    assert.equal(state.ip6tables, fresh.ip6tables, `${label}: ip6tables on ${node} differ from a fresh node given ${r.version}`);
    assert.equal(state.ipset, fresh.ipset, `${label}: the ipsets on ${node} differ from a fresh node given ${r.version}`);
  }

  function nodeStates(): Record<string, KernelState> {
    return Object.fromEntries(Object.keys(NODES).map((n) => [n, kernelState(topo.ns(n))]));
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "podwall-faults-"));
    await topo.create(PODS, PORTS);
    server = await spawnServe(["--data-dir", dataDir]);
    listen = new URL(server.url).host;
    await untilReady(server);
    await putModel(MODELS.start);
    for (const node of Object.keys(NODES)) await startAgent(node);
    await inSync();
  });

  after(async () => {
    try {
      for (const a of everyAgent) if (a.running) a.proc.kill("SIGKILL");
      await Promise.all(everyAgent.map((a) => a.exited));
      await server?.kill();
    } finally {
      for (const g of everyGate) g.dispose();
      topo.destroy();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("SIGKILL of the server: every cell stays as it was while it is down; restarted on its store, a new write reaches the agents", { timeout: 180_000 }, async () => {
    const observedBefore = await matchesCheck("before the kill");
    const statesBefore = nodeStates();
    const { generation: before } = await call<NodesAnswer>("GET", "/v1/nodes");
    const versions = await Promise.all(Object.keys(NODES).map(async (n) => (await rules(n)).version));

    const marks = new Map([...agents].map(([node, { agent }]) => [node, agent.mark()]));
    await server!.kill();
    await Promise.all([...agents].map(([node, { agent }]) => agent.logged((r) => r.msg === UNREACHABLE, marks.get(node)!, "it noticed the server was gone")));

    const observedDown = await observe(topo);
    const changed = differences(observedBefore, observedDown, "before the kill", "with the server down");
    assert.deepEqual(changed, [], `cells changed while the server was down:\n${changed.join("\n")}`);
    assert.deepEqual(nodeStates(), statesBefore, "the kernel state changed while the server was down");

    server = await spawnServe(["--data-dir", dataDir, "--listen", listen]);
    await untilReady(server);
    const restarted = await call<NodesAnswer>("GET", "/v1/nodes");
    assert.ok(restarted.generation >= before, `generation went back from ${before} to ${restarted.generation} across the restart`);
    assert.deepEqual(
      await Promise.all(Object.keys(NODES).map(async (n) => (await rules(n)).version)),
      versions,
      "the restarted server serves other rulesets for the same stored model",
    );

    const written = await call<{ generation: number }>("POST", "/v1/apply", MODELS.afterRestart);
    assert.ok(written.generation > before);
    await inSync();
    for (const node of Object.keys(NODES)) assertHolds(node, await rules(node), "after the restart and a new write");
    await matchesCheck("after the restart and a new write");
  });

  it("SIGKILL of an agent between its ipset restore and its iptables-restore: restarted, it converges to the current version and leaves nothing stale", {
    timeout: 180_000,
  }, async () => {
    const { agent, gate } = agentOf("node-1");
    const ns = topo.ns("node-1");
    const prior = kernelState(ns);
    gate.arm("ipset");
    await putModel(MODELS.interrupted);
    const interrupted = await rules("node-1");
    const holder = await gate.held("ipset");
    assert.equal(holder?.rc, 0, "the agent's ipset restore failed");

    const mid = kernelState(ns);
    const missing = declaredNames(interrupted).sets.filter((s) => !heldNames(mid).sets.includes(s));
    assert.deepEqual(missing, [], "the ipset restore is done: the kernel holds every set of the interrupted version");
    assert.equal(mid.iptables, prior.iptables, "no iptables-restore has run yet");

    await agent.kill();
    process.kill(holder!.pid, "SIGKILL");

    await putModel(MODELS.current);
    const current = await rules("node-1");
    assert.notEqual(current.version, interrupted.version);
    assert.notDeepEqual(staleNames(mid, current), [], "the interrupted node holds chains and sets the current version does not declare");

    const restarted = await startAgent("node-1");
    await restarted.applied(current.version);
    await inSync();
    assertHolds("node-1", current, "after the restart");
    await matchesCheck("after the agent's restart");
  });

  it("SIGKILL of an agent after its iptables-restore, before its hooks and clean-up: restarted, it finishes that version and leaves nothing stale", {
    timeout: 180_000,
  }, async () => {
    const { agent, gate } = agentOf("node-1");
    const ns = topo.ns("node-1");
    gate.arm("iptables-restore");
    await putModel(MODELS.afterChains);
    const target = await rules("node-1");
    const holder = await gate.held("iptables-restore");
    assert.equal(holder?.rc, 0, "the agent's iptables-restore failed");

    const mid = kernelState(ns);
    const missing = declaredNames(target).chains4.filter((c) => !heldNames(mid).chains4.includes(c));
    assert.deepEqual(missing, [], "the iptables-restore is done: the kernel holds every chain of the new version");
    assert.notDeepEqual(staleNames(mid, target), [], "the chains and sets of the old version are still there");

    await agent.kill();
    process.kill(holder!.pid, "SIGKILL");

    const restarted = await startAgent("node-1");
    await restarted.applied(target.version);
    await inSync();
    assertHolds("node-1", target, "after the restart");
    await matchesCheck("after the agent's restart");
  });

  it("SIGTERM to an agent in the middle of an apply: it finishes that apply, reports it, then exits 0", { timeout: 180_000 }, async () => {
    const { agent, gate } = agentOf("node-1");
    gate.arm("ipset");
    gate.arm("iptables-restore");
    await putModel(MODELS.stopping);
    const target = await rules("node-1");
    const from = agent.mark();
    await gate.held("ipset");

    agent.proc.kill("SIGTERM");
    await eventually(() => !signalPending(agent.pid, "SIGTERM"), 120_000, "the SIGTERM to be taken by the agent");
    gate.release("ipset");
    // The agent's loop has run since the signal came (it saw its ipset restore end): it has been told to stop.
    const next = await gate.held("iptables-restore", () => !agent.running);
    assert.ok(next, `the agent stopped after its ipset restore, half-way through the apply:\n${agent.tail.join("\n")}`);
    gate.release("iptables-restore");

    const exit = await agent.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `the agent did not exit 0:\n${agent.tail.join("\n")}`);
    await agent.applied(target.version, from);
    const stopped = agent.records.slice(from).find((r) => r.msg === "agent stopped; rules stay in place");
    assert.equal(stopped?.applied, target.version, "the agent stopped with another version in force");
    assertHolds("node-1", target, "after the agent stopped");
    const status = (await call<NodesAnswer>("GET", "/v1/nodes")).nodes.find((n) => n.node === "node-1")!;
    assert.equal(status.applied?.version, target.version, "the agent exited without reporting the apply it finished");
    await inSync();
    await matchesCheck("after the agent stopped");
  });

  it("SIGTERM to an agent between applies (long-polling): it exits 0 and the rules stay", { timeout: 180_000 }, async () => {
    const agent = await startAgent("node-1");
    const current = await rules("node-1");
    await agent.applied(current.version);
    await inSync();
    const before = kernelState(topo.ns("node-1"));
    const from = agent.mark();
    agent.proc.kill("SIGTERM");
    const exit = await agent.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `the agent did not exit 0:\n${agent.tail.join("\n")}`);
    assert.equal(agent.records.slice(from).find((r) => r.msg === "agent stopped; rules stay in place")?.applied, current.version);
    assert.deepEqual(kernelState(topo.ns("node-1")), before, "the rules changed when the agent stopped");
    await matchesCheck("after the agent stopped");
  });

  it("SIGTERM to an agent's whole process group in the middle of an apply (Ctrl-C, systemd's control-group stop): the node still ends with the whole new version", {
    timeout: 180_000,
  }, async () => {
    const agent = await startAgent("node-1", { detached: true });
    const { gate } = agentOf("node-1");
    await agent.applied((await rules("node-1")).version);
    await inSync();

    gate.arm("ipset");
    await putModel(MODELS.stoppingGroup);
    const target = await rules("node-1");
    await gate.held("ipset");
    process.kill(-agent.pid, "SIGTERM");
    await eventually(() => !signalPending(agent.pid, "SIGTERM"), 120_000, "the SIGTERM to be taken by the agent");
    // Had the signal reached the held restore, it would be gone; it is released and the apply goes on.
    gate.release("ipset");
    const exit = await agent.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `the agent did not exit 0:\n${agent.tail.join("\n")}`);
    assertHolds("node-1", target, `after the process group was stopped; the agent said:\n${agent.tail.join("\n")}\n`);
  });
});
