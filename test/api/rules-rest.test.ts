/**
 * Distribution of rulesets over REST: GET /v1/nodes/{node}/rules (shape,
 * ETag, If-None-Match, formats, long poll), PUT /v1/nodes/{node}/status and
 * GET /v1/nodes, against a real server on loopback.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { ONLY_NODE_2, TWO_NODES, pod, sleep, yaml } from "../rules/support.js";
import { SYSTEM } from "../../server/service/index.js";

const MODEL = TWO_NODES;

/** A new pod joins the peer set of a-in: node-1's ruleset gains one set member. */
const joins = (i: number) => yaml([pod(`app/b${i}`, { labels: { app: "b" }, node: "node-2", ips: [`10.1.2.${20 + i}`] })]);

const DELTA_KEYS = ["base", "hooks", "ip6tables", "ipset", "iptables", "node", "remove", "version"];

/** A new pod b2 joins the peer set of a-in: node-1's rules change. */
const CHANGES_NODE_1 = yaml([pod("app/b2", { labels: { app: "b" }, node: "node-2", ips: ["10.1.2.2"] })]);

async function version(server: TestServer, n: string): Promise<string> {
  const r = await http(server, "GET", `/v1/nodes/${n}/rules`);
  assert.equal(r.status, 200);
  return r.body.version as string;
}

async function watchers(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^podwall_ruleset_watchers (\d+)/m.exec(text);
  assert.ok(m, "the watchers gauge is exported");
  return Number(m[1]);
}

