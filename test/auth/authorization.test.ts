/**
 * The role table of the contract, asserted cell by cell: every REST route and
 * every gRPC method, asked by no credentials, a bad token, an admin, a reader,
 * the agent of the node concerned and the agent of another node, with the
 * exact status each gets. Authorized writes are ones that change nothing (the
 * model as it is, or a missing object), so the table can be run in any order.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { TWO_NODES } from "../rules/support.js";
import { authFiles, authYaml, identity } from "./support.js";

const admin = identity("ops", "admin");
const reader = identity("dashboards", "reader");
const agent1 = identity("agent-node-1", "agent", "node-1");
const agent2 = identity("agent-node-2", "agent", "node-2");

type Caller = "none" | "bad" | "admin" | "reader" | "agentSelf" | "agentOther";
const CALLERS: readonly Caller[] = ["none", "bad", "admin", "reader", "agentSelf", "agentOther"];
const TOKENS: Record<Caller, string | undefined> = {
  none: undefined,
  bad: "not-a-known-token",
  admin: admin.token,
  reader: reader.token,
  // Every node-scoped route below concerns node-1.
  agentSelf: agent1.token,
  agentOther: agent2.token,
};

/** Expected statuses by caller: `open` for every caller, or one per caller for those with credentials. */
type Row = Record<Caller, number>;
const anyone = (s: number): Row => ({ none: s, bad: s, admin: s, reader: s, agentSelf: s, agentOther: s });
/** Credentials required; then admin, reader, the node's agent, another node's agent. */
const known = (adminS: number, readerS: number, self: number, other: number): Row => ({ none: 401, bad: 401, admin: adminS, reader: readerS, agentSelf: self, agentOther: other });

interface RestCase {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly want: Row;
}

