/**
 * Bounded resources: long polls and watch streams per identity (429 /
 * RESOURCE_EXHAUSTED past the bound, other identities unaffected, room again
 * once one ends), and questions per batch (413), each counted in a metric.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { decisionClient } from "../../client/grpc-client.js";
import { BatchCheckRequestSchema, WatchRulesRequestSchema } from "../../server/gen/podwall/v1/podwall_pb.js";
import { SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { eventually } from "../rules/support.js";
import { authFiles, authYaml, identity } from "../auth/support.js";

describe("limits", () => {
  const agent = identity("agent-node-1", "agent", "node-1");
  const reader = identity("dashboards", "reader");
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  let client: ReturnType<typeof decisionClient>;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const md = (t: string) => {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${t}`);
    return m;
  };
  /** A watch of node-1's rules; the error a cancelled stream ends with is expected. */
  const watch = (t: string) => {
    const s = client.client["watchRules"]!(create(WatchRulesRequestSchema, { node: "node-1" }), md(t)) as grpc.ClientReadableStream<unknown>;
    s.on("error", () => {});
    return s;
  };
  const rejected = async (reason: string) => (await server.service.metrics.rejected.get()).values.find((v) => v.labels["reason"] === reason)?.value ?? 0;

  before(async () => {
    files = authFiles(authYaml([agent, reader]));
    server = await startServer([files.model], { auth: files.auth, rulesLimits: { watchesPerIdentity: 2 }, maxBatch: 3 });
    client = decisionClient(server.grpcAddress);
  });
  after(async () => {
    client.close();
    await server.close();
    files.cleanup();
  });

  it("an identity holds at most its bound of watches and long polls; others are not affected", async () => {
    const first = watch(agent.token);
    const second = watch(agent.token);
    await Promise.all([first, second].map((s) => new Promise((resolve) => s.once("data", resolve))));

    const third = watch(agent.token);
    const e = await new Promise<grpc.ServiceError>((resolve) => third.on("error", resolve));
    assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);

    const version = server.rules.rules(SYSTEM, "node-1").version;
    const poll = await http(server, "GET", "/v1/nodes/node-1/rules?wait=30", undefined, { ...bearer(agent.token), "if-none-match": `"${version}"` });
    assert.equal(poll.status, 429);
    assert.equal(poll.body.reason, "TooManyRequests");
    assert.equal(poll.headers.get("retry-after"), "1");
    assert.equal(await rejected("watches"), 2);

    // Another identity has its own share.
    const other = watch(reader.token);
    await new Promise((resolve) => other.once("data", resolve));
    other.cancel();

    // Once one ends, there is room again.
    first.cancel();
    await eventually(
      async () => {
        const s = watch(agent.token);
        const ok = await new Promise<boolean>((resolve) => {
          s.once("data", () => resolve(true));
          s.on("error", (err: grpc.ServiceError) => resolve(err.code === grpc.status.CANCELLED));
        });
        s.cancel();
        return ok;
      },
      30_000,
      "room for a new watch",
    );
    second.cancel();
  });

  it("a batch longer than the bound is 413 / RESOURCE_EXHAUSTED, with its field", async () => {
    const checks = Array.from({ length: 4 }, () => ({ src: "app/b", dst: "app/a", port: 80 }));
    const r = await http(server, "POST", "/v1/check/batch", { checks }, bearer(reader.token));
    assert.equal(r.status, 413);
    assert.deepEqual(
      r.body.errors.map((x: { field: string; type: string }) => `${x.field} ${x.type}`),
      ["checks FieldValueTooMany"],
    );
    const ok = await http(server, "POST", "/v1/check/batch", { checks: checks.slice(1) }, bearer(reader.token));
    assert.equal(ok.status, 200);
    const e = await new Promise<grpc.ServiceError>((resolve) =>
      client.client["batchCheck"]!(create(BatchCheckRequestSchema, { checks }), md(reader.token), (err: grpc.ServiceError | null) => resolve(err!)),
    );
    assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(await rejected("batch"), 2);
  });
});
