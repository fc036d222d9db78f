/**
 * One error type for every front door, with one table from its code to the
 * HTTP status and the gRPC status.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { type FieldError, formatFieldError } from "../policy/field.js";

export type ErrorCode = "bad-request" | "not-found" | "conflict" | "read-only" | "invalid" | "too-large" | "unavailable" | "internal";

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
};

/** A field error, with the object it belongs to when a request holds several. */
export interface ObjectFieldError extends FieldError {
  readonly object?: string;
}

export class PodwallError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: readonly ObjectFieldError[] = [],
  ) {
    super(message);
  }

  get httpStatus(): number {
    return TABLE[this.code].http;
  }

  get grpcStatus(): GrpcStatus {
    return TABLE[this.code].grpc;
  }

  /** The REST body: `{"code","reason","message","errors":[{"field","type","detail"}]}`. */
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
    };
  }
}

/** Kubernetes' message for one invalid object: `Kind "name" is invalid: [err, err]`. */
export function invalidMessage(what: string, errors: readonly FieldError[]): string {
  const texts = errors.map(formatFieldError);
  return `${what} is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`}`;
}

export function toPodwallError(e: unknown): PodwallError {
  if (e instanceof PodwallError) return e;
  return new PodwallError("internal", e instanceof Error ? e.message : String(e));
}
