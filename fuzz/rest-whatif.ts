/**
 * Bad and odd what-ifs: POST /v1/whatif with fields of the wrong type, bad
 * ports and limits, deletes of objects the model lacks, manifests that are
 * poisoned or YAML bombs, duplicate keys, malformed and deep bodies. Each is
 * judged by the status its parts decide (outcome.ts); one that asks what a
 * refused write would ask is also sent as that write, and must be answered
 * the same way. Whatever it is answered, the model must not change.
 */
import type { FuzzContext } from "./context.js";
import { type Stage, outcome } from "./outcome.js";
import type { Rng } from "./random.js";
import type { Expectation, RestRequest } from "./requests.js";
import { restBody as body } from "./rest-checks.js";
import { WRONG_TYPES } from "./rest-writes.js";
import { deepJson, depth, str } from "./values.js";
import { type Member, members } from "./whatif-body.js";
import { TIER_API, TIER_KINDS } from "./tier-manifests.js";
import { TIER_DELETE } from "./rest-writes.js";
import { type DeleteRef, kindOf } from "./whatif-inputs.js";

const TARGET = "POST /v1/whatif";

/** What the body decides, and the write that asks the same, if any. */
function judged(list: readonly Member[]): { expect: Pick<Expectation, "status" | "mustReject" | "answer">; json: boolean; twin?: RestRequest } {
  // The last member of a key is the one read.
  const last = new Map<string, Member>();
  for (const m of list) last.set(m.key, m);
  const apply = last.get("apply");
  const del = last.get("delete");
  const fields = [...last.values()].map((m) => m.field);
  // Nothing to do is a bad request: no manifests, and no object to delete.
  if (apply === undefined && (del === undefined || del.deletes === 0)) fields.push("bad");
  const deleted = new Set(del?.namespaces ?? []);
  const clash = (apply?.namespaces ?? []).some((ns) => deleted.has(ns));
  const stages: Stage[] = [
    { status: 400, verdicts: fields },
    { status: undefined, verdicts: apply?.read ? [apply.read] : [] },
    { status: 404, verdicts: del?.present ?? [] },
    // A pod or policy applied into a namespace the same what-if deletes: not judged here.
    { status: undefined, verdicts: clash ? ["unknown"] : [] },
  ];
  // A member that is not JSON (oddJson makes "080" and "0x50" too), or nests too deep, makes the body malformed, whatever the rest.
  const json = list.every((m) => isJson(m.text));
  const o = json && !list.some((m) => nesting(m.text) + 1 > MAX_DEPTH) ? outcome(stages) : { status: 400, mustReject: true };
  const expect = { ...o, answer: { kind: "whatif" as const, deleted: del?.deletes ?? 0, ...(last.get("limit")?.limit !== undefined ? { limit: last.get("limit")!.limit! } : {}) } };
  if (!json || fields.includes("bad") || fields.includes("unknown")) return { expect, json };
  // A lone surrogate survives JSON, but not the UTF-8 of a write's body; a leading BOM is taken off a body, not off a JSON string:
  // such manifests are not asked twice.
  if (apply?.writable !== undefined && del === undefined) {
    const same = !/[\ud800-\udfff]/u.test(apply.writable) && !apply.writable.startsWith("\ufeff");
    return same && o.status !== 400 ? { expect, json, twin: applyWrite(apply.writable, apply.read === "bad") } : { expect, json };
  }
  const twin = apply === undefined && del?.absent !== undefined && o.status !== 400 ? deleteWrite(del.absent) : undefined;
  return twin ? { expect, json, twin } : { expect, json };
}

function applyWrite(text: string, mustReject: boolean): RestRequest {
  return {
    door: "rest",
    target: "POST /v1/apply",
    tag: "as-a-write",
    method: "POST",
    path: "/v1/apply",
    headers: { "content-type": "application/yaml" },
    body: Buffer.from(text),
    expect: { write: true, mustReject },
  };
}

/** The DELETE of the object, when its names survive a path. */
function deleteWrite(r: DeleteRef): RestRequest | undefined {
  const names = [r.namespace, r.name];
  if (names.some((n) => n === "." || n === ".." || /[\ud800-\udfff]/u.test(n))) return undefined;
  const e = encodeURIComponent;
  const kind = kindOf(r.kind)!;
  const [target, path] = (
    {
      Namespace: ["DELETE /v1/namespaces/{ns}", `/v1/namespaces/${e(r.name)}`],
      Node: ["DELETE /v1/nodes/{name}", `/v1/nodes/${e(r.name)}`],
      Pod: ["DELETE /v1/namespaces/{ns}/pods/{name}", `/v1/namespaces/${e(r.namespace)}/pods/${e(r.name)}`],
      NetworkPolicy: ["DELETE /v1/namespaces/{ns}/networkpolicies/{name}", `/v1/namespaces/${e(r.namespace)}/networkpolicies/${e(r.name)}`],
      ...Object.fromEntries(TIER_KINDS.map((k) => [k, [TIER_DELETE, `/v1/${TIER_API[k].plural}/${e(r.name)}`]])),
    } as Record<string, [string, string]>
  )[kind]!;
  if (path.length > 12_000) return undefined;
  return { door: "rest", target, tag: "as-a-write", method: "DELETE", path, headers: {}, expect: { write: true, mustReject: true } };
}

