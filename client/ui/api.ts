/// <reference lib="dom" />
/**
 * What the page asks the server, in the shapes ../../shared API.md gives
 * them, with the bearer token the user gave (kept in sessionStorage: it lives
 * as long as the tab, and no other site's page can read it).
 */
import type { Cell } from "../../server/analysis/whatif.js";
import { PROTOCOLS, type Protocol } from "../../server/model/types.js";
import type { Decision, WhatIfAnswer } from "../../server/service/index.js";

export { PROTOCOLS, type Protocol };

/** `GET /v1/matrix?group=true`: rows and columns are groups of pods with identical rows and columns. */
export interface GroupMatrix {
  readonly generation: number;
  readonly protocol: Protocol;
  readonly port: number;
  readonly groups: readonly (readonly string[])[];
  readonly allowed: readonly (readonly boolean[])[];
}

export interface MatrixQuery {
  readonly protocol: Protocol;
  readonly port: number;
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
  /** A label selector; empty: every pod. */
  readonly pods: string;
}

/** A cell a what-if changes; null: the pod is not there (before, a pod the change adds; after, one it deletes). */
export type CellChange = Cell;

export interface WhatIfRequest {
  readonly apply: string;
  readonly delete: readonly { kind: string; namespace: string; name: string }[];
  readonly ports: readonly string[];
}

export type WhatIf = WhatIfAnswer;

export interface FieldError {
  readonly object?: string;
  readonly field?: string;
  readonly type?: string;
  readonly detail?: string;
}

/** An answer other than 2xx, with the server's message and field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

const TOKEN_KEY = "podwall.token";

export const token = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set(t: string): void {
    if (t === "") sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, t);
  },
};

export function matrix(q: MatrixQuery): Promise<GroupMatrix> {
  const p = new URLSearchParams({ protocol: q.protocol, port: String(q.port), group: "true" });
  if (q.namespaces.length > 0) p.set("namespaces", q.namespaces.join(","));
  if (q.pods !== "") p.set("pods", q.pods);
  return call<GroupMatrix>("GET", `matrix?${p}`);
}

export function check(src: string, dst: string, protocol: Protocol, port: number): Promise<Decision> {
  const p = new URLSearchParams({ src, dst, protocol, port: String(port), explain: "true" });
  return call<Decision>("GET", `check?${p}`);
}

export function whatIf(body: WhatIfRequest): Promise<WhatIf> {
  return call<WhatIf>("POST", "whatif", body);
}

/** The API beside the page (../v1/ from /ui/), so that a proxy may serve both under a prefix. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const t = token.get();
  if (t !== "") headers["authorization"] = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(new URL(`../v1/${path}`, location.href), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError(0, `the server did not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.ok && parsed !== undefined) return parsed as T;
  const e = (parsed ?? {}) as { message?: unknown; errors?: unknown };
  const message = typeof e.message === "string" ? e.message : `${res.status} ${res.statusText}: ${text.slice(0, 200)}`;
  throw new ApiError(res.status, message, Array.isArray(e.errors) ? (e.errors as FieldError[]) : []);
}

/** What the user should read for an error: what went wrong, and for 401 and 403 what to do about it. */
export function explainError(e: unknown): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  switch (e.status) {
    case 401:
      return token.get() === ""
        ? "401 Unauthenticated: this server needs credentials. Paste a bearer token in the Token field."
        : "401 Unauthenticated: the server does not accept this token. Check the Token field.";
    case 403:
      return `403 Forbidden: this token's role may not ask this (${e.message}).`;
    default:
      return e.status === 0 ? e.message : `${e.status}: ${e.message}`;
  }
}
