/**
 * REST <-> gRPC parity: the same question gives the same answer at both doors,
 * field for field, and the model service behaves the same at both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { decisionFromProto, grpcError, podwallErrors, sansId, writeFromProto } from "./support.js";

const MANIFESTS = ["examples/cluster", "test/fixtures/api/parity-extra.yaml"];

const PODS = ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c", "dev/myapp", "sit/host"];
/** A node, a pod's address, and two addresses outside the cluster (one inside 10.0.0.0/8). */
const ADDRESSES = ["10.0.0.1", "10.244.2.12", "10.9.9.9", "192.0.2.10"];
const ENDPOINTS = [...PODS, ...ADDRESSES];
const TRAFFIC = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 81 },
  { protocol: "UDP", port: 80 },
  { protocol: "SCTP", port: 80 },
];

interface Question {
  readonly src: string;
  readonly dst: string;
  readonly protocol: string;
  readonly port: number;
  readonly explain: boolean;
}

function questions(explain: boolean): Question[] {
  const out: Question[] = [];
  for (const t of TRAFFIC) for (const src of ENDPOINTS) for (const dst of ENDPOINTS) out.push({ src, dst, ...t, explain });
  return out;
}

const label = (q: Question) => `${q.src} -> ${q.dst} ${q.protocol}/${q.port}${q.explain ? " explain" : ""}`;

describe("REST and gRPC give the same decisions", () => {
  let server: TestServer;
  let grpc: ReturnType<typeof decisionClient>;
  before(async () => {
    server = await startServer(MANIFESTS);
    grpc = decisionClient(server.grpcAddress);
  });
  after(async () => {
    grpc.close();
    await server.close();
  });

  async function restGet(q: Question): Promise<unknown> {
    const qs = new URLSearchParams({ src: q.src, dst: q.dst, protocol: q.protocol, port: String(q.port), ...(q.explain ? { explain: "true" } : {}) });
    const res = await http(server, "GET", `/v1/check?${qs}`);
    assert.equal(res.status, 200, label(q));
    return sansId(res.body);
  }

  async function restPost(q: Question): Promise<unknown> {
    // A lower-case protocol: any case is taken, and the answer names it in upper case.
    const res = await http(server, "POST", "/v1/check", { ...q, protocol: q.protocol.toLowerCase() });
    assert.equal(res.status, 200, label(q));
    return sansId(res.body);
  }

  async function viaGrpc(q: Question): Promise<Record<string, unknown>> {
    return decisionFromProto(await grpc.unary("check", q), q.explain);
  }

  for (const explain of [true, false]) {
    it(`Check on every ordered pair of ${ENDPOINTS.length} endpoints, 4 kinds of traffic, explain=${explain}`, async () => {
      const seen = {
        allowed: new Set<boolean>(),
        reason: new Set<string>(),
        kinds: new Set<string>(),
        directions: new Set<string>(),
        rules: new Set<string>(),
        hostNetwork: false,
        multiPolicy: false,
      };
      const qs = questions(explain);
      for (const q of qs) {
        const [get, post, rpc] = await Promise.all([restGet(q), restPost(q), viaGrpc(q)]);
        assert.deepEqual(rpc, get, label(q));
        assert.deepEqual(post, get, `${label(q)}: GET and POST differ`);
        const d = get as any;
        seen.allowed.add(d.allowed);
        seen.reason.add(d.reason);
        seen.kinds.add(d.src.kind).add(d.dst.kind);
        if (d.src.hostNetwork || d.dst.hostNetwork) seen.hostNetwork = true;
        for (const dir of [d.egress, d.ingress]) {
          seen.directions.add(dir.reason);
          if (dir.policies.length > 1) seen.multiPolicy = true;
          for (const v of dir.verdicts ?? []) for (const r of v.rules) seen.rules.add(r.result);
        }
      }
      assert.equal(qs.length, ENDPOINTS.length * ENDPOINTS.length * TRAFFIC.length);
      // The questions cover every shape of answer, so the comparison covers every field.
      assert.deepEqual([...seen.allowed].sort(), [false, true]);
      assert.deepEqual([...seen.reason].sort(), ["own-node", "policy", "same-pod"]);
      assert.deepEqual([...seen.kinds].sort(), ["external", "node", "pod"]);
      assert.deepEqual([...seen.directions].sort(), ["allowed", "host-network", "no-rule-matched", "not-a-pod", "not-isolated"]);
      assert.deepEqual([...seen.rules].sort(), explain ? ["matched", "peer-mismatch", "port-mismatch", "protocol-mismatch"] : []);
      assert.equal(seen.hostNetwork, true);
      assert.equal(seen.multiPolicy, true);
    });
  }

  it("a decision known by heart is the same at both doors", async () => {
    const q = { src: "x/c", dst: "y/b", protocol: "SCTP", port: 80, explain: true };
    const want = {
      allowed: false,
      generation: 1,
      reason: "policy",
      src: { kind: "pod", name: "x/c", ip: "10.244.1.13", node: "node-1" },
      dst: { kind: "pod", name: "y/b", ip: "10.244.1.15", node: "node-1" },
      protocol: "SCTP",
      port: 80,
      egress: {
        subject: "x/c",
        allowed: false,
        isolated: true,
        reason: "no-rule-matched",
        policies: ["x/c-deny-egress"],
        verdicts: [{ policy: "x/c-deny-egress", allowed: false, rules: [] }],
      },
      ingress: {
        subject: "y/b",
        allowed: true,
        isolated: true,
        reason: "allowed",
        policies: ["y/b-ingress"],
        verdicts: [
          {
            policy: "y/b-ingress",
            allowed: true,
            rules: [
              { field: "spec.ingress[0]", result: "peer-mismatch", detail: "no peer of the rule matches the other end" },
              { field: "spec.ingress[1]", result: "matched", peer: "spec.ingress[1].from[0]", port: "spec.ingress[1].ports[1]" },
            ],
          },
        ],
      },
    };
    assert.deepEqual(await restGet(q), want);
    assert.deepEqual(await viaGrpc(q), want);
  });

  it("BatchCheck answers as POST /v1/check/batch, in order, and as the single checks", async () => {
    const qs = questions(true);
    const rest = await http(server, "POST", "/v1/check/batch", { checks: qs });
    assert.equal(rest.status, 200);
    const rpc = await grpc.unary("batchCheck", { checks: qs });
    assert.equal(Number(rpc.generation), rest.body.generation);
    assert.equal(rest.body.generation, 1);
    assert.equal(rpc.results.length, qs.length);
    assert.equal(rest.body.results.length, qs.length);
    for (const [i, q] of qs.entries()) {
      const r = sansId(rest.body.results[i]);
      assert.deepEqual(decisionFromProto(rpc.results[i]!, true), r, label(q));
      assert.deepEqual(r, await restGet(q), `${label(q)}: batch and single differ`);
    }
  });

  it("an empty batch is empty at both doors", async () => {
    const rest = await http(server, "POST", "/v1/check/batch", { checks: [] });
    const rpc = await grpc.unary("batchCheck", { checks: [] });
    assert.deepEqual(rest.body, { results: [], generation: 1 });
    assert.deepEqual({ results: rpc.results, generation: Number(rpc.generation) }, rest.body);
  });
});

