/**
 * The node agent: long-polls its node's ruleset, applies each new version,
 * reports what it applied. When the server is away or an apply fails, the
 * rules in force stay as they are and it retries with backoff and jitter.
 */
import type { Logger } from "pino";
import type { Ruleset } from "../../server/rules/index.js";
import { applyRuleset } from "./apply.js";
import type { Runner } from "./runner.js";

export interface AgentOptions {
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
}

export class Agent {
  private readonly stopper = new AbortController();
  /** The version in force on this node, as far as this agent knows. */
  applied: string | undefined;
  private failures = 0;

  constructor(private readonly o: AgentOptions) {}

  stop(): void {
    this.stopper.abort();
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  async run(): Promise<void> {
    const log = this.o.logger;
    log.info({ server: this.o.server, node: this.o.node }, "agent started");
    while (!this.stopped) {
      let ruleset: Ruleset | undefined;
      try {
        ruleset = await this.poll();
      } catch (e) {
        if (this.stopped) break;
        const delay = this.nextDelay();
        log.warn({ err: message(e), retryInMs: delay }, "server unreachable or failing; keeping the rules in force");
        await this.sleep(delay);
        continue;
      }
      if (!ruleset) continue;
      const ok = await this.apply(ruleset);
      if (ok && this.o.once) break;
      if (!ok) await this.sleep(this.nextDelay());
    }
    log.info({ applied: this.applied }, "agent stopped; rules stay in place");
  }

  /** One long poll: the new ruleset, or undefined when nothing changed. */
  private async poll(): Promise<Ruleset | undefined> {
    const url = new URL(`/v1/nodes/${encodeURIComponent(this.o.node)}/rules`, this.o.server);
    const wait = this.o.waitSeconds ?? 30;
    if (this.applied !== undefined) url.searchParams.set("wait", String(wait));
    const res = await fetch(url, {
      headers: this.applied !== undefined ? { "if-none-match": `"${this.applied}"` } : {},
      signal: AbortSignal.any([this.stopper.signal, AbortSignal.timeout((wait + 15) * 1000)]),
    });
    if (res.status === 304) {
      await res.arrayBuffer();
      return undefined;
    }
    if (!res.ok) throw new Error(`GET ${url.pathname}: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as Ruleset;
  }

  private async apply(r: Ruleset): Promise<boolean> {
    const log = this.o.logger;
    const started = performance.now();
    try {
      await applyRuleset(this.o.runner, r);
    } catch (e) {
      log.error({ version: r.version, err: message(e) }, "apply failed; the previous ruleset stays in force");
      await this.report(r.version, message(e));
      return false;
    }
    this.applied = r.version;
    this.failures = 0;
    log.info({ version: r.version, ms: Math.round(performance.now() - started) }, "ruleset applied");
    await this.report(r.version);
    return true;
  }

  private async report(version: string, error?: string): Promise<void> {
    if (this.o.report === false) return;
    try {
      const res = await fetch(new URL(`/v1/nodes/${encodeURIComponent(this.o.node)}/status`, this.o.server), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ version, appliedAt: new Date().toISOString(), ...(error ? { error } : {}) }),
        signal: AbortSignal.any([this.stopper.signal, AbortSignal.timeout(10_000)]),
      });
      await res.arrayBuffer();
    } catch (e) {
      this.o.logger.warn({ err: message(e) }, "could not report status");
    }
  }

  /** An exponentially growing delay with jitter (half to all of it), so agents do not retry in step. */
  private nextDelay(): number {
    const min = this.o.minBackoffMs ?? 500;
    const max = this.o.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** this.failures++);
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopper.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

function message(e: unknown): string {
  return e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
}
