/**
 * The agent and deltas, against a real server on loopback and a simulated
 * node: after its first whole ruleset it asks with the version it applied,
 * applies each delta onto it, and ends exactly where a whole apply would; a
 * delta that fails is undone and the whole ruleset comes next.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { applyRuleset } from "../../client/agent/apply.js";
import { SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { FakeRunner, nodeState } from "../rules/simulator.js";
import { TWO_NODES, eventually, pod, yaml } from "../rules/support.js";
import { EXTRA, nodeStatus, startAgent, stopAll } from "./support.js";

/** A new pod joins the peer set of a-in: node-1's ruleset gains one set member. */
const joins = (i: number) => yaml([pod(`app/b${i}`, { labels: { app: "b" }, node: "node-2", ips: [`10.1.2.${30 + i}`] })]);

describe("the agent applies deltas", () => {
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

  /** Waits until the agent holds node-1's current version and has reported it. */
  async function caughtUp(a: ReturnType<typeof startAgent<FakeRunner>>, what: string): Promise<string> {
    return eventually(
      async () => {
        const v = server.rules.rules(SYSTEM, "node-1").version;
        const s = await nodeStatus(server);
        return a.agent.applied === v && s.inSync && s.applied.version === v ? v : undefined;
      },
      5000,
      what,
    );
  }

  /** The state a fresh node holds once the current ruleset is applied whole. */
  async function wholeState(): Promise<unknown> {
    const fresh = new FakeRunner();
    await applyRuleset(fresh, server.rules.rules(SYSTEM, "node-1"));
    return nodeState(fresh.node);
  }

  it("onto the version it applied, and ends where the whole ruleset does", async () => {
    const a = startAgent({ server: server.url, runner: new FakeRunner() });
    const first = await caughtUp(a, "the first apply");
    assert.equal((await http(server, "POST", "/v1/apply", joins(1))).status, 200);
    const second = await caughtUp(a, "the member delta");
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    await caughtUp(a, "the chain delta");
    const applied = a.logs.filter((l) => l.msg === "delta applied");
    assert.deepEqual(
      applied.map((l) => l["base"]),
      [first, second],
    );
    assert.deepEqual(nodeState(a.runner.node), await wholeState());
    const restores = a.runner.calls.filter((c) => c.cmd[0] === "ipset" && c.cmd[1] === "restore");
    assert.equal(restores.length, 3, "the whole ipset, then each delta's");
    assert.match(restores[1]!.input!, /^add PODWALL-PODS-\w+ 10\.1\.2\.31 -exist\n$/);
    assert.match(restores[2]!.input!, /^create PODWALL-NETS-\w+ hash:net /m, "the new policy's ipBlock, a new set");
    assert.doesNotMatch(restores[2]!.input!, /PODWALL-PODS-/, "no set that did not change");
    const text = await a.agent.metrics.text();
    assert.match(text, /^podwall_agent_deltas_total\{outcome="ok"\} 2$/m);
    assert.match(text, /^podwall_agent_applies_total\{outcome="ok"\} 3$/m);
  });

  it("undoes a delta that fails, reports it, then applies the whole ruleset", async () => {
    const run = new FakeRunner();
    const a = startAgent({ server: server.url, runner: run });
    await caughtUp(a, "the first apply");
    const before = nodeState(run.node);
    let failed = false;
    run.failing = (cmd) => !failed && cmd[0] === "iptables-restore" && (failed = true);
    // EXTRA adds chains: the delta's iptables-restore is the one that fails.
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    await eventually(() => a.logs.some((l) => l.msg.startsWith("apply failed")), 5000, "the failed delta");
    const failure = a.logs.find((l) => l.msg.startsWith("apply failed"))!;
    assert.ok(failure["base"], "it was a delta");
    await caughtUp(a, "the whole ruleset after the failure");
    const after = a.logs.slice(a.logs.indexOf(failure));
    assert.ok(
      after.some((l) => l.msg === "ruleset applied"),
      "the next apply is whole",
    );
    assert.deepEqual(nodeState(run.node), await wholeState());
    assert.notDeepEqual(before, nodeState(run.node));
    assert.match(await a.agent.metrics.text(), /^podwall_agent_deltas_total\{outcome="failed"\} 1$/m);
  });
});
