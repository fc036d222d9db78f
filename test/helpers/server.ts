/** Starts a real Podwall server on loopback with free ports, for API tests. */
import { pino } from "pino";
import { type Running, type ServeOptions, serve } from "../../server/main.js";

export interface TestServer extends Running {
  readonly url: string;
  readonly grpcAddress: string;
}

/** A server on loopback, in memory unless a store is given, once it is ready. */
export async function startServer(manifests: string[] = [], opts: Partial<ServeOptions> = {}): Promise<TestServer> {
  const running = await serve({
    listen: "127.0.0.1:0",
    grpcListen: "127.0.0.1:0",
    manifests,
    logger: pino({ level: "silent" }),
    ...opts,
  });
  await running.ready;
  return { ...running, url: `http://127.0.0.1:${running.restPort}`, grpcAddress: `127.0.0.1:${running.grpcPort}` };
}

/** fetch with a JSON or text body; returns status, parsed body and headers. */
export async function http(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": typeof body === "string" ? "application/yaml" : "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if (res.headers.get("content-type")?.includes("json")) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}
