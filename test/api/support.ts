/**
 * Shared pieces of the front-door tests: model snapshots, gRPC error capture,
 * and the converter from the gRPC Decision message to the REST JSON shape.
 */
import assert from "node:assert/strict";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceError } from "@grpc/grpc-js";
import type { Express } from "express";
import type { Decision, DirectionVerdict, Endpoint, RuleVerdict, TierPrecedence, TierVerdict } from "../../server/gen/podwall/v1/podwall_pb.js";

/** What a rejected request must leave as it was: the generation and the model's full text. */
export interface Snapshot {
  readonly generation: number;
  readonly model: string;
}

export async function snapshot(server: { url: string }): Promise<Snapshot> {
  const res = await fetch(`${server.url}/v1/model`);
  assert.equal(res.status, 200);
  const model = await res.text();
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { generation: number };
  const generation = (JSON.parse(model) as { metadata: { generation: number } }).metadata.generation;
  assert.equal(ready.generation, generation, "/readyz and /v1/model disagree on the generation");
  return { generation, model };
}

export async function assertUnchanged(server: { url: string }, before: Snapshot, what: string): Promise<void> {
  const now = await snapshot(server);
  assert.equal(now.generation, before.generation, `${what}: the generation changed`);
  assert.equal(now.model, before.model, `${what}: the model changed`);
}

/** The model's items, parsed from GET /v1/model. */
export async function modelItems(server: { url: string }): Promise<Record<string, any>[]> {
  const res = await fetch(`${server.url}/v1/model`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: Record<string, any>[] }).items;
}

/** Awaits a call that must fail over gRPC and returns its error. */
export async function grpcError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (e) {
    return e as ServiceError;
  }
  assert.fail("the gRPC call succeeded; an error was expected");
}

/** The `podwall-errors` metadata of a gRPC error, parsed; undefined when absent. */
export function podwallErrors(e: ServiceError): unknown[] | undefined {
  const v = e.metadata?.get("podwall-errors") ?? [];
  if (v.length === 0) return undefined;
  assert.equal(v.length, 1, "podwall-errors is sent once");
  return JSON.parse(String(v[0])) as unknown[];
}

/** Serves an express app on loopback with a free port; close() ends every connection. */
export async function serveApp(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const http: HttpServer = await new Promise((resolve, reject) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/**
 * The gRPC Decision in the REST JSON shape. Every field the message carries is
 * kept when it is set (proto3 has no "absent" for scalars: empty means absent),
 * so a field the gRPC door adds or drops shows up as a difference. `verdicts`
 * appears in REST only with explain.
 */
export function decisionFromProto(d: Decision, explain: boolean): Record<string, unknown> {
  return {
    allowed: d.allowed,
    generation: Number(d.generation),
    reason: d.reason,
    src: endpointFromProto(d.src),
    dst: endpointFromProto(d.dst),
    protocol: d.protocol,
    port: d.port,
    egress: directionFromProto(d.egress, explain),
    ingress: directionFromProto(d.ingress, explain),
  };
}

function endpointFromProto(e: Endpoint | undefined): Record<string, unknown> {
  assert.ok(e, "a decision names both endpoints");
  return {
    kind: e.kind,
    ...(e.name ? { name: e.name } : {}),
    ...(e.ip ? { ip: e.ip } : {}),
    ...(e.node ? { node: e.node } : {}),
    ...(e.hostNetwork ? { hostNetwork: true } : {}),
  };
}

function directionFromProto(d: DirectionVerdict | undefined, explain: boolean): Record<string, unknown> {
  assert.ok(d, "a decision has both directions");
  if (!explain) assert.deepEqual(d.verdicts, [], "verdicts only with explain");
  return {
    ...(d.subject ? { subject: d.subject } : {}),
    allowed: d.allowed,
    isolated: d.isolated,
    reason: d.reason,
    policies: [...d.policies],
    ...(explain
      ? {
          verdicts: d.verdicts.map((v) => ({ policy: v.policy, allowed: v.allowed, rules: v.rules.map(ruleFromProto) })),
        }
      : {}),
    ...(d.decidedBy ? { decidedBy: d.decidedBy, tiers: d.tiers.map((t) => tierFromProto(t, explain)) } : {}),
  };
}

function tierFromProto(t: TierVerdict, explain: boolean): Record<string, unknown> {
  if (!explain) assert.deepEqual(t.policies, [], "tier traces only with explain");
  return {
    tier: t.tier,
    action: t.action,
    ...(t.policy ? { policy: t.policy } : {}),
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    ...(t.rule ? { rule: t.rule } : {}),
    ...(t.name ? { name: t.name } : {}),
    ...(t.actionWord ? { actionWord: t.actionWord } : {}),
    ...(t.precedence ? { precedence: precedenceFromProto(t.precedence) } : {}),
    ...(explain ? { policies: t.policies.map((p) => ({ policy: p.policy, precedence: precedenceFromProto(p.precedence), rules: p.rules.map(ruleFromProto) })) } : {}),
  };
}

function precedenceFromProto(p: TierPrecedence | undefined): Record<string, unknown> {
  assert.ok(p, "a tier policy has its precedence");
  return {
    kind: p.kind,
    ...(p.priority !== undefined ? { priority: p.priority } : {}),
    ...(p.kind === "tie" ? { tiedWith: [...p.tiedWith] } : {}),
    ...(p.order ? { order: p.order } : {}),
  };
}

function ruleFromProto(r: RuleVerdict): Record<string, unknown> {
  return {
    field: r.field,
    result: r.result,
    ...(r.peer ? { peer: r.peer } : {}),
    ...(r.port ? { port: r.port } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    ...(r.name ? { name: r.name } : {}),
    ...(r.action ? { actionWord: r.action } : {}),
  };
}

/** A WriteResponse in the REST shape. */
export function writeFromProto(w: { generation: bigint; applied: string[]; skipped: string[] }): Record<string, unknown> {
  return { generation: Number(w.generation), applied: [...w.applied], skipped: [...w.skipped] };
}

/** A decision without its answer's id: every answer has its own, the rest of two answers to one question is equal. */
export function sansId<T>(d: T): T {
  if (typeof d !== "object" || d === null) return d;
  const { decisionId: _, ...rest } = d as Record<string, unknown>;
  return rest as T;
}
