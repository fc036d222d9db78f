/** Bad writes over REST: PUT /v1/model, POST /v1/apply, the deletes (tier policies' too) and agents' status reports. */
import { gzipSync } from "node:zlib";
import { type FuzzContext, absentName, segment } from "./context.js";
import { badManifests, validNamespace } from "./manifests.js";
import type { Rng } from "./random.js";
import type { RestRequest } from "./requests.js";
import { restBody as body, jsonType } from "./rest-checks.js";
import { longText, oddText } from "./strings.js";
import { TIER_API, TIER_KINDS } from "./tier-manifests.js";
import { breakJson, deepJson, depth, objectText, oddJson, str } from "./values.js";

/** Content types a write must refuse with 415 (absent included). */
export const WRONG_TYPES = [
  "text/plain",
  "text/plain; charset=utf-8",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/xml",
  "image/png",
  "application/javascript",
  "text/csv",
  "garbage",
  ";;;",
  "",
];

/** Types a manifest may come as; the body is bad anyway, so any 4xx will do. */
const MANIFEST_TYPES = [
  "application/yaml",
  "application/json",
  "application/yaml; charset=utf-8",
  "APPLICATION/JSON",
  "application/x-yaml",
  "application/json; charset=utf-16",
  "application/yaml; charset=bogus",
];

let bomb: Buffer | undefined;
/** 80 MB of spaces, gzipped once: more than any body limit once inflated. */
function gzipBomb(): Buffer {
  return (bomb ??= gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20), { level: 9 }));
}

function manifestWrite(rng: Rng, ctx: FuzzContext, method: "PUT" | "POST", path: string, replace: boolean): RestRequest {
  const target = `${method} ${path}`;
  const how = rng.weighted<string>([
    [20, "manifests"],
    [3, "content-type"],
    [1, "encoding"],
    [1, "query"],
  ]);
  if (how === "content-type") {
    const type = rng.pick([...WRONG_TYPES, undefined]);
    const text = rng.bool(0.6) ? validNamespace(rng, rng.bool()) : badManifests(rng, ctx.namespaces).text || "x";
    const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
    return {
      door: "rest",
      target,
      tag: type === undefined ? "no-content-type" : "wrong-content-type",
      method,
      path,
      headers,
      ...body(rng, text),
      expect: { write: true, mustReject: true, status: 415 },
    };
  }
  const m = badManifests(rng, ctx.namespaces);
  const type = rng.pick(MANIFEST_TYPES);
  const expect = { write: true, mustReject: replace || !m.empty };
  if (how === "encoding") {
    const [tag, headers, b] = rng.weighted<() => [string, Record<string, string>, Buffer]>([
      [2, () => ["gzip-not-gzip", { "content-encoding": "gzip" }, Buffer.from(m.text)]],
      [2, () => ["gzip", { "content-encoding": "gzip" }, gzipSync(m.text)]],
      [1, () => ["gzip-bomb", { "content-encoding": "gzip" }, gzipBomb()]],
      [1, () => ["odd-encoding", { "content-encoding": rng.pick(["br", "deflate", "snappy", "identity, gzip", "x"]) }, Buffer.from(m.text)]],
    ])();
    return { door: "rest", target, tag: `encoding:${tag}`, method, path, headers: { "content-type": type, ...headers }, body: b, expect };
  }
  const q =
    how === "query"
      ? `?${rng.pick(["allowEmpty=false", "allowEmpty=0", "allowEmpty=no", "allowEmpty=", "allowEmpty=maybe", "dryRun=All", `x=${encodeURIComponent(oddText(rng).replace(/[\ud800-\udfff]/gu, ""))}`])}`
      : "";
  return { door: "rest", target, tag: m.tag, method, path: path + q, headers: { "content-type": type }, ...body(rng, m.text), expect };
}

export const putModel = (rng: Rng, ctx: FuzzContext) => manifestWrite(rng, ctx, "PUT", "/v1/model", true);
export const postApply = (rng: Rng, ctx: FuzzContext) => manifestWrite(rng, ctx, "POST", "/v1/apply", false);

const DELETES = {
  namespace: (ns: string) => `/v1/namespaces/${ns}`,
  pod: (ns: string, n: string) => `/v1/namespaces/${ns}/pods/${n}`,
  policy: (ns: string, n: string) => `/v1/namespaces/${ns}/networkpolicies/${n}`,
  node: (n: string) => `/v1/nodes/${n}`,
} as const;

