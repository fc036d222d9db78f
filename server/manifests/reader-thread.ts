/**
 * Large manifests are read on a thread of their own (node:worker_threads), so
 * that a write of megabytes of YAML does not hold every other request of the
 * process: parsing YAML takes about a second per megabyte. Jobs are read one
 * at a time, each with a bounded heap; the items come back in batches, each a
 * short task of the event loop. Small text is read at once, in the caller's
 * turn, where it takes less than the trip to the thread would.
 */
import { Worker } from "node:worker_threads";
import { INLINE_BYTES } from "./limits.js";
import { ManifestSyntaxError, ManifestTooLargeError } from "./parse.js";
import { type ReadItem, type ReadOptions, readItems } from "./read.js";

export interface ReaderJob {
  readonly id: number;
  readonly text: string;
  readonly opts: ReadOptions;
}

export type ReaderReply =
  | { readonly id: number; readonly type: "items"; readonly items: readonly ReadItem[] }
  | { readonly id: number; readonly type: "done" }
  | { readonly id: number; readonly type: "error"; readonly error: "syntax" | "too-large" | "internal"; readonly message: string };

/**
 * A thread running reader-worker, the script beside this module: its
 * JavaScript when built (dist/), its TypeScript source when this module runs
 * from source under tsx. Node 20 does not apply a loader registered with
 * `--import tsx` to a worker's own script, so there the thread registers tsx
 * itself before it imports the script.
 */
function startThread(heapMb: number): Worker {
  const opts = { resourceLimits: { maxOldGenerationSizeMb: heapMb } };
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./reader-worker.js", import.meta.url), opts);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const script = JSON.stringify(new URL("./reader-worker.ts", import.meta.url).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${script}); });`, { ...opts, eval: true });
}

/** An idle thread is ended after this long, and its heap with it. */
const IDLE_MS = 5_000;

interface Job extends ReaderJob {
  readonly each: (items: readonly ReadItem[]) => void;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** The caller went away before its manifests were read. */
export class ReadCancelled extends Error {
  constructor() {
    super("the request was cancelled before its manifests were read");
  }
}

export class ReaderThread {
  private worker: Worker | undefined;
  private heapMb = 0;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private idle: NodeJS.Timeout | undefined;
  private nextId = 1;

  /** True while the thread is reading a job. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /**
   * Reads the text on the thread; `each` takes the items, in order, a batch at
   * a time. When `signal` fires (the caller went away) the job leaves the
   * queue, or the thread reading it is ended.
   */
  read(text: string, opts: ReadOptions, each: (items: readonly ReadItem[]) => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, text, opts, each, resolve, reject };
      if (signal?.aborted) return reject(new ReadCancelled());
      signal?.addEventListener("abort", () => this.cancel(job), { once: true });
      this.queue.push(job);
      this.next();
    });
  }

  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.reject(new ReadCancelled());
    } else if (this.current === job) {
      this.stop();
      this.finish(job, new ReadCancelled());
    }
  }

  private next(): void {
    const job = this.current ? undefined : this.queue.shift();
    if (!job) return;
    this.current = job;
    clearTimeout(this.idle);
    const w = this.thread(job.opts.limits.readerHeapMb);
    w.ref();
    w.postMessage({ id: job.id, text: job.text, opts: job.opts } satisfies ReaderJob);
  }

  private thread(heapMb: number): Worker {
    if (this.worker && this.heapMb === heapMb) return this.worker;
    this.stop();
    const w = startThread(heapMb);
    this.worker = w;
    this.heapMb = heapMb;
    w.on("message", (r: ReaderReply) => this.reply(r));
    w.on("error", (e) => this.lost(w, e));
    w.on("exit", (code) => this.lost(w, new Error(`the manifest reader thread exited (code ${code})`)));
    return w;
  }

  private reply(r: ReaderReply): void {
    const job = this.current;
    if (!job || job.id !== r.id) return;
    switch (r.type) {
      case "items":
        try {
          job.each(r.items);
        } catch (e) {
          this.finish(job, e);
        }
        return;
      case "done":
        this.finish(job);
        return;
      case "error":
        this.finish(job, r.error === "too-large" ? new ManifestTooLargeError(r.message) : r.error === "syntax" ? new ManifestSyntaxError(r.message) : new Error(r.message));
        return;
    }
  }

  private finish(job: Job, error?: unknown): void {
    if (this.current !== job) return;
    this.current = undefined;
    if (error === undefined) job.resolve();
    else job.reject(error);
    if (this.queue.length > 0) {
      this.next();
      return;
    }
    this.worker?.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS).unref();
  }

  /** The thread ended: out of heap (the manifests are too large to read), or failed. */
  private lost(w: Worker, e: Error & { code?: string }): void {
    if (w !== this.worker) return;
    this.worker = undefined;
    const job = this.current;
    if (!job) return;
    this.finish(job, e.code === "ERR_WORKER_OUT_OF_MEMORY" ? new ManifestTooLargeError(`reading the manifests needs more than the reader's ${this.heapMb} MiB of heap`) : e);
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }
}

/** The process's reader thread, as libuv has one thread pool: jobs of every request queue on it. */
export const readerThread = new ReaderThread();

/** Reads manifests: small text and parsed values at once, large text on the reader thread. Items reach `each` in order. */
export async function readManifests(source: string | readonly unknown[], opts: ReadOptions, each: (items: readonly ReadItem[]) => void, signal?: AbortSignal): Promise<void> {
  if (typeof source === "string" && isLarge(source)) return readerThread.read(source, opts, each, signal);
  each(readItems(source, opts));
}

/** Larger than what is read at once; JSON (one value: no `---` line can be in it) is read many times faster than YAML. */
function isLarge(text: string): boolean {
  const json = /^\s*[[{]/.test(text) && !text.includes("\n---");
  return text.length > (json ? INLINE_BYTES.json : INLINE_BYTES.yaml);
}
