/**
 * The clients against the real server with TLS, client certificates and an
 * auth file (`serve({ tls, auth })`): the REST client, the gRPC client and
 * the agent with a client certificate. Who is let in, who is refused with
 * 401 or 403, and what a user reads when refused. (The commands are in
 * test/cli/credentials.test.ts.)
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { Agent } from "../../client/agent/agent.js";
import { decisionClient } from "../../client/grpc-client.js";
import { Transport } from "../../client/transport.js";
import { PodwallError } from "../../server/service/errors.js";
import { SYSTEM } from "../../server/service/index.js";
import { FakeRunner } from "../rules/simulator.js";
import { eventually } from "../rules/support.js";
import { AGENT_CN, type SecureServer, TOKENS, startSecureServer } from "./secure-fixture.js";

const WAIT_MS = 20_000;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail("expected a rejection");
}

describe("clients of a server with TLS and an auth file", () => {
  let s: SecureServer;
  before(async () => {
    s = await startSecureServer();
  });
  after(async () => s?.close());

  it("REST: a token's role decides; no credentials is 401 with WWW-Authenticate: Bearer; a reader's write is 403", async () => {
    const admin = s.rest({ tokenFile: s.tokenFiles.admin });
    const reader = s.rest({ tokenFile: s.tokenFiles.reader });
    const nobody = s.rest();
    try {
      const d = await admin.request<{ allowed: boolean }>("POST", "/v1/check", { src: "x/a", dst: "y/b", port: 80 });
      assert.equal(d.body.allowed, true);
      assert.equal((await reader.request<{ allowed: boolean }>("POST", "/v1/check", { src: "x/a", dst: "y/b", port: 80 })).body.allowed, true);

      const raw = await nobody.transport.fetch(`${s.url}/v1/check?src=x/a&dst=y/b&port=80`);
      assert.equal(raw.status, 401);
      assert.match(raw.headers.get("www-authenticate") ?? "", /^Bearer\b/);
      await raw.arrayBuffer();
      const e401 = await rejection(nobody.request("POST", "/v1/check", { src: "x/a", dst: "y/b", port: 80 }));
      assert.ok(e401 instanceof PodwallError);
      assert.equal(e401.code, "unauthenticated");
      assert.equal(e401.message, `Unauthorized: no valid credentials were given (${s.url} asks for credentials: give --token-file FILE, or --cert FILE --key FILE)`);

      const e403 = await rejection(reader.request("POST", "/v1/apply", { apiVersion: "v1", kind: "Namespace", metadata: { name: "nope" } }));
      assert.ok(e403 instanceof PodwallError);
      assert.equal(e403.code, "forbidden");
      assert.equal(
        e403.message,
        `dashboards (role reader) may not model:write (${s.url} knows the credentials of --token-file ${s.tokenFiles.reader}, but their role does not allow this)`,
      );
    } finally {
      await Promise.all([admin.close(), reader.close(), nobody.close()]);
    }
  });

  it("REST: a client certificate names an agent, for its own node only; one from an unknown CA is 401", async () => {
    const agent = s.rest(s.agentCert);
    const foreign = s.rest(await s.pki.foreignClient(AGENT_CN));
    try {
      const own = await agent.request<{ node: string; version: string }>("GET", "/v1/nodes/node-1/rules");
      assert.equal(own.body.node, "node-1");
      assert.equal(own.body.version, s.server.rules.rules(SYSTEM, "node-1").version);
      const other = await rejection(agent.request("GET", "/v1/nodes/node-2/rules"));
      assert.ok(other instanceof PodwallError);
      assert.equal(other.code, "forbidden");
      assert.match(other.message, new RegExp(`^${AGENT_CN} \\(role agent for node "node-1"\\) may not rules:read of node "node-2" \\(`));
      const unknown = await rejection(foreign.request("GET", "/v1/nodes/node-1/rules"));
      assert.ok(unknown instanceof PodwallError);
      assert.equal(unknown.code, "unauthenticated");
      assert.match(unknown.message, /did not accept the credentials of --cert /);
    } finally {
      await Promise.all([agent.close(), foreign.close()]);
    }
  });

  it("REST: a token file rewritten with another token acts as the new identity from the next request on", async () => {
    const file = join(s.pki.dir, "rotating.token");
    writeFileSync(file, TOKENS.reader);
    const c = s.rest({ tokenFile: file });
    try {
      assert.equal(((await rejection(c.request("DELETE", "/v1/namespaces/nope"))) as PodwallError).code, "forbidden");
      writeFileSync(file, `${TOKENS.admin}\n`);
      const e = await rejection(c.request("DELETE", "/v1/namespaces/nope"));
      assert.equal((e as PodwallError).code, "not-found", "the admin got past authorization");
    } finally {
      await c.close();
    }
  });

  it("gRPC: TLS with the CA, the token as call credentials; none is UNAUTHENTICATED, an agent's check PERMISSION_DENIED", async () => {
    const call = async (o: Parameters<typeof decisionClient>[1]) => {
      const c = decisionClient(s.server.grpcAddress, o);
      try {
        return await c.unary("check", { src: "x/a", dst: "y/b", protocol: "TCP", port: 80 });
      } finally {
        c.close();
      }
    };
    const d = await call({ ca: s.pki.caCert, tokenFile: s.tokenFiles.reader });
    assert.equal(d.allowed, true);
    const none = (await rejection(call({ ca: s.pki.caCert }))) as grpc.ServiceError;
    assert.equal(none.code, 16, none.message);
    const agent = (await rejection(call({ ca: s.pki.caCert, tokenFile: s.tokenFiles.agent1 }))) as grpc.ServiceError;
    assert.equal(agent.code, 7, agent.message);
    const byCert = (await rejection(call({ ca: s.pki.caCert, ...s.agentCert }))) as grpc.ServiceError;
    assert.equal(byCert.code, 7, "the certificate names the agent, who may not check");
    const untrusted = (await rejection(call({ tls: true, tokenFile: s.tokenFiles.admin }))) as grpc.ServiceError;
    assert.equal(untrusted.code, 14, untrusted.message);
  });

  it("gRPC: a token file rewritten with another token acts as the new identity from the next call on", async () => {
    const file = join(s.pki.dir, "grpc-rotating.token");
    writeFileSync(file, TOKENS.reader);
    const c = decisionClient(s.server.grpcAddress, { ca: s.pki.caCert, tokenFile: file });
    try {
      assert.equal((await c.unary("check", { src: "x/a", dst: "y/b", protocol: "TCP", port: 80 })).allowed, true);
      writeFileSync(file, `${TOKENS.agent1}\n`);
      const e = (await rejection(c.unary("check", { src: "x/a", dst: "y/b", protocol: "TCP", port: 80 }))) as grpc.ServiceError;
      assert.equal(e.code, 7, e.message);
    } finally {
      c.close();
    }
  });

  it("gRPC: an agent's client certificate reads its own node's rules", async () => {
    const c = decisionClient(s.server.grpcAddress, { ca: s.pki.caCert, ...s.agentCert });
    try {
      const r = await c.unary("getRules", { node: "node-1" });
      assert.equal(r.version, s.server.rules.rules(SYSTEM, "node-1").version);
    } finally {
      c.close();
    }
  });

  it("the agent refused (no credentials, or another node's) logs an error naming the status, applies nothing and keeps trying", async () => {
    const file = join(s.pki.dir, "agent-elsewhere.token");
    writeFileSync(file, TOKENS.agent1);
    for (const [node, transport, status] of [
      ["node-1", new Transport({ ca: s.pki.caCert }), 401],
      ["node-2", new Transport({ ca: s.pki.caCert, tokenFile: file }), 403],
    ] as const) {
      const logs: { level: number; msg: string; status?: number; err?: string }[] = [];
      const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });
      const runner = new FakeRunner();
      const agent = new Agent({ server: s.url, node, runner, logger, waitSeconds: 1, minBackoffMs: 20, maxBackoffMs: 40, transport });
      const done = agent.run();
      try {
        const refused = () => logs.filter((l) => l.msg === "the server refused the agent's credentials; keeping the rules in force");
        await eventually(() => refused().length >= 2, WAIT_MS, "two refusals");
        assert.equal(refused()[0]!.level, 50);
        assert.equal(refused()[0]!.status, status);
        assert.match(refused()[0]!.err ?? "", new RegExp(`^GET ${s.url}/v1/nodes/${node}/rules: HTTP ${status}: `));
        assert.deepEqual(runner.writes(), []);
        assert.match(await agent.metrics.text(), /^podwall_agent_polls_total\{result="error"\} [2-9]/m);
        for (const t of Object.values(TOKENS)) assert.ok(!JSON.stringify(logs).includes(t), "no token in a log line");
      } finally {
        agent.stop();
        await done;
        await transport.close();
      }
    }
  });

  it("the agent with a client certificate applies its node's ruleset and reports it", async () => {
    const transport = new Transport({ ca: s.pki.caCert, ...s.agentCert });
    const agent = new Agent({ server: s.url, node: "node-1", runner: new FakeRunner(), logger: pino({ level: "silent" }), waitSeconds: 1, transport });
    const done = agent.run();
    const admin = s.rest({ tokenFile: s.tokenFiles.admin });
    try {
      const version = s.server.rules.rules(SYSTEM, "node-1").version;
      await eventually(() => agent.applied === version, WAIT_MS, "the apply");
      const status = await eventually(
        async () => {
          const nodes = (await admin.request<{ nodes: { node: string; inSync: boolean; applied?: { version: string } }[] }>("GET", "/v1/nodes")).body.nodes;
          const n = nodes.find((x) => x.node === "node-1");
          return n?.inSync ? n : undefined;
        },
        WAIT_MS,
        "the report",
      );
      assert.equal(status.applied?.version, version);
    } finally {
      agent.stop();
      await done;
      await transport.close();
      await admin.close();
    }
  });
});
