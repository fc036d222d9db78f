/**
 * Replicas on one real etcd, as real `podwall serve --etcd` processes: writes
 * spread over them and racing on one object; every replica converges on the
 * same generation, model and byte-identical rulesets; an agent moves off a
 * killed replica without re-applying; with etcd stopped, reads go on, writes
 * answer 503 and /readyz says why; a replica that cannot reach etcd at start
 * serves nothing, and an agent keeps its rules meanwhile.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { Agent } from "../../client/agent/agent.js";
import { applyRuleset } from "../../client/agent/apply.js";
import { type EtcdProcess, type EtcdProxy, startEtcd, startProxy } from "../helpers/etcd.js";
import { type ServeProcess, spawnServe, untilReady } from "../helpers/process.js";
import { http } from "../helpers/server.js";
import { FakeRunner } from "../rules/simulator.js";
import { TWO_NODES, eventually, policy, yaml } from "../rules/support.js";

/** Long enough never to be the reason a test fails on a loaded machine; only a guard against a hang. */
const PATIENCE = 120_000;

interface AgentRun {
  readonly agent: Agent;
  readonly run: FakeRunner;
  readonly logs: { level: number; msg: string; server?: string }[];
  readonly done: Promise<void>;
}

function startAgent(servers: string[], run = new FakeRunner()): AgentRun {
  const logs: AgentRun["logs"] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void logs.push(JSON.parse(s) as AgentRun["logs"][number]) });
  const agent = new Agent({ server: servers.join(","), node: "node-1", runner: run, logger, waitSeconds: 2, minBackoffMs: 20, maxBackoffMs: 300 });
  return { agent, run, logs, done: agent.run() };
}

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const r = await http({ url }, "GET", "/readyz");
  return { status: r.status, body: r.body };
}

const egress = (name: string, cidr: string) =>
  yaml([policy(`app/${name}`, { podSelector: { matchLabels: { app: "a" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr } }] }] })]);