const JSON_TYPE = { "content-type": "application/json" };

/** The most levels a request body may nest (the server's default). */
const MAX_DEPTH = 100;

/** How deep arrays and objects nest in a JSON text (in a string, brackets are text). */
function nesting(text: string): number {
  let depth = 0;
  let most = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) most = Math.max(most, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return most;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function postWhatIf(rng: Rng, ctx: FuzzContext): RestRequest {
  const how = rng.weighted<string>([
    [30, "fields"],
    [2, "malformed"],
    [2, "not-an-object"],
    [1, "deep"],
    [1, "bytes"],
    [2, "yaml"],
    [2, "content-type"],
  ]);
  const base = { door: "rest" as const, target: TARGET, method: "POST", path: "/v1/whatif" };
  const { list, duplicate } = members(rng, ctx);
  const text = `{${list.map((m) => `${str(m.key)}:${m.text}`).join(",")}}`;
  const j = judged(list);
  const write = { write: true } as const;
  switch (how) {
    case "fields": {
      const sent = body(rng, text);
      const twin = j.twin !== undefined && sent.abortAfter === undefined ? { twin: j.twin } : {};
      return { ...base, tag: duplicate ? "duplicate-keys" : tagOf(list), headers: JSON_TYPE, ...sent, expect: { ...write, ...j.expect, ...twin } };
    }
    case "yaml": {
      // JSON read as YAML: the same values, but the fuzzer does not decide every case (duplicate keys are an error in YAML).
      const y = yamlOf(rng, text);
      const headers = { "content-type": rng.pick(["application/yaml", "application/x-yaml", "text/yaml"]) };
      return { ...base, tag: y.tag, headers, ...body(rng, y.text), expect: { ...write, mustReject: y.bomb || (j.json && j.expect.mustReject && !duplicate) } };
    }
    case "content-type": {
      const type = rng.pick([...WRONG_TYPES, undefined]);
      return {
        ...base,
        tag: "wrong-content-type",
        headers: type === undefined ? {} : { "content-type": type },
        body: Buffer.from(text),
        expect: { ...write, mustReject: true, status: 415 },
      };
    }
    case "malformed":
      return { ...base, tag: "malformed", headers: JSON_TYPE, body: Buffer.from(text.slice(0, rng.int(1, text.length - 1))), expect: { ...write, mustReject: true, status: 400 } };
    case "not-an-object":
      return {
        ...base,
        tag: "not-an-object",
        headers: JSON_TYPE,
        body: Buffer.from(rng.pick([`[${text}]`, str(text), "null", "5", "true", "[]", '"apply"', "1e400"])),
        expect: { ...write, mustReject: true, status: 400 },
      };
    case "deep":
      return { ...base, tag: "deep", headers: JSON_TYPE, body: Buffer.from(deepJson(rng, depth(rng), text)), expect: { ...write, mustReject: true, status: 400 } };
    default:
      return { ...base, tag: "bytes", headers: JSON_TYPE, body: rng.bytes(rng.size(1, 4096)), expect: { ...write, mustReject: false } };
  }
}

function tagOf(list: readonly Member[]): string {
  const apply = list.find((m) => m.key === "apply");
  if (apply?.read === "bad") return "apply-bad";
  if (apply?.field === "bad") return "apply-type";
  if (list.some((m) => m.key === "delete" && m.present?.includes("bad"))) return "delete-absent";
  if (list.some((m) => m.field === "bad")) return "bad-field";
  return "fields";
}

/**
 * A body as YAML: the JSON text as it is, or an alias bomb whose expansion
 * is a field (or the body under a key no one reads): refused, by the alias
 * limit or because nothing in it is a what-if.
 */
function yamlOf(rng: Rng, json: string): { text: string; tag: string; bomb: boolean } {
  if (rng.bool(0.6)) return { text: json, tag: "yaml-body", bomb: false };
  const levels = rng.int(3, 9);
  const width = rng.int(4, 12);
  const anchors = [`l0: &l0 [${Array(width).fill('"lol"').join(", ")}]`];
  for (let i = 1; i < levels; i++)
    anchors.push(
      `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  const bomb = `*l${levels - 1}`;
  const text = rng.pick([
    () => `${anchors.join("\n")}\nbody: ${json}\n`,
    () => `${anchors.join("\n")}\napply: ${bomb}\n`,
    () => `${anchors.join("\n")}\ndelete: ${bomb}\n`,
    () => `${anchors.join("\n")}\nports: ${bomb}\n`,
  ])();
  return { text, tag: "yaml-bomb-body", bomb: true };
}
