/**
 * The reader thread: reads manifest text sent by ReaderThread and sends the
 * items back in batches, so that the thread that takes them is never held
 * long by one message.
 */
import { parentPort } from "node:worker_threads";
import { ManifestSyntaxError, ManifestTooLargeError } from "./parse.js";
import { type ReadOptions, readItems } from "./read.js";
import type { ReaderJob, ReaderReply } from "./reader-thread.js";

/** Items per message: a few hundred objects take the receiving thread a few milliseconds to copy in. */
const BATCH = 200;

const port = parentPort;
if (!port) throw new Error("reader-worker runs as a worker thread");

port.on("message", (job: ReaderJob) => {
  const reply = (r: ReaderReply) => port.postMessage(r);
  try {
    const items = readItems(job.text, job.opts as ReadOptions);
    for (let i = 0; i < items.length; i += BATCH) reply({ id: job.id, type: "items", items: items.slice(i, i + BATCH) });
    reply({ id: job.id, type: "done" });
  } catch (e) {
    const error = e instanceof ManifestTooLargeError ? "too-large" : e instanceof ManifestSyntaxError ? "syntax" : "internal";
    reply({ id: job.id, type: "error", error, message: e instanceof Error ? e.message : String(e) });
  }
});
