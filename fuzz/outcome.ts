/**
 * The answer an input must get, from what the fuzzer knows of each part of
 * it. A request is checked in stages (the shape of its fields, then what it
 * names); the first stage with a bad part decides the status. A part the
 * fuzzer cannot judge (random text, a mangled encoding) leaves the status
 * open, but a bad part after it still means the request must be refused.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { Rng } from "./random.js";

/** One part: fine, bad, or not known to be either. */
export type Verdict = "ok" | "bad" | "unknown";

export interface Stage {
  /** The status of a refusal at this stage; undefined when it depends on the part (400, 413 or 422 for manifests). */
  readonly status: number | undefined;
  readonly verdicts: readonly Verdict[];
}

export interface Outcome {
  /** The exact status; undefined when it is not known. */
  readonly status?: number;
  readonly mustReject: boolean;
}

export function outcome(stages: readonly Stage[]): Outcome {
  let unsure = false;
  for (const s of stages) {
    if (s.verdicts.includes("bad")) return unsure || s.status === undefined ? { mustReject: true } : { status: s.status, mustReject: true };
    if (s.verdicts.includes("unknown")) unsure = true;
  }
  return unsure ? { mustReject: false } : { status: 200, mustReject: false };
}

/** A part is bad when any of its pieces is, fine when all are. */
export function all(verdicts: readonly Verdict[]): Verdict {
  return verdicts.includes("bad") ? "bad" : verdicts.includes("unknown") ? "unknown" : "ok";
}

export const verdictOf = (ok: boolean): Verdict => (ok ? "ok" : "bad");

/** The gRPC status of a REST one, as the service's error table maps them. */
const GRPC_OF: Readonly<Record<number, GrpcStatus>> = {
  200: GrpcStatus.OK,
  400: GrpcStatus.INVALID_ARGUMENT,
  404: GrpcStatus.NOT_FOUND,
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  422: GrpcStatus.INVALID_ARGUMENT,
};

/** The expectation of a gRPC call from the REST outcome of the same question. */
export function grpcOutcome(o: Outcome): { readonly code?: number; readonly mustReject: boolean } {
  const code = o.status !== undefined ? GRPC_OF[o.status] : undefined;
  return code !== undefined ? { code, mustReject: o.mustReject } : { mustReject: o.mustReject };
}

/** The fields of a question: mostly one odd among valid ones, so that the status says which; sometimes all odd, or none. */
export function focus<F extends string>(rng: Rng, fields: readonly F[]): (f: F) => boolean {
  const which = rng.weighted<() => F | "all" | "none">([
    [7, () => rng.pick(fields)],
    [2, () => "all"],
    [1, () => "none"],
  ])();
  const odd = new Set(fields.filter((f) => (which === "all" ? rng.bool(0.5) : which === f)));
  return (f) => odd.has(f);
}
