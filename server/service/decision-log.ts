/**
 * The decision log (`--decision-log FILE|-`), as OPA keeps one: a JSON line
 * per decision answered, batch entries included, with the id the answer
 * carried. Writing never holds a decision up: lines go to an asynchronous
 * stream, and once its buffer holds more than a bound, lines are dropped and
 * counted rather than queued.
 */
import { type WriteStream, createWriteStream } from "node:fs";
import type { Logger } from "pino";
import type { CheckQuery } from "./check-query.js";
import type { Principal } from "./context.js";
import type { Decision } from "./decision.js";
import type { Metrics } from "./metrics.js";

/** Bytes waiting to be written past which new lines are dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class DecisionLog {
  private broken = false;

  private constructor(
    private readonly out: WriteStream,
    private readonly metrics: Metrics,
    private readonly maxBuffered: number,
  ) {}

  /** "-": standard output; anything else: a file, appended to. */
  static open(target: string, metrics: Metrics, logger?: Logger, maxBuffered = MAX_BUFFERED_BYTES): DecisionLog {
    const out = target === "-" ? createWriteStream("", { fd: 1, autoClose: false }) : createWriteStream(target, { flags: "a" });
    const log = new DecisionLog(out, metrics, maxBuffered);
    out.on("error", (e) => {
      log.broken = true;
      logger?.error({ target, err: e.message }, "the decision log cannot be written; decisions are counted as dropped");
    });
    return log;
  }

  record(principal: Principal, id: string, q: CheckQuery, d: Decision, batch?: number): void {
    if (this.broken || this.out.writableLength > this.maxBuffered) {
      this.metrics.decisionLog.inc({ outcome: "dropped" });
      return;
    }
    const entry = {
      time: new Date().toISOString(),
      decisionId: id,
      principal: principal.name,
      question: { src: q.src, dst: q.dst, protocol: q.protocol, port: q.port },
      answer: { allowed: d.allowed },
      generation: d.generation,
      reason: d.reason,
      ...(batch !== undefined ? { batch } : {}),
    };
    this.out.write(`${JSON.stringify(entry)}\n`);
    this.metrics.decisionLog.inc({ outcome: "written" });
  }

  /** Writes what is buffered, then closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.broken) return resolve();
      this.out.end(() => resolve());
    });
  }
}
