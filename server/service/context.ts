/**
 * What every use case is told about the request it serves: who asks, until
 * when, and a signal that fires when the caller has gone. The front doors make
 * it; authorization and deadlines are decided on it, not on transport details.
 */
export interface Principal {
  /** "anonymous" for an open server; the server itself for start-up work. */
  readonly name: string;
}

export interface RequestContext {
  readonly principal: Principal;
  /** Epoch milliseconds after which the caller no longer waits; undefined: no deadline. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

export const ANONYMOUS: Principal = { name: "anonymous" };

/** A request of an open server with no deadline: what every read is until requests carry credentials. */
export const ANONYMOUS_REQUEST: RequestContext = { principal: ANONYMOUS };

/** The server's own requests: manifests applied at start, offline commands. */
export const SYSTEM: RequestContext = { principal: { name: "system:podwall" } };


/** How long a write may still wait, in milliseconds, given its deadline and a default. */
export function remainingMs(ctx: RequestContext, fallbackMs: number): number {
  return ctx.deadline === undefined ? fallbackMs : Math.max(0, Math.min(fallbackMs, ctx.deadline - Date.now()));
}
