/**
 * Every REST route and every gRPC method, each with its generator. Input I of
 * a run goes to target I modulo their number, so every target gets its share
 * even in a short run.
 */
import { type FuzzContext, badToken } from "./context.js";
import { grpcFields, grpcRaw } from "./grpc-inputs.js";
import { Rng, inputSeed } from "./random.js";
import type { FuzzRequest } from "./requests.js";
import { getCheck, postBatch, postCheck } from "./rest-checks.js";
import { getHealth, getModel, getNodes, getRules, unknownRoute } from "./rest-reads.js";
import { deleteObject, postApply, putModel, putStatus } from "./rest-writes.js";

type Generator = (rng: Rng, ctx: FuzzContext) => FuzzRequest;

export const TARGETS: readonly (readonly [string, Generator])[] = [
  ["GET /v1/check", getCheck],
  ["POST /v1/check", postCheck],
  ["POST /v1/check/batch", postBatch],
  ["PUT /v1/model", putModel],
  ["POST /v1/apply", postApply],
  ["GET /v1/model", getModel],
  ["DELETE /v1/namespaces/{ns}", deleteObject("namespace")],
  ["DELETE /v1/namespaces/{ns}/pods/{name}", deleteObject("pod")],
  ["DELETE /v1/namespaces/{ns}/networkpolicies/{name}", deleteObject("policy")],
  ["DELETE /v1/nodes/{name}", deleteObject("node")],
  ["GET /v1/nodes/{node}/rules", getRules],
  ["PUT /v1/nodes/{node}/status", putStatus],
  ["GET /v1/nodes", getNodes],
  ["GET /healthz, /readyz, /metrics", getHealth],
  ["unknown route", unknownRoute],
  ["PUT /v1/model", putModel],
  ["POST /v1/apply", postApply],
  ["POST /v1/check", postCheck],
  ["DecisionService/Check", grpcFields("check")],
  ["DecisionService/BatchCheck", grpcFields("batchCheck")],
  ["DecisionService/GetRules", grpcFields("getRules")],
  ["DecisionService/WatchRules", grpcFields("watchRules")],
  ["ModelService/Apply", grpcFields("apply")],
  ["ModelService/Replace", grpcFields("replace")],
  ["ModelService/Delete", grpcFields("delete")],
  ["ModelService/Get", grpcFields("get")],
  ["raw protobuf, any method", grpcRaw],
  ["raw protobuf, any method", grpcRaw],
];

/**
 * Input `index` of run `seed`: the same request every time. One in twenty
 * carries a bad bearer token; the others carry `token` when one is given.
 */
export function generate(seed: number, index: number, ctx: FuzzContext, token?: string): FuzzRequest {
  const [, make] = TARGETS[index % TARGETS.length]!;
  const r = make(new Rng(inputSeed(seed, index)), ctx);
  const rng = new Rng(inputSeed(seed ^ 0x5bd1e995, index));
  const auth = rng.bool(0.05) ? badToken(rng) : token !== undefined ? `Bearer ${token}` : undefined;
  if (auth === undefined) return r;
  if (r.door === "rest") return "authorization" in r.headers ? r : { ...r, headers: { ...r.headers, authorization: auth } };
  return r.metadata.some(([k]) => k === "authorization") ? r : { ...r, metadata: [...r.metadata, ["authorization", auth]] };
}

export function targetOf(index: number): string {
  return TARGETS[index % TARGETS.length]![0];
}