describe("three replicas on one etcd", { timeout: 600_000 }, () => {
  let etcd: EtcdProcess;
  let replicas: ServeProcess[] = [];
  const agents: AgentRun[] = [];
  before(async () => {
    etcd = await startEtcd();
    replicas = await Promise.all([0, 1, 2].map(() => spawnServe(["--etcd", etcd.url, "--etcd-prefix", "/replicas/"])));
    await Promise.all(replicas.map(untilReady));
  });
  after(async () => {
    for (const a of agents) a.agent.stop();
    await Promise.all(agents.map((a) => a.done));
    await Promise.all(replicas.map((r) => r.kill()));
    await etcd?.destroy();
  });

  /** Waits until every live replica is at the same generation, and returns it. */
  async function converged(live: ServeProcess[]): Promise<number> {
    return eventually(
      async () => {
        const gens = await Promise.all(live.map(async (r) => (await readyz(r.url)).body.generation as number));
        return gens.every((g) => g === gens[0]) ? gens[0] : undefined;
      },
      PATIENCE,
      "the replicas to reach one generation",
    );
  }

  it("converge on one generation, one model and byte-identical rulesets, with writes spread over them and racing", async () => {
    const [a, b, c] = replicas as [ServeProcess, ServeProcess, ServeProcess];
    const put = await http(a, "PUT", "/v1/model", TWO_NODES);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // A replica answers a write once its own view holds it: the writer reads its own write at once.
    assert.equal((await readyz(a.url)).body.generation, put.body.generation);
    let last = put.body.generation as number;
    for (let i = 0; i < 12; i++) {
      const via = replicas[i % 3]!;
      const w = await http(via, "POST", "/v1/apply", egress(`out-${i % 4}`, `192.168.${i}.0/24`));
      assert.equal(w.status, 200, JSON.stringify(w.body));
      assert.ok(w.body.generation > last, "the generation grows with every write");
      last = w.body.generation;
      const own = await http(via, "GET", "/v1/model", undefined, { accept: "application/json" });
      assert.equal(own.body.metadata.generation >= w.body.generation, true, "read-your-writes");
    }
    // Three writes of one object at once, one through each replica: each is committed whole, one after another.
    const racing = await Promise.all([a, b, c].map((r, i) => http(r, "POST", "/v1/apply", egress("raced", `172.16.${i}.0/24`))));
    for (const r of racing) assert.equal(r.status, 200, JSON.stringify(r.body));
    const gens = racing.map((r) => r.body.generation as number);
    assert.equal(new Set(gens).size, 3, `three commits, three generations: ${gens}`);
    const winner = gens.indexOf(Math.max(...gens));

    const generation = await converged(replicas);
    assert.ok(generation >= Math.max(...gens));
    const models = await Promise.all(replicas.map(async (r) => (await http(r, "GET", "/v1/model", undefined, { accept: "application/yaml" })).body as string));
    assert.equal(models[1], models[0]);
    assert.equal(models[2], models[0]);
    assert.match(models[0]!, new RegExp(`172\\.16\\.${winner}\\.0/24`), "the last committed of the racing writes stands");
    for (const node of ["node-1", "node-2"]) {
      const texts = await Promise.all(replicas.map(async (r) => (await http(r, "GET", `/v1/nodes/${node}/rules`, undefined, { "accept-encoding": "identity" })).body));
      assert.deepEqual(texts[1], texts[0], `${node}: replica 1 serves another ruleset`);
      assert.deepEqual(texts[2], texts[0], `${node}: replica 2 serves another ruleset`);
    }
  });

  it("moves an agent off a killed replica without re-applying, and it follows the next one", async () => {
    const urls = replicas.map((r) => r.url);
    const ag = startAgent(urls);
    agents.push(ag);
    const version = (await http(replicas[0]!, "GET", "/v1/nodes/node-1/rules")).body.version as string;
    await eventually(() => ag.agent.applied === version, PATIENCE, "the first apply");
    const followed = replicas.findIndex((r) => r.url === ag.agent.server);
    const writes = ag.run.writes().length;
    await replicas[followed]!.kill();
    await eventually(() => ag.logs.some((l) => l.msg.startsWith("server unreachable") && l.server === urls[followed]), PATIENCE, "the agent to notice");
    const live = replicas.filter((_, i) => i !== followed);
    assert.ok(
      live.some((r) => r.url === ag.agent.server),
      "the agent asks a live replica",
    );
    assert.equal(ag.run.writes().length, writes, "moving to a replica at the same generation re-applies nothing");
    // The next replica's new versions reach the agent.
    const w = await http(live[0]!, "POST", "/v1/apply", egress("after-move", "198.51.100.0/24"));
    assert.equal(w.status, 200);
    const next = await eventually(
      async () => {
        const v = (await http(live[1]!, "GET", "/v1/nodes/node-1/rules")).body.version as string;
        return v !== version ? v : undefined;
      },
      PATIENCE,
      "the other live replica to serve the new version",
    );
    await eventually(() => ag.agent.applied === next, PATIENCE, "the apply of the new version");
    replicas = live;
  });

  it("keeps answering reads with etcd stopped, refuses writes with 503 and says why, and takes writes once etcd is back", async () => {
    const before = await converged(replicas);
    await etcd.stop();
    for (const r of replicas) {
      const ready = await eventually(
        async () => {
          const z = await readyz(r.url);
          return z.body.store?.writable === false ? z : undefined;
        },
        PATIENCE,
        "/readyz to say the store is away",
      );
      assert.equal(ready.status, 200, "a replica that serves reads stays ready");
      assert.match(ready.body.status, /read-only/);
      assert.match(ready.body.store.reason, /etcd/);
      const check = await http(r, "GET", "/v1/check?src=app/b&dst=app/a&port=80");
      assert.equal(check.status, 200);
      assert.equal(check.body.allowed, true);
      assert.equal(check.body.generation, before);
      assert.equal((await http(r, "GET", "/v1/nodes/node-1/rules")).status, 200);
      const w = await http(r, "POST", "/v1/apply", egress("during-outage", "203.0.113.0/24"));
      assert.equal(w.status, 503, JSON.stringify(w.body));
      assert.equal(w.body.reason, "ServiceUnavailable");
      assert.match(w.body.message, /etcd/);
    }
    await etcd.start();
    const w = await eventually(
      async () => {
        const r = await http(replicas[0]!, "POST", "/v1/apply", egress("after-outage", "203.0.113.0/24"));
        return r.status === 200 ? r : undefined;
      },
      PATIENCE,
      "a write to succeed once etcd is back",
    );
    assert.ok(w.body.generation > before);
    assert.equal(await converged(replicas), w.body.generation);
    for (const r of replicas) assert.equal((await readyz(r.url)).body.store.writable, true);
  });
});

