/**
 * Distribution of rulesets over gRPC: DecisionService.GetRules gives what
 * REST gives; WatchRules sends the current ruleset at once, then each new
 * version, and nothing for writes that leave the node's rules as they were.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type ClientReadableStream, type ServiceError, status } from "@grpc/grpc-js";
import { type GrpcClient, decisionClient } from "../../client/grpc-client.js";
import type { DecisionService, Ruleset } from "../../server/gen/podwall/v1/podwall_pb.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { ONLY_NODE_2, TWO_NODES, eventually, pod, sleep, yaml } from "../rules/support.js";
import { grpcError } from "./support.js";

const MODEL = TWO_NODES;
const changesNode1 = (i: number) => yaml([pod(`app/b${i}`, { labels: { app: "b" }, node: "node-2", ips: [`10.1.2.${10 + i}`] })]);

/** The REST JSON shape of a Ruleset message. */
function fromProto(r: Ruleset): Record<string, unknown> {
  return {
    node: r.node,
    version: r.version,
    ipset: r.ipset,
    iptables: r.iptables,
    ip6tables: r.ip6tables,
    hooks: r.hooks.map((h) => ({ family: h.family, table: h.table, chain: h.chain, rule: h.rule })),
    ...(r.base ? { base: r.base, remove: { chains: r.remove?.chains ?? [], sets: r.remove?.sets ?? [] } } : {}),
  };
}

/** A watch stream and what it has sent so far. */
function watch(client: GrpcClient<typeof DecisionService>, req: { node: string; version?: string; since?: string }) {
  const stream = client.stream("watchRules", req) as ClientReadableStream<Ruleset>;
  const got: Ruleset[] = [];
  const state: { error?: ServiceError; ended: boolean } = { ended: false };
  stream.on("data", (r: Ruleset) => got.push(r));
  stream.on("error", (e: ServiceError) => (state.error = e));
  stream.on("end", () => (state.ended = true));
  return { stream, got, state };
}

