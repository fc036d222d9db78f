/**
 * Bad requests to every method of DecisionService and ModelService: odd field
 * values in well-formed messages, and bytes that are no valid message at all.
 * Matrix and WhatIf are made in grpc-analysis.ts.
 */
import { type DescMessage, type MessageInitShape, create, toBinary } from "@bufbuild/protobuf";
import {
  ApplyRequestSchema,
  BatchCheckRequestSchema,
  CheckRequestSchema,
  DeleteRequestSchema,
  GetModelRequestSchema,
  GetRulesRequestSchema,
  MatrixRequestSchema,
  ReplaceRequestSchema,
  WatchRulesRequestSchema,
  WhatIfRequestSchema,
} from "../server/gen/podwall/v1/podwall_pb.js";
import { type FuzzContext, absentName, badToken } from "./context.js";
import { type GrpcTwin, matrixInput, whatIfInput } from "./grpc-analysis.js";
import { badManifests } from "./manifests.js";
import type { Rng } from "./random.js";
import type { Expectation, GrpcRequest } from "./requests.js";
import { longText, many, oddText, truncate } from "./strings.js";
import { TIER_KINDS } from "./tier-manifests.js";
import { oddReference } from "./values.js";

export const METHODS = {
  check: { path: "/podwall.v1.DecisionService/Check", stream: false, write: false, mustReject: false },
  batchCheck: { path: "/podwall.v1.DecisionService/BatchCheck", stream: false, write: false, mustReject: false },
  getRules: { path: "/podwall.v1.DecisionService/GetRules", stream: false, write: false, mustReject: false },
  watchRules: { path: "/podwall.v1.DecisionService/WatchRules", stream: true, write: false, mustReject: false },
  matrix: { path: "/podwall.v1.DecisionService/Matrix", stream: true, write: false, mustReject: false },
  // A what-if writes nothing, but the model is compared after every one: it must not have changed.
  whatIf: { path: "/podwall.v1.DecisionService/WhatIf", stream: false, write: true, mustReject: false },
  apply: { path: "/podwall.v1.ModelService/Apply", stream: false, write: true, mustReject: false },
  replace: { path: "/podwall.v1.ModelService/Replace", stream: false, write: true, mustReject: true },
  delete: { path: "/podwall.v1.ModelService/Delete", stream: false, write: true, mustReject: true },
  get: { path: "/podwall.v1.ModelService/Get", stream: false, write: false, mustReject: false },
} as const;
type Method = keyof typeof METHODS;

function metadata(rng: Rng): [string, string | Buffer][] {
  const md: [string, string | Buffer][] = [];
  if (rng.bool(0.1)) md.push(["authorization", badToken(rng)]);
  if (rng.bool(0.05)) md.push([rng.pick(["x-odd", "podwall-errors", "x-é", "X-Upper", "grpc-foo", ""]), oddText(rng, 20)]);
  if (rng.bool(0.05)) md.push(["x-odd-bin", rng.bytes(rng.size(1, 4096))]);
  return md;
}

