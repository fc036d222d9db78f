/**
 * The agent's lifecycle and what it tells Prometheus, in process against a
 * real server: stop() in the middle of an apply finishes the apply and its
 * report first; stop() during a long poll cuts the poll at once; the metrics
 * endpoint shows polls, applies (ok and failed), their duration, the version
 * in force and the server in use; `--metrics-listen` addresses.
 */
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { AgentOptions } from "../../client/agent/agent.js";
import { AgentMetrics, type MetricsServer, parseListen, serveMetrics } from "../../client/agent/metrics.js";
import type { Runner } from "../../client/agent/runner.js";
import { SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { FakeRunner } from "../rules/simulator.js";
import { TWO_NODES, eventually } from "../rules/support.js";
import { EXTRA, type StartedAgent, nodeStatus, startAgent, stopAll } from "./support.js";

const WAIT_MS = 20_000;

/** A Runner whose first write that `gate` picks blocks until release(); every command goes on to a FakeRunner. */
class GatedRunner implements Runner {
  readonly inner = new FakeRunner();
  /** Resolves with the command once the gated write has started. */
  readonly entered: Promise<readonly string[]>;
  private enter!: (cmd: readonly string[]) => void;
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  private gated = false;

  constructor(private readonly picks: (cmd: readonly string[]) => boolean) {
    this.entered = new Promise((resolve) => (this.enter = resolve));
  }

  release(): void {
    this.open();
  }

  read(cmd: readonly string[]): Promise<string> {
    return this.inner.read(cmd);
  }

  async write(cmd: readonly string[], input?: string): Promise<void> {
    if (!this.gated && this.picks(cmd)) {
      this.gated = true;
      this.enter(cmd);
      await this.gate;
    }
    await this.inner.write(cmd, input);
  }
}

/** An agent for node-1 with the backoffs of these tests. */
function start<R extends Runner>(o: Partial<AgentOptions> & { server: string; runner: R }): StartedAgent<R> {
  return startAgent({ maxBackoffMs: 200, ...o });
}

/** Lets every callback that is ready run (timers excepted). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe("stopping the agent", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopAll();
    await server.close();
  });
  beforeEach(async () => {
    assert.equal((await http(server, "PUT", "/v1/model", TWO_NODES)).status, 200);
  });
  afterEach(stopAll);

  it("in the middle of an apply, finishes the apply and its report, then run() resolves", async () => {
    const runner = new GatedRunner((cmd) => cmd[0] === "iptables-restore");
    const metrics = new AgentMetrics();
    const a = start({ server: server.url, runner, metrics });
    assert.deepEqual(await runner.entered, ["iptables-restore", "--noflush", "-w"]);
    a.agent.stop();
    await settle();
    assert.equal(a.finished(), false, "run() waits for the apply");
    assert.deepEqual(runner.inner.writes(), ["ipset restore"], "the apply is held at iptables-restore");

    runner.release();
    await a.done;
    const ruleset = server.rules.rules(SYSTEM, "node-1");
    assert.deepEqual(runner.inner.writes(), [
      "ipset restore",
      "iptables-restore --noflush -w",
      "iptables -w -I FORWARD 1 -j PODWALL-FORWARD",
      "ip6tables-restore --noflush -w",
      "ip6tables -w -I FORWARD 1 -j PODWALL-FORWARD",
    ]);
    assert.equal(a.agent.applied, ruleset.version);
    const status = await nodeStatus(server);
    assert.equal(status.applied?.version, ruleset.version, "the report went out after stop()");
    assert.equal(status.inSync, true);
    const order = a.logs.map((l) => l.msg);
    assert.ok(order.indexOf("ruleset applied") >= 0 && order.indexOf("ruleset applied") < order.findIndex((m) => m.startsWith("agent stopped")), order.join(" | "));
    assert.match(await metrics.text(), /^podwall_agent_polls_total\{result="changed"\} 1$/m, "no poll after stop()");
  });

  it("in the middle of a failing apply, reports the failure and stops without a backoff", async () => {
    const runner = new GatedRunner((cmd) => cmd[0] === "ipset");
    runner.inner.failing = (cmd) => cmd[0] === "iptables-restore";
    const a = start({ server: server.url, runner, minBackoffMs: 3_600_000, maxBackoffMs: 3_600_000 });
    await runner.entered;
    a.agent.stop();
    runner.release();
    await a.done;
    assert.equal(a.agent.applied, undefined);
    const status = await nodeStatus(server);
    assert.match(status.applied?.error ?? "", /iptables-restore --noflush -w failed .*injected failure/);
  });

  it("during a long poll, cuts the poll at once: the server sees the request go", async () => {
    const seen: string[] = [];
    const gone: string[] = [];
    const hold: Server = createServer((req, res) => {
      seen.push(req.url ?? "");
      res.on("close", () => void gone.push(req.url ?? ""));
    });
    await new Promise<void>((resolve) => hold.listen(0, "127.0.0.1", resolve));
    try {
      const a = start({ server: `http://127.0.0.1:${(hold.address() as AddressInfo).port}`, runner: new FakeRunner(), waitSeconds: 3600 });
      await eventually(() => seen.length === 1, WAIT_MS, "the poll");
      a.agent.stop();
      await a.done;
      await eventually(() => gone.length === 1, WAIT_MS, "the poll's connection to close");
      assert.deepEqual(seen, ["/v1/nodes/node-1/rules"]);
      assert.ok(a.logs.some((l) => l.msg.startsWith("agent stopped")));
      assert.ok(!a.logs.some((l) => l.level >= 40), "an abort is not a failure");
    } finally {
      hold.closeAllConnections();
      hold.close();
    }
  });
});

/** The value of one series in a Prometheus text exposition, undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the agent's metrics", () => {
  let server: TestServer;
  let endpoint: MetricsServer | undefined;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopAll();
    await endpoint?.close();
    await server.close();
  });

  it("serves /metrics with polls, applies, their duration, the version in force and the server in use", async () => {
    assert.equal((await http(server, "PUT", "/v1/model", TWO_NODES)).status, 200);
    const metrics = new AgentMetrics();
    endpoint = await serveMetrics(metrics, "127.0.0.1:0");
    const scrape = async () => {
      const res = await fetch(`http://${endpoint!.address}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const runner = new FakeRunner();
    const a = start({ server: server.url, runner, metrics });
    await eventually(() => a.agent.applied, WAIT_MS, "the first apply");
    const v1 = server.rules.rules(SYSTEM, "node-1").version;
    let text = await scrape();
    assert.equal(sample(text, 'podwall_agent_applies_total{outcome="ok"}'), 1);
    assert.equal(sample(text, 'podwall_agent_applies_total{outcome="failed"}'), 0);
    assert.equal(sample(text, "podwall_agent_apply_duration_seconds_count"), 1);
    assert.equal(sample(text, 'podwall_agent_polls_total{result="changed"}'), 1);
    assert.equal(sample(text, 'podwall_agent_polls_total{result="error"}'), 0);
    assert.equal(sample(text, `podwall_agent_applied_ruleset_info{node="node-1",version="${v1}"}`), 1);
    assert.equal(sample(text, `podwall_agent_server_info{server="${server.url}"}`), 1);

    text = await eventually(
      async () => {
        const t = await scrape();
        return (sample(t, 'podwall_agent_polls_total{result="unchanged"}') ?? 0) >= 1 ? t : undefined;
      },
      WAIT_MS,
      "a long poll that ran out unchanged",
    );

    runner.failing = (cmd) => cmd[0] === "iptables-restore";
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    text = await eventually(
      async () => {
        const t = await scrape();
        return (sample(t, 'podwall_agent_applies_total{outcome="failed"}') ?? 0) >= 1 ? t : undefined;
      },
      WAIT_MS,
      "a failed apply",
    );
    assert.equal(sample(text, `podwall_agent_applied_ruleset_info{node="node-1",version="${v1}"}`), 1, "a failure leaves the version in force");

    runner.failing = undefined;
    const v2 = server.rules.rules(SYSTEM, "node-1").version;
    text = await eventually(
      async () => {
        const t = await scrape();
        return sample(t, 'podwall_agent_applies_total{outcome="ok"}') === 2 ? t : undefined;
      },
      WAIT_MS,
      "the second apply",
    );
    assert.equal(sample(text, `podwall_agent_applied_ruleset_info{node="node-1",version="${v2}"}`), 1);
    assert.equal(text.split("\n").filter((l) => l.startsWith("podwall_agent_applied_ruleset_info{")).length, 1, "one version in force");
    const failed = sample(text, 'podwall_agent_applies_total{outcome="failed"}')!;
    assert.equal(sample(text, "podwall_agent_apply_duration_seconds_count"), 2 + failed, "every apply is timed, failed ones too");

    const other = await fetch(`http://${endpoint.address}/other`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });

  it("names the server in use, moving on when one fails, and counts the failed poll", async () => {
    assert.equal((await http(server, "PUT", "/v1/model", TWO_NODES)).status, 200);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const metrics = new AgentMetrics();
    const before = await metrics.text();
    assert.equal(sample(before, 'podwall_agent_polls_total{result="error"}'), 0);
    const a = start({ server: `${dead},${server.url}`, runner: new FakeRunner(), metrics });
    await eventually(() => a.agent.applied, WAIT_MS, "the apply through the second server");
    const text = await metrics.text();
    assert.equal(sample(text, 'podwall_agent_polls_total{result="error"}'), 1);
    assert.equal(sample(text, `podwall_agent_server_info{server="${server.url}"}`), 1);
    assert.equal(sample(text, `podwall_agent_server_info{server="${dead}"}`), undefined);
  });
});

describe("--metrics-listen addresses", () => {
  const CASES: [string, { host: string | undefined; port: number } | string][] = [
    ["127.0.0.1:9100", { host: "127.0.0.1", port: 9100 }],
    [":9100", { host: undefined, port: 9100 }],
    ["9100", { host: undefined, port: 9100 }],
    ["[::1]:0", { host: "::1", port: 0 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    ["localhost:65536", "--metrics-listen localhost:65536: expected HOST:PORT, [IPV6]:PORT or :PORT"],
    ["::1:9100", "--metrics-listen ::1:9100: expected HOST:PORT, [IPV6]:PORT or :PORT"],
    ["host:", "--metrics-listen host:: expected HOST:PORT, [IPV6]:PORT or :PORT"],
  ];
  for (const [text, want] of CASES) {
    it(text, () => {
      if (typeof want === "string") assert.throws(() => parseListen(text), { message: want });
      else assert.deepEqual(parseListen(text), want);
    });
  }
});