describe("DecisionService.GetRules and WatchRules", () => {
  let server: TestServer;
  let client: GrpcClient<typeof DecisionService>;
  const open: ClientReadableStream<Ruleset>[] = [];
  before(async () => {
    server = await startServer();
    client = decisionClient(server.grpcAddress);
  });
  after(async () => {
    for (const s of open) s.cancel();
    client.close();
    await server.close();
  });
  beforeEach(async () => {
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
  });

  async function rest(n: string): Promise<Record<string, unknown>> {
    const r = await http(server, "GET", `/v1/nodes/${n}/rules`);
    assert.equal(r.status, 200);
    return r.body;
  }

  for (const n of ["node-1", "node-2"]) {
    it(`GetRules gives ${n} the ruleset REST gives`, async () => {
      assert.deepEqual(fromProto(await client.unary("getRules", { node: n })), await rest(n));
    });
  }

  it("GetRules of an unknown node is NOT_FOUND", async () => {
    const e = await grpcError(client.unary("getRules", { node: "node-9" }));
    assert.equal(e.code, status.NOT_FOUND);
    assert.match(e.details, /nodes "node-9" not found/);
  });

  it("WatchRules sends the current ruleset at once, then each new version, and nothing for writes that leave it", async () => {
    const w = watch(client, { node: "node-1" });
    open.push(w.stream);
    await eventually(() => w.got.length === 1, 2000, "the first ruleset");
    assert.deepEqual(fromProto(w.got[0]!), await rest("node-1"));

    assert.equal((await http(server, "POST", "/v1/apply", ONLY_NODE_2)).status, 200);
    await sleep(300);
    assert.equal(w.got.length, 1, "a write that changes only node-2 sends nothing to node-1's watch");

    for (const i of [1, 2]) {
      assert.equal((await http(server, "POST", "/v1/apply", changesNode1(i))).status, 200);
      await eventually(() => w.got.length === 1 + i, 2000, `version ${i + 1}`);
      assert.deepEqual(fromProto(w.got[i]!), await rest("node-1"));
      assert.notEqual(w.got[i]!.version, w.got[i - 1]!.version);
    }
    assert.equal((await http(server, "POST", "/v1/apply", changesNode1(2))).status, 200, "the same object again");
    await sleep(300);
    assert.equal(w.got.length, 3, "a write that changes nothing sends nothing");
    assert.equal(w.state.error, undefined);
    w.stream.cancel();
  });

  it("WatchRules with the current version sends nothing until the version changes", async () => {
    const current = (await rest("node-1"))["version"] as string;
    const w = watch(client, { node: "node-1", version: current });
    open.push(w.stream);
    await sleep(300);
    assert.equal(w.got.length, 0);
    assert.equal((await http(server, "POST", "/v1/apply", changesNode1(1))).status, 200);
    await eventually(() => w.got.length === 1, 2000, "the new version");
    assert.equal(w.got[0]!.version, (await rest("node-1"))["version"]);
    w.stream.cancel();
  });

  it("WatchRules with an older version sends the current ruleset at once", async () => {
    const w = watch(client, { node: "node-1", version: "0123456789abcdef0123" });
    open.push(w.stream);
    await eventually(() => w.got.length === 1, 2000, "the first ruleset");
    assert.deepEqual(fromProto(w.got[0]!), await rest("node-1"));
    w.stream.cancel();
  });

  it("WatchRules of an unknown node fails NOT_FOUND, and so does a watch whose node is deleted", async () => {
    const unknown = watch(client, { node: "node-9" });
    open.push(unknown.stream);
    await eventually(() => unknown.state.error, 2000, "the error");
    assert.equal(unknown.state.error!.code, status.NOT_FOUND);

    const w = watch(client, { node: "node-2" });
    open.push(w.stream);
    await eventually(() => w.got.length === 1, 2000, "the first ruleset");
    assert.equal((await http(server, "DELETE", "/v1/nodes/node-2")).status, 200);
    await eventually(() => w.state.error, 2000, "the error");
    assert.equal(w.state.error!.code, status.NOT_FOUND);
  });

  it("GetRules with since gives the delta REST gives, and the whole ruleset for a version the server does not keep", async () => {
    const v = (await client.unary("getRules", { node: "node-1" })).version;
    assert.equal((await http(server, "POST", "/v1/apply", changesNode1(3))).status, 200);
    const d = await client.unary("getRules", { node: "node-1", since: v });
    assert.equal(d.base, v);
    assert.deepEqual(fromProto(d), (await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`)).body);
    const whole = await client.unary("getRules", { node: "node-1", since: "00000000000000000000" });
    assert.deepEqual([whole.base, whole.remove], ["", undefined]);
    assert.deepEqual(fromProto(whole), await rest("node-1"));
  });

  it("WatchRules with since sends a delta from it, then each version as a delta from the one before", async () => {
    const v0 = (await client.unary("getRules", { node: "node-1" })).version;
    assert.equal((await http(server, "POST", "/v1/apply", changesNode1(4))).status, 200);
    const v1 = (await client.unary("getRules", { node: "node-1" })).version;
    const w = watch(client, { node: "node-1", since: v0 });
    open.push(w.stream);
    await eventually(() => w.got.length === 1, 2000, "the first message");
    assert.deepEqual([w.got[0]!.base, w.got[0]!.version], [v0, v1]);
    assert.equal((await http(server, "POST", "/v1/apply", changesNode1(5))).status, 200);
    await eventually(() => w.got.length === 2, 2000, "the second message");
    assert.deepEqual([w.got[1]!.base, w.got[1]!.version], [v1, (await client.unary("getRules", { node: "node-1" })).version]);
    assert.match(w.got[1]!.ipset, /^add PODWALL-PODS-\w+ 10\.1\.2\.15 -exist\n$/);
    assert.equal(w.state.error, undefined);
    w.stream.cancel();
  });
});
