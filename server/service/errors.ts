/**
 * One error type for every front door, with one table from its code to the
 * HTTP status and the gRPC status.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { EXCERPT_CHARS, excerptText, excerptValue } from "../manifests/excerpt.js";
import type { FieldError } from "../policy/field.js";

export type ErrorCode =
  | "bad-request"
  | "not-found"
  | "conflict"
  | "read-only"
  | "invalid"
  | "too-large"
  | "unavailable"
  | "internal"
  | "unauthenticated"
  | "forbidden"
  | "too-many-requests"
  | "unsupported-media-type";

const TABLE: Record<ErrorCode, { http: number; grpc: GrpcStatus; reason: string }> = {
  "bad-request": { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, reason: "BadRequest" },
  "not-found": { http: 404, grpc: GrpcStatus.NOT_FOUND, reason: "NotFound" },
  conflict: { http: 409, grpc: GrpcStatus.ABORTED, reason: "Conflict" },
  /** The model is another system's (a Kubernetes cluster): a write cannot succeed until that changes. */
  "read-only": { http: 409, grpc: GrpcStatus.FAILED_PRECONDITION, reason: "Conflict" },
  invalid: { http: 422, grpc: GrpcStatus.INVALID_ARGUMENT, reason: "Invalid" },
  "too-large": { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, reason: "RequestEntityTooLarge" },
  unavailable: { http: 503, grpc: GrpcStatus.UNAVAILABLE, reason: "ServiceUnavailable" },
  internal: { http: 500, grpc: GrpcStatus.INTERNAL, reason: "InternalError" },
  unauthenticated: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED, reason: "Unauthenticated" },
  forbidden: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED, reason: "Forbidden" },
  /** A bounded resource (long polls, watch streams) is all in use by this caller: try again later. */
  "too-many-requests": { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED, reason: "TooManyRequests" },
  /** A body in a format the server does not read: only JSON and YAML are (a form or text/plain could come from any web page). */
  "unsupported-media-type": { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT, reason: "UnsupportedMediaType" },
};

/**
 * How much of itself an error says: at most this many field errors (the rest
 * are counted, as sigs.k8s.io/json stops at 100 strict errors), each quoting
 * an excerpt of its value, and a message of at most this many characters.
 */
export const MAX_ERRORS = 100;
const MAX_DETAIL_CHARS = 1024;
const MAX_FIELD_CHARS = 1024;
const MAX_MESSAGE_CHARS = 16 * 1024;

/** A field error, with the object it belongs to when a request holds several. */
export interface ObjectFieldError extends FieldError {
  readonly object?: string;
}

export class PodwallError extends Error {
  /** The first MAX_ERRORS field errors, each with an excerpt of its value. */
  readonly errors: readonly ObjectFieldError[];
  /** How many more field errors there were. */
  readonly omittedErrors: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    errors: readonly ObjectFieldError[] = [],
    omitted = 0,
  ) {
    super(excerptText(message, MAX_MESSAGE_CHARS));
    this.errors = errors.slice(0, MAX_ERRORS).map(boundedError);
    this.omittedErrors = omitted + Math.max(0, errors.length - MAX_ERRORS);
  }

  get httpStatus(): number {
    return TABLE[this.code].http;
  }

  get grpcStatus(): GrpcStatus {
    return TABLE[this.code].grpc;
  }

  /** The REST body: `{"code","reason","message","errors":[{"field","type","detail"}]}`, and `omittedErrors` when errors were left out. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.httpStatus,
      reason: TABLE[this.code].reason,
      message: this.message,
      errors: this.errors.map((e) => ({
        ...(e.object ? { object: e.object } : {}),
        field: e.field,
        type: e.type,
        ...("value" in e ? { value: e.value } : {}),
        detail: e.detail,
      })),
      ...(this.omittedErrors > 0 ? { omittedErrors: this.omittedErrors } : {}),
    };
  }
}

function boundedError(e: ObjectFieldError): ObjectFieldError {
  return {
    ...(e.object !== undefined ? { object: excerptText(e.object, MAX_FIELD_CHARS) } : {}),
    field: excerptText(e.field, MAX_FIELD_CHARS),
    type: e.type,
    ...("value" in e ? { value: excerptValue(e.value, EXCERPT_CHARS) } : {}),
    detail: excerptText(e.detail, MAX_DETAIL_CHARS),
  };
}

/** Kubernetes' message for one invalid object: `Kind "name" is invalid: [err, err]`. */
export { invalidMessage } from "../manifests/collect.js";

export function toPodwallError(e: unknown): PodwallError {
  if (e instanceof PodwallError) return e;
  return new PodwallError("internal", e instanceof Error ? e.message : String(e));
}
