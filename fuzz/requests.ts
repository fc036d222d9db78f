/** The fuzzer's requests, as data: what to send and what a good answer must be. */
import { truncate, visible } from "./strings.js";

/** What the answer must satisfy beyond the properties every answer has. */
export interface Expectation {
  /** It writes (or could): the model and every ruleset are compared after it, whatever the answer. */
  readonly write: boolean;
  /** A success is a finding: the input is bad by construction. */
  readonly mustReject: boolean;
  /** The exact status a REST answer must have (415 for a write of the wrong content type). */
  readonly status?: number;
  /** The exact status code a gRPC answer must have. */
  readonly code?: number;
  /**
   * The same question asked as a write (POST /v1/apply, a DELETE, a
   * ModelService call) that must be refused: both answers must be the same,
   * status, message and field errors.
   */
  readonly twin?: FuzzRequest;
  /** What a successful answer's body must hold. */
  readonly answer?: AnswerShape;
}

/**
 * A successful answer's body, beyond being what its content type says:
 * a matrix has a row and a column per pod (only of the namespaces asked);
 * a what-if lists at most `limit` cells and the objects it deleted; a file
 * of the web page is one of its files, never another file of the server.
 */
export type AnswerShape =
  | { readonly kind: "matrix"; readonly namespaces?: readonly string[] }
  | { readonly kind: "whatif"; readonly limit?: number; readonly deleted: number }
  | { readonly kind: "page" };

export interface RestRequest {
  readonly door: "rest";
  /** The route, as the API names it ("PUT /v1/model"). */
  readonly target: string;
  /** The kind of oddity, for grouping findings. */
  readonly tag: string;
  readonly method: string;
  /** Exactly as sent on the request line. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Send the body in this many pieces, this far apart. */
  readonly slow?: { readonly pieces: number; readonly gapMs: number };
  /** Send this much of the body, then drop the connection: no answer is expected. */
  readonly abortAfter?: number;
  readonly expect: Expectation;
}

export interface GrpcRequest {
  readonly door: "grpc";
  /** "podwall.v1.ModelService/Apply" */
  readonly target: string;
  readonly tag: string;
  readonly path: string;
  readonly serverStream: boolean;
  /** The request message as sent (possibly not a valid message at all). */
  readonly bytes: Buffer;
  readonly metadata: readonly (readonly [string, string | Buffer])[];
  /** The request as fields, for reports ("" for raw bytes). */
  readonly fields: string;
  readonly expect: Expectation;
}

export type FuzzRequest = RestRequest | GrpcRequest;

/** The request as one line for a report, values truncated. */
export function describe(r: FuzzRequest, max = 400): string {
  if (r.door === "grpc") {
    const md = r.metadata.length > 0 ? ` metadata ${truncate(JSON.stringify(r.metadata.map(([k, v]) => [k, typeof v === "string" ? v : `<${v.length} bytes>`])), 120)}` : "";
    const what = r.fields !== "" ? r.fields : `raw bytes ${truncate(r.bytes.toString("hex"), 120)} (${r.bytes.length} bytes)`;
    return visible(`gRPC /${r.path.replace(/^\//, "")} ${truncate(what, max)}${md}`);
  }
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${truncate(v, 80)}`)
    .join("; ");
  const body = r.body === undefined ? "" : ` body(${r.body.length} bytes) ${JSON.stringify(truncate(r.body.toString("utf8"), max))}`;
  const how = r.slow ? ` sent in ${r.slow.pieces} pieces ${r.slow.gapMs} ms apart` : r.abortAfter !== undefined ? ` dropped after ${r.abortAfter} bytes` : "";
  return visible(`${r.method} ${truncate(r.path, 200)} [${headers}]${body}${how}`);
}

/** Its size, to pick the smallest reproducer of a finding. */
export function sizeOf(r: FuzzRequest): number {
  return r.door === "grpc" ? r.bytes.length + r.path.length : r.path.length + (r.body?.length ?? 0) + JSON.stringify(r.headers).length;
}
