/**
 * The node agent against a real server, with a fake Runner that records every
 * command and keeps a small in-memory ipset/iptables state
 * (test/rules/simulator.ts): apply order, hooks, stale jumps, chains and sets,
 * failures and retries, deltas (and undoing one that fails), an absent server,
 * stop(), and the dry run.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { Agent, type AgentOptions } from "../../client/agent/agent.js";
import { applyRuleset, declaredChains, declaredSets } from "../../client/agent/apply.js";
import { DryRunner } from "../../client/agent/runner.js";
import { serve } from "../../server/main.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { FakeRunner, nodeState } from "../rules/simulator.js";
import { TWO_NODES, eventually, pod, yaml } from "../rules/support.js";
import { SYSTEM } from "../../server/service/index.js";
import { EXTRA, type StartedAgent, nodeStatus, startAgent, started, stopAll } from "./support.js";

const MODEL = TWO_NODES;
/** An egress policy on app/a: a new policy chain and a new set on node-1. */

/** What the node holds that is not ours: it must come out of every apply exactly as it went in. */
function seedForeign(run: FakeRunner): void {
  run.node.ipsetCommand(["create", "KUBE-CLUSTER-IP", "hash:ip", "family", "inet"]);
  run.node.ipsetCommand(["add", "KUBE-CLUSTER-IP", "10.96.0.1"]);
  run.node.iptablesRestore(
    "ipv4",
    [
      "*filter",
      ":KUBE-FORWARD - [0:0]",
      ":KUBE-SERVICES - [0:0]",
      "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst -j ACCEPT",
      "-A FORWARD -j KUBE-FORWARD",
      "-A INPUT -j KUBE-SERVICES",
      "COMMIT",
      "",
    ].join("\n"),
    true,
  );
  run.node.iptablesRestore("ipv6", ["*filter", ":KUBE-FORWARD - [0:0]", "-A FORWARD -j KUBE-FORWARD", "COMMIT", ""].join("\n"), true);
}

function foreign(run: FakeRunner): string {
  const keep = (text: string) =>
    text
      .split("\n")
      .filter((l) => l.includes("KUBE-") || /^:(INPUT|FORWARD|OUTPUT) /.test(l))
      .join("\n");
  const sets = [...run.node.sets].filter(([n]) => !n.startsWith("PODWALL-")).map(([n, s]) => `${n} ${[...s.entries.keys()].join(",")}`);
  return [keep(run.node.save("ipv4")), keep(run.node.save("ipv6")), ...sets].join("\n");
}

function chainRules(run: FakeRunner, family: "ipv4" | "ipv6", chain: string): string[] {
  return (run.node.chainArgs(family).get(chain) ?? []).map((r) => r.join(" "));
}

/** A new pod joins the peer set of a-in: node-1's ruleset gains one set member. */
const joins = (i: number) => yaml([pod(`app/b${i}`, { labels: { app: "b" }, node: "node-2", ips: [`10.1.2.${30 + i}`] })]);

/** The index of the first write that matches, -1 if none. */
function indexOf(run: FakeRunner, re: RegExp, from = 0): number {
  const w = run.writes();
  for (let i = from; i < w.length; i++) if (re.test(w[i]!)) return i;
  return -1;
}

/** An agent for node-1 on `server`, with a simulated node unless another runner is given. */
function startOn(server: string, run = new FakeRunner(), o: Omit<Partial<AgentOptions>, "runner"> = {}): StartedAgent<FakeRunner> {
  return startAgent({ server, runner: run, ...o });
}

/**
 * Waits until the node is in sync by the hand of the agent started last: the
 * server keeps a node's status across tests, and an earlier test's agent may
 * have reported the very same version.
 */
async function inSync(server: TestServer, what: string): Promise<Record<string, any>> {
  const current = started.at(-1);
  return eventually(
    async () => {
      const s = await nodeStatus(server);
      return s.inSync && (!current || current.agent.applied === s.applied.version) ? s : undefined;
    },
    5000,
    what,
  );
}

