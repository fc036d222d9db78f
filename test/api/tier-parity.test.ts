/**
 * The policy tiers at both doors: every decision over a model with Admin and
 * Baseline policies of all three kinds is the same over REST and gRPC, field
 * for field, with and without explain, and covers every shape a tiered
 * answer takes; writes, refusals and deletes of the three kinds are the same
 * at both doors, and a refused write changes nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { assertUnchanged, decisionFromProto, grpcError, podwallErrors, sansId, snapshot, writeFromProto } from "./support.js";

const MANIFESTS = ["examples/cluster", "test/fixtures/api/parity-extra.yaml", "examples/tiers", "test/fixtures/api/parity-tiers.yaml"];
const PODS = ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c", "sit/host"];
const ADDRESSES = ["10.0.0.1", "10.0.0.2", "10.9.9.9", "192.0.2.10"];
const ENDPOINTS = [...PODS, ...ADDRESSES];
const TRAFFIC = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 81 },
  { protocol: "UDP", port: 80 },
  { protocol: "SCTP", port: 80 },
];

describe("tiered decisions are the same at both doors", () => {
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

  for (const explain of [true, false]) {
    it(`every ordered pair of ${ENDPOINTS.length} endpoints, 4 kinds of traffic, explain=${explain}`, async () => {
      const seen = { decidedBy: new Set<string>(), actions: new Set<string>(), words: new Set<string>(), precedence: new Set<string>(), traced: false };
      for (const t of TRAFFIC) {
        for (const src of ENDPOINTS) {
          for (const dst of ENDPOINTS) {
            const q = { src, dst, ...t, explain };
            const label = `${src} -> ${dst} ${t.protocol}/${t.port}`;
            const qs = new URLSearchParams({ src, dst, protocol: t.protocol, port: String(t.port), explain: String(explain) });
            const rest = await http(server, "GET", `/v1/check?${qs}`);
            assert.equal(rest.status, 200, label);
            const rpc = decisionFromProto(await grpc.unary("check", q), explain);
            assert.deepEqual(rpc, sansId(rest.body), label);
            for (const dir of [rest.body.egress, rest.body.ingress]) {
              assert.ok(dir.decidedBy, `${label}: a model with tier policies names the deciding tier`);
              seen.decidedBy.add(dir.decidedBy);
              for (const v of dir.tiers) {
                seen.actions.add(v.action);
                if (v.actionWord) seen.words.add(v.actionWord);
                if (v.precedence) seen.precedence.add(v.precedence.kind);
                if ((v.policies ?? []).some((p: { rules: unknown[] }) => p.rules.length > 0)) seen.traced = true;
              }
            }
          }
        }
      }
      // The questions cover every shape of a tiered answer, so the comparison covers every field.
      assert.deepEqual([...seen.decidedBy].sort(), ["Admin", "Baseline", "NetworkPolicy", "default"]);
      assert.deepEqual([...seen.actions].sort(), ["Accept", "Deny", "Pass", "none"]);
      assert.deepEqual([...seen.words], ["Allow"]);
      assert.deepEqual([...seen.precedence].sort(), ["last", "priority", "tie"]);
      assert.equal(seen.traced, explain);
    });
  }

  it("an answer names the tier, policy, priority, rule and its name, and what a Pass handed on to", async () => {
    const q = new URLSearchParams({ src: "z/b", dst: "z/a", port: "80" });
    const res = await http(server, "GET", `/v1/check?${q}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.ingress.tiers[0], {
      tier: "Admin",
      action: "Pass",
      policy: "ClusterNetworkPolicy/protect-z",
      priority: 10,
      rule: "spec.ingress[0]",
      name: "own-namespace",
      precedence: { kind: "priority", priority: 10 },
    });
    // parity-extra.yaml isolates z/a for ingress: the Pass hands the answer to that NetworkPolicy.
    assert.equal(res.body.ingress.isolated, true);
    assert.equal(res.body.ingress.decidedBy, "NetworkPolicy");
  });
});

describe("the tier kinds are written, refused and deleted alike at both doors", () => {
  let viaRest: TestServer;
  let viaGrpc: TestServer;
  let model: ReturnType<typeof modelClient>;
  before(async () => {
    [viaRest, viaGrpc] = await Promise.all([startServer(["examples/cluster"]), startServer(["examples/cluster"])]);
    model = modelClient(viaGrpc.grpcAddress);
  });
  after(async () => {
    model.close();
    await Promise.all([viaRest.close(), viaGrpc.close()]);
  });

  const CNP = `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress:
    - {name: dns, action: Accept, to: [{domainNames: ["*.example.com"]}]}
    - {action: Deny, to: [{networks: ["192.0.2.0/24"]}], extra: 1}
`;
  const BAD = `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: bad}
spec:
  tier: Top
  priority: 1001
  subject: {namespaces: {}}
  ingress:
    - {action: Accept, from: [{networks: ["10.0.0.0/8"]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: other}
spec:
  subject: {namespaces: {}}
`;

  it("a write: the same answer and warnings (a field the CRD does not know, a domain name peer)", async () => {
    const rest = await http(viaRest, "POST", "/v1/apply", CNP);
    assert.equal(rest.status, 200);
    const rpc = await model.unary("apply", { manifests: CNP });
    assert.deepEqual(writeFromProto(rpc), { generation: rest.body.generation, applied: rest.body.applied, skipped: rest.body.skipped });
    assert.deepEqual(rest.body.applied, ["ClusterNetworkPolicy guard"]);
    assert.deepEqual(
      [...rpc.warnings],
      [
        'unknown field "spec.egress[1].extra" (ClusterNetworkPolicy guard)',
        "spec.egress[0].to[0].domainNames: domain names cannot be enforced by ipsets of addresses: the peer matches no connection (ClusterNetworkPolicy guard)",
      ],
    );
    const text = await (await fetch(`${viaRest.url}/v1/model`, { headers: { accept: "application/yaml" } })).text();
    assert.equal(text, (await model.unary("get", { format: "yaml" })).manifests);
    assert.match(text, /kind: ClusterNetworkPolicy/);
    assert.doesNotMatch(text, /extra/, "what the CRD does not declare is not kept");
  });

  it("a refusal: 422 and INVALID_ARGUMENT with the same field errors; the model unchanged", async () => {
    const before = await snapshot(viaRest);
    const rest = await http(viaRest, "POST", "/v1/apply", BAD);
    assert.equal(rest.status, 422);
    const e = await grpcError(model.unary("apply", { manifests: BAD }));
    assert.deepEqual(podwallErrors(e), rest.body.errors);
    // As the API server with the CRDs installed: the schema, then (not run, being blocked) the CEL rules; an ingress
    // `networks` peer is a field the schema does not know, pruned, leaving a peer with no property.
    assert.deepEqual(
      rest.body.errors.map((x: { object: string; field: string; type: string }) => `${x.object.split(".")[0]} ${x.field} ${x.type}`),
      [
        "ClusterNetworkPolicy spec.tier FieldValueNotSupported",
        "ClusterNetworkPolicy spec.priority FieldValueInvalid",
        "ClusterNetworkPolicy spec.ingress[0].from[0] FieldValueInvalid",
        "ClusterNetworkPolicy <nil> FieldValueInvalid",
        "BaselineAdminNetworkPolicy <nil> FieldValueInvalid",
      ],
    );
    await assertUnchanged(viaRest, before, "a refused write");
  });

  it("a delete by kind and name, cluster-scoped; 404 for one the model lacks", async () => {
    const rest = await http(viaRest, "DELETE", "/v1/clusternetworkpolicies/guard");
    assert.equal(rest.status, 200);
    const rpc = await model.unary("delete", { kind: "ClusterNetworkPolicy", name: "guard" });
    assert.deepEqual(writeFromProto(rpc), { generation: rest.body.generation, applied: rest.body.applied, skipped: rest.body.skipped });
    assert.deepEqual(rest.body.applied, ["ClusterNetworkPolicy guard"]);
    const again = await http(viaRest, "DELETE", "/v1/clusternetworkpolicies/guard");
    assert.equal(again.status, 404);
    const e = await grpcError(model.unary("delete", { kind: "clusternetworkpolicy", name: "guard" }));
    assert.equal(e.details, again.body.message);
    assert.match(again.body.message, /clusternetworkpolicies\.policy\.networking\.k8s\.io "guard" not found/);
    assert.equal((await http(viaRest, "DELETE", "/v1/adminnetworkpolicies/none")).status, 404);
    assert.equal((await http(viaRest, "DELETE", "/v1/baselineadminnetworkpolicies/default")).status, 404);
  });
});