describe("a replica that cannot load its model serves nothing from it", { timeout: 600_000 }, () => {
  let etcd: EtcdProcess;
  let server: ServeProcess | undefined;
  let seed: ServeProcess | undefined;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await server?.kill();
    await seed?.kill();
    await etcd?.destroy();
  });

  it("answers 503 to check, rules and writes until etcd answers, and an agent keeps its rules meanwhile", async () => {
    seed = await spawnServe(["--etcd", etcd.url]);
    await untilReady(seed);
    assert.equal((await http(seed, "PUT", "/v1/model", TWO_NODES)).status, 200);
    const ruleset = (await http(seed, "GET", "/v1/nodes/node-1/rules")).body;
    await seed.kill();
    seed = undefined;
    // The node holds that version, as an agent left it.
    const run = new FakeRunner();
    await applyRuleset(run, ruleset);
    const held = run.node.save("ipv4");
    const writes = run.writes().length;

    await etcd.stop();
    server = await spawnServe(["--etcd", etcd.url]);
    const z = await readyz(server.url);
    assert.equal(z.status, 503);
    assert.equal(z.body.ready, false);
    assert.match(z.body.status, /^loading the model from etcd \(etcd http:\/\/127\.0\.0\.1:\d+ \/podwall\/\)/);
    // Why it is not ready yet, once the store has found out.
    await eventually(async () => /: etcd unreachable/.test((await readyz(server!.url)).body.status), PATIENCE, "/readyz to say etcd is unreachable");
    for (const [method, path, body] of [
      ["GET", "/v1/check?src=app/b&dst=app/a&port=80", undefined],
      ["POST", "/v1/check/batch", { checks: [{ src: "app/b", dst: "app/a", port: 80 }] }],
      ["GET", "/v1/nodes/node-1/rules", undefined],
      ["GET", "/v1/nodes", undefined],
      ["GET", "/v1/model", undefined],
      ["POST", "/v1/apply", egress("x", "10.9.0.0/16")],
    ] as const) {
      const r = await http(server, method, path, body);
      assert.equal(r.status, 503, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.reason, "ServiceUnavailable");
    }
    const ag = startAgent([server.url], run);
    try {
      await eventually(() => ag.logs.filter((l) => l.msg.startsWith("server unreachable or failing")).length >= 3, PATIENCE, "the agent to be refused three times");
      assert.equal(run.writes().length, writes, "no command while the server is not ready");
      assert.equal(run.node.save("ipv4"), held, "the rules in force stay");
      assert.equal(ag.agent.applied, undefined);

      await etcd.start();
      await untilReady(server);
      await eventually(() => ag.agent.applied === ruleset.version, PATIENCE, "the agent to take the loaded model's ruleset");
      assert.equal(run.node.save("ipv4"), held, "the same version: the same rules");
    } finally {
      ag.agent.stop();
      await ag.done;
    }
  });
});

describe("an agent and a replica that is behind", { timeout: 600_000 }, () => {
  let etcd: EtcdProcess;
  let proxy: EtcdProxy;
  const servers: ServeProcess[] = [];
  let ag: AgentRun | undefined;
  before(async () => {
    etcd = await startEtcd();
    proxy = await startProxy(etcd.url);
  });
  after(async () => {
    ag?.agent.stop();
    await ag?.done;
    await Promise.all(servers.map((s) => s.kill()));
    await proxy?.close();
    await etcd?.destroy();
  });

  it("never applies the older ruleset of a replica cut off from etcd, and re-applies nothing once it catches up", async () => {
    const a = await spawnServe(["--etcd", etcd.url]);
    const b = await spawnServe(["--etcd", proxy.url]);
    servers.push(a, b);
    await Promise.all([untilReady(a), untilReady(b)]);
    const first = await http(a, "PUT", "/v1/model", TWO_NODES);
    assert.equal(first.status, 200);
    await eventually(async () => (await readyz(b.url)).body.generation === first.body.generation, PATIENCE, "b to follow the first write");
    const old = (await http(b, "GET", "/v1/nodes/node-1/rules")).body.version as string;

    proxy.cut();
    await eventually(async () => (await readyz(b.url)).body.store.writable === false, PATIENCE, "b to see it is cut off");
    const second = await http(a, "POST", "/v1/apply", egress("newer", "192.0.2.0/24"));
    assert.equal(second.status, 200);
    const newer = (await http(a, "GET", "/v1/nodes/node-1/rules")).body.version as string;
    assert.notEqual(newer, old);
    assert.equal((await http(b, "GET", "/v1/nodes/node-1/rules")).body.version, old, "b is behind");

    ag = startAgent([a.url, b.url]);
    await eventually(() => ag!.agent.applied === newer, PATIENCE, "the agent to apply a's version");
    const writes = ag.run.writes().length;
    await a.kill();
    await eventually(() => ag!.logs.some((l) => l.msg.startsWith("server is behind") && l.server === b.url), PATIENCE, "the agent to find b behind");
    assert.equal(ag.agent.applied, newer, "the older ruleset is not applied");
    assert.equal(ag.run.writes().length, writes, "no command while b is behind");

    proxy.restore();
    await eventually(async () => (await readyz(b.url)).body.generation === second.body.generation, PATIENCE, "b to catch up");
    assert.equal((await http(b, "GET", "/v1/nodes/node-1/rules")).body.version, newer);
    // The agent asks b again; at the version in force b holds its long poll, and nothing is applied again.
    await eventually(async () => /^podwall_ruleset_watchers 1$/m.test((await http(b, "GET", "/metrics")).body as string), PATIENCE, "the agent's long poll held by b");
    assert.equal(ag.agent.applied, newer);
    assert.equal(ag.run.writes().length, writes, "moving to a replica that caught up re-applies nothing");
  });
});
