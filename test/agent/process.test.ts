/**
 * `podwall agent` as a process, against a server with TLS and an auth file,
 * with stand-ins for ipset and iptables first on PATH (the stand-in of
 * `ipset restore` holds until the test releases it): SIGTERM in the middle of
 * an apply lets the apply and its report finish, then the agent exits 0;
 * SIGTERM during a long poll ends it at once; `--metrics-listen` serves the
 * agent's metrics while it runs.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import type { RestClient } from "../../client/rest-client.js";
import { SYSTEM } from "../../server/service/index.js";
import { type SecureServer, startSecureServer } from "../client/secure-fixture.js";
import { CLI, ROOT } from "../helpers/process.js";
import { eventually } from "../rules/support.js";

const WAIT_MS = 60_000;

interface AgentProcess {
  readonly proc: ChildProcess;
  readonly logs: { msg: string; [k: string]: unknown }[];
  readonly exited: Promise<number | null>;
}

function spawnAgent(args: readonly string[], env: Record<string, string>): AgentProcess {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, "agent", ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const logs: AgentProcess["logs"] = [];
  createInterface({ input: proc.stderr! }).on("line", (line) => {
    if (line.startsWith("{")) logs.push(JSON.parse(line) as AgentProcess["logs"][number]);
    else logs.push({ msg: line });
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, logs, exited };
}

/** The value of one series in a Prometheus text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("podwall agent, the process", () => {
  let s: SecureServer;
  /** By name, as the server certificate's DNS name says. */
  let url: string;
  let tools: string;
  let admin: RestClient;
  const children: AgentProcess[] = [];

  before(async () => {
    s = await startSecureServer();
    url = `https://localhost:${s.server.restPort}`;
    admin = s.rest({ tokenFile: s.tokenFiles.admin });

    tools = mkdtempSync(join(tmpdir(), "podwall-agent-tools-"));
    const log = join(tools, "calls.log");
    const tool = (name: string, body: string) => {
      writeFileSync(join(tools, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\n`);
      chmodSync(join(tools, name), 0o755);
    };
    // `ipset restore` says it has started, then holds until the test writes the release file.
    tool("ipset", `if [ "$1" = restore ]; then cat > /dev/null; touch "${tools}/entered"; while [ ! -e "${tools}/release" ]; do sleep 0.02; done; fi`);
    for (const t of ["iptables", "ip6tables"]) tool(t, "printf '%s\\n' '-P FORWARD ACCEPT'");
    for (const t of ["iptables-save", "ip6tables-save"]) tool(t, "printf '%s\\n' '*filter' ':FORWARD ACCEPT [0:0]' 'COMMIT'");
    for (const t of ["iptables-restore", "ip6tables-restore"]) tool(t, "cat > /dev/null");
  });
  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await admin?.close();
    await s?.close();
    rmSync(tools, { recursive: true, force: true });
  });

  const env = () => ({ PATH: `${tools}:${process.env["PATH"]}` });
  const calls = () => (existsSync(join(tools, "calls.log")) ? readFileSync(join(tools, "calls.log"), "utf8").trim().split("\n") : []);

  it("on SIGTERM in the middle of an apply, finishes the apply and its report, then exits 0", async () => {
    rmSync(join(tools, "release"), { force: true });
    rmSync(join(tools, "calls.log"), { force: true });
    const a = spawnAgent(
      ["--server", url, "--node", "node-1", "--wait", "1", "--ca", s.pki.caCert, "--cert", s.agentCert.cert, "--key", s.agentCert.key, "--metrics-listen", "127.0.0.1:0"],
      env(),
    );
    children.push(a);
    const listening = await eventually(() => a.logs.find((l) => l.msg === "metrics listening"), WAIT_MS, "the metrics endpoint");
    await eventually(() => existsSync(join(tools, "entered")), WAIT_MS, "ipset restore to start");

    const metrics = await (await fetch(`http://${listening["metrics"] as string}/metrics`)).text();
    assert.equal(sample(metrics, 'podwall_agent_polls_total{result="changed"}'), 1);
    assert.equal(sample(metrics, 'podwall_agent_applies_total{outcome="ok"}'), 0, "the apply is in progress");
    assert.equal(sample(metrics, `podwall_agent_server_info{server="${url}"}`), 1);

    a.proc.kill("SIGTERM");
    await eventually(() => a.logs.some((l) => l.msg.startsWith("stopping once the apply")), WAIT_MS, "the signal to be taken");
    a.proc.kill("SIGTERM");
    await eventually(() => a.logs.filter((l) => l.msg.startsWith("stopping once the apply")).length === 2, WAIT_MS, "the second signal to be taken");
    assert.equal(a.proc.exitCode, null, "still applying");
    writeFileSync(join(tools, "release"), "");

    assert.equal(await a.exited, 0);
    const writes = calls().filter((c) => !/ -S | -t filter$|^ipset list/.test(c));
    assert.deepEqual(writes, [
      "ipset restore",
      "iptables-restore --noflush -w",
      "iptables -w -I FORWARD 1 -j PODWALL-FORWARD",
      "ip6tables-restore --noflush -w",
      "ip6tables -w -I FORWARD 1 -j PODWALL-FORWARD",
    ]);
    const version = s.server.rules.rules(SYSTEM, "node-1").version;
    const msgs = a.logs.map((l) => l.msg);
    assert.ok(msgs.indexOf("ruleset applied") >= 0 && msgs.indexOf("ruleset applied") < msgs.findIndex((m) => m.startsWith("agent stopped")), msgs.join(" | "));
    const nodes = (await admin.request<{ nodes: { node: string; applied?: { version: string } }[] }>("GET", "/v1/nodes")).body.nodes;
    assert.equal(nodes.find((n) => n.node === "node-1")?.applied?.version, version, "the report went out before the exit");
  });

  it("on SIGTERM during a long poll, exits 0 at once; PODWALL_SERVER and PODWALL_TOKEN_FILE stand in for the flags", async () => {
    writeFileSync(join(tools, "release"), "");
    rmSync(join(tools, "calls.log"), { force: true });
    const a = spawnAgent(["--node", "node-1", "--wait", "300", "--ca", s.pki.caCert], { ...env(), PODWALL_SERVER: url, PODWALL_TOKEN_FILE: s.tokenFiles.agent1 });
    children.push(a);
    await eventually(() => a.logs.some((l) => l.msg === "ruleset applied"), WAIT_MS, "the apply");
    const version = s.server.rules.rules(SYSTEM, "node-1").version;
    await eventually(
      async () => {
        const nodes = (await admin.request<{ nodes: { node: string; applied?: { appliedAt: string; version: string } }[] }>("GET", "/v1/nodes")).body.nodes;
        return nodes.find((n) => n.node === "node-1")?.applied?.version === version;
      },
      WAIT_MS,
      "the report, after which the agent long-polls for five minutes",
    );
    a.proc.kill("SIGTERM");
    assert.equal(await a.exited, 0);
    assert.ok(a.logs.some((l) => l.msg.startsWith("agent stopped")));
    assert.ok(!a.logs.some((l) => typeof l["level"] === "number" && (l["level"] as number) >= 40), JSON.stringify(a.logs));
  });
});
