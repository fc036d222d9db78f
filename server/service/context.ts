/**
 * What every use case is told about the request it serves: who asks, until
 * when, and a signal that fires when the caller has gone. The front doors make
 * it from the credentials they were given; what the caller may do is decided
 * on it (authorization.ts), never on transport details.
 */
export type Role = "admin" | "reader" | "agent";

export interface Principal {
  /** The identity's name from the auth file; "anonymous" without credentials or on an open server. */
  readonly name: string;
  /** Undefined: not authenticated. */
  readonly role?: Role;
  /** The node an agent identity acts for. */
  readonly node?: string;
}

export interface RequestContext {
  readonly principal: Principal;
  /** Epoch milliseconds after which the caller no longer waits; undefined: no deadline. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Where the request came from (an address), for identities that share a name. */
  readonly peer?: string;
}

/** A caller that gave no (or no known) credentials to a server that requires them. */
export const UNAUTHENTICATED: Principal = { name: "anonymous" };

/** Any caller of a server started without `--auth`: it may do everything. */
export const OPEN: Principal = { name: "anonymous", role: "admin" };

/** A request to an open server with no deadline. */
export const OPEN_REQUEST: RequestContext = { principal: OPEN };

/** The server's own requests: manifests applied at start, offline commands, in-process callers. */
export const SYSTEM: RequestContext = { principal: { name: "system:podwall", role: "admin" } };

/** How long a write may still wait, in milliseconds, given its deadline and a default. */
export function remainingMs(ctx: RequestContext, fallbackMs: number): number {
  return ctx.deadline === undefined ? fallbackMs : Math.max(0, Math.min(fallbackMs, ctx.deadline - Date.now()));
}
