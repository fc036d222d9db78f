/**
 * Service plumbing: health and readiness, Prometheus metrics, the standard
 * gRPC health and reflection services, and the decision cache.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { grpcError, sansId } from "./support.js";

const require = createRequire(import.meta.url);

/** The value of one sample of a Prometheus text exposition, labels in any order; undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1]!] = pair[2]!;
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function metrics(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return res.text();
}

describe("service plumbing", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(["examples/cluster"]);
  });
  after(async () => server.close());

  describe("REST", () => {
    it("GET /healthz: the process is alive", async () => {
      const res = await http(server, "GET", "/healthz");
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: "ok" });
    });

    it("GET /readyz: the model is loaded, with its generation", async () => {
      const res = await http(server, "GET", "/readyz");
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        ready: true,
        status: "ready",
        generation: (await http(server, "GET", "/v1/model")).body.metadata.generation,
        store: { kind: "memory", writable: true },
      });
    });

    it("GET /readyz of a server started without manifests: ready, with an empty model", async () => {
      const empty = await startServer();
      try {
        const res = await http(empty, "GET", "/readyz");
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { ready: true, status: "ready", generation: 0, store: { kind: "memory", writable: true } });
      } finally {
        await empty.close();
      }
    });

    it("GET /metrics: Prometheus text with the decision counter and the model generation", async () => {
      const text = await metrics(server);
      assert.match(text, /^# HELP podwall_decisions_total /m);
      assert.match(text, /^# TYPE podwall_decisions_total counter$/m);
      assert.match(text, /^# TYPE podwall_model_generation gauge$/m);
      const gen = (await http(server, "GET", "/readyz")).body.generation as number;
      assert.equal(sample(text, "podwall_model_generation"), gen);
      assert.equal(sample(text, "podwall_model_objects", { kind: "Pod" }), 10);
      assert.equal(sample(text, "podwall_model_objects", { kind: "NetworkPolicy" }), 3);
      assert.equal(sample(text, "podwall_model_objects", { kind: "Namespace" }), 5);
      assert.equal(sample(text, "podwall_model_objects", { kind: "Node" }), 2);
      // Default process metrics are on the same registry.
      assert.notEqual(sample(text, "process_cpu_user_seconds_total"), undefined);
    });

    it("GET /metrics counts decisions, computed and cached, and follows writes", async () => {
      const count = (text: string, allowed: string, cached: string) => sample(text, "podwall_decisions_total", { allowed, cached }) ?? 0;
      const t0 = await metrics(server);
      // A question no other test asks here, so the first answer is computed.
      const q = "/v1/check?src=dev/myapp&dst=x/c&port=81&protocol=udp";
      assert.equal(sansId((await http(server, "GET", q)).body).allowed, true);
      const t1 = await metrics(server);
      assert.equal(count(t1, "true", "false"), count(t0, "true", "false") + 1);
      assert.equal(count(t1, "true", "true"), count(t0, "true", "true"));
      await http(server, "GET", q);
      await http(server, "GET", q);
      const t2 = await metrics(server);
      assert.equal(count(t2, "true", "false"), count(t1, "true", "false"));
      assert.equal(count(t2, "true", "true"), count(t1, "true", "true") + 2);
      // A denial counts as allowed="false".
      const denials = (text: string) => count(text, "false", "false") + count(text, "false", "true");
      assert.equal((await http(server, "GET", "/v1/check?src=x/b&dst=x/a&port=80")).body.allowed, false);
      assert.equal(denials(await metrics(server)), denials(t2) + 1);

      const before = sample(t2, "podwall_model_generation")!;
      const w = await http(server, "POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: metrics-probe}\n");
      assert.equal(w.body.generation, before + 1);
      const t3 = await metrics(server);
      assert.equal(sample(t3, "podwall_model_generation"), before + 1);
      assert.equal(sample(t3, "podwall_model_objects", { kind: "Namespace" }), 6);
      assert.equal((sample(t3, "podwall_model_writes_total", { op: "apply", outcome: "ok" }) ?? 0) >= 1, true);
      await http(server, "DELETE", "/v1/namespaces/metrics-probe");
    });

    it("GET /metrics counts rejected writes by their error code", async () => {
      const outcome = async () => sample(await metrics(server), "podwall_model_writes_total", { op: "apply", outcome: "invalid" }) ?? 0;
      const n = await outcome();
      const res = await http(server, "POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n");
      assert.equal(res.status, 422);
      assert.equal(await outcome(), n + 1);
    });
  });

  describe("gRPC health (grpc.health.v1)", () => {
    let client: grpc.Client & Record<string, any>;
    before(() => {
      const Ctor = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, "Health");
      client = new Ctor(server.grpcAddress, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    });
    after(() => client.close());

    const check = (service: string): Promise<{ status: string }> =>
      new Promise((resolve, reject) =>
        client["Check"]({ service }, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: { status: string }) => (err ? reject(err) : resolve(res))),
      );

    for (const name of ["", "podwall.v1.DecisionService", "podwall.v1.ModelService"]) {
      it(`Check(${JSON.stringify(name)}) is SERVING`, async () => {
        assert.deepEqual(await check(name), { status: "SERVING" });
      });
    }

    it("Check of a service that is not served is NOT_FOUND", async () => {
      const e = await grpcError(check("podwall.v1.NoSuchService"));
      assert.equal(e.code, grpc.status.NOT_FOUND);
    });
  });

  describe("gRPC server reflection", () => {
    for (const version of ["v1", "v1alpha"] as const) {
      describe(`grpc.reflection.${version}`, () => {
        let client: grpc.Client & Record<string, any>;
        before(() => {
          const protoPath = require.resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
          const def = loadSync(protoPath, { longs: String, enums: String, defaults: true, oneofs: true });
          const svc = def[`grpc.reflection.${version}.ServerReflection`] as unknown as grpc.ServiceDefinition;
          const Ctor = grpc.makeGenericClientConstructor(svc, "ServerReflection");
          client = new Ctor(server.grpcAddress, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
        });
        after(() => client.close());

        /** One request on the bidirectional stream, its one response. */
        const ask = (req: Record<string, unknown>): Promise<Record<string, any>> =>
          new Promise((resolve, reject) => {
            const call = client["ServerReflectionInfo"]({ deadline: Date.now() + 10_000 }) as grpc.ClientDuplexStream<unknown, Record<string, any>>;
            let got: Record<string, any> | undefined;
            call.on("data", (m: Record<string, any>) => {
              got = m;
              call.end();
            });
            call.on("error", reject);
            call.on("end", () => (got ? resolve(got) : reject(new Error("no reflection response"))));
            call.write(req);
          });

        it("lists podwall.v1.DecisionService and podwall.v1.ModelService", async () => {
          const res = await ask({ listServices: "*" });
          const names = (res["listServiceResponse"]?.service ?? res["listServicesResponse"]?.service ?? []).map((s: { name: string }) => s.name) as string[];
          assert.deepEqual(names.filter((n) => n.startsWith("podwall.")).sort(), ["podwall.v1.DecisionService", "podwall.v1.ModelService"]);
        });

        it("gives the file that declares podwall.v1.DecisionService, with every method", async () => {
          const res = await ask({ fileContainingSymbol: "podwall.v1.DecisionService" });
          const files = (res["fileDescriptorResponse"]?.fileDescriptorProto ?? []) as number[][];
          assert.equal(files.length, 1);
          const file = fromBinary(FileDescriptorProtoSchema, Uint8Array.from(files[0]!));
          assert.equal(file.package, "podwall.v1");
          const services = Object.fromEntries(file.service.map((s) => [s.name, s.method.map((m) => m.name)]));
          assert.deepEqual(services, {
            DecisionService: ["Check", "BatchCheck", "GetRules", "WatchRules", "Matrix", "WhatIf"],
            ModelService: ["Apply", "Replace", "Delete", "Get"],
          });
        });

        it("answers NOT_FOUND for a symbol that is not there", async () => {
          const res = await ask({ fileContainingSymbol: "podwall.v1.Nope" });
          assert.equal(res["errorResponse"]?.errorCode, grpc.status.NOT_FOUND);
        });
      });
    }
  });

  describe("the decision cache", () => {
    const deny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cache-deny, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Ingress]
`;
    const q = "/v1/check?src=z/b&dst=y/c&port=80&explain=true";
    let grpcClient: ReturnType<typeof decisionClient>;
    before(() => {
      grpcClient = decisionClient(server.grpcAddress);
    });
    after(() => grpcClient.close());
    const viaGrpc = async () => {
      const d = await grpcClient.unary("check", { src: "z/b", dst: "y/c", port: 80, explain: true });
      return { allowed: d.allowed, generation: Number(d.generation), policies: d.ingress?.policies ?? [] };
    };

    it("repeated checks give the same decision", async () => {
      const first = sansId((await http(server, "GET", q)).body);
      for (let i = 0; i < 5; i++) assert.deepEqual(sansId((await http(server, "GET", q)).body), first);
      const post = await http(server, "POST", "/v1/check", { src: "z/b", dst: "y/c", port: 80, explain: true });
      assert.deepEqual(sansId(post.body), first);
    });

    it("after a write that changes the answer, the next check gives the new answer at both doors", async () => {
      const before = sansId((await http(server, "GET", q)).body);
      assert.equal(before.allowed, true);
      assert.deepEqual(await viaGrpc(), { allowed: true, generation: before.generation, policies: [] });

      const w = await http(server, "POST", "/v1/apply", deny);
      assert.equal(w.status, 200);
      const denied = sansId((await http(server, "GET", q)).body);
      assert.equal(denied.allowed, false);
      assert.equal(denied.generation, w.body.generation);
      assert.deepEqual(denied.ingress.policies, ["y/cache-deny"]);
      assert.deepEqual(await viaGrpc(), { allowed: false, generation: w.body.generation, policies: ["y/cache-deny"] });

      const d = await http(server, "DELETE", "/v1/namespaces/y/networkpolicies/cache-deny");
      const again = sansId((await http(server, "GET", q)).body);
      assert.equal(again.allowed, true);
      assert.equal(again.generation, d.body.generation);
      assert.deepEqual({ ...again, generation: before.generation }, before);
      assert.deepEqual(await viaGrpc(), { allowed: true, generation: d.body.generation, policies: [] });
    });

    it("a write over gRPC is seen by the next REST check, and the other way round", async () => {
      const model = modelClient(server.grpcAddress);
      try {
        await model.unary("apply", { manifests: deny });
        assert.equal(sansId((await http(server, "GET", q)).body).allowed, false);
        await http(server, "DELETE", "/v1/namespaces/y/networkpolicies/cache-deny");
        assert.equal((await viaGrpc()).allowed, true);
      } finally {
        model.close();
      }
    });

    it("a change to a pod's labels changes the answer at once", async () => {
      await http(server, "POST", "/v1/apply", deny);
      try {
        assert.equal(sansId((await http(server, "GET", q)).body).allowed, false);
        const relabel = "apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: 'y', labels: {pod: c2}}\nspec: {nodeName: node-2}\nstatus: {podIP: 10.244.2.16}\n";
        assert.equal((await http(server, "POST", "/v1/apply", relabel)).status, 200);
        const d = sansId((await http(server, "GET", q)).body);
        assert.equal(d.allowed, true);
        assert.equal(d.ingress.reason, "not-isolated");
      } finally {
        await http(server, "DELETE", "/v1/namespaces/y/networkpolicies/cache-deny");
      }
    });

    it("a rejected write changes no answer", async () => {
      const before = sansId((await http(server, "GET", q)).body);
      const bad = `${deny}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: nope}\n`;
      assert.equal((await http(server, "POST", "/v1/apply", bad)).status, 404);
      assert.deepEqual(sansId((await http(server, "GET", q)).body), before);
    });
  });
});
