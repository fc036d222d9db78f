/** Bad reads over REST: rulesets, the nodes overview, the model, health, and routes that do not exist. */
import { type FuzzContext, absentName, segment } from "./context.js";
import type { Rng } from "./random.js";
import type { RestRequest } from "./requests.js";
import { restBody as body } from "./rest-checks.js";
import { longText, oddText } from "./strings.js";
import { oddJson } from "./values.js";

const READ = { write: false, mustReject: false } as const;
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/gu, "\ufffd"));

/** A `wait` that is never long: a held request must end well within the time limit. */
const BAD_WAITS = ["-1", "abc", "1e3", "301", "300.5", "0x10", "Infinity", "NaN", "1.5.5", " 1", "1 ", "%00", "9".repeat(400), "1e-400", "-0", "0.", ".5", "１", "0,1", "[]"];
const SHORT_WAITS = ["0", "0.0", "1", "0.5", "1.25", "2"];

export function getRules(rng: Rng, ctx: FuzzContext): RestRequest {
  const nodes = [...ctx.versions.keys()];
  const real = rng.bool(0.5) && nodes.length > 0;
  const node = real ? rng.pick(nodes) : absentName(rng, ctx);
  const params: string[] = [];
  if (rng.bool(0.6))
    params.push(`format=${rng.pick([() => rng.pick(["json", "ipset", "iptables", "ip6tables", "JSON", "xml", "", "iptables-save", "ipset "]), () => enc(oddText(rng, 20))])()}`);
  const held = real && rng.bool(0.4);
  const wait = rng.bool(0.6) ? (held ? rng.pick([...BAD_WAITS, ...SHORT_WAITS]) : rng.pick([...BAD_WAITS, ...SHORT_WAITS, "300", "0300", "299.999"])) : undefined;
  if (wait !== undefined) params.push(`wait=${enc(wait)}`);
  if (rng.bool(0.1)) params.push(`wait=${enc(rng.pick(BAD_WAITS))}`);
  if (rng.bool(0.2)) params.push(`since=${enc(rng.pick([oddText(rng, 30), longText(rng, 12_000), ctx.versions.get(node) ?? "v"]))}`);
  if (rng.bool(0.1)) params.push(`format[x]=1`);
  const headers: Record<string, string> = {};
  if (held) headers["if-none-match"] = rng.pick([`"${ctx.versions.get(node)}"`, `W/"${ctx.versions.get(node)}"`, ctx.versions.get(node)!]);
  else if (rng.bool(0.3)) headers["if-none-match"] = rng.pick([`"${oddText(rng, 20)}"`, "*", '""', '"', "W/", `"a", "b"`, longText(rng, 8_000)]);
  if (rng.bool(0.2)) headers["accept-encoding"] = rng.pick(["gzip;q=0", "br", "*", "gzip, gzip", "identity;q=0", "x;q=abc", oddText(rng, 20)]);
  const q = params.length > 0 ? `?${params.join("&")}` : "";
  return {
    door: "rest",
    target: "GET /v1/nodes/{node}/rules",
    tag: real ? "params" : "node",
    method: "GET",
    path: `/v1/nodes/${segment(rng, node)}/rules${q}`,
    headers,
    expect: READ,
  };
}

function oddQuery(rng: Rng): string {
  if (rng.bool(0.5)) return "";
  return `?${rng.pick([() => `${enc(oddText(rng, 10))}=${enc(oddText(rng, 20))}`, () => "a=1&a=2&a[b]=3", () => "%", () => "&&&", () => `x=${"y".repeat(rng.size(100, 12_000))}`])()}`;
}

function oddHeaders(rng: Rng): Record<string, string> {
  const h: Record<string, string> = {};
  if (rng.bool(0.3))
    h["accept"] = rng.pick([
      "application/yaml",
      "application/yaml;q=0",
      "text/html",
      "*/*",
      "application/json;q=abc",
      "",
      "x/y/z",
      oddText(rng, 20),
      "application/yaml, application/json;q=1.0",
    ]);
  if (rng.bool(0.1)) h["accept-charset"] = rng.pick(["utf-16", "latin1", "bogus"]);
  if (rng.bool(0.1)) h["if-none-match"] = "*";
  return h;
}

