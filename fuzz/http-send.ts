/**
 * Sends one REST request exactly as generated (path bytes, headers, body in
 * slow pieces or cut short) over node:http, and measures how long the answer
 * took from the last byte sent.
 */
import http from "node:http";
import { gunzipSync } from "node:zlib";
import type { RestRequest } from "./requests.js";

export interface RestAnswer {
  readonly status?: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The connection failed or was dropped before a whole answer. */
  readonly error?: string;
  /** No answer within the time limit. */
  readonly timedOut: boolean;
  readonly ms: number;
}

/** Characters node:http refuses to put on a request line or in a header value are percent-encoded. */
export const safePath = (p: string) => p.replace(/[^\u0021-\u00ff]/gu, escapeChar);
export const safeHeader = (v: string) => v.replace(/[^\t\u0020-\u007e\u0080-\u00ff]/gu, escapeChar);

/** UTF-8, percent-encoded; a lone surrogate as the three bytes it would be (not valid UTF-8). */
function escapeChar(c: string): string {
  try {
    return encodeURIComponent(c);
  } catch {
    const u = c.charCodeAt(0);
    return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
  }
}

/** The body as sent before a gzip content encoding (a body that does not inflate is kept as it came). */
function decoded(headers: http.IncomingHttpHeaders, body: Buffer): Buffer {
  if (!/gzip/i.test(String(headers["content-encoding"] ?? ""))) return body;
  try {
    return gunzipSync(body);
  } catch {
    return body;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `limitMs` undefined: wait as long as it takes. */
export function sendRest(base: URL, r: RestRequest, limitMs: number | undefined, agent: http.Agent): Promise<RestAnswer> {
  return new Promise((resolve) => {
    let start = performance.now();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const chunks: Buffer[] = [];
    const done = (a: Omit<RestAnswer, "ms">) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ ...a, ms: performance.now() - start });
    };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) headers[k] = safeHeader(v);
    if (r.body !== undefined && !("content-length" in headers) && !("transfer-encoding" in headers)) headers["content-length"] = String(r.body.length);
    const req = http.request({ host: base.hostname, port: base.port, method: r.method, path: safePath(r.path), headers, agent: r.abortAfter !== undefined ? false : agent });
    const arm = () => {
      if (settled) return;
      start = performance.now();
      if (limitMs !== undefined) {
        timer = setTimeout(() => {
          req.destroy();
          done({ headers: {}, body: Buffer.concat(chunks), timedOut: true, error: `no answer in ${limitMs} ms` });
        }, limitMs);
      }
    };
    let sent = false;
    req.on("finish", () => (sent = true));
    req.on("response", (res) => {
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        done({ status: res.statusCode, headers: res.headers, body: decoded(res.headers, Buffer.concat(chunks)), timedOut: false });
        // Answered before the body was all sent: this connection is not used again, so nothing left of this body meets the next request.
        if (!sent) req.destroy();
      });
      res.on("error", (e) => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), timedOut: false, error: `answer cut: ${e.message}` }));
    });
    req.on("error", (e) => done({ headers: {}, body: Buffer.concat(chunks), timedOut: false, error: e.message }));
    void (async () => {
      const body = r.body;
      if (body === undefined) {
        arm();
        req.end();
        return;
      }
      if (r.abortAfter !== undefined) {
        req.write(body.subarray(0, r.abortAfter));
        await sleep(20);
        req.destroy();
        done({ headers: {}, body: Buffer.alloc(0), timedOut: false });
        return;
      }
      if (r.slow) {
        const step = Math.ceil(body.length / r.slow.pieces);
        for (let i = 0; i < body.length && !settled; i += step) {
          req.write(body.subarray(i, i + step));
          await sleep(r.slow.gapMs);
        }
        // Answered before the whole body was sent: the rest would be read as the next request on this connection.
        if (settled) req.destroy();
        else {
          arm();
          req.end();
        }
        return;
      }
      arm();
      req.end(body);
    })();
  });
}