export function deleteObject(kind: keyof typeof DELETES) {
  const route = {
    namespace: "DELETE /v1/namespaces/{ns}",
    pod: "DELETE /v1/namespaces/{ns}/pods/{name}",
    policy: "DELETE /v1/namespaces/{ns}/networkpolicies/{name}",
    node: "DELETE /v1/nodes/{name}",
  }[kind];
  return (rng: Rng, ctx: FuzzContext): RestRequest => {
    // In an existing namespace, or not; the object itself never exists.
    const ns = kind === "pod" || kind === "policy" ? (rng.bool(0.5) ? rng.pick(ctx.namespaces) : segment(rng, absentName(rng, ctx))) : "";
    const name = segment(rng, absentName(rng, ctx));
    const path = kind === "namespace" || kind === "node" ? DELETES[kind](name) : DELETES[kind](ns, name);
    const extra = rng.bool(0.1) ? rng.pick(["/", "?", "?x=1", "#frag", "/.", "/.."]) : "";
    const headers: Record<string, string> = rng.bool(0.1) ? { "content-type": "application/json" } : {};
    const b = rng.bool(0.1) ? { body: Buffer.from(oddJson(rng)) } : {};
    return { door: "rest", target: route, tag: "name", method: "DELETE", path: path + extra, headers, ...b, expect: { write: true, mustReject: true } };
  };
}

/** The target of the deletes of the cluster-scoped tier policies: DELETE /v1/clusternetworkpolicies/{name}, ... */
export const TIER_DELETE = "DELETE /v1/{clusternetworkpolicies,adminnetworkpolicies,baselineadminnetworkpolicies}/{name}";

/**
 * A delete of a tier policy the model does not hold: by a name no object has,
 * or a tier policy's name under another kind's resource (the kinds are apart:
 * two kinds may use one name).
 */
export function deleteTierPolicy(rng: Rng, ctx: FuzzContext): RestRequest {
  const kind = rng.pick(TIER_KINDS);
  const others = ctx.objects.filter((o) => o.kind !== kind && (TIER_KINDS as readonly string[]).includes(o.kind) && !ctx.objects.some((h) => h.kind === kind && h.name === o.name));
  const name = others.length > 0 && rng.bool(0.3) ? rng.pick(others).name : absentName(rng, ctx);
  const extra = rng.bool(0.1) ? rng.pick(["/", "?", "?x=1", "#frag"]) : "";
  const path = `/v1/${TIER_API[kind].plural}/${segment(rng, name)}${extra}`;
  return {
    door: "rest",
    target: TIER_DELETE,
    tag: others.some((o) => o.name === name) ? "other-kind" : "name",
    method: "DELETE",
    path,
    headers: {},
    expect: { write: true, mustReject: true },
  };
}

/** An agent's report with odd fields; a well-formed one may be taken, but it never changes the model. */
export function putStatus(rng: Rng, ctx: FuzzContext): RestRequest {
  const node = rng.bool(0.5) ? rng.pick([...ctx.versions.keys()]) : absentName(rng, ctx);
  const field = () =>
    rng.weighted<() => string>([
      [2, () => str(oddText(rng, 40))],
      [2, () => oddJson(rng)],
      [1, () => str(longText(rng, 1_500_000))],
      [1, () => deepJson(rng, depth(rng))],
      [1, () => str(rng.pick(["2024-01-01T00:00:00Z", "2024-13-45T99:99:99Z", "0", "-271821-04-20T00:00:00Z", "+275760-09-13T00:00:01Z", "yesterday"]))],
    ])();
  const members: [string, string][] = [];
  for (const f of ["version", "appliedAt", "error"]) if (rng.bool(0.8)) members.push([f, field()]);
  const text = rng.weighted<() => string>([
    [6, () => objectText(members)],
    [2, () => breakJson(rng, objectText(members))],
    [1, () => oddJson(rng)],
  ])();
  const path = `/v1/nodes/${segment(rng, node)}/status`;
  return {
    door: "rest",
    target: "PUT /v1/nodes/{node}/status",
    tag: "report",
    method: "PUT",
    path,
    headers: jsonType(rng),
    ...body(rng, text),
    expect: { write: true, mustReject: false },
  };
}