describe("authorization: every route and method × every role", () => {
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  let version: string;
  before(async () => {
    files = authFiles(authYaml([admin, reader, agent1, agent2]));
    server = await startServer([files.model], { auth: files.auth });
    version = server.rules.rules({ principal: { name: "t", role: "admin" } }, "node-1").version;
  });
  after(async () => {
    await server.close();
    files.cleanup();
  });

  const check = "/v1/check?src=app/b&dst=app/a&port=80";
  const rest = (): RestCase[] => [
    { method: "GET", path: "/healthz", want: anyone(200) },
    { method: "GET", path: "/readyz", want: anyone(200) },
    { method: "GET", path: "/metrics", want: known(200, 200, 403, 403) },
    { method: "GET", path: check, want: known(200, 200, 403, 403) },
    { method: "POST", path: "/v1/check", body: { src: "app/b", dst: "app/a", port: 80 }, want: known(200, 200, 403, 403) },
    { method: "POST", path: "/v1/check/batch", body: { checks: [{ src: "app/b", dst: "app/a", port: 80 }] }, want: known(200, 200, 403, 403) },
    { method: "GET", path: "/v1/model", want: known(200, 200, 403, 403) },
    { method: "PUT", path: "/v1/model", body: TWO_NODES, want: known(200, 403, 403, 403) },
    { method: "POST", path: "/v1/apply", body: TWO_NODES, want: known(200, 403, 403, 403) },
    { method: "DELETE", path: "/v1/namespaces/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/namespaces/app/pods/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/namespaces/app/networkpolicies/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/nodes/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/clusternetworkpolicies/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/adminnetworkpolicies/absent", want: known(404, 403, 403, 403) },
    { method: "DELETE", path: "/v1/baselineadminnetworkpolicies/default", want: known(404, 403, 403, 403) },
    { method: "GET", path: "/v1/nodes", want: known(200, 200, 403, 403) },
    { method: "GET", path: "/v1/nodes/node-1/rules", want: known(200, 200, 200, 403) },
    { method: "GET", path: "/v1/nodes/node-1/rules?format=iptables", want: known(200, 200, 200, 403) },
    // A long poll of the version in force: answered unchanged once its wait is over.
    { method: "GET", path: "/v1/nodes/node-1/rules?wait=0.05", headers: { "if-none-match": `"${version}"` }, want: known(304, 304, 304, 403) },
    { method: "PUT", path: "/v1/nodes/node-1/status", body: { version: "v" }, want: known(200, 403, 200, 403) },
    { method: "GET", path: "/v1/matrix?port=80", want: known(200, 200, 403, 403) },
    { method: "GET", path: "/v1/matrix?port=80&format=table", want: known(200, 200, 403, 403) },
    // A what-if changes nothing: readers may ask it.
    { method: "POST", path: "/v1/whatif", body: { delete: [{ kind: "Namespace", name: "app" }], ports: ["80"] }, want: known(200, 200, 403, 403) },
    { method: "GET", path: "/v1/lint", want: known(200, 200, 403, 403) },
    // The page's files hold no data; what it shows comes from the API, with the user's token.
    { method: "GET", path: "/ui/", want: anyone(200) },
    { method: "GET", path: "/v1/no-such-route", want: known(404, 404, 404, 404) },
  ];

  it("REST: the exact status of every route for every caller, and 401 says how to authenticate", async () => {
    let cells = 0;
    for (const c of rest()) {
      for (const who of CALLERS) {
        const token = TOKENS[who];
        const headers = { ...(c.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
        const res = await http(server, c.method, c.path.replace(version, version), c.body, headers);
        const what = `${c.method} ${c.path} as ${who}`;
        assert.equal(res.status, c.want[who], `${what}: ${JSON.stringify(res.body).slice(0, 200)}`);
        if (res.status === 401) {
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, `${what}: WWW-Authenticate`);
          assert.equal(res.body.reason, "Unauthenticated", what);
        }
        if (res.status === 403) {
          assert.equal(res.body.reason, "Forbidden", what);
          assert.equal(res.body.code, 403, what);
        }
        cells++;
      }
    }
    assert.equal(cells, rest().length * CALLERS.length);
  });

  it("REST: the scheme is case-insensitive and anything but a bearer token is not a credential", async () => {
    assert.equal((await http(server, "GET", check, undefined, { authorization: `bearer ${reader.token}` })).status, 200);
    assert.equal((await http(server, "GET", check, undefined, { authorization: `Basic ${reader.token}` })).status, 401);
    assert.equal((await http(server, "GET", check, undefined, { authorization: `Bearer ${reader.token} extra` })).status, 401);
    assert.equal((await http(server, "GET", check, undefined, { authorization: `Bearer ${reader.token.slice(0, -1)}` })).status, 401);
  });

  it("REST: a write without credentials is refused before its body is read", async () => {
    const res = await fetch(`${server.url}/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: "x".repeat(1 << 20) });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
  });

  type GrpcCall = (token: string | undefined) => Promise<unknown>;
  const G = grpc.status;
  /** gRPC codes by caller: OK, or the status the call ends with. */
  const gKnown = (a: number, r: number, self: number, other: number): Row => ({
    none: G.UNAUTHENTICATED,
    bad: G.UNAUTHENTICATED,
    admin: a,
    reader: r,
    agentSelf: self,
    agentOther: other,
  });

  const meta = (token: string | undefined) => {
    const m = new grpc.Metadata();
    if (token) m.set("authorization", `Bearer ${token}`);
    return m;
  };

  function unary(client: grpc.Client & Record<string, any>, method: string, msg: unknown, token: string | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      client[method](msg, meta(token), { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
    });
  }

  it("gRPC: the exact status of every method for every caller", async () => {
    const d = decisionClient(server.grpcAddress);
    const m = modelClient(server.grpcAddress);
    const { create } = await import("@bufbuild/protobuf");
    const pb = await import("../../server/gen/podwall/v1/podwall_pb.js");
    const calls: { name: string; call: GrpcCall; want: Row }[] = [
      {
        name: "Check",
        call: (t) => unary(d.client, "check", create(pb.CheckRequestSchema, { src: "app/b", dst: "app/a", port: 80 }), t),
        want: gKnown(G.OK, G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      {
        name: "BatchCheck",
        call: (t) => unary(d.client, "batchCheck", create(pb.BatchCheckRequestSchema, { checks: [{ src: "app/b", dst: "app/a", port: 80 }] }), t),
        want: gKnown(G.OK, G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      { name: "GetRules", call: (t) => unary(d.client, "getRules", create(pb.GetRulesRequestSchema, { node: "node-1" }), t), want: gKnown(G.OK, G.OK, G.OK, G.PERMISSION_DENIED) },
      {
        name: "WatchRules",
        call: (t) =>
          new Promise((resolve, reject) => {
            const s = d.client["watchRules"]!(create(pb.WatchRulesRequestSchema, { node: "node-1" }), meta(t)) as grpc.ClientReadableStream<unknown>;
            s.once("data", (r) => {
              s.cancel();
              resolve(r);
            });
            s.on("error", (e: grpc.ServiceError) => (e.code === G.CANCELLED ? undefined : reject(e)));
          }),
        want: gKnown(G.OK, G.OK, G.OK, G.PERMISSION_DENIED),
      },
      {
        name: "Matrix",
        call: (t) =>
          new Promise((resolve, reject) => {
            const s = d.client["matrix"]!(create(pb.MatrixRequestSchema, { port: 80 }), meta(t)) as grpc.ClientReadableStream<unknown>;
            s.on("data", () => {});
            s.once("end", resolve);
            s.once("error", reject);
          }),
        want: gKnown(G.OK, G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      {
        name: "WhatIf",
        call: (t) => unary(d.client, "whatIf", create(pb.WhatIfRequestSchema, { delete: [{ kind: "Namespace", name: "app" }], ports: ["80"] }), t),
        want: gKnown(G.OK, G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      { name: "Get", call: (t) => unary(m.client, "get", create(pb.GetModelRequestSchema, {}), t), want: gKnown(G.OK, G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED) },
      {
        name: "Apply",
        call: (t) => unary(m.client, "apply", create(pb.ApplyRequestSchema, { manifests: TWO_NODES }), t),
        want: gKnown(G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      {
        name: "Replace",
        call: (t) => unary(m.client, "replace", create(pb.ReplaceRequestSchema, { manifests: TWO_NODES }), t),
        want: gKnown(G.OK, G.PERMISSION_DENIED, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
      {
        name: "Delete",
        call: (t) => unary(m.client, "delete", create(pb.DeleteRequestSchema, { kind: "Namespace", name: "absent" }), t),
        want: gKnown(G.NOT_FOUND, G.PERMISSION_DENIED, G.PERMISSION_DENIED, G.PERMISSION_DENIED),
      },
    ];
    try {
      for (const c of calls) {
        for (const who of CALLERS) {
          let code: number = G.OK;
          try {
            await c.call(TOKENS[who]);
          } catch (e) {
            code = (e as grpc.ServiceError).code;
          }
          assert.equal(G[code], G[c.want[who]], `${c.name} as ${who}`);
        }
      }
    } finally {
      d.close();
      m.close();
    }
  });

  it("gRPC health needs no credentials", async () => {
    const Client = grpc.makeGenericClientConstructor(healthService, "Health");
    const client = new Client(server.grpcAddress, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    try {
      const res = await unary(client, "check", { service: "podwall.v1.DecisionService" }, undefined);
      assert.deepEqual(res, { status: "SERVING" });
    } finally {
      client.close();
    }
  });
});
