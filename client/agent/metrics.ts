/**
 * The agent's Prometheus metrics, on a registry of its own, and the small
 * HTTP server of `--metrics-listen` that serves them at `/metrics`.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type ApplyOutcome = "ok" | "failed";
export type PollResult = "changed" | "unchanged" | "error";

export class AgentMetrics {
  readonly registry = new Registry();
  readonly applies = new Counter({
    name: "podwall_agent_applies_total",
    help: "Rulesets applied on this node, by outcome (ok, failed)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly deltas = new Counter({
    name: "podwall_agent_deltas_total",
    help: "Of the rulesets applied, those that were deltas onto the version in force, by outcome (ok, failed)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly applySeconds = new Histogram({
    name: "podwall_agent_apply_duration_seconds",
    help: "Time to apply one ruleset (ipset, iptables, hooks, stale objects), failed applies included",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly polls = new Counter({
    name: "podwall_agent_polls_total",
    help: "Polls of the node's ruleset, by result (changed: a new ruleset; unchanged: none before the wait ran out; error)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly applied = new Gauge({
    name: "podwall_agent_applied_ruleset_info",
    help: "The ruleset version in force on this node, as its label; absent until the first apply",
    labelNames: ["node", "version"] as const,
    registers: [this.registry],
  });
  readonly server = new Gauge({
    name: "podwall_agent_server_info",
    help: "The server the agent asks now, as its label",
    labelNames: ["server"] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    for (const outcome of ["ok", "failed"] as const) {
      this.applies.inc({ outcome }, 0);
      this.deltas.inc({ outcome }, 0);
    }
    for (const result of ["changed", "unchanged", "error"] as const) this.polls.inc({ result }, 0);
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "podwall_agent_" });
  }

  applyDone(outcome: ApplyOutcome, seconds: number, delta: boolean): void {
    this.applies.inc({ outcome });
    if (delta) this.deltas.inc({ outcome });
    this.applySeconds.observe(seconds);
  }

  poll(result: PollResult): void {
    this.polls.inc({ result });
  }

  /** One series only: the version now in force. */
  appliedVersion(node: string, version: string): void {
    this.applied.reset();
    this.applied.set({ node, version }, 1);
  }

  usingServer(server: string): void {
    this.server.reset();
    this.server.set({ server }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  /** "HOST:PORT" as bound (port 0 resolved). */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` on "HOST:PORT" (":PORT" for every address); 404 for anything else. */
export async function serveMetrics(metrics: AgentMetrics, listen: string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://agent").pathname;
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: the agent serves GET /metrics\n");
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". */
export function parseListen(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--metrics-listen ${text}: expected HOST:PORT, [IPV6]:PORT or :PORT`);
  const host = m[1] ?? m[2];
  return { host: host === "" || host === undefined ? undefined : host, port };
}
