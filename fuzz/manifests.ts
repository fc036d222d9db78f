/**
 * Manifest bodies that no server may accept. Every object is poisoned by
 * construction (an invalid name, label, port, or a namespace that does not
 * exist; for the tier policies, a mutation their CRDs refuse) before any
 * other oddity is added, so an accepted write is a finding, not a lucky valid
 * input. Bodies holding no object at all are bad for a replace (it would
 * empty the model) and a no-op for an apply.
 */
import type { Rng } from "./random.js";
import { CONTROL, NON_ASCII, longText, oddName, oddText } from "./strings.js";
import { poisonedTierObject, tierText, validTierObject } from "./tier-manifests.js";
import { type JsonText, breakJson, deepJson, depth, objectText, oddJson, str } from "./values.js";
import { yamlBody } from "./yaml-bodies.js";

export interface ManifestBody {
  readonly text: string;
  /** What kind of oddity, for grouping findings. */
  readonly tag: string;
  /** It may hold no object Podwall models: an apply of it may succeed if it changes nothing (a replace never). */
  readonly empty?: boolean;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A name no Kubernetes object may have. */
export function invalidName(rng: Rng): string {
  const n = oddName(rng);
  return DNS_SUBDOMAIN.test(n) && n.length <= 253 ? `${n}_${rng.pick(["!", "é", " ", "\u0000", "A"])}` : n;
}

/** A label value no Kubernetes object may have. */
function invalidLabelValue(rng: Rng): string {
  const v = rng.weighted<() => string>([
    [3, () => oddText(rng, 40)],
    [2, () => longText(rng)],
    [1, () => "v".repeat(64)],
  ])();
  return LABEL_VALUE.test(v) && v.length <= 63 ? `${v}!` : v;
}

/** An odd field value, or (rarely) a megabyte of text. */
function oddField(rng: Rng): JsonText {
  return rng.bool(0.9) ? oddJson(rng) : str(longText(rng));
}

/** One object with at least one certain error, and other oddities added. */
export function poisonedObject(rng: Rng, existing: readonly string[]): JsonText {
  const kind = rng.pick(["Namespace", "Node", "Pod", "NetworkPolicy"] as const);
  const apiVersion = kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "v1";
  const poison = rng.pick(["name", "labels", "namespace", "ports", "spec"] as const);
  const namespaced = kind === "Pod" || kind === "NetworkPolicy";
  const name = poison === "name" || !namespaced || rng.bool(0.3) ? invalidName(rng) : `fuzz-${rng.int(0, 1e6)}`;
  const ns = poison === "namespace" ? `fuzz-absent-${rng.int(0, 1e6)}` : rng.bool(0.8) ? rng.pick(existing) : invalidName(rng);
  const labels: [string, JsonText][] = [["app", str("fuzz")]];
  if (poison === "labels" || rng.bool(0.3)) {
    if (rng.bool(0.7)) labels.push([rng.pick(["k", "app", "a/b"]), str(invalidLabelValue(rng))]);
    else labels.push([`${rng.pick([oddText(rng, 12), `${oddText(rng, 8)}/k`, "k".repeat(rng.size(64, 300_000)), "-k", "a/b/c", ""])}!`, str("v")]);
  }
  if (rng.bool(0.2)) labels.push(["k2", oddField(rng)]);
  const swapName = namespaced && poison !== "name" && rng.bool(0.1);
  const meta: [string, JsonText][] = [["name", swapName ? oddField(rng) : str(name)]];
  if (namespaced) meta.push(["namespace", str(ns)]);
  meta.push(["labels", objectText(labels)]);
  if (rng.bool(0.2)) meta.push(["annotations", objectText([[oddText(rng, 10), oddField(rng)]])]);
  const members: [string, JsonText][] = [
    ["apiVersion", str(apiVersion)],
    ["kind", str(kind)],
    ["metadata", objectText(meta)],
  ];
  const spec = specOf(rng, kind, poison === "ports" || poison === "spec");
  if (spec) members.push(spec);
  if (kind === "Pod") members.push(["status", objectText([["podIP", rng.pick([str("10.244.1.11"), str("10.244.200.1"), str(oddText(rng)), oddField(rng)])]])]);
  if (kind === "Node")
    members.push([
      "status",
      objectText([
        [
          "addresses",
          `[${objectText([
            ["type", str("InternalIP")],
            ["address", rng.bool() ? str("10.0.0.1") : oddField(rng)],
          ])}]`,
        ],
      ]),
    ]);
  if (rng.bool(0.2)) members.push([oddText(rng, 10) || "extra", oddField(rng)]);
  return objectText(rng.bool(0.1) ? [...members].reverse() : members);
}

const BAD_PORTS = ["0", "-1", "65536", "80.5", "1e400", '"1e400"', "99999999999999999999999", "4294967376", '"abc"', '"80"', "null", "[]", "{}", "true"];

function specOf(rng: Rng, kind: string, poisoned: boolean): [string, JsonText] | undefined {
  const port = () => (poisoned ? rng.pick(BAD_PORTS) : rng.bool(0.5) ? "80" : oddField(rng));
  if (kind === "Pod") {
    const container = objectText([
      ["name", str(rng.bool(0.8) ? "c" : oddText(rng))],
      [
        "ports",
        `[${objectText([
          ["containerPort", port()],
          ["protocol", poisoned && rng.bool() ? str(rng.pick(["ICMP", "tcp", "", oddText(rng)])) : str("TCP")],
        ])}]`,
      ],
    ]);
    return [
      "spec",
      objectText([
        ["nodeName", rng.bool(0.7) ? str("node-1") : oddField(rng)],
        ["containers", `[${container}]`],
      ]),
    ];
  }
  if (kind === "NetworkPolicy") {
    const bad = poisoned
      ? rng.pick<[string, JsonText]>([
          ["policyTypes", `["Sideways"]`],
          ["ingress", `[{"ports":[{"port":${rng.pick(BAD_PORTS)}}]}]`],
          ["ingress", `[{"from":[{"ipBlock":{"cidr":${rng.pick([str("10.0.0.1/8"), str("300.0.0.0/8"), str("10.0.0.0/33"), str(`${oddText(rng)}!`)])}}}]}]`],
          ["podSelector", `{"matchExpressions":[{"key":"a","operator":${str(rng.pick(["Bogus", "in", "", `${oddText(rng)}!`]))},"values":[]}]}`],
          ["egress", `[{"to":[{"namespaceSelector":{"matchLabels":{"a":${str(invalidLabelValue(rng))}}}}]}]`],
        ])
      : (["ingress", `[${oddField(rng)}]`] as [string, JsonText]);
    return ["spec", objectText(bad[0] === "podSelector" ? [bad] : [["podSelector", "{}"], bad])];
  }
  return rng.bool(0.3) ? ["spec", oddField(rng)] : undefined;
}

/** A JSON manifest body. */
function jsonBody(rng: Rng, existing: readonly string[]): ManifestBody {
  const objects = Array.from({ length: rng.size(1, 5) }, () => poisonedObject(rng, existing));
  const one = objects.length === 1 ? objects[0]! : `{"apiVersion":"v1","kind":"List","items":[${objects.join(",")}]}`;
  return rng.weighted<() => ManifestBody>([
    [4, () => ({ text: one, tag: "json:poisoned" })],
    // A character put into "kind" or "apiVersion" leaves valid JSON of a kind Podwall skips.
    [3, () => ({ text: breakJson(rng, one, false), tag: "json:malformed", empty: true })],
    [2, () => ({ text: deepManifest(rng, one), tag: "json:deep" })],
    [1, () => ({ text: `{"apiVersion":"v1","kind":"List","items":${rng.pick([oddField(rng), '"x"', "{}", "null"])}}`, tag: "json:list-items", empty: true })],
    [1, () => ({ text: `{"__proto__":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz-proto-${rng.int(0, 1e6)}"}}}`, tag: "json:proto" })],
    [1, () => ({ text: `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x","name":${str(invalidName(rng))}}}`, tag: "json:duplicate-key" })],
    [1, () => ({ text: `\ufeff${one}`, tag: "json:bom" })],
  ])();
}

/** A manifest whose labels, or whole body, are nested very deep. */
function deepManifest(rng: Rng, poisoned: JsonText): string {
  const n = depth(rng);
  if (rng.bool(0.4)) return deepJson(rng, n);
  if (rng.bool(0.5))
    return `{"apiVersion":"v1","kind":"List","items":[${poisoned},${objectText([
      ["apiVersion", str("v1")],
      ["kind", str("Namespace")],
      [
        "metadata",
        objectText([
          ["name", str("Deep!")],
          ["labels", deepJson(rng, n)],
        ]),
      ],
    ])}]}`;
  return `{"apiVersion":"v1","kind":"List","items":[${poisoned}, ${deepJson(rng, n, poisoned)}]}`;
}

/** Bodies with no object in them: empty, comments, empty Lists, only kinds Podwall skips. */
function emptyBody(rng: Rng): ManifestBody {
  const text = rng.pick([
    "",
    " ",
    "\n\n",
    "# nothing\n",
    "---",
    "---\n---\n",
    "null",
    "~",
    "apiVersion: v1\nkind: List\nitems: []\n",
    '{"apiVersion":"v1","kind":"List","items":[]}',
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\ndata: {a: b}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\n",
    "---\n".repeat(rng.size(2, 50_000)),
    `${"#".repeat(rng.size(10, 100_000))}\n`,
  ]);
  return { text, tag: "empty", empty: true };
}

/**
 * Tier policies, one of them poisoned: alone, or among valid ones (the whole
 * request is refused, the valid ones too).
 */
function tierBody(rng: Rng): ManifestBody {
  const n = rng.int(1, 60_000);
  const bad = poisonedTierObject(rng, n);
  const objects = [bad.object];
  for (
    let i = rng.weighted<number>([
      [3, 0],
      [2, rng.int(1, 3)],
    ]);
    i > 0;
    i--
  )
    objects.splice(rng.int(0, objects.length), 0, validTierObject(rng, n + i));
  return { text: tierText(rng, objects), tag: `tier:${bad.mutation}` };
}

/** Any bad manifest body, JSON or YAML. */
export function badManifests(rng: Rng, existing: readonly string[]): ManifestBody {
  return rng.weighted<() => ManifestBody>([
    [5, () => jsonBody(rng, existing)],
    [6, () => yamlBody(rng, existing)],
    [3, () => tierBody(rng)],
    [1, () => emptyBody(rng)],
    // Arbitrary text may read as an empty document (blank, a comment, "~"): an apply of it may succeed as long as it changes nothing.
    [1, () => ({ text: rng.bytes(rng.size(1, 4096)).toString("latin1"), tag: "bytes", empty: true })],
    [1, () => ({ text: oddText(rng, 200), tag: "text", empty: true })],
    [1, () => ({ text: Array.from({ length: rng.int(1, 30) }, () => rng.pick([...CONTROL, ...NON_ASCII])).join(""), tag: "control", empty: true })],
  ])();
}

/** A valid manifest of a new namespace: it must be refused only for how it is sent. */
export function validNamespace(rng: Rng, json: boolean): string {
  const name = `fuzz-ct-${rng.int(0, 1e9)}`;
  return json ? `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${name}"}}` : `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
}
