/**
 * Every decision answered carries its own id (`decisionId`, and the
 * `X-Podwall-Decision-Id` header), and with `--decision-log` one JSON line per
 * decision records it: who asked, the question, the answer, the generation and
 * the reason, batch entries included. A log that cannot keep up drops lines
 * and counts them; it never holds a decision up.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decisionClient } from "../../client/grpc-client.js";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../../server/gen/podwall/v1/podwall_pb.js";
import { DecisionLog, Metrics, OPEN } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { eventually } from "../rules/support.js";
import { authFiles, authYaml, identity } from "../auth/support.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Entry {
  time: string;
  decisionId: string;
  principal: string;
  question: { src: string; dst: string; protocol: string; port: number };
  answer: { allowed: boolean };
  generation: number;
  reason: string;
  batch?: number;
}

describe("decision ids and the decision log", () => {
  const reader = identity("dashboards", "reader");
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  let log: string;
  const entries = () =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Entry);
  const auth = { authorization: `Bearer ${reader.token}` };

  before(async () => {
    files = authFiles(authYaml([reader]));
    log = join(files.dir, "decisions.log");
    server = await startServer([files.model], { auth: files.auth, decisionLog: log });
  });
  after(async () => {
    await server.close();
    files.cleanup();
  });

  it("each answer has its own id, in the body and the header, and a log line that names it", async () => {
    const a = await http(server, "GET", "/v1/check?src=app/b&dst=app/a&port=80", undefined, auth);
    const b = await http(server, "GET", "/v1/check?src=app/b&dst=app/a&port=80", undefined, auth);
    assert.match(a.body.decisionId, UUID);
    assert.equal(a.headers.get("x-podwall-decision-id"), a.body.decisionId);
    assert.notEqual(a.body.decisionId, b.body.decisionId, "the same question asked twice is two decisions");
    const found = await eventually(() => entries().find((e) => e.decisionId === a.body.decisionId), 30_000, "the log line");
    assert.equal(found.principal, "dashboards");
    assert.deepEqual(found.question, { src: "app/b", dst: "app/a", protocol: "TCP", port: 80 });
    assert.deepEqual(found.answer, { allowed: true });
    assert.equal(found.generation, a.body.generation);
    assert.equal(found.reason, "policy");
    assert.ok(!Number.isNaN(Date.parse(found.time)));
  });

  it("batch entries and gRPC decisions are logged too, each with its id", async () => {
    const checks = [
      { src: "app/b", dst: "app/a", port: 80 },
      { src: "app/a", dst: "app/b", port: 443, protocol: "UDP" },
      { src: "app/a", dst: "app/a", port: 80 },
    ];
    const r = await http(server, "POST", "/v1/check/batch", { checks }, auth);
    assert.equal(r.status, 200);
    const ids = (r.body.results as { decisionId: string }[]).map((d) => d.decisionId);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(id, UUID);

    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${reader.token}`);
    const client = decisionClient(server.grpcAddress);
    const rpc = await new Promise<{ decisionId: string }>((resolve, reject) =>
      client.client["check"]!(create(CheckRequestSchema, { src: "app/b", dst: "app/a", port: 80 }), md, (err: grpc.ServiceError | null, res: { decisionId: string }) =>
        err ? reject(err) : resolve(res),
      ),
    );
    client.close();
    assert.match(rpc.decisionId, UUID);

    const logged = await eventually(
      () => {
        const all = entries();
        const batch = ids.map((id) => all.find((e) => e.decisionId === id));
        const single = all.find((e) => e.decisionId === rpc.decisionId);
        return batch.every((e) => e !== undefined) && single ? { batch: batch as Entry[], single } : undefined;
      },
      30_000,
      "every line",
    );
    assert.deepEqual(
      logged.batch.map((e) => e.batch),
      [0, 1, 2],
    );
    assert.deepEqual(logged.batch[1]!.question, { src: "app/a", dst: "app/b", protocol: "UDP", port: 443 });
    assert.equal(logged.single.principal, "dashboards");
    assert.equal(logged.single.batch, undefined);
  });
});

describe("a decision log that cannot keep up", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "podwall-dlog-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("drops lines past its buffer and counts them; what it wrote is whole lines", async () => {
    const metrics = new Metrics();
    const path = join(dir, "d.log");
    const log = DecisionLog.open(path, metrics, undefined, 0);
    const q = { src: "a/b", dst: "a/c", protocol: "TCP" as const, port: 80, explain: false };
    const d = { allowed: true, generation: 1, reason: "policy" } as never;
    for (let i = 0; i < 1000; i++) log.record(OPEN, `id-${i}`, q, d);
    await log.close();
    const counts = Object.fromEntries((await metrics.decisionLog.get()).values.map((v) => [v.labels["outcome"], v.value]));
    assert.ok((counts["dropped"] ?? 0) > 0, "some lines were dropped");
    assert.equal((counts["written"] ?? 0) + (counts["dropped"] ?? 0), 1000);
    const lines = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    assert.equal(lines.length, counts["written"]);
    for (const l of lines) assert.equal((JSON.parse(l) as Entry).question.src, "a/b");
  });
});
