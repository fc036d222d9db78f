/** A small client of the REST API, used by the CLI and the node agent. */
import { PodwallError, type ErrorCode } from "../server/service/errors.js";

const CODES: Record<number, ErrorCode> = { 400: "bad-request", 404: "not-found", 409: "conflict", 413: "too-large", 422: "invalid", 503: "unavailable" };

export class RestClient {
  constructor(readonly baseUrl: string) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { accept: "application/json", ...(body !== undefined ? { "content-type": typeof body === "string" ? "text/plain" : "application/json" } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = res.headers.get("content-type")?.includes("json") && text ? (JSON.parse(text) as unknown) : text;
    if (res.status >= 400) {
      const e = parsed as { message?: string; errors?: [] };
      throw new PodwallError(CODES[res.status] ?? "internal", e?.message ?? `HTTP ${res.status}`, e?.errors ?? []);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
}
