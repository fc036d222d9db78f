/**
 * Rulesets as deltas at both doors: `?since=VERSION` on REST, `since` in
 * GetRules and WatchRules; a delta when the server keeps VERSION, the whole
 * ruleset otherwise; bad `since` refused.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { type GrpcClient, decisionClient } from "../../client/grpc-client.js";
import type { DecisionService, Ruleset } from "../../server/gen/podwall/v1/podwall_pb.js";
import { SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { TWO_NODES, eventually, pod, sleep, yaml } from "../rules/support.js";

/** A new pod joins the peer set of a-in: node-1's ruleset gains one set member. */
const joins = (i: number) => yaml([pod(`app/b${i}`, { labels: { app: "b" }, node: "node-2", ips: [`10.1.2.${20 + i}`] })]);

const DELTA_KEYS = ["base", "hooks", "ip6tables", "ipset", "iptables", "node", "remove", "version"];

describe("GET /v1/nodes/{node}/rules?since=VERSION", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());
  beforeEach(async () => {
    assert.equal((await http(server, "PUT", "/v1/model", TWO_NODES)).status, 200);
  });

  async function current(): Promise<string> {
    const r = await http(server, "GET", "/v1/nodes/node-1/rules");
    assert.equal(r.status, 200);
    return r.body.version as string;
  }

  it("answers the delta from a version the server keeps: base, the new version as ETag, only what changed", async () => {
    const v = await current();
    assert.equal((await http(server, "POST", "/v1/apply", joins(1))).status, 200);
    const r = await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), DELTA_KEYS);
    assert.equal(r.body.base, v);
    assert.equal(r.body.version, await current());
    assert.equal(r.headers.get("etag"), `"${r.body.version}"`);
    assert.match(r.body.ipset, /^add PODWALL-PODS-\w+ 10\.1\.2\.21 -exist\n$/);
    assert.deepEqual([r.body.iptables, r.body.ip6tables, r.body.remove], ["", "", { chains: [], sets: [] }]);
    assert.deepEqual(r.body, JSON.parse(JSON.stringify(server.rules.since("node-1", server.rules.rules(SYSTEM, "node-1"), v))));
  });

  it("answers the whole ruleset, without base, for a version it does not keep", async () => {
    const r = await http(server, "GET", "/v1/nodes/node-1/rules?since=00000000000000000000");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ["hooks", "ip6tables", "ipset", "iptables", "node", "version"]);
  });

  it("answers 304 to If-None-Match with the current version, since or not", async () => {
    const v = await current();
    const r = await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`, undefined, { "if-none-match": `"${v}"` });
    assert.equal(r.status, 304);
  });

  it("holds a long poll, then answers the delta from the version held", async () => {
    const v = await current();
    const poll = http(server, "GET", `/v1/nodes/node-1/rules?since=${v}&wait=20`, undefined, { "if-none-match": `"${v}"`, "accept-encoding": "gzip" });
    await sleep(100);
    assert.equal((await http(server, "POST", "/v1/apply", joins(2))).status, 200);
    const r = await poll;
    assert.equal(r.status, 200);
    assert.equal(r.body.base, v);
    assert.equal(r.body.version, await current());
    assert.match(r.body.ipset, /10\.1\.2\.22 -exist/);
  });

  const bad = [
    { query: "since=", field: "since", why: /must be a ruleset version/ },
    { query: "since=abc&format=ipset", field: "since", why: /only the JSON ruleset carries/ },
  ];
  for (const b of bad) {
    it(`refuses ${b.query} with 400 and the field`, async () => {
      const r = await http(server, "GET", `/v1/nodes/node-1/rules?${b.query}`);
      assert.equal(r.status, 400);
      assert.match(r.body.message, b.why);
      assert.deepEqual(
        r.body.errors.map((e: { field: string }) => e.field),
        [b.field],
      );
    });
  }
});

/** The REST JSON shape of a Ruleset message (a delta's too). */
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

describe("GetRules and WatchRules with since", () => {
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
    assert.equal((await http(server, "PUT", "/v1/model", TWO_NODES)).status, 200);
  });

  it("GetRules with since gives the delta REST gives", async () => {
    const v = (await client.unary("getRules", { node: "node-1" })).version;
    assert.equal((await http(server, "POST", "/v1/apply", joins(3))).status, 200);
    const d = await client.unary("getRules", { node: "node-1", since: v });
    assert.equal(d.base, v);
    assert.deepEqual(fromProto(d), (await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`)).body);
    const whole = await client.unary("getRules", { node: "node-1", since: "00000000000000000000" });
    assert.equal(whole.base, "");
    assert.equal(whole.remove, undefined);
  });

  it("WatchRules with since sends a delta from it, then each version as a delta from the one before", async () => {
    const v0 = (await client.unary("getRules", { node: "node-1" })).version;
    assert.equal((await http(server, "POST", "/v1/apply", joins(4))).status, 200);
    const v1 = (await client.unary("getRules", { node: "node-1" })).version;
    const stream = client.stream("watchRules", { node: "node-1", since: v0 }) as ClientReadableStream<Ruleset>;
    open.push(stream);
    const got: Ruleset[] = [];
    const state: { error?: ServiceError } = {};
    stream.on("data", (r: Ruleset) => got.push(r));
    stream.on("error", (e: ServiceError) => (state.error = e));
    await eventually(() => got.length >= 1, 5000, "the first message");
    assert.deepEqual([got[0]!.base, got[0]!.version], [v0, v1]);
    assert.equal((await http(server, "POST", "/v1/apply", joins(5))).status, 200);
    await eventually(() => got.length >= 2, 5000, "the second message");
    assert.equal(got[1]!.base, v1);
    assert.equal(got[1]!.version, (await client.unary("getRules", { node: "node-1" })).version);
    assert.match(got[1]!.ipset, /^add PODWALL-PODS-\w+ 10\.1\.2\.25 -exist\n$/);
    assert.equal(state.error, undefined);
  });

  it("WatchRules without since sends whole rulesets", async () => {
    const stream = client.stream("watchRules", { node: "node-1" }) as ClientReadableStream<Ruleset>;
    open.push(stream);
    const got: Ruleset[] = [];
    stream.on("data", (r: Ruleset) => got.push(r));
    stream.on("error", () => {});
    await eventually(() => got.length >= 1, 5000, "the first message");
    assert.equal((await http(server, "POST", "/v1/apply", joins(6))).status, 200);
    await eventually(() => got.length >= 2, 5000, "the second message");
    assert.deepEqual(
      got.map((r) => r.base),
      ["", ""],
    );
    assert.match(got[1]!.ipset, /^create /m);
  });
});