describe("the agent", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopAll();
    await server.close();
  });
  beforeEach(async () => {
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
  });
  afterEach(stopAll);

  it("applies a fresh node in order: ipset restore, iptables-restore --noflush, the hook, and reports it", async () => {
    const a = startOn(server.url);
    const status = await inSync(server, "the first apply");
    const ruleset = server.rules.rules(SYSTEM, "node-1");
    assert.equal(status.applied.version, ruleset.version);
    assert.equal(a.agent.applied, ruleset.version);
    const writes = a.runner.calls.filter((c) => c.kind === "write");
    assert.deepEqual(
      writes.map((c) => c.cmd.join(" ")),
      [
        "ipset restore",
        "iptables-restore --noflush -w",
        "iptables -w -I FORWARD 1 -j PODWALL-FORWARD",
        "ip6tables-restore --noflush -w",
        "ip6tables -w -I FORWARD 1 -j PODWALL-FORWARD",
      ],
    );
    assert.equal(writes[0]!.input, ruleset.ipset);
    assert.equal(writes[1]!.input, ruleset.iptables);
    assert.equal(writes[3]!.input, ruleset.ip6tables);
    for (const family of ["ipv4", "ipv6"] as const) {
      const ours = [...a.runner.node.chainArgs(family).keys()].filter((c) => c.startsWith("PODWALL-")).sort();
      assert.deepEqual(ours, [...declaredChains(family === "ipv4" ? ruleset.iptables : ruleset.ip6tables)].sort());
      assert.deepEqual(chainRules(a.runner, family, "FORWARD"), ["-j PODWALL-FORWARD"]);
    }
    const sets = [...declaredSets(ruleset.ipset)].filter((n) => !n.endsWith("-T")).sort();
    assert.ok(sets.length > 0);
    assert.deepEqual([...a.runner.node.sets.keys()].sort(), sets, "every set, and no temporary one left");
    assert.ok(a.logs.some((l) => l.msg === "ruleset applied" && l["version"] === ruleset.version));
  });

  it("puts the hook first, once, keeps it there across versions, and never writes what is not ours", async () => {
    const run = new FakeRunner();
    seedForeign(run);
    const before = foreign(run);
    const a = startOn(server.url, run);
    const first = await inSync(server, "the first apply");
    assert.deepEqual(chainRules(run, "ipv4", "FORWARD"), ["-j PODWALL-FORWARD", "-j KUBE-FORWARD"]);
    assert.deepEqual(chainRules(run, "ipv6", "FORWARD"), ["-j PODWALL-FORWARD", "-j KUBE-FORWARD"]);
    const inserts = run.writes().filter((w) => / -I /.test(w)).length;
    assert.equal(inserts, 2, "one insertion per family");

    const mark = run.calls.length;
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    const second = await eventually(
      async () => {
        const s = await nodeStatus(server);
        return s.inSync && s.applied.version !== first.applied.version ? s : undefined;
      },
      5000,
      "the second apply",
    );
    assert.equal(second.applied.version, server.rules.rules(SYSTEM, "node-1").version);
    const later = run.calls
      .slice(mark)
      .filter((c) => c.kind === "write")
      .map((c) => c.cmd.join(" "));
    assert.deepEqual(later, ["ipset restore", "iptables-restore --noflush -w", "ip6tables-restore --noflush -w"], "the hooks are in place: no -D, no -I");
    assert.deepEqual(chainRules(run, "ipv4", "FORWARD"), ["-j PODWALL-FORWARD", "-j KUBE-FORWARD"]);
    assert.equal(foreign(run), before, "KUBE-* chains, rules and sets are as they were");
    for (const c of run.calls.filter((x) => x.kind === "write")) {
      assert.ok(!`${c.cmd.join(" ")}\n${c.input ?? ""}`.includes("KUBE-"), `a write touched a foreign object: ${c.cmd.join(" ")}`);
    }
    assert.equal(a.agent.applied, second.applied.version);
  });

  it("removes stale jumps, then stale chains, then stale sets, in that order", async () => {
    const run = new FakeRunner();
    seedForeign(run);
    // An older Podwall left: a hook out of place, a jump into a chain no longer hooked, and a chain using a set.
    run.node.ipsetCommand(["create", "PODWALL-PODS-OLD", "hash:ip", "family", "inet"]);
    run.node.ipsetCommand(["create", "PODWALL-NETS-OLD6", "hash:net", "family", "inet6"]);
    run.node.iptablesRestore(
      "ipv4",
      [
        "*filter",
        ":PODWALL-FORWARD - [0:0]",
        ":PODWALL-OLD - [0:0]",
        ":PODWALL-IN-OLD - [0:0]",
        "-A PODWALL-OLD -m set --match-set PODWALL-PODS-OLD src -j PODWALL-IN-OLD",
        "-A PODWALL-IN-OLD -j RETURN",
        "-A FORWARD -j PODWALL-FORWARD",
        "-A FORWARD -j PODWALL-OLD",
        "-A INPUT -j PODWALL-OLD",
        "COMMIT",
        "",
      ].join("\n"),
      true,
    );
    run.node.iptablesRestore(
      "ipv6",
      ["*filter", ":PODWALL-OLD6 - [0:0]", "-A PODWALL-OLD6 -m set --match-set PODWALL-NETS-OLD6 dst -j RETURN", "-A FORWARD -j PODWALL-OLD6", "COMMIT", ""].join("\n"),
      true,
    );
    // The out-of-place hook sits behind KUBE-FORWARD.
    run.node.tableCommand("ipv4", run.node.tables.ipv4, ["-D", "FORWARD", "-j", "KUBE-FORWARD"]);
    run.node.tableCommand("ipv4", run.node.tables.ipv4, ["-I", "FORWARD", "1", "-j", "KUBE-FORWARD"]);
    const before = foreign(run);
    startOn(server.url, run);
    await inSync(server, "the apply");

    const w = run.writes();
    const ipset = indexOf(run, /^ipset restore$/);
    const restore4 = indexOf(run, /^iptables-restore /);
    const hook4 = indexOf(run, /^iptables -w -I FORWARD 1 -j PODWALL-FORWARD$/);
    const stale4 = indexOf(run, /^iptables-restore /, restore4 + 1);
    const destroy = indexOf(run, /^ipset destroy /);
    assert.ok(ipset === 0 && ipset < restore4 && restore4 < hook4 && hook4 < stale4 && stale4 < destroy, `order: ${w.join(" | ")}`);
    assert.equal(indexOf(run, /^iptables -w -D FORWARD -j PODWALL-OLD$/) < hook4, true, "stale jumps go before the hook is put first");
    assert.ok(indexOf(run, /^iptables -w -D INPUT -j PODWALL-OLD$/) >= 0, "a stale jump in INPUT goes too");
    assert.ok(indexOf(run, /^ip6tables -w -D FORWARD -j PODWALL-OLD6$/) >= 0);
    assert.deepEqual(
      w.filter((x) => x.startsWith("ipset destroy")),
      ["ipset destroy PODWALL-NETS-OLD6", "ipset destroy PODWALL-PODS-OLD"],
      "sets last, after every chain",
    );
    assert.ok(w.lastIndexOf("ip6tables-restore --noflush -w") < destroy);
    const staleText = run.calls.filter((c) => c.kind === "write")[stale4]!.input!;
    assert.deepEqual(staleText.split("\n"), ["*filter", ":PODWALL-IN-OLD - [0:0]", ":PODWALL-OLD - [0:0]", "-X PODWALL-IN-OLD", "-X PODWALL-OLD", "COMMIT", ""]);

    assert.deepEqual(chainRules(run, "ipv4", "FORWARD"), ["-j PODWALL-FORWARD", "-j KUBE-FORWARD"]);
    assert.deepEqual(chainRules(run, "ipv4", "INPUT"), ["-j KUBE-SERVICES"]);
    assert.deepEqual(chainRules(run, "ipv6", "FORWARD"), ["-j PODWALL-FORWARD", "-j KUBE-FORWARD"]);
    for (const gone of ["PODWALL-OLD", "PODWALL-IN-OLD"]) assert.ok(!run.node.tables.ipv4.has(gone), `${gone} is gone`);
    assert.ok(!run.node.tables.ipv6.has("PODWALL-OLD6"));
    assert.ok(!run.node.sets.has("PODWALL-PODS-OLD") && !run.node.sets.has("PODWALL-NETS-OLD6"));
    assert.equal(foreign(run), before);
  });

  it("removes the chains and sets a new version no longer declares, and only those", async () => {
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    const run = new FakeRunner();
    seedForeign(run);
    const before = foreign(run);
    startOn(server.url, run);
    const v1 = server.rules.rules(SYSTEM, "node-1");
    await inSync(server, "the first version");
    const chains1 = [...run.node.tables.ipv4.keys()].filter((c) => c.startsWith("PODWALL-"));
    const sets1 = [...run.node.sets.keys()];

    assert.equal((await http(server, "DELETE", "/v1/namespaces/app/networkpolicies/a-in")).status, 200);
    const v2 = server.rules.rules(SYSTEM, "node-1");
    assert.notEqual(v2.version, v1.version);
    await eventually(async () => ((await nodeStatus(server)).applied?.version === v2.version ? true : undefined), 5000, "the second version");
    const chains2 = [...run.node.tables.ipv4.keys()].filter((c) => c.startsWith("PODWALL-")).sort();
    assert.deepEqual(chains2, [...declaredChains(v2.iptables)].sort());
    // a-in's policy chain went, and so did app/a's ingress chain: nothing isolates it for ingress now.
    const dropped = chains1.filter((c) => !chains2.includes(c));
    assert.deepEqual(dropped.map((c) => c.slice(0, "PODWALL-XX-".length)).sort(), ["PODWALL-IN-", "PODWALL-PI-"]);
    assert.ok(chains2.some((c) => c.startsWith("PODWALL-PE-")) && chains2.includes("PODWALL-FORWARD"), "the chains still declared stay");
    assert.deepEqual([...run.node.sets.keys()].filter((s) => s.startsWith("PODWALL-")).sort(), [...declaredSets(v2.ipset)].filter((n) => !n.endsWith("-T")).sort());
    assert.ok(sets1.some((s) => s.startsWith("PODWALL-PODS-")) && ![...run.node.sets.keys()].some((s) => s.startsWith("PODWALL-PODS-")), "the pod peer set went");
    assert.ok(run.node.sets.has("KUBE-CLUSTER-IP"));
    assert.equal(foreign(run), before);
  });

  it("leaves `applied` as it was when a command fails, reports the error, and succeeds once the failure stops", async () => {
    const run = new FakeRunner();
    const a = startOn(server.url, run);
    const good = await inSync(server, "the first apply");

    run.failing = (cmd) => cmd[0] === "iptables-restore";
    assert.equal((await http(server, "POST", "/v1/apply", EXTRA)).status, 200);
    const next = server.rules.rules(SYSTEM, "node-1").version;
    const failed = await eventually(
      async () => {
        const s = await nodeStatus(server);
        return s.applied?.error ? s : undefined;
      },
      5000,
      "the error report",
    );
    assert.equal(failed.inSync, false);
    assert.equal(failed.applied.version, next, "the report names the version that failed");
    assert.match(failed.applied.error, /iptables-restore --noflush -w failed .*injected failure/);
    assert.equal(a.agent.applied, good.applied.version, "the agent still holds the last good version");
    await eventually(() => run.calls.filter((c) => c.cmd[0] === "iptables-restore").length >= 3, 5000, "retries");
    assert.ok(a.logs.some((l) => l.msg.startsWith("apply failed") && l.level === 50));

    run.failing = undefined;
    const healed = await inSync(server, "the apply after the failure stopped");
    assert.equal(healed.applied.version, next);
    assert.equal(healed.applied.error, undefined);
    assert.equal(a.agent.applied, next);
    assert.equal(a.finished(), false, "it keeps running");
  });

  it("stop() ends run() in the middle of a long poll, without waiting for the poll to run out", async () => {
    // The longest wait the server grants: run() resolving here means the poll was cut.
    const a = startOn(server.url, new FakeRunner(), { waitSeconds: 300 });
    await inSync(server, "the first apply");
    a.agent.stop();
    await a.done;
    assert.ok(a.logs.some((l) => l.msg.startsWith("agent stopped")));
    assert.ok(!a.logs.some((l) => l.level >= 40), "a cut poll is not a failure");
  });

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

  it("applies deltas onto the version it applied, and ends where the whole ruleset does", async () => {
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

/** A port on loopback nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("the agent without a server", () => {
  afterEach(stopAll);

  it("warns, keeps running and retries with growing delays", async () => {
    const port = await closedPort();
    const a = startOn(`http://127.0.0.1:${port}`, new FakeRunner(), { minBackoffMs: 20, maxBackoffMs: 10_000 });
    await eventually(() => a.logs.filter((l) => l.level === 40).length >= 5, 5000, "five warnings");
    assert.equal(a.finished(), false, "still running");
    const delays = a.logs.filter((l) => l.level === 40 && l.msg.startsWith("server unreachable")).map((l) => l["retryInMs"] as number);
    delays.slice(0, 5).forEach((d, k) => {
      const base = 20 * 2 ** k;
      assert.ok(d >= base / 2 && d <= base, `retry ${k}: ${d} ms, not within [${base / 2}, ${base}]`);
    });
    assert.deepEqual(a.runner.writes(), [], "nothing was changed on the node");
    a.agent.stop();
    await a.done;
  });

  it("keeps the rules in force while the server is away, and applies the next version when it is back", async () => {
    const first = await startServer();
    let firstOpen = true;
    let second: Awaited<ReturnType<typeof serve>> | undefined;
    try {
      const port = first.restPort;
      assert.equal((await http(first, "PUT", "/v1/model", MODEL)).status, 200);
      const a = startOn(first.url, new FakeRunner(), { minBackoffMs: 20, maxBackoffMs: 100 });
      await eventually(() => a.agent.applied, 5000, "the first apply");
      const v1 = a.agent.applied;
      const state = a.runner.node.save("ipv4");
      const writes = a.runner.writes().length;
      await first.close();
      firstOpen = false;
      const away = () => a.logs.filter((l) => l.level === 40 && l.msg.startsWith("server unreachable")).length;
      await eventually(() => away() >= 3, 5000, "three retries while the server is away");
      assert.equal(a.runner.writes().length, writes, "no command while the server is away");
      assert.equal(a.runner.node.save("ipv4"), state);
      assert.equal(a.agent.applied, v1);

      second = await serve({ listen: `127.0.0.1:${port}`, grpcListen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
      await second.ready;
      const put = await fetch(`http://127.0.0.1:${port}/v1/model`, { method: "PUT", headers: { "content-type": "application/yaml" }, body: MODEL + EXTRA });
      assert.equal(put.status, 200);
      const v2 = second.rules.rules(SYSTEM, "node-1").version;
      assert.notEqual(v2, v1);
      await eventually(() => a.agent.applied === v2, 5000, "the apply after the server came back");
    } finally {
      await stopAll();
      if (firstOpen) await first.close();
      await second?.close();
    }
  });
});

describe("the dry run", () => {
  let server: TestServer;
  let dir: string;
  const path = process.env["PATH"];
  before(async () => {
    server = await startServer();
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
    // Stand-ins for the real tools, first on PATH: they log each call and print a node with stale objects.
    dir = mkdtempSync(join(tmpdir(), "podwall-dry-"));
    const tool = (name: string, out: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> "${join(dir, "calls.log")}"\nprintf '%s' '${out}'\n`);
      chmodSync(join(dir, name), 0o755);
    };
    for (const t of ["iptables", "ip6tables"]) tool(t, "-P FORWARD ACCEPT\n");
    tool("iptables-save", "*filter\n:FORWARD ACCEPT [0:0]\n:PODWALL-STALE - [0:0]\nCOMMIT\n");
    tool("ip6tables-save", "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
    tool("ipset", "PODWALL-PODS-STALE\nKUBE-CLUSTER-IP\n");
    for (const t of ["iptables-restore", "ip6tables-restore"]) tool(t, "");
    process.env["PATH"] = `${dir}:${path}`;
  });
  after(async () => {
    process.env["PATH"] = path;
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  });

  it("prints every change it would make, makes none, and reports nothing", async () => {
    let out = "";
    const logger = pino({ level: "silent" });
    const agent = new Agent({ server: server.url, node: "node-1", runner: new DryRunner((t) => (out += t)), logger, report: false, once: true });
    // It stops by itself after the first ruleset; the timer only keeps a broken run from hanging the suite.
    const timer = setTimeout(() => agent.stop(), 5000);
    await agent.run();
    clearTimeout(timer);
    const r = server.rules.rules(SYSTEM, "node-1");
    assert.ok(out.includes(`ipset restore <<'EOF'\n${r.ipset}EOF\n`), out);
    assert.ok(out.includes(`iptables-restore --noflush -w <<'EOF'\n${r.iptables}EOF\n`));
    assert.ok(out.includes(`ip6tables-restore --noflush -w <<'EOF'\n${r.ip6tables}EOF\n`));
    assert.ok(out.includes("iptables -w -I FORWARD 1 -j PODWALL-FORWARD\n"));
    assert.ok(out.includes("ip6tables -w -I FORWARD 1 -j PODWALL-FORWARD\n"));
    assert.ok(out.includes("-X PODWALL-STALE"), "the stale chain's removal is printed");
    assert.ok(out.includes("ipset destroy PODWALL-PODS-STALE\n"));
    assert.ok(!out.includes("KUBE-"), "nothing foreign would be touched");
    const calls = readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
    assert.ok(calls.length >= 4, calls.join("\n"));
    for (const c of calls) assert.match(c, /^(ip6?tables -w -t filter -S \S+|ip6?tables-save -t filter|ipset list -n)$/, `only reads ran: ${c}`);
    assert.equal((await http(server, "GET", "/v1/nodes")).body.nodes[0].applied, null, "a dry run reports nothing");
  });
});
