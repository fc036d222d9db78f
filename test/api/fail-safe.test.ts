/**
 * A service whose model is not loaded yet serves nothing made from it: over
 * REST 503 (with /readyz saying why) and over gRPC UNAVAILABLE, for checks,
 * rulesets, watches and writes alike; once loaded, the same doors answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ClientReadableStream, status } from "@grpc/grpc-js";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { Authenticator } from "../../server/auth/authenticator.js";
import { GrpcDoor, createGrpcServer, listen } from "../../server/api/grpc/server.js";
import { rulesHandlers } from "../../server/api/grpc/rules.js";
import { createRestApp } from "../../server/api/rest/app.js";
import type { Ruleset } from "../../server/gen/podwall/v1/podwall_pb.js";
import { PodwallService, RulesService } from "../../server/service/index.js";
import { http } from "../helpers/server.js";
import { TWO_NODES } from "../rules/support.js";
import { grpcError, serveApp } from "./support.js";

describe("before the model is loaded", () => {
  const service = new PodwallService();
  const rules = new RulesService(service);
  let rest: { url: string; close(): Promise<void> };
  const door = new GrpcDoor(Authenticator.open(), service.metrics);
  const grpcServer = createGrpcServer(service, door, rulesHandlers(rules, door)).server;
  let address: string;
  before(async () => {
    rest = await serveApp(createRestApp(service, { rules }));
    address = `127.0.0.1:${await listen(grpcServer, "127.0.0.1:0")}`;
  });
  after(async () => {
    await rest.close();
    grpcServer.forceShutdown();
  });

  it("answers 503 over REST, and /readyz says why", async () => {
    const z = await http(rest, "GET", "/readyz");
    assert.equal(z.status, 503);
    assert.deepEqual(z.body, { ready: false, status: "the model is not loaded yet", generation: 0, store: { kind: "memory", writable: true } });
    for (const [method, path, body] of [
      ["GET", "/v1/check?src=app/b&dst=app/a&port=80", undefined],
      ["POST", "/v1/check", { src: "app/b", dst: "app/a", port: 80 }],
      ["POST", "/v1/check/batch", { checks: [{ src: "app/b", dst: "app/a", port: 80 }] }],
      ["GET", "/v1/nodes/node-1/rules?wait=5", undefined],
      ["GET", "/v1/nodes", undefined],
      ["PUT", "/v1/nodes/node-1/status", { version: "x" }],
      ["GET", "/v1/model", undefined],
      ["PUT", "/v1/model", TWO_NODES],
      ["POST", "/v1/apply", TWO_NODES],
      ["DELETE", "/v1/namespaces/app", undefined],
    ] as const) {
      const r = await http(rest, method, path, body);
      assert.equal(r.status, 503, `${method} ${path}`);
      assert.deepEqual(r.body, { code: 503, reason: "ServiceUnavailable", message: "not ready: the model is not loaded yet", errors: [] }, `${method} ${path}`);
    }
  });

  it("answers UNAVAILABLE over gRPC, watches included", async () => {
    const decisions = decisionClient(address);
    const model = modelClient(address);
    try {
      for (const call of [
        decisions.unary("check", { src: "app/b", dst: "app/a", port: 80 }),
        decisions.unary("batchCheck", { checks: [{ src: "app/b", dst: "app/a", port: 80 }] }),
        decisions.unary("getRules", { node: "node-1" }),
        model.unary("apply", { manifests: TWO_NODES }),
        model.unary("get", { format: "json" }),
      ]) {
        const e = await grpcError(call);
        assert.equal(e.code, status.UNAVAILABLE);
        assert.equal(e.details, "not ready: the model is not loaded yet");
      }
      const stream = decisions.stream("watchRules", { node: "node-1" }) as ClientReadableStream<Ruleset>;
      const e = await new Promise<{ code: number }>((resolve) => stream.on("error", resolve));
      assert.equal(e.code, status.UNAVAILABLE);
    } finally {
      decisions.close();
      model.close();
    }
  });

  it("answers once it is loaded", async () => {
    await service.load();
    service.markReady();
    assert.equal((await http(rest, "GET", "/readyz")).status, 200);
    assert.equal((await http(rest, "PUT", "/v1/model", TWO_NODES)).status, 200);
    const decisions = decisionClient(address);
    try {
      assert.equal((await decisions.unary("check", { src: "app/b", dst: "app/a", port: 80 })).allowed, true);
    } finally {
      decisions.close();
    }
  });
});
