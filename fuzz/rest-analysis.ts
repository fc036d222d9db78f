/**
 * Bad and odd questions to GET /v1/matrix and GET /v1/lint. The fuzzer reads
 * the query as the server will and knows what each field must give: 400 for
 * a bad format, protocol, port or selector, 404 for a namespace the model
 * lacks, 200 otherwise; only text it cannot judge leaves the status open.
 */
import type { FuzzContext } from "./context.js";
import { type Outcome, type Stage, type Verdict, focus, outcome, verdictOf } from "./outcome.js";
import { LONGEST_PATH, type Query, encodeValue, queryOf, serverQuery } from "./query.js";
import type { Rng } from "./random.js";
import type { RestRequest } from "./requests.js";
import { type SelectorText, selectorText } from "./selectors.js";
import { BAD_NUMBERS, oddName, oddText } from "./strings.js";

const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const FORMATS = ["json", "table", "wide"];
const SEVERITIES = ["error", "warning", "info"];

const protocolOk = (v: string | string[] | undefined) => v === undefined || v === "" || (typeof v === "string" && PROTOCOLS.includes(v.toUpperCase()));
const portOk = (v: string | string[] | undefined) => typeof v === "string" && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535;

function protocolValue(rng: Rng, odd: boolean): string {
  if (!odd) return rng.pick(["TCP", "udp", "Sctp", "tcp", ""]);
  return rng.weighted<() => string>([
    [4, () => rng.pick(["ICMP", "udp/", "UDP/53", "tcp ", " tcp", "T\u0000CP", "ＴＣＰ", "ALL", "*", "tcp,udp", "6", "ſctp"])],
    [1, () => oddText(rng, 12)],
  ])();
}

function portValue(rng: Rng, odd: boolean): string {
  if (!odd) return rng.pick(["80", "81", "53", "1", "65535", "080", "00443"]);
  return rng.weighted<() => string>([
    [4, () => rng.pick([...BAD_NUMBERS, "udp/80", "80/", "65536", "4294967376"])],
    [1, () => oddText(rng, 8)],
  ])();
}

/** Namespaces to ask for: those of the model, with spaces and empty items, sometimes thousands; when odd, unknown and odd names too. */
function namespacesValue(rng: Rng, ctx: FuzzContext, odd: boolean): string {
  const known = () => (ctx.namespaces.length > 0 ? rng.pick(ctx.namespaces) : "default");
  const item = () =>
    rng.weighted<() => string>([
      [6, known],
      [1, () => ` ${known()} `],
      [1, () => ""],
      [odd ? 2 : 0, () => rng.pick(["__proto__", "constructor", "toString", "hasOwnProperty", "nope", "X", "kube-system"])],
      [odd ? 2 : 0, () => oddName(rng).slice(0, 300)],
    ])();
  const n = rng.weighted<() => number>([
    [6, () => rng.int(1, 4)],
    [1, () => rng.size(5, 3_000)],
  ])();
  return Array.from({ length: n }, item).join(",");
}

