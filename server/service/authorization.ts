/**
 * Who may do what: the role table of the contract, decided once, here, for
 * every front door. A use case names its action (and the node it concerns);
 * the principal in the request context either may or the request fails with
 * 401 (no known credentials) or 403 (a role without the right).
 */
import type { RequestContext, Role } from "./context.js";
import { PodwallError } from "./errors.js";

export type Action =
  | "check"
  | "model:read"
  | "model:write"
  /** A node's ruleset: read once, long-polled or watched. */
  | "rules:read"
  /** What a node's agent applied. */
  | "status:report"
  | "nodes:list"
  | "metrics:read";

const READER: ReadonlySet<Action> = new Set(["check", "model:read", "rules:read", "nodes:list", "metrics:read"]);
/** An agent acts for its own node only. */
const AGENT: ReadonlySet<Action> = new Set(["rules:read", "status:report"]);

function may(role: Role, action: Action, own: boolean): boolean {
  switch (role) {
    case "admin":
      return true;
    case "reader":
      return READER.has(action);
    case "agent":
      return own && AGENT.has(action);
  }
}

/** Throws 401 or 403 unless the caller may take the action (on `node`, for the node-scoped ones). */
export function authorize(ctx: RequestContext, action: Action, node?: string): void {
  const p = ctx.principal;
  if (p.role === undefined) throw new PodwallError("unauthenticated", "Unauthorized: no valid credentials were given");
  if (!may(p.role, action, node !== undefined && p.node === node)) {
    const what = node === undefined ? action : `${action} of node "${node}"`;
    throw new PodwallError("forbidden", `${p.name} (role ${p.role}${p.node ? ` for node "${p.node}"` : ""}) may not ${what}`);
  }
}
