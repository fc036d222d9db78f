/** A small client of the REST API, used by the CLI and the node agent. */
import { PodwallError, type ErrorCode } from "../server/service/errors.js";
import type { Headers } from "undici";
import { CredentialsError } from "./credentials.js";
import { Transport } from "./transport.js";

const CODES: Record<number, ErrorCode> = {
  400: "bad-request",
  401: "unauthenticated",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "too-large",
  415: "unsupported-media-type",
  422: "invalid",
  429: "too-many-requests",
  503: "unavailable",
};

/** How long one request may take before it is given up (as undici's own default was). */
const REQUEST_TIMEOUT_MS = 300_000;

export class RestClient {
  constructor(
    readonly baseUrl: string,
    readonly transport: Transport = new Transport(),
  ) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await this.send(method, path, body, headers);
    const text = await res.text();
    const parsed = res.headers.get("content-type")?.includes("json") && text ? (JSON.parse(text) as unknown) : text;
    if (res.status >= 400) throw this.failure(res.status, parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** A GET whose answer is written to `out` as it arrives (a matrix of 10,000 × 10,000 cells is never held whole). */
  async stream(path: string, out: NodeJS.WritableStream, headers: Record<string, string> = {}): Promise<void> {
    const res = await this.send("GET", path, undefined, headers);
    if (res.status >= 400) {
      const text = await res.text();
      throw this.failure(res.status, res.headers.get("content-type")?.includes("json") && text ? (JSON.parse(text) as unknown) : text);
    }
    if (!res.body) return;
    for await (const chunk of res.body) {
      if (!out.write(chunk as Uint8Array)) await new Promise((resolve) => out.once("drain", resolve));
    }
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Awaited<ReturnType<Transport["fetch"]>>> {
    const url = new URL(path, this.baseUrl);
    try {
      return await this.transport.fetch(url, {
        method,
        headers: { accept: "application/json", ...(body !== undefined ? { "content-type": typeof body === "string" ? "application/yaml" : "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      if (e instanceof CredentialsError) throw e;
      throw new PodwallError("unavailable", unreachable(url, e));
    }
  }

  private failure(status: number, parsed: unknown): PodwallError {
    const e = parsed as { message?: string; errors?: [] };
    const code = CODES[status] ?? "internal";
    const message = e?.message ?? `HTTP ${status}`;
    return new PodwallError(code, `${message}${authHint(code, this.transport, this.baseUrl)}`, e?.errors ?? []);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** What to do about a 401 or a 403, after the server's own message. */
export function authHint(code: ErrorCode, transport: Transport, server: string): string {
  const o = transport.options;
  const given = [o.tokenFile !== undefined && `--token-file ${o.tokenFile}`, o.cert !== undefined && `--cert ${o.cert}`].filter((x): x is string => typeof x === "string");
  switch (code) {
    case "unauthenticated":
      return given.length === 0
        ? ` (${server} asks for credentials: give --token-file FILE, or --cert FILE --key FILE)`
        : ` (${server} did not accept the credentials of ${given.join(" and ")})`;
    case "forbidden":
      return given.length === 0 ? "" : ` (${server} knows the credentials of ${given.join(" and ")}, but their role does not allow this)`;
    default:
      return "";
  }
}

/** "cannot reach URL: the reason", with the TLS reasons spelled out. */
export function unreachable(url: URL, e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e instanceof Error ? e : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const reason = cause?.message ?? String(e);
  const hint = code !== undefined && CERTIFICATE_CODES.has(code) ? ` (the server's certificate is not trusted: give its CA with --ca FILE)` : "";
  return `cannot reach ${url.origin}: ${reason}${hint}`;
}

/** OpenSSL's reasons for not trusting a server's certificate chain. */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
]);