describe("GET /v1/nodes/{node}/rules", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());
  beforeEach(async () => {
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
  });

  it("answers {node, version, ipset, iptables, ip6tables, hooks} with the version as ETag", async () => {
    const r = await http(server, "GET", "/v1/nodes/node-1/rules");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(Object.keys(r.body).sort(), ["hooks", "ip6tables", "ipset", "iptables", "node", "version"]);
    assert.equal(r.body.node, "node-1");
    assert.match(r.body.version, /^[0-9a-f]{20}$/);
    assert.equal(r.headers.get("etag"), `"${r.body.version}"`);
    assert.deepEqual(r.body.hooks, [
      { family: "ipv4", table: "filter", chain: "FORWARD", rule: "-j PODWALL-FORWARD" },
      { family: "ipv6", table: "filter", chain: "FORWARD", rule: "-j PODWALL-FORWARD" },
    ]);
    assert.deepEqual(r.body, JSON.parse(JSON.stringify(server.rules.rules(SYSTEM, "node-1"))), "the service's ruleset, as is");
    assert.match(r.body.ipset, /^create PODWALL-PODS-\S+ hash:ip family inet /m);
    assert.match(r.body.iptables, /^-A PODWALL-FWD-\w .* -d 10\.1\.1\.1 -j PODWALL-IN-/m);
    assert.match(r.body.ip6tables, /^-A PODWALL-FWD6-\w .* -d fd10::1:1 -j PODWALL-IN-/m);
  });

  const conditional = [
    { name: "the current version, quoted", header: (v: string) => `"${v}"`, status: 304 },
    { name: "the current version, weak", header: (v: string) => `W/"${v}"`, status: 304 },
    { name: "the current version, bare", header: (v: string) => v, status: 304 },
    { name: "another version", header: () => `"0123456789abcdef0123"`, status: 200 },
  ];
  for (const c of conditional) {
    it(`answers If-None-Match with ${c.name} with ${c.status}`, async () => {
      const v = await version(server, "node-1");
      const r = await http(server, "GET", "/v1/nodes/node-1/rules", undefined, { "if-none-match": c.header(v) });
      assert.equal(r.status, c.status);
      assert.equal(r.headers.get("etag"), `"${v}"`);
      if (c.status === 304) assert.equal(r.body, "");
      else assert.equal(r.body.version, v);
    });
  }

  for (const format of ["ipset", "iptables", "ip6tables"] as const) {
    it(`answers ?format=${format} with that text alone, as text/plain`, async () => {
      const full = (await http(server, "GET", "/v1/nodes/node-1/rules")).body;
      const r = await http(server, "GET", `/v1/nodes/node-1/rules?format=${format}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
      assert.equal(r.body, full[format]);
      assert.equal(r.headers.get("etag"), `"${full.version}"`);
    });
  }

  const bad = [
    { path: "/v1/nodes/node-1/rules?format=yaml", status: 400, field: "format" },
    { path: "/v1/nodes/node-1/rules?format=", status: 400, field: "format" },
    { path: "/v1/nodes/node-1/rules?wait=soon", status: 400, field: "wait" },
    { path: "/v1/nodes/node-1/rules?wait=-1", status: 400, field: "wait" },
    { path: "/v1/nodes/node-1/rules?wait=301", status: 400, field: "wait" },
    { path: "/v1/nodes/node-1/rules?since=", status: 400, field: "since" },
    { path: "/v1/nodes/node-1/rules?since=abc&format=ipset", status: 400, field: "since" },
    { path: "/v1/nodes/node-9/rules", status: 404, field: undefined },
    { path: "/v1/nodes/node-9/rules?wait=1", status: 404, field: undefined },
  ];
  for (const b of bad) {
    it(`answers ${b.path} with ${b.status}${b.field ? ` naming ${b.field}` : ""}`, async () => {
      const r = await http(server, "GET", b.path);
      assert.equal(r.status, b.status);
      assert.equal(r.body.code, b.status);
      if (b.field)
        assert.deepEqual(
          r.body.errors.map((e: { field: string }) => e.field),
          [b.field],
        );
      else assert.match(r.body.message, /nodes "node-9" not found/);
    });
  }

  it("holds a long poll until a write changes the node's rules, then answers at once with the new version", async () => {
    const v = await version(server, "node-1");
    const started = Date.now();
    const poll = http(server, "GET", "/v1/nodes/node-1/rules?wait=2", undefined, { "if-none-match": `"${v}"` }).then((r) => ({ ...r, at: Date.now() }));
    await sleep(300);
    const wroteAt = Date.now();
    assert.equal((await http(server, "POST", "/v1/apply", CHANGES_NODE_1)).status, 200);
    const r = await poll;
    assert.equal(r.status, 200);
    assert.notEqual(r.body.version, v);
    assert.equal(r.body.version, await version(server, "node-1"));
    assert.equal(r.headers.get("etag"), `"${r.body.version}"`);
    assert.ok(r.at >= wroteAt, "it answered after the write");
    assert.ok(r.at - started < 1500, `it answered ${r.at - wroteAt} ms after the write, well before the 2 s`);
    assert.match(r.body.ipset, /^add \S+ 10\.1\.2\.2$/m);
  });

  it("answers a long poll with 304 once the time runs out and nothing changed", async () => {
    const v = await version(server, "node-1");
    const started = Date.now();
    const r = await http(server, "GET", "/v1/nodes/node-1/rules?wait=1", undefined, { "if-none-match": `"${v}"` });
    const took = Date.now() - started;
    assert.equal(r.status, 304);
    assert.equal(r.headers.get("etag"), `"${v}"`);
    assert.ok(took >= 950 && took < 2500, `took ${took} ms`);
  });

  it("answers a long poll at once when the held version is already old", async () => {
    const started = Date.now();
    const r = await http(server, "GET", "/v1/nodes/node-1/rules?wait=5", undefined, { "if-none-match": `"0123456789abcdef0123"` });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 1000);
  });

  it("does not wake node-1's long poll, nor change its version, for a write that changes only node-2", async () => {
    const v1 = await version(server, "node-1");
    const v2 = await version(server, "node-2");
    const started = Date.now();
    const poll = http(server, "GET", "/v1/nodes/node-1/rules?wait=1", undefined, { "if-none-match": `"${v1}"` });
    await sleep(200);
    const w = await http(server, "POST", "/v1/apply", ONLY_NODE_2);
    assert.equal(w.status, 200);
    const r = await poll;
    assert.equal(r.status, 304, "node-1's long poll timed out");
    assert.ok(Date.now() - started >= 950, "it was not answered early");
    assert.equal(await version(server, "node-1"), v1, "node-1's version did not change");
    assert.notEqual(await version(server, "node-2"), v2, "node-2's did");
  });

  it("lets go of a long poll whose client goes away", async () => {
    const v = await version(server, "node-1");
    const before = await watchers(server);
    const abort = new AbortController();
    const poll = fetch(`${server.url}/v1/nodes/node-1/rules?wait=30`, { headers: { "if-none-match": `"${v}"` }, signal: abort.signal }).catch((e: Error) => e);
    await sleep(200);
    assert.equal(await watchers(server), before + 1, "the poll is waiting");
    abort.abort();
    assert.ok((await poll) instanceof Error);
    const end = Date.now() + 2000;
    while ((await watchers(server)) !== before && Date.now() < end) await sleep(20);
    assert.equal(await watchers(server), before, "the waiter was removed");
  });

  it("answers the delta from a version the server keeps: base, the new version as ETag, only what changed", async () => {
    const v = await version(server, "node-1");
    assert.equal((await http(server, "POST", "/v1/apply", joins(1))).status, 200);
    const r = await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), DELTA_KEYS);
    assert.equal(r.body.base, v);
    assert.equal(r.body.version, await version(server, "node-1"));
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
    const v = await version(server, "node-1");
    const r = await http(server, "GET", `/v1/nodes/node-1/rules?since=${v}`, undefined, { "if-none-match": `"${v}"` });
    assert.equal(r.status, 304);
  });
  it("holds a long poll, then answers the delta from the version held", async () => {
    const v = await version(server, "node-1");
    const held = await watchers(server);
    const poll = http(server, "GET", `/v1/nodes/node-1/rules?since=${v}&wait=20`, undefined, { "if-none-match": `"${v}"`, "accept-encoding": "gzip" });
    // The poll is held before the write: the write wakes it.
    while ((await watchers(server)) === held) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await http(server, "POST", "/v1/apply", joins(2))).status, 200);
    const r = await poll;
    assert.equal(r.status, 200);
    assert.equal(r.body.base, v);
    assert.equal(r.body.version, await version(server, "node-1"));
    assert.match(r.body.ipset, /10\.1\.2\.22 -exist/);
  });
});

describe("PUT /v1/nodes/{node}/status and GET /v1/nodes", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
  });
  after(async () => server.close());

  async function nodes(): Promise<Record<string, any>> {
    const r = await http(server, "GET", "/v1/nodes");
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.generation, "number");
    return Object.fromEntries(r.body.nodes.map((n: { node: string }) => [n.node, n]));
  }

  it("lists every node with its version and nothing applied before any report", async () => {
    const n = await nodes();
    assert.deepEqual(Object.keys(n), ["node-1", "node-2"]);
    assert.deepEqual(n["node-1"], { node: "node-1", version: await version(server, "node-1"), applied: null, inSync: false });
  });

  it("shows what an agent reported: in sync when it is the current version without error", async () => {
    const v = await version(server, "node-1");
    const appliedAt = "2026-01-02T03:04:05.000Z";
    const put = await http(server, "PUT", "/v1/nodes/node-1/status", { version: v, appliedAt });
    assert.equal(put.status, 200);
    assert.equal(put.body.inSync, true);
    const n = (await nodes())["node-1"];
    assert.equal(n.version, v);
    assert.equal(n.inSync, true);
    assert.equal(n.applied.version, v);
    assert.equal(n.applied.appliedAt, appliedAt);
    assert.equal(n.applied.error, undefined);
    assert.ok(!Number.isNaN(Date.parse(n.applied.reportedAt)));
  });

  it("is out of sync when the agent reports an error, or an older version, or the rules change after", async () => {
    const v = await version(server, "node-1");
    await http(server, "PUT", "/v1/nodes/node-1/status", { version: v, error: "iptables-restore: line 3 failed" });
    let n = (await nodes())["node-1"];
    assert.equal(n.inSync, false);
    assert.equal(n.applied.error, "iptables-restore: line 3 failed");

    await http(server, "PUT", "/v1/nodes/node-1/status", { version: "0123456789abcdef0123" });
    n = (await nodes())["node-1"];
    assert.equal(n.inSync, false);
    assert.equal(n.applied.version, "0123456789abcdef0123");

    await http(server, "PUT", "/v1/nodes/node-1/status", { version: v, error: null });
    assert.equal((await nodes())["node-1"].inSync, true);
    assert.equal((await http(server, "POST", "/v1/apply", CHANGES_NODE_1)).status, 200);
    n = (await nodes())["node-1"];
    assert.notEqual(n.version, v);
    assert.equal(n.inSync, false, "the model moved on");
    assert.equal((await nodes())["node-2"].applied, null, "node-2 never reported");
  });

  const bad: { name: string; body: unknown; field?: string }[] = [
    { name: "no version", body: { appliedAt: "2026-01-02T03:04:05Z" }, field: "version" },
    { name: "an empty version", body: { version: "" }, field: "version" },
    { name: "a numeric version", body: { version: 42 }, field: "version" },
    { name: "an appliedAt that is no time", body: { version: "v", appliedAt: "yesterday" }, field: "appliedAt" },
    { name: "a numeric appliedAt", body: { version: "v", appliedAt: 5 }, field: "appliedAt" },
    { name: "an error that is no string", body: { version: "v", error: { text: "x" } }, field: "error" },
    { name: "an array", body: [{ version: "v" }] },
    { name: "a string", body: "version: v" },
  ];
  for (const b of bad) {
    it(`rejects a status with ${b.name} with 400${b.field ? ` naming ${b.field}` : ""}, and keeps the last report`, async () => {
      assert.equal((await http(server, "PUT", "/v1/nodes/node-2/status", { version: "good" })).status, 200);
      const before = (await nodes())["node-2"];
      assert.equal(before.applied.version, "good");
      // Sent as JSON, except the string, which is sent as is: a body that is not JSON at all.
      const res = await fetch(`${server.url}/v1/nodes/node-2/status`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: typeof b.body === "string" ? b.body : JSON.stringify(b.body),
      });
      const r = { status: res.status, body: (await res.json()) as { code: number; errors: { field: string }[] } };
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 400);
      if (b.field)
        assert.deepEqual(
          r.body.errors.map((e) => e.field),
          [b.field],
        );
      assert.deepEqual((await nodes())["node-2"], before);
    });
  }

  it("answers a status for an unknown node with 404", async () => {
    const r = await http(server, "PUT", "/v1/nodes/node-9/status", { version: "v" });
    assert.equal(r.status, 404);
    assert.match(r.body.message, /nodes "node-9" not found/);
  });
});
