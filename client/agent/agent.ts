/**
 * The node agent: long-polls its node's ruleset, applies each new version,
 * reports what it applied. When the server is away, not ready, or an apply
 * fails, the rules in force stay as they are and it retries with backoff and
 * jitter. Given several servers (replicas of one model), it moves to the next
 * when one fails; replicas at one generation serve the same versions, so a
 * move re-applies nothing. Stopping (stop(), SIGTERM) aborts a long poll at
 * once but never an apply: the apply in progress finishes and is reported
 * first.
 */
import type { Logger } from "pino";
import type { Response } from "undici";
import type { ErrorCode } from "../../server/service/errors.js";
import { isDelta } from "../../server/rules/delta.js";
import type { Ruleset } from "../../server/rules/render.js";
import { authHint } from "../rest-client.js";
import { Transport } from "../transport.js";
import { applyDelta, applyRuleset } from "./apply.js";
import { AgentMetrics } from "./metrics.js";
import type { Runner } from "./runner.js";

export interface AgentOptions {
  /** One server, or several replicas of one model: "URL" or "URL1,URL2". */
  readonly server: string;
  readonly node: string;
  readonly runner: Runner;
  readonly logger: Logger;
  /** Long-poll duration asked of the server, seconds. */
  readonly waitSeconds?: number;
  /** Backoff bounds, milliseconds. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Report status to the server after each apply (off for dry runs). */
  readonly report?: boolean;
  /** Stop after the first ruleset is applied (or printed). */
  readonly once?: boolean;
  /** How requests reach the servers: TLS files and token (plain fetch without credentials when not given). */
  readonly transport?: Transport;
  readonly metrics?: AgentMetrics;
}

export class Agent {
  private readonly stopper = new AbortController();
  /** The version in force on this node, as far as this agent knows. */
  applied: string | undefined;
  /** Where the applied version came from: a ruleset of an older generation of the same stored model is never applied over it. */
  private appliedAt: { model: string; generation: number } | undefined;
  /** A delta failed, or did not fit the version in force: the next poll asks for the whole ruleset. */
  private wantWhole = false;
  /** Polls that failed in a row, over every server. */
  private failures = 0;
  /** Backoffs in a row since the last apply. */
  private backoffs = 0;
  private readonly servers: readonly string[];
  private current = 0;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  readonly metrics: AgentMetrics;

  constructor(private readonly o: AgentOptions) {
    this.servers = o.server
      .split(",")
      .map((u) => u.trim())
      .filter((u) => u !== "");
    if (this.servers.length === 0) throw new Error("--server names no server");
    this.ownsTransport = o.transport === undefined;
    this.transport = o.transport ?? new Transport();
    this.metrics = o.metrics ?? new AgentMetrics();
    this.metrics.usingServer(this.server);
  }

  /** The server the agent asks now. */
  get server(): string {
    return this.servers[this.current]!;
  }

