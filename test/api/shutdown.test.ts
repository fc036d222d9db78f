/**
 * A stopping server: not ready at once, long polls answered 304 (closing their
 * connections) and watch streams ended UNAVAILABLE so agents move to another
 * replica, requests in flight finished, whatever outlives the shutdown
 * timeout cut; and `podwall serve` exits 0 on SIGTERM with a watch open.
 */
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { decisionClient } from "../../client/grpc-client.js";
import { SYSTEM } from "../../server/service/index.js";
import { spawnServe, untilReady } from "../helpers/process.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { TWO_NODES, eventually } from "../rules/support.js";

/** A PUT whose body is half sent: the rest goes when `finish` is called; resolves with the raw answer. */
async function halfSentPut(port: number, path: string, body: string): Promise<{ finish(): Promise<string> }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  socket.write(`${[`PUT ${path} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/yaml", `Content-Length: ${bytes.length}`].join("\r\n")}\r\n\r\n`);
  socket.write(bytes.subarray(0, half));
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<string>((resolve) => socket.once("close", () => resolve(Buffer.concat(chunks).toString())));
  return {
    finish: () => {
      socket.write(bytes.subarray(half));
      return ended;
    },
  };
}

const gauge = async (server: TestServer, name: "longPolls" | "watchStreams") => (await server.service.metrics[name].get()).values[0]?.value ?? 0;

describe("graceful shutdown", () => {
  let dir: string;
  let model: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "podwall-shutdown-"));
    model = join(dir, "model.yaml");
    writeFileSync(model, TWO_NODES);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("not ready at once; long polls 304, watch streams UNAVAILABLE; a request in flight is answered; nothing is cut", async () => {
    const logs: string[] = [];
    const server = await startServer([model], { shutdownTimeoutMs: 120_000, logger: pino({ level: "info" }, { write: (s: string) => logs.push(s) }) });
    const version = server.rules.rules(SYSTEM, "node-1").version;
    const poll = http(server, "GET", "/v1/nodes/node-1/rules?wait=300", undefined, { "if-none-match": `"${version}"` });
    const client = decisionClient(server.grpcAddress);
    const stream = client.stream("watchRules", { node: "node-1" });
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    await new Promise((resolve) => stream.once("data", resolve));
    await eventually(async () => (await gauge(server, "longPolls")) === 1 && (await gauge(server, "watchStreams")) === 1, 30_000, "the long poll and the watch to be held");
    const put = await halfSentPut(server.restPort, "/v1/model", TWO_NODES);
    // One answered request on another connection: the half-sent one was accepted before it.
    assert.equal((await http(server, "GET", "/healthz")).status, 200);

    const closing = server.close();
    assert.equal(server.service.readiness().ready, false, "not ready at once");
    assert.equal(server.service.readiness().status, "shutting down");

    const polled = await poll;
    assert.equal(polled.status, 304);
    assert.equal(polled.headers.get("connection"), "close");
    const e = await ended;
    assert.equal(e.code, grpc.status.UNAVAILABLE);
    assert.match(e.details, /shutting down/);
    client.close();

    const answer = await put.finish();
    assert.match(answer, /^HTTP\/1\.1 200 /, "the request in flight is answered");
    await closing;
    assert.ok(logs.some((l) => l.includes('"msg":"stopped"')));
    assert.ok(!logs.some((l) => l.includes("are cut")), "nothing had to be cut");
  });

  it("a request that outlives the shutdown timeout is cut, and the server stops", async () => {
    const logs: string[] = [];
    const server = await startServer([model], { shutdownTimeoutMs: 200, logger: pino({ level: "info" }, { write: (s: string) => logs.push(s) }) });
    await halfSentPut(server.restPort, "/v1/model", TWO_NODES);
    assert.equal((await http(server, "GET", "/healthz")).status, 200);
    await server.close();
    assert.ok(logs.some((l) => l.includes("are cut")));
  });

  it("`podwall serve` exits 0 on SIGTERM while an agent watches its rules", async () => {
    const p = await spawnServe(["--in-memory", "--manifests", model]);
    try {
      await untilReady(p);
      const client = decisionClient(p.grpc);
      const stream = client.stream("watchRules", { node: "node-1" });
      const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
      await new Promise((resolve) => stream.once("data", resolve));
      p.proc.kill("SIGTERM");
      assert.equal((await ended).code, grpc.status.UNAVAILABLE);
      client.close();
      assert.equal(await p.exited, 0, p.tail.join("\n"));
    } finally {
      await p.kill();
    }
  });
});
