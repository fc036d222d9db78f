/**
 * A question a write also asks (a what-if of manifests, or of a delete) must
 * be answered as that write is answered, when the write is refused: the same
 * status, message and field errors. This compares the two answers.
 */
import type { GrpcAnswer } from "./grpc-send.js";
import type { RestAnswer } from "./http-send.js";
import { type Problem, grpcName } from "./judge.js";
import { truncate } from "./strings.js";

type Answer = RestAnswer | GrpcAnswer;

interface Said {
  readonly status: string;
  readonly message: string;
  /** "field type" of each field error, sorted. */
  readonly errors: readonly string[];
}

/** `what`: the write, as the API names it. */
export function sameAnswer(question: Answer, write: Answer, what: string): Problem[] {
  const q = said(question);
  const w = said(write);
  if (q === undefined || w === undefined) return [];
  const differ: string[] = [];
  if (q.status !== w.status) differ.push(`status ${q.status}, the write ${w.status}`);
  else if (q.message !== w.message) differ.push(`message ${JSON.stringify(truncate(q.message, 160))}, the write ${JSON.stringify(truncate(w.message, 160))}`);
  if (q.status === w.status && q.errors.join("\n") !== w.errors.join("\n")) {
    differ.push(`field errors [${truncate(q.errors.join("; "), 160)}], the write [${truncate(w.errors.join("; "), 160)}]`);
  }
  return differ.length > 0 ? [{ kind: "twin", detail: `answered unlike ${what}: ${differ.join("; ")}` }] : [];
}

/** What an answer says; undefined when there is no whole answer to compare (dropped, timed out). */
function said(a: Answer): Said | undefined {
  if ("code" in a) {
    if (a.timedOut) return undefined;
    return { status: grpcName(a.code), message: a.details, errors: fieldErrors(a.errors ?? "[]") };
  }
  if (a.status === undefined || a.error !== undefined || a.timedOut) return undefined;
  const text = a.body.toString("utf8");
  let body: { message?: unknown; errors?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: compared by status alone
  }
  const message = a.status >= 400 && typeof body.message === "string" ? body.message : "";
  return { status: String(a.status), message, errors: a.status >= 400 ? fieldErrors(body.errors) : [] };
}

function fieldErrors(v: unknown): string[] {
  let list = v;
  if (typeof v === "string") {
    try {
      list = JSON.parse(v) as unknown;
    } catch {
      return [v];
    }
  }
  if (!Array.isArray(list)) return [];
  return list.map((e: { field?: unknown; type?: unknown }) => `${String(e?.field)} ${String(e?.type)}`).sort();
}
