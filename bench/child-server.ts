/**
 * A server for the benchmark, in its own process so that the load generator
 * does not share its CPU: `podwall` (the real server with a generated
 * profile loaded through PUT /v1/model), or the baselines `bare-express` (an
 * express handler answering a fixed JSON body) and `bare-grpc` (a grpc-js
 * unary handler answering a fixed Decision). Prints one JSON line when ready.
 *
 * `podwall PROFILE [OPTIONS]`, OPTIONS a comma-separated list: `tiers` adds
 * the cluster-scoped policies of tier-policies.ts through POST /v1/apply once
 * the model is loaded; `uncached` turns the decision cache off, so that every
 * question is decided afresh.
 */
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import express from "express";
import { pino } from "pino";
import { DecisionSchema, DecisionService } from "../server/gen/podwall/v1/podwall_pb.js";
import { serviceDefinition } from "../server/api/grpc/definitions.js";
import { listen } from "../server/api/grpc/server.js";
import { serve } from "../server/main.js";
import { PROFILES, allObjects, generate } from "./generate.js";
import { tierPolicies } from "./tier-policies.js";

const [mode, profileName, optionsText] = process.argv.slice(2);
const options = new Set((optionsText ?? "").split(",").filter((o) => o !== ""));
const report = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Writes manifests to the server as a v1 List; the time until it answered. */
async function write(port: number, method: "PUT" | "POST", path: string, items: unknown[]): Promise<{ ms: number; bodyMB: number }> {
  const body = JSON.stringify({ apiVersion: "v1", kind: "List", items });
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body, headers: { "content-type": "application/json" } });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return { ms: performance.now() - t0, bodyMB: body.length / 2 ** 20 };
}

if (mode === "podwall") {
  const running = await serve({
    listen: "127.0.0.1:0",
    grpcListen: "127.0.0.1:0",
    logger: pino({ level: "silent" }),
    ...(options.has("uncached") ? { cacheSize: 0 } : {}),
  });
  await running.ready;
  const g = generate(PROFILES[profileName ?? "large"]!);
  const load = await write(running.restPort, "PUT", "/v1/model", allObjects(g));
  const tiers = options.has("tiers") ? await write(running.restPort, "POST", "/v1/apply", tierPolicies(g)) : undefined;
  globalThis.gc?.();
  report({
    rest: running.restPort,
    grpc: running.grpcPort,
    loadMs: load.ms,
    rssMB: process.memoryUsage().rss / 2 ** 20,
    bodyMB: load.bodyMB,
    ...(tiers ? { tiersMs: tiers.ms } : {}),
  });
} else if (mode === "bare-express") {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const fixed = { allowed: true, generation: 1, reason: "policy" };
  app.get("/v1/check", (_req, res) => {
    res.json(fixed);
  });
  const server = app.listen(0, "127.0.0.1", () => report({ rest: (server.address() as { port: number }).port }));
} else if (mode === "bare-grpc") {
  const server = new grpc.Server();
  const fixed = create(DecisionSchema, { allowed: true, generation: 1n, reason: "policy" });
  server.addService(serviceDefinition(DecisionService), { check: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, fixed) });
  report({ grpc: await listen(server, "127.0.0.1:0") });
} else {
  throw new Error(`unknown mode ${mode}`);
}
