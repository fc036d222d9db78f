/** Requests counted by door, route or method, and status code, with their durations; open long polls and watch streams as gauges. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decisionClient } from "../../client/grpc-client.js";
import { SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { eventually } from "../rules/support.js";
import { authFiles, authYaml } from "../auth/support.js";

describe("request metrics", () => {
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  before(async () => {
    files = authFiles(authYaml([]));
    server = await startServer([files.model]);
  });
  after(async () => {
    await server.close();
    files.cleanup();
  });
  const metrics = async () => (await http(server, "GET", "/metrics")).body as string;
  const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"/.+]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

  it("REST and gRPC requests by route and code, and their durations", async () => {
    await http(server, "GET", "/v1/check?src=app/b&dst=app/a&port=80");
    await http(server, "GET", "/v1/check?src=app/b&dst=app/zz&port=80");
    await http(server, "GET", "/v1/nope");
    const client = decisionClient(server.grpcAddress);
    await client.unary("check", { src: "app/b", dst: "app/a", port: 80 });
    await assert.rejects(client.unary("check", { src: "app/b", dst: "nope/x", port: 80 }));
    client.close();
    const m = await metrics();
    assert.equal(value(m, 'podwall_requests_total{door="rest",route="GET /v1/check",code="200"}'), 1);
    assert.equal(value(m, 'podwall_requests_total{door="rest",route="GET /v1/check",code="404"}'), 1);
    assert.equal(value(m, 'podwall_requests_total{door="rest",route="GET unmatched",code="404"}'), 1);
    assert.equal(value(m, 'podwall_requests_total{door="grpc",route="Check",code="OK"}'), 1);
    assert.equal(value(m, 'podwall_requests_total{door="grpc",route="Check",code="NOT_FOUND"}'), 1);
    assert.equal(value(m, 'podwall_request_duration_seconds_count{door="rest",route="GET /v1/check"}'), 2);
    assert.equal(value(m, 'podwall_request_duration_seconds_count{door="grpc",route="Check"}'), 2);
  });

  it("long polls and watch streams open", async () => {
    const version = server.rules.rules(SYSTEM, "node-1").version;
    const poll = http(server, "GET", "/v1/nodes/node-1/rules?wait=300", undefined, { "if-none-match": `"${version}"` });
    const client = decisionClient(server.grpcAddress);
    const stream = client.stream("watchRules", { node: "node-2" });
    stream.on("error", () => {});
    await eventually(
      async () => {
        const m = await metrics();
        return value(m, "podwall_long_polls_open") === 1 && value(m, "podwall_watch_streams_open") === 1;
      },
      30_000,
      "one long poll and one watch stream",
    );
    stream.cancel();
    await http(
      server,
      "POST",
      "/v1/apply",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: app, labels: {app: b}}\nspec: {nodeName: node-1}\nstatus: {podIP: 10.1.1.9}\n",
    );
    assert.equal((await poll).status, 200);
    await eventually(
      async () => {
        const m = await metrics();
        return value(m, "podwall_long_polls_open") === 0 && value(m, "podwall_watch_streams_open") === 0;
      },
      30_000,
      "both to be closed",
    );
    client.close();
  });
});
