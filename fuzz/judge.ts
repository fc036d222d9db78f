/**
 * The properties every answer must have, judged from the answer alone:
 * no 5xx, no dropped connection, no hang, 4xx in the error shape as JSON,
 * no success for an input that is bad by construction, the exact status
 * where the input decides it, a successful body of the shape its route
 * promises (answer-shapes.ts); over gRPC, never UNKNOWN or INTERNAL, and
 * UNAVAILABLE only from a server that is not ready. That a question a write
 * also asks is answered as the write answers it is judged in twin.ts.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { answerProblems } from "./answer-shapes.js";
import type { GrpcAnswer } from "./grpc-send.js";
import type { RestAnswer } from "./http-send.js";
import type { GrpcRequest, RestRequest } from "./requests.js";
import { truncate } from "./strings.js";

export type ProblemKind =
  | "5xx"
  | "not-json"
  | "error-shape"
  | "accepted"
  | "status"
  | "answer"
  | "twin"
  | "dropped"
  | "hang"
  | "grpc-status"
  | "grpc-metadata"
  | "model-changed"
  | "crash";

export interface Problem {
  readonly kind: ProblemKind;
  readonly detail: string;
}

const GRPC_NAMES = Object.fromEntries(Object.entries(GrpcStatus).map(([k, v]) => [v, k])) as Record<number, string>;
export const grpcName = (c: number) => GRPC_NAMES[c] ?? String(c);

/** `isReady` is asked only for a 503 / UNAVAILABLE. */
export async function judgeRest(r: RestRequest, a: RestAnswer, limitMs: number | undefined, isReady: () => Promise<boolean>): Promise<Problem[]> {
  if (r.abortAfter !== undefined) return [];
  if (a.timedOut) return [{ kind: "hang", detail: `no answer within ${limitMs} ms` }];
  if (a.status === undefined || a.error !== undefined) return [{ kind: "dropped", detail: `${a.status !== undefined ? `${a.status} then ` : ""}${a.error ?? "no answer"}` }];
  const s = a.status;
  const type = String(a.headers["content-type"] ?? "");
  const text = a.body.toString("utf8");
  const problems: Problem[] = [];
  if (s >= 500) {
    if (!(s === 503 && !(await isReady()))) problems.push({ kind: "5xx", detail: `${s} ${messageOf(text)}` });
    return problems;
  }
  if (r.expect.status !== undefined && s !== r.expect.status)
    problems.push({ kind: "status", detail: `answered ${s}, want ${r.expect.status}: ${truncate(messageOf(text), 200)}` });
  else if (s < 300 && r.expect.mustReject) problems.push({ kind: "accepted", detail: `answered ${s}: ${truncate(text, 200)}` });
  // An answer to HEAD has no body.
  if (r.method === "HEAD") return problems;
  if (s < 300 && r.expect.answer) problems.push(...answerProblems(r.expect.answer, type, text));
  if (s >= 400) problems.push(...errorShape(s, type, text));
  else if (type.includes("json") && !parses(text)) problems.push({ kind: "not-json", detail: `${s} with ${type} that does not parse: ${truncate(text, 120)}` });
  return problems;
}

/** A 4xx is `{"code","reason","message","errors":[{"field","type","detail"}]}` as application/json; a 422 has at least one error. */
function errorShape(status: number, type: string, text: string): Problem[] {
  if (!type.startsWith("application/json")) {
    return [
      {
        kind: "not-json",
        detail: `${status} as ${type === "" ? "no content type" : type}${/<html|<!doctype/i.test(text) ? " (an HTML page)" : ""}: ${truncate(text.replace(/\s+/g, " "), 160) || "empty body"}`,
      },
    ];
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [{ kind: "not-json", detail: `${status} as ${type} that does not parse: ${truncate(text, 120)}` }];
  }
  const b = body as Record<string, unknown>;
  const wrong: string[] = [];
  if (typeof b !== "object" || b === null || Array.isArray(b)) wrong.push("not an object");
  else {
    if (b["code"] !== status) wrong.push(`code ${JSON.stringify(b["code"])} is not the status ${status}`);
    if (typeof b["reason"] !== "string" || b["reason"] === "") wrong.push("no reason");
    if (typeof b["message"] !== "string") wrong.push("no message");
    if (!Array.isArray(b["errors"])) wrong.push("errors is not an array");
    else if (!b["errors"].every((e: unknown) => isFieldError(e))) wrong.push("an entry of errors lacks field, type or detail");
    // An invalid object is answered with the fields that make it so, as the API server answers.
    else if (status === 422 && b["errors"].length === 0) wrong.push("a 422 names no field");
  }
  return wrong.length > 0 ? [{ kind: "error-shape", detail: `${status}: ${wrong.join("; ")}: ${truncate(text, 160)}` }] : [];
}

function isFieldError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const f = e as Record<string, unknown>;
  return typeof f["field"] === "string" && typeof f["type"] === "string" && typeof f["detail"] === "string";
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The message of an error body, or the start of whatever came. */
export function messageOf(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === "string") return truncate(m, 160);
  } catch {
    // not JSON
  }
  return truncate(text.replace(/\s+/g, " "), 160);
}

const NEVER = new Set<number>([GrpcStatus.UNKNOWN, GrpcStatus.INTERNAL, GrpcStatus.DATA_LOSS, GrpcStatus.CANCELLED, GrpcStatus.UNIMPLEMENTED]);

export async function judgeGrpc(r: GrpcRequest, a: GrpcAnswer, limitMs: number | undefined, isReady: () => Promise<boolean>): Promise<Problem[]> {
  const problems: Problem[] = [];
  const what = `${grpcName(a.code)}: ${truncate(a.details, 160)}`;
  if (a.timedOut) problems.push({ kind: "hang", detail: `no status within ${limitMs} ms (${what})` });
  else if (NEVER.has(a.code)) problems.push({ kind: "grpc-status", detail: what });
  else if (a.code === GrpcStatus.UNAVAILABLE && (await isReady())) problems.push({ kind: "grpc-status", detail: `${what} (the server is ready)` });
  else if (r.expect.code !== undefined && a.code !== r.expect.code) problems.push({ kind: "status", detail: `answered ${what}, want ${grpcName(r.expect.code)}` });
  else if (a.code === GrpcStatus.OK && r.expect.mustReject) problems.push({ kind: "accepted", detail: "answered OK" });
  if (a.errors !== undefined && !parses(a.errors)) problems.push({ kind: "grpc-metadata", detail: `podwall-errors is not JSON: ${truncate(a.errors, 120)}` });
  return problems;
}
