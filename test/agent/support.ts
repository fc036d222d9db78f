/** What the agent tests share: an agent started in-process with its log captured, stopped after each test, and the node status it reports. */
import { pino } from "pino";
import { Agent, type AgentOptions } from "../../client/agent/agent.js";
import type { Runner } from "../../client/agent/runner.js";
import { type TestServer, http } from "../helpers/server.js";
import { policy, yaml } from "../rules/support.js";

/** A policy that changes node-1's ruleset: a new version to apply. */
export const EXTRA = yaml([
  policy("app/a-out", { podSelector: { matchLabels: { app: "a" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "192.168.0.0/16" } }] }] }),
]);

export interface Log {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

export interface StartedAgent<R extends Runner = Runner> {
  readonly agent: Agent;
  readonly runner: R;
  readonly logs: Log[];
  readonly done: Promise<void>;
  /** True once run() has resolved. */
  finished(): boolean;
}

/** The agents started in this file, oldest first; stopAll() stops them. */
export const started: StartedAgent[] = [];

/** An agent for node-1 with short polls and backoffs, running; its log is kept in `logs`. */
export function startAgent<R extends Runner>(o: Partial<AgentOptions> & { server: string; runner: R }): StartedAgent<R> {
  const logs: Log[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void logs.push(JSON.parse(s) as Log) });
  const agent = new Agent({ node: "node-1", logger, waitSeconds: 1, minBackoffMs: 20, maxBackoffMs: 400, ...o });
  let finished = false;
  const done = agent.run().then(() => void (finished = true));
  const s = { agent, runner: o.runner, logs, done, finished: () => finished };
  started.push(s);
  return s;
}

export async function stopAll(): Promise<void> {
  for (const s of started.splice(0)) {
    s.agent.stop();
    await s.done;
  }
}

/** What GET /v1/nodes says of one node. */
export async function nodeStatus(server: TestServer, name = "node-1"): Promise<Record<string, any>> {
  const r = await http(server, "GET", "/v1/nodes");
  if (r.status !== 200) throw new Error(`GET /v1/nodes: ${r.status}`);
  return r.body.nodes.find((n: { node: string }) => n.node === name);
}