export function getNodes(rng: Rng, _ctx: FuzzContext): RestRequest {
  return { door: "rest", target: "GET /v1/nodes", tag: "query", method: "GET", path: `/v1/nodes${oddQuery(rng)}`, headers: oddHeaders(rng), expect: READ };
}

export function getModel(rng: Rng, _ctx: FuzzContext): RestRequest {
  return { door: "rest", target: "GET /v1/model", tag: "accept", method: "GET", path: `/v1/model${oddQuery(rng)}`, headers: oddHeaders(rng), expect: READ };
}

export function getHealth(rng: Rng, _ctx: FuzzContext): RestRequest {
  const path = rng.pick(["/healthz", "/readyz", "/metrics"]);
  return { door: "rest", target: `GET ${path}`, tag: "query", method: "GET", path: `${path}${oddQuery(rng)}`, headers: oddHeaders(rng), expect: READ };
}

/** Routes with a method they do not take, and paths no route has. */
const WRONG_METHODS: readonly (readonly [string, string])[] = [
  ["POST", "/v1/model"],
  ["DELETE", "/v1/model"],
  ["PATCH", "/v1/model"],
  ["GET", "/v1/apply"],
  ["PUT", "/v1/apply"],
  ["PATCH", "/v1/apply"],
  ["PUT", "/v1/check"],
  ["DELETE", "/v1/check"],
  ["GET", "/v1/check/batch"],
  ["POST", "/v1/nodes"],
  ["PUT", "/v1/nodes"],
  ["POST", "/v1/nodes/node-1/rules"],
  ["GET", "/v1/nodes/node-1/status"],
  ["POST", "/v1/nodes/node-1/status"],
  ["POST", "/healthz"],
  ["PUT", "/readyz"],
  ["POST", "/v1/namespaces/x"],
  ["GET", "/v1/namespaces/x"],
  ["PATCH", "/v1/namespaces/x/pods/a"],
];

export function unknownRoute(rng: Rng, ctx: FuzzContext): RestRequest {
  const [tag, method, path] = rng.weighted<() => [string, string, string]>([
    [2, () => ["wrong-method", ...rng.pick(WRONG_METHODS)]],
    [
      2,
      () => [
        "no-route",
        rng.pick(["GET", "POST", "PUT", "DELETE", "PATCH"]),
        `/v1/zz${segment(rng, absentName(rng, ctx))}${rng.bool() ? `/${segment(rng, absentName(rng, ctx))}` : ""}`,
      ],
    ],
    [
      1,
      () => [
        "no-route",
        "GET",
        rng.pick([
          "/",
          "//",
          "/v1",
          "/v1/",
          "/v2/model",
          "/ui",
          "/%2e%2e/%2e%2e/etc/passwd",
          "/v1/%2e%2e/healthz",
          "/*",
          "/?",
          "/v1/model%00",
          "/v1/model;x",
          "/v1/model.json",
          "/.env",
        ]),
      ],
    ],
    [1, () => ["long-path", "GET", `/v1/${"a/".repeat(rng.size(10, 4_000))}`]],
    [1, () => ["long-segment", "GET", `/v1/nodes/${"n".repeat(rng.size(100, 40_000))}/rules`]],
  ])();
  const b = method !== "GET" && method !== "DELETE" && rng.bool(0.5) ? body(rng, oddJson(rng)) : {};
  const headers: Record<string, string> = Object.keys(b).length > 0 ? { "content-type": rng.pick(["application/json", "application/yaml", "text/plain"]) } : {};
  return { door: "rest", target: "unknown route", tag, method, path, headers, ...b, expect: { write: method !== "GET", mustReject: method !== "GET" } };
}