/**
 * Two servers from the same start, one written over REST and one over gRPC:
 * after each step the write answers and the model texts must be identical.
 */
describe("ModelService behaves as the REST model endpoints", () => {
  let viaRest: TestServer;
  let viaGrpc: TestServer;
  let model: ReturnType<typeof modelClient>;
  before(async () => {
    [viaRest, viaGrpc] = await Promise.all([startServer(), startServer()]);
    model = modelClient(viaGrpc.grpcAddress);
  });
  after(async () => {
    model.close();
    await Promise.all([viaRest.close(), viaGrpc.close()]);
  });

  async function sameModel(step: string): Promise<void> {
    for (const format of ["json", "yaml"] as const) {
      const rest = await fetch(`${viaRest.url}/v1/model`, { headers: { accept: `application/${format}` } });
      const restText = await rest.text();
      const rpc = await model.unary("get", { format });
      assert.equal(rpc.manifests, restText, `${step}: ${format} model text`);
      // And the gRPC server's own REST door agrees with its gRPC door.
      const own = await (await fetch(`${viaGrpc.url}/v1/model`, { headers: { accept: `application/${format}` } })).text();
      assert.equal(own, rpc.manifests, `${step}: ${format} on one server`);
    }
    const yamlDefault = await model.unary("get", {});
    assert.equal(yamlDefault.manifests, (await model.unary("get", { format: "yaml" })).manifests, "Get defaults to YAML");
  }

  const EXTRA = [
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: w, labels: {team: q}}",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: w}",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: w, labels: {app: p}}\nspec: {nodeName: node-2}\nstatus: {podIP: 10.244.2.99}",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: w}\nspec: {podSelector: {matchLabels: {app: p}}, ingress: [{from: [{podSelector: {}}]}]}",
  ].join("\n---\n");

  interface Step {
    readonly name: string;
    readonly rest: () => Promise<{ status: number; body: any }>;
    readonly grpc: () => Promise<{ generation: bigint; applied: string[]; skipped: string[] }>;
    readonly want: Record<string, unknown>;
  }
  const examples = async () => JSON.stringify({ apiVersion: "v1", kind: "List", items: readManifestPaths(["examples/cluster"]) });
  const steps: Step[] = [
    {
      name: "Replace = PUT /v1/model",
      rest: async () => http(viaRest, "PUT", "/v1/model", await examples(), { "content-type": "application/json" }),
      grpc: async () => model.unary("replace", { manifests: await examples() }),
      want: { generation: 1 },
    },
    {
      name: "Apply = POST /v1/apply",
      rest: () => http(viaRest, "POST", "/v1/apply", EXTRA),
      grpc: () => model.unary("apply", { manifests: EXTRA }),
      want: { generation: 2, applied: ["Namespace w", "Pod w/p", "NetworkPolicy w/p"], skipped: ["apps/v1/Deployment w/d"] },
    },
    {
      name: "Delete Pod = DELETE /v1/namespaces/{ns}/pods/{name}",
      rest: () => http(viaRest, "DELETE", "/v1/namespaces/x/pods/b"),
      grpc: () => model.unary("delete", { kind: "Pod", namespace: "x", name: "b" }),
      want: { generation: 3, applied: ["Pod x/b"], skipped: [] },
    },
    {
      name: "Delete NetworkPolicy = DELETE /v1/namespaces/{ns}/networkpolicies/{name}",
      rest: () => http(viaRest, "DELETE", "/v1/namespaces/z/networkpolicies/c-egress"),
      grpc: () => model.unary("delete", { kind: "networkpolicy", namespace: "z", name: "c-egress" }),
      want: { generation: 4, applied: ["NetworkPolicy z/c-egress"], skipped: [] },
    },
    {
      name: "Delete Node = DELETE /v1/nodes/{name}",
      rest: () => http(viaRest, "DELETE", "/v1/nodes/node-2"),
      grpc: () => model.unary("delete", { kind: "Node", name: "node-2" }),
      want: { generation: 5, applied: ["Node node-2"], skipped: [] },
    },
    {
      name: "Delete Namespace = DELETE /v1/namespaces/{ns}",
      rest: () => http(viaRest, "DELETE", "/v1/namespaces/w"),
      grpc: () => model.unary("delete", { kind: "Namespace", name: "w" }),
      want: { generation: 6, applied: ["Namespace w"], skipped: [] },
    },
    {
      name: "Replace with the model read back = PUT of GET",
      rest: async () => http(viaRest, "PUT", "/v1/model", await (await fetch(`${viaRest.url}/v1/model`, { headers: { accept: "application/yaml" } })).text()),
      grpc: async () => model.unary("replace", { manifests: (await model.unary("get", {})).manifests }),
      want: { generation: 7 },
    },
  ];

  for (const s of steps) {
    it(s.name, async () => {
      const rest = await s.rest();
      assert.equal(rest.status, 200);
      const rpc = writeFromProto(await s.grpc());
      assert.deepEqual(rpc, rest.body);
      for (const [k, v] of Object.entries(s.want)) assert.deepEqual(rest.body[k], v, `${s.name}: ${k}`);
      await sameModel(s.name);
    });
  }

  it("a rejected write: same error at both doors, and neither generation moves", async () => {
    const bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: q, namespace: x}\nspec: {podSelector: {}, policyTypes: [Up]}\n";
    const rest = await http(viaRest, "POST", "/v1/apply", bad);
    const e = await grpcError(model.unary("apply", { manifests: bad }));
    assert.equal(rest.status, 422);
    assert.equal(e.details, rest.body.message);
    assert.deepEqual(podwallErrors(e), rest.body.errors);
    const missing = await http(viaRest, "DELETE", "/v1/nodes/node-2");
    const eMissing = await grpcError(model.unary("delete", { kind: "Node", name: "node-2" }));
    assert.equal(missing.status, 404);
    assert.equal(eMissing.details, missing.body.message);
    assert.equal(Number((await model.unary("get", {})).generation), 7);
    assert.equal((await http(viaRest, "GET", "/readyz")).body.generation, 7);
    await sameModel("after the rejected writes");
  });
});
