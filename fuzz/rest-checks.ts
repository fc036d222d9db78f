/** Bad questions: GET /v1/check, POST /v1/check and POST /v1/check/batch. */
import type { FuzzContext } from "./context.js";
import type { Rng } from "./random.js";
import type { RestRequest } from "./requests.js";
import { BAD_NUMBERS, longText, many, oddText } from "./strings.js";
import { type JsonText, breakJson, deepJson, depth, objectText, oddJson, oddReference, str } from "./values.js";

const READ = { write: false, mustReject: false } as const;

/** A query string value, from valid to very odd, possibly left unencoded or badly encoded. */
function queryValue(rng: Rng, field: "src" | "dst" | "protocol" | "port" | "explain"): string {
  const plain = rng.weighted<() => string>([
    [
      3,
      () =>
        field === "port"
          ? rng.pick(["80", "81", "443"])
          : field === "protocol"
            ? rng.pick(["TCP", "udp", "Sctp"])
            : field === "explain"
              ? "true"
              : rng.pick(["x/a", "y/b", "10.0.0.1"]),
    ],
    [3, () => (field === "port" ? rng.pick(BAD_NUMBERS) : oddText(rng, 30))],
    [1, () => rng.pick(["ICMP", "tcp ", "T\u0000CP", "ＴＣＰ", "", "tcp,udp", "ALL", "*"])],
    [1, () => longText(rng, 12_000)],
    [1, () => JSON.parse(oddReference(rng)) as string],
  ])();
  return rng.weighted<() => string>([
    [6, () => encodeURIComponent(plain.replace(/[\ud800-\udfff]/gu, "\ufffd"))],
    [2, () => plain],
    [1, () => plain.replaceAll(" ", "+")],
    [1, () => `${encodeURIComponent(plain.replace(/[\ud800-\udfff]/gu, "\ufffd"))}${rng.pick(["%", "%zz", "%E0%A4%A", "%00", "%C0%AF"])}`],
  ])();
}

function query(rng: Rng): string {
  const parts: string[] = [];
  for (const f of ["src", "dst", "protocol", "port", "explain"] as const) {
    const shape = rng.weighted<string>([
      [8, "one"],
      [1, "missing"],
      [1, "twice"],
      [1, "bracket"],
      [1, "bare"],
    ]);
    if (shape === "missing") continue;
    if (shape === "bare") parts.push(f);
    else if (shape === "bracket") parts.push(`${f}${rng.pick(["[]", "[a]", "[0]", "[__proto__]", ".x"])}=${queryValue(rng, f)}`);
    else parts.push(`${f}=${queryValue(rng, f)}`);
    if (shape === "twice") parts.push(`${f}=${queryValue(rng, f)}`);
  }
  if (rng.bool(0.2)) parts.push(`${encodeURIComponent(oddText(rng, 10).replace(/[\ud800-\udfff]/gu, ""))}=${queryValue(rng, "src")}`);
  if (rng.bool(0.05)) parts.push(...Array.from({ length: rng.size(100, 5000) }, (_, i) => `p${i}=${i}`));
  return (rng.bool(0.1) ? parts.reverse() : parts).join(rng.bool(0.95) ? "&" : rng.pick([";", "&&", "&amp;"]));
}

/** A check as a JSON object text: each field valid, odd, missing or deep. */
function checkText(rng: Rng, budget = 2): JsonText {
  const members: [string, JsonText][] = [];
  const valid = { src: () => str("x/a"), dst: () => str("y/b"), protocol: () => str("TCP"), port: () => "80", explain: () => "true" };
  for (const f of ["src", "dst", "protocol", "port", "explain"] as const) {
    const v = rng.weighted<() => JsonText | undefined>([
      [4, () => valid[f]()],
      [4, () => (f === "src" || f === "dst" ? oddReference(rng) : oddJson(rng, budget))],
      [1, () => undefined],
      [1, () => deepJson(rng, depth(rng))],
    ])();
    if (v !== undefined) members.push([f, v]);
  }
  if (rng.bool(0.1)) members.push([rng.pick(["__proto__", "constructor", "extra", oddText(rng, 8)]), oddJson(rng, budget)]);
  if (rng.bool(0.05)) members.push(["src", oddReference(rng)]);
  return objectText(members);
}

/** Content types a JSON body may come with: the right one mostly. */
function jsonType(rng: Rng): Record<string, string> {
  return rng.weighted<Record<string, string>>([
    [8, { "content-type": "application/json" }],
    [
      1,
      {
        "content-type": rng.pick([
          "text/plain",
          "application/yaml",
          "application/x-www-form-urlencoded",
          "",
          "application/json; charset=utf-16",
          "application/json; charset=bogus",
          "multipart/form-data",
        ]),
      },
    ],
    [1, {}],
  ]);
}

function body(rng: Rng, text: string): Pick<RestRequest, "body" | "slow" | "abortAfter"> {
  const b = Buffer.from(text);
  const how = rng.weighted<string>([
    [40, "whole"],
    [1, "slow"],
    [1, "abort"],
  ]);
  if (how === "slow") return { body: b, slow: { pieces: rng.int(2, 6), gapMs: rng.int(20, 150) } };
  if (how === "abort" && b.length > 1) return { body: b, abortAfter: rng.int(0, b.length - 1) };
  return { body: b };
}

export function getCheck(rng: Rng, _ctx: FuzzContext): RestRequest {
  return { door: "rest", target: "GET /v1/check", tag: "query", method: "GET", path: `/v1/check?${query(rng)}`, headers: {}, expect: READ };
}

export function postCheck(rng: Rng, _ctx: FuzzContext): RestRequest {
  const [tag, text] = rng.weighted<() => [string, string]>([
    [6, () => ["fields", checkText(rng)]],
    [2, () => ["malformed", breakJson(rng, checkText(rng))]],
    [1, () => ["not-an-object", oddJson(rng)]],
    [1, () => ["deep", deepJson(rng, depth(rng), checkText(rng))]],
    [1, () => ["bytes", rng.bytes(rng.size(1, 2000)).toString("latin1")]],
  ])();
  return { door: "rest", target: "POST /v1/check", tag, method: "POST", path: "/v1/check", headers: jsonType(rng), ...body(rng, text), expect: READ };
}

export function postBatch(rng: Rng, _ctx: FuzzContext): RestRequest {
  const n = rng.size(0, rng.bool(0.1) ? 20_000 : 50);
  const entries = () =>
    many(
      rng,
      n,
      () => (rng.bool(0.8) ? checkText(rng, 1) : oddJson(rng, 1)),
      (t) => t.length,
    ).join(",");
  const [tag, text] = rng.weighted<() => [string, string]>([
    [6, () => ["checks", `{"checks":[${entries()}]}`]],
    [2, () => ["malformed", breakJson(rng, `{"checks":[${entries()}]}`)]],
    [1, () => ["checks-not-array", `{"checks":${oddJson(rng)}}`]],
    [1, () => ["deep", `{"checks":${deepJson(rng, depth(rng), `[${checkText(rng, 1)}]`)}}`]],
    [1, () => ["not-an-object", oddJson(rng)]],
  ])();
  return { door: "rest", target: "POST /v1/check/batch", tag, method: "POST", path: "/v1/check/batch", headers: jsonType(rng), ...body(rng, text), expect: READ };
}

export { body as restBody, jsonType };