function request<S extends DescMessage>(rng: Rng, method: Method, tag: string, schema: S, init: MessageInitShape<S>, expect?: Expectation): GrpcRequest {
  const m = METHODS[method];
  const fields = truncate(
    JSON.stringify(init, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    2000,
  );
  return {
    door: "grpc",
    target: m.path.slice(1),
    tag,
    path: m.path,
    serverStream: m.stream,
    bytes: Buffer.from(toBinary(schema, create(schema, init))),
    metadata: metadata(rng),
    fields,
    expect: expect ?? { write: m.write, mustReject: m.mustReject },
  };
}

/** A string field's value: odd, very long, or a plausible one. */
function text(rng: Rng, plausible: readonly string[]): string {
  return rng.weighted<() => string>([
    [2, () => rng.pick(plausible)],
    [4, () => oddText(rng, 30)],
    [1, () => longText(rng, 1_200_000)],
  ])();
}

const port = (rng: Rng) => rng.pick([0, 65536, 4294967295, 2147483648, 80, 443, rng.int(0, 2 ** 32 - 1)]);

function checkInit(rng: Rng) {
  return {
    src: rng.bool(0.7) ? (JSON.parse(oddReference(rng)) as string) : text(rng, ["x/a"]),
    dst: rng.bool(0.7) ? (JSON.parse(oddReference(rng)) as string) : text(rng, ["y/b"]),
    protocol: text(rng, ["", "TCP", "udp", "ICMP"]),
    port: port(rng),
    explain: rng.bool(),
  };
}

const GENERATORS: Record<Method, (rng: Rng, ctx: FuzzContext) => GrpcRequest> = {
  check: (rng) => request(rng, "check", "fields", CheckRequestSchema, checkInit(rng)),
  batchCheck: (rng) =>
    request(rng, "batchCheck", "checks", BatchCheckRequestSchema, {
      checks: many(
        rng,
        rng.size(0, rng.bool(0.1) ? 20_000 : 30),
        () => checkInit(rng),
        (c) => c.src.length + c.dst.length + c.protocol.length,
      ),
    }),
  getRules: (rng, ctx) =>
    request(rng, "getRules", "node", GetRulesRequestSchema, {
      node: rng.bool(0.3) ? rng.pick([...ctx.versions.keys()]) : absentName(rng, ctx),
      since: rng.bool(0.5) ? "" : rng.pick([oddText(rng, 30), ...ctx.versions.values()]),
    }),
  watchRules: (rng, ctx) =>
    // An existing node is asked with a version it does not have, so its ruleset comes at once.
    request(rng, "watchRules", "node", WatchRulesRequestSchema, {
      node: rng.bool(0.3) ? rng.pick([...ctx.versions.keys()]) : absentName(rng, ctx),
      version: rng.bool(0.5) ? "" : `${oddText(rng, 30)}~`,
      since: rng.bool(0.7) ? "" : `${oddText(rng, 30)}~`,
    }),
  apply: (rng, ctx) => {
    const m = badManifests(rng, ctx.namespaces);
    return request(rng, "apply", m.tag, ApplyRequestSchema, { manifests: m.text }, { write: true, mustReject: !m.empty });
  },
  replace: (rng, ctx) => request(rng, "replace", "manifests", ReplaceRequestSchema, { manifests: badManifests(rng, ctx.namespaces).text }),
  delete: (rng, ctx) =>
    request(rng, "delete", "object", DeleteRequestSchema, {
      kind: rng.pick(["Namespace", "Node", "Pod", "NetworkPolicy", ...TIER_KINDS, "clusternetworkpolicy", "ADMINNETWORKPOLICY", "pod", "Pods", "Deployment", "", oddText(rng, 12)]),
      namespace: rng.bool(0.5) ? rng.pick(ctx.namespaces) : absentName(rng, ctx),
      name: absentName(rng, ctx),
    }),
  get: (rng) => request(rng, "get", "format", GetModelRequestSchema, { format: text(rng, ["xml", "YAML", "Json", "yaml ", "toml"]) }),
  matrix: (rng, ctx) => {
    const m = matrixInput(rng, ctx);
    return request(rng, "matrix", m.tag, MatrixRequestSchema, m.init, { write: false, ...m.expect });
  },
  whatIf: (rng, ctx) => {
    const w = whatIfInput(rng, ctx);
    const twin = w.twin ? { twin: asWrite(rng, w.twin) } : {};
    return request(rng, "whatIf", w.tag, WhatIfRequestSchema, w.init, { write: true, ...w.expect, ...twin });
  },
};

/** The write a what-if asks the same as, with no metadata of its own. */
function asWrite(rng: Rng, t: GrpcTwin): GrpcRequest {
  const r =
    t.method === "apply"
      ? request(rng, "apply", "as-a-write", ApplyRequestSchema, { manifests: t.manifests }, { write: true, mustReject: t.mustReject })
      : request(rng, "delete", "as-a-write", DeleteRequestSchema, { kind: t.kind, namespace: t.namespace, name: t.name }, { write: true, mustReject: true });
  return { ...r, metadata: [] };
}

/** Well-formed messages with odd values, to one method. */
export function grpcFields(method: Method) {
  return (rng: Rng, ctx: FuzzContext) => GENERATORS[method](rng, ctx);
}

/** Bytes that are not a valid message (or barely are), to any method. */
export function grpcRaw(rng: Rng, ctx: FuzzContext): GrpcRequest {
  const method = rng.pick(Object.keys(METHODS) as Method[]);
  const m = METHODS[method];
  const valid = () => Buffer.from(GENERATORS[method](rng, ctx).bytes);
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const [tag, bytes] = rng.weighted<() => [string, Buffer]>([
    [3, () => ["random", rng.bytes(rng.size(1, 8192))]],
    [2, () => ["truncated", ((b) => b.subarray(0, rng.int(0, Math.max(0, b.length - 1))))(valid())]],
    [2, () => ["flipped", flip(rng, valid())]],
    [1, () => ["varint-overflow", Buffer.concat([Buffer.from([0x20]), Buffer.alloc(rng.int(10, 20), 0xff), Buffer.from([0x01])])]],
    [1, () => ["long-length", Buffer.concat([Buffer.from([0x0a]), varint(rng.pick([0x7fffffff, 0xffffffff, 2 ** 35, 1000])), Buffer.from("abc")])]],
    [1, () => ["bad-wire-type", Buffer.from([(rng.int(1, 5) << 3) | rng.pick([6, 7]), 0x01, 0x02])]],
    [1, () => ["field-zero", Buffer.from([0x02, 0x01, 0x41])]],
    [1, () => ["invalid-utf8", Buffer.concat([Buffer.from([0x0a]), varint(4), Buffer.from([0xff, 0xfe, 0xc0, 0x80])])]],
    [1, () => ["deep-groups", ((n) => Buffer.concat([Buffer.alloc(n, 0x7b), Buffer.alloc(n, 0x7c)]))(rng.size(10, 200_000))]],
    [1, () => ["unclosed-group", Buffer.alloc(rng.size(1, 1000), 0x7b)]],
    [1, () => ["empty", Buffer.alloc(0)]],
    [1, () => ["trailing-garbage", Buffer.concat([valid(), rng.bytes(rng.int(1, 64))])]],
  ])();
  // An empty or undecodable message to Replace may read as "replace with nothing": refused either way.
  return {
    door: "grpc",
    target: m.path.slice(1),
    tag: `raw:${tag}`,
    path: m.path,
    serverStream: m.stream,
    bytes,
    metadata: metadata(rng),
    fields: "",
    expect: { write: m.write, mustReject: method === "replace" || method === "delete" },
  };
}

/** One bit of the message flipped. */
function flip(rng: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  const at = rng.int(0, b.length - 1);
  b[at] = b[at]! ^ (1 << rng.int(0, 7));
  return b;
}