/** What the answer must be, from the query as the server reads it; `selector` is the text generated for `pods`. */
function matrixOutcome(q: Query | undefined, ctx: FuzzContext, selector: SelectorText | undefined): Outcome & { readonly namespaces?: readonly string[] } {
  if (q === undefined) return { mustReject: false };
  const format = q["format"];
  const formatOk = format === undefined || (typeof format === "string" && FORMATS.includes(format));
  const pods = q["pods"];
  const podsVerdict: Verdict =
    pods === undefined || pods === "" ? "ok" : Array.isArray(pods) ? "bad" : selector !== undefined && pods === selector.text ? selector.verdict : "unknown";
  const ns = q["namespaces"];
  const items = ns === undefined ? [] : Array.isArray(ns) ? ns : ns.split(",");
  // Items of a repeated parameter are names as they are, not split at commas: the fuzzer does not decide one holding a comma.
  const nsVerdicts: Verdict[] = items.map((i) => (Array.isArray(ns) && i.includes(",") ? "unknown" : i.trim() === "" || ctx.namespaces.includes(i.trim()) ? "ok" : "bad"));
  const group = q["group"];
  const groupOk = group === undefined || (typeof group === "string" && ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"].includes(group));
  const stages: Stage[] = [
    { status: 400, verdicts: [verdictOf(formatOk)] },
    { status: 400, verdicts: [verdictOf(protocolOk(q["protocol"])), verdictOf(portOk(q["port"])), podsVerdict, verdictOf(groupOk)] },
    { status: 404, verdicts: nsVerdicts },
  ];
  const asked = [...new Set(items.map((i) => i.trim()).filter((i) => i !== ""))];
  return { ...outcome(stages), ...(asked.length > 0 && !Array.isArray(ns) ? { namespaces: asked } : {}) };
}

export function getMatrix(rng: Rng, ctx: FuzzContext): RestRequest {
  const odd = focus(rng, ["protocol", "port", "namespaces", "pods", "group", "format"] as const);
  const fields: [string, string][] = [];
  let tag = "query";
  let selector: SelectorText | undefined;
  if (odd("protocol") || rng.bool(0.4)) fields.push(["protocol", encodeValue(rng, protocolValue(rng, odd("protocol")))]);
  // A missing port is one way to be odd.
  if (!odd("port") || rng.bool(0.9)) fields.push(["port", encodeValue(rng, portValue(rng, odd("port")))]);
  if (odd("namespaces") || rng.bool(0.4)) {
    const v = namespacesValue(rng, ctx, odd("namespaces"));
    if (v.length > 200) tag = "many-namespaces";
    fields.push(["namespaces", encodeValue(rng, v)]);
  }
  if (odd("pods") || rng.bool(0.3)) {
    selector = selectorText(rng, ctx.labels, odd("pods"), rng.bool(0.9) ? 200 : 6_000);
    tag = "selector";
    fields.push(["pods", encodeValue(rng, selector.text)]);
  }
  if (odd("group") || rng.bool(0.3))
    fields.push(["group", encodeValue(rng, odd("group") ? rng.pick(["yes", "TRUE", "", "2", oddText(rng, 6)]) : rng.pick(["true", "1", "false", "0"]))]);
  if (odd("format") || rng.bool(0.4)) {
    fields.push(["format", encodeValue(rng, odd("format") ? rng.pick(["JSON", "Table", "xml", "yaml", "", "table ", "wide,json", "csv", oddText(rng, 8)]) : rng.pick(FORMATS))]);
  }
  const path = `/v1/matrix?${queryOf(rng, fields)}`;
  const o = matrixOutcome(serverQuery(path), ctx, selector);
  const expect = {
    write: false,
    // A path Node may refuse before any route sees it: any refusal will do.
    ...(path.length > LONGEST_PATH || o.status === undefined ? {} : { status: o.status }),
    mustReject: o.mustReject,
    answer: { kind: "matrix" as const, ...(o.namespaces ? { namespaces: o.namespaces } : {}) },
  };
  return { door: "rest", target: "GET /v1/matrix", tag, method: "GET", path, headers: {}, expect };
}

export function getLint(rng: Rng, _ctx: FuzzContext): RestRequest {
  const fields: [string, string][] = [];
  if (rng.bool(0.7)) {
    // The right severity half the time: the answer is then checked for 200.
    const v = rng.weighted<() => string>([
      [3, () => rng.pick(SEVERITIES)],
      [3, () => rng.pick(["", "ERROR", "Warning", "warn", "fatal", "info ", "error,warning", "0", "__proto__", "toString", "constructor", "\u0000"])],
      [1, () => oddText(rng, 12)],
      [1, () => "w".repeat(rng.size(100, 10_000))],
    ])();
    fields.push(["severity", encodeValue(rng, v)]);
  }
  const path = `/v1/lint${fields.length > 0 || rng.bool(0.3) ? `?${queryOf(rng, fields)}` : ""}`;
  const q = serverQuery(path);
  const s = q?.["severity"];
  const o = q === undefined ? { mustReject: false } : outcome([{ status: 400, verdicts: [verdictOf(s === undefined || (typeof s === "string" && SEVERITIES.includes(s)))] }]);
  const expect = { write: false, ...(path.length > LONGEST_PATH || o.status === undefined ? {} : { status: o.status }), mustReject: o.mustReject };
  return { door: "rest", target: "GET /v1/lint", tag: "severity", method: "GET", path, headers: {}, expect };
}
