/**
 * Every REST route and every gRPC method, each with its generator. Input I of
 * a run goes to target I modulo their number, so every target gets its share
 * even in a short run.
 */
import { type FuzzContext, badToken } from "./context.js";
import { grpcFields, grpcRaw } from "./grpc-inputs.js";
import { Rng, inputSeed } from "./random.js";
import type { FuzzRequest } from "./requests.js";
import { getLint, getMatrix } from "./rest-analysis.js";
import { getCheck, postBatch, postCheck } from "./rest-checks.js";
import { getHealth, getModel, getNodes, getRules, unknownRoute } from "./rest-reads.js";
import { getUi } from "./rest-ui.js";
import { postWhatIf } from "./rest-whatif.js";
import { TIER_DELETE, deleteObject, deleteTierPolicy, postApply, putModel, putStatus } from "./rest-writes.js";

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
  [TIER_DELETE, deleteTierPolicy],
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
  ["GET /v1/matrix", getMatrix],
  ["POST /v1/whatif", postWhatIf],
  ["GET /v1/lint", getLint],
  ["GET /ui/...", getUi],
  ["POST /v1/whatif", postWhatIf],
  ["DecisionService/Matrix", grpcFields("matrix")],
  ["DecisionService/WhatIf", grpcFields("whatIf")],
  ["GET /v1/matrix", getMatrix],
  ["POST /v1/whatif", postWhatIf],
  ["DecisionService/WhatIf", grpcFields("whatIf")],
];

/**
 * Input `index` of run `seed`: the same request every time. One in twenty
 * carries a bad bearer token; the others carry `token` when one is given.
 * A twin (the same question as a write) carries what its question carries;
 * with a bad token, no exact status is expected (a server with --auth
 * answers 401 first).
 */
export function generate(seed: number, index: number, ctx: FuzzContext, token?: string): FuzzRequest {
  const [, make] = TARGETS[index % TARGETS.length]!;
  const r = make(new Rng(inputSeed(seed, index)), ctx);
  const rng = new Rng(inputSeed(seed ^ 0x5bd1e995, index));
  const bad = rng.bool(0.05);
  const auth = bad ? badToken(rng) : token !== undefined ? `Bearer ${token}` : undefined;
  if (auth === undefined) return r;
  const sent = withAuth(r, auth);
  const given = authOf(sent);
  const twin = sent.expect.twin && given !== undefined ? withAuth(sent.expect.twin, given, true) : sent.expect.twin;
  const { status: _s, code: _c, twin: _t, ...loose } = sent.expect;
  const expect = bad || (given !== undefined && given !== `Bearer ${token}`) ? loose : { ...sent.expect, ...(twin ? { twin } : {}) };
  return { ...sent, expect } as FuzzRequest;
}

/** The request with `auth` as its credentials, unless it carries some already (or `replace`). */
function withAuth(r: FuzzRequest, auth: string, replace = false): FuzzRequest {
  if (r.door === "rest") return "authorization" in r.headers && !replace ? r : { ...r, headers: { ...r.headers, authorization: auth } };
  const others = r.metadata.filter(([k]) => k !== "authorization");
  return others.length < r.metadata.length && !replace ? r : { ...r, metadata: [...others, ["authorization", auth]] };
}

function authOf(r: FuzzRequest): string | undefined {
  if (r.door === "rest") return r.headers["authorization"];
  const v = r.metadata.find(([k]) => k === "authorization")?.[1];
  return typeof v === "string" ? v : undefined;
}

export function targetOf(index: number): string {
  return TARGETS[index % TARGETS.length]![0];
}