  /** Aborts a long poll or a backoff at once; an apply in progress finishes, and is reported, before run() resolves. */
  stop(): void {
    this.stopper.abort();
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  async run(): Promise<void> {
    const log = this.o.logger;
    log.info({ servers: this.servers, node: this.o.node }, "agent started");
    while (!this.stopped) {
      let polled: Polled | undefined;
      try {
        polled = await this.poll();
      } catch (e) {
        if (this.stopped) break;
        this.metrics.poll("error");
        if (e instanceof Refused) await this.moveOn("the server refused the agent's credentials; keeping the rules in force", { err: message(e), status: e.status }, "error");
        else await this.moveOn("server unreachable or failing; keeping the rules in force", { err: message(e) });
        continue;
      }
      this.metrics.poll(polled ? "changed" : "unchanged");
      if (!polled) continue;
      const { ruleset, at } = polled;
      if (isDelta(ruleset) && ruleset.base !== this.applied) {
        this.wantWhole = true;
        log.warn({ base: ruleset.base, applied: this.applied }, "a delta from a version not in force; asking for the whole ruleset");
        continue;
      }
      if (at && this.appliedAt && at.model === this.appliedAt.model && at.generation < this.appliedAt.generation) {
        await this.moveOn("server is behind the rules in force; keeping them", { generation: at.generation, applied: this.appliedAt.generation });
        continue;
      }
      const ok = await this.apply(ruleset);
      if (ok) this.appliedAt = at;
      if (ok && this.o.once) break;
      if (!ok) await this.sleep(this.nextDelay());
    }
    if (this.ownsTransport) await this.transport.close();
    log.info({ applied: this.applied }, "agent stopped; rules stay in place");
  }

  /** Moves to the next server: every replica in turn at once, with a backoff only once each has failed in a row. */
  private async moveOn(why: string, details: Record<string, unknown>, level: "warn" | "error" = "warn"): Promise<void> {
    const failed = this.server;
    this.current = (this.current + 1) % this.servers.length;
    this.metrics.usingServer(this.server);
    const delay = ++this.failures % this.servers.length === 0 ? this.nextDelay() : 0;
    this.o.logger[level]({ ...details, server: failed, next: this.server, retryInMs: delay }, why);
    if (delay > 0) await this.sleep(delay);
  }

  /** One long poll: the new ruleset and the generation it was made from, or undefined when nothing changed. */
  private async poll(): Promise<Polled | undefined> {
    const url = new URL(`/v1/nodes/${encodeURIComponent(this.o.node)}/rules`, this.server);
    const wait = this.o.waitSeconds ?? 30;
    if (this.applied !== undefined) {
      url.searchParams.set("wait", String(wait));
      // A delta onto the version in force, when the server still knows it.
      if (!this.wantWhole) url.searchParams.set("since", this.applied);
    }
    const res = await this.transport.fetch(url, {
      headers: this.applied !== undefined ? { "if-none-match": `"${this.applied}"` } : {},
      signal: AbortSignal.any([this.stopper.signal, AbortSignal.timeout((wait + 15) * 1000)]),
    });
    if (res.status === 401 || res.status === 403) {
      const code: ErrorCode = res.status === 401 ? "unauthenticated" : "forbidden";
      throw new Refused(res.status, `GET ${url}: HTTP ${res.status}: ${await errorText(res)}${authHint(code, this.transport, this.server)}`);
    }
    if (res.status !== 304 && !res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${await errorText(res)}`);
    this.failures = 0;
    if (res.status === 304) {
      await res.arrayBuffer();
      return undefined;
    }
    const generation = Number(res.headers.get(GENERATION_HEADER) ?? NaN);
    const model = res.headers.get(MODEL_HEADER);
    const ruleset = (await res.json()) as Ruleset;
    return { ruleset, ...(Number.isInteger(generation) && model ? { at: { model, generation } } : {}) };
  }

  private async apply(r: Ruleset): Promise<boolean> {
    const log = this.o.logger;
    const started = performance.now();
    const delta = isDelta(r);
    try {
      if (delta) await applyDelta(this.o.runner, r);
      else await applyRuleset(this.o.runner, r);
    } catch (e) {
      this.metrics.applyDone("failed", (performance.now() - started) / 1000, delta);
      // A delta that failed was undone; the whole ruleset comes next.
      if (delta) this.wantWhole = true;
      log.error({ version: r.version, ...(delta ? { base: r.base } : {}), err: message(e) }, "apply failed; the previous ruleset stays in force");
      await this.report(r.version, message(e));
      return false;
    }
    const ms = performance.now() - started;
    this.applied = r.version;
    this.wantWhole = false;
    this.backoffs = 0;
    this.metrics.applyDone("ok", ms / 1000, delta);
    this.metrics.appliedVersion(this.o.node, r.version);
    log.info({ version: r.version, ...(delta ? { base: r.base } : {}), ms: Math.round(ms) }, delta ? "delta applied" : "ruleset applied");
    await this.report(r.version);
    return true;
  }

  /** Not cut short by stop(): an apply that finished is reported, within the report's own deadline. */
  private async report(version: string, error?: string): Promise<void> {
    if (this.o.report === false) return;
    try {
      const url = new URL(`/v1/nodes/${encodeURIComponent(this.o.node)}/status`, this.server);
      const res = await this.transport.fetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ version, appliedAt: new Date().toISOString(), ...(error ? { error } : {}) }),
        signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`PUT ${url}: HTTP ${res.status}: ${await errorText(res)}`);
      await res.arrayBuffer();
    } catch (e) {
      this.o.logger.warn({ err: message(e) }, "could not report status");
    }
  }

  /** An exponentially growing delay with jitter (half to all of it), so agents do not retry in step. */
  private nextDelay(): number {
    const min = this.o.minBackoffMs ?? 500;
    const max = this.o.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(16, this.backoffs++));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(resolve, ms);
      this.stopper.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** The response headers that name the generation a ruleset was made from, and the stored model it counts in. */
const GENERATION_HEADER = "podwall-generation";
const MODEL_HEADER = "podwall-model";

const REPORT_TIMEOUT_MS = 10_000;

/** The server answered 401 or 403. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error body (the usual `{"message"}`), or the start of the text. */
async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === "string") return m;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200);
}

interface Polled {
  readonly ruleset: Ruleset;
  readonly at?: { readonly model: string; readonly generation: number };
}

function message(e: unknown): string {
  return e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
}
