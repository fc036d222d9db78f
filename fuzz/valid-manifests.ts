/**
 * Objects any model takes: a new namespace, a policy in a namespace the model
 * has (new, or replacing one it has), a pod at an address no object holds, a
 * tier policy (cluster-scoped: it needs no namespace), and objects of the
 * model changed (other labels, a pod that has finished, a policy's or a tier
 * policy's other spec). A what-if of them must be answered 200 and change
 * nothing.
 */
import type { FuzzContext } from "./context.js";
import type { Rng } from "./random.js";
import { TIER_KINDS, type TierKind, validTierObject, validTierSpec } from "./tier-manifests.js";

export interface ValidObjects {
  readonly objects: readonly Record<string, unknown>[];
  /** The namespaces the objects are in (a what-if that also deletes one of them is not judged by status). */
  readonly namespaces: readonly string[];
}

const PEERS = [
  {},
  { podSelector: {} },
  { podSelector: { matchLabels: { pod: "a" } } },
  { namespaceSelector: { matchLabels: { ns: "y" } } },
  { namespaceSelector: {}, podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["a", "b"] }] } },
  { podSelector: { matchExpressions: [{ key: "pod", operator: "DoesNotExist" }] } },
  { ipBlock: { cidr: "10.0.0.0/8", except: ["10.244.1.0/24"] } },
  { ipBlock: { cidr: "fd00::/8" } },
];

const PORTS = [
  undefined,
  [],
  [{ port: 80 }],
  [{ protocol: "UDP", port: 53 }],
  [{ protocol: "SCTP", port: 81 }],
  [{ port: "serve-80-tcp" }],
  [{ port: 80, endPort: 90 }],
  [{ protocol: "UDP" }],
];

function rule(rng: Rng, direction: "from" | "to"): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  const peers = rng.int(0, 2);
  if (peers > 0) r[direction] = Array.from({ length: peers }, () => rng.pick(PEERS)).filter((p) => Object.keys(p).length > 0);
  const ports = rng.pick(PORTS);
  if (ports !== undefined) r["ports"] = ports;
  return r;
}

function policy(rng: Rng, ctx: FuzzContext, namespace: string, n: number): Record<string, unknown> {
  const existing = ctx.objects.filter((o) => o.kind === "NetworkPolicy" && o.namespace === namespace);
  const name = existing.length > 0 && rng.bool(0.4) ? rng.pick(existing).name : `fuzz-wi-${n}`;
  const types = rng.pick([undefined, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]);
  const spec: Record<string, unknown> = { podSelector: rng.pick([{}, { matchLabels: { pod: rng.pick(["a", "b", "c"]) } }]) };
  if (types !== undefined) spec["policyTypes"] = types;
  if (types === undefined || types.includes("Ingress")) spec["ingress"] = Array.from({ length: rng.int(0, 2) }, () => rule(rng, "from"));
  if (types?.includes("Egress")) spec["egress"] = Array.from({ length: rng.int(0, 2) }, () => rule(rng, "to"));
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec };
}

function pod(rng: Rng, ctx: FuzzContext, namespace: string, n: number): Record<string, unknown> {
  const nodes = [...ctx.versions.keys()];
  const labels = Object.fromEntries(ctx.labels.length > 0 && rng.bool(0.7) ? [rng.pick(ctx.labels)] : [["pod", "fuzz"]]);
  const ip = `10.99.${(n >> 8) & 0xff}.${n & 0xff}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `fuzz-wi-${n}`, namespace, labels },
    spec: { ...(nodes.length > 0 ? { nodeName: rng.pick(nodes) } : {}), containers: [{ name: "c", ports: [{ name: "serve-80-tcp", containerPort: 80 }] }] },
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
  };
}

const LABELS = [{}, { pod: "a" }, { pod: "b" }, { pod: "d" }, { ns: "y" }, { ns: "w" }, { app: "fuzz", tier: "db" }];

const isTierKind = (kind: unknown): kind is TierKind => (TIER_KINDS as readonly unknown[]).includes(kind);

/** An object of the model with other labels; a pod may also have finished, a policy or tier policy another spec. */
function changed(rng: Rng, ctx: FuzzContext, n: number): Record<string, unknown> | undefined {
  const items = ctx.items.filter((i) => ["Namespace", "Node", "Pod", "NetworkPolicy"].includes(String(i["kind"])) || isTierKind(i["kind"]));
  if (items.length === 0) return undefined;
  const o = structuredClone(rng.pick(items)) as Record<string, unknown> & { metadata: Record<string, unknown>; status?: Record<string, unknown> };
  if (o["kind"] === "NetworkPolicy" && rng.bool(0.6)) return { ...policy(rng, ctx, String(o.metadata["namespace"]), n), metadata: o.metadata };
  if (isTierKind(o["kind"]) && rng.bool(0.6)) return { ...o, spec: validTierSpec(rng, o["kind"]) };
  o.metadata["labels"] = { ...(rng.bool(0.5) ? (o.metadata["labels"] as object) : {}), ...rng.pick(LABELS) };
  if (o["kind"] === "Pod" && rng.bool(0.3)) o.status = { ...o.status, phase: rng.pick(["Succeeded", "Failed", "Pending"]) };
  return o;
}

/** One to a few valid objects; `first` numbers their names and addresses, so that none is another's. */
export function validObjects(rng: Rng, ctx: FuzzContext, first = rng.int(1, 60_000)): ValidObjects {
  const objects: Record<string, unknown>[] = [];
  const namespaces: string[] = [];
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = (first + i) % 65_000;
    const ns = ctx.namespaces.length > 0 ? rng.pick(ctx.namespaces) : undefined;
    const kind =
      ns === undefined
        ? rng.pick(["Namespace", "Namespace", "tier"] as const)
        : rng.pick(["Namespace", "NetworkPolicy", "NetworkPolicy", "Pod", "changed", "changed", "tier"] as const);
    const c = kind === "changed" ? changed(rng, ctx, at) : undefined;
    if (c !== undefined) {
      objects.push(c);
      const meta = c["metadata"] as { namespace?: string };
      if (meta.namespace !== undefined) namespaces.push(meta.namespace);
      continue;
    }
    if (kind === "tier") {
      objects.push(validTierObject(rng, at));
      continue;
    }
    if (kind === "Namespace" || kind === "changed") objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: `fuzz-wi-${at}`, labels: { team: "fuzz" } } });
    else if (kind === "NetworkPolicy") objects.push(policy(rng, ctx, ns!, at));
    else objects.push(pod(rng, ctx, ns!, at));
    if (ns !== undefined && kind !== "Namespace" && kind !== "changed") namespaces.push(ns);
  }
  return { objects, namespaces };
}

/** The objects as manifests text: one JSON List, or YAML documents (JSON is YAML). */
export function manifestsText(rng: Rng, objects: readonly Record<string, unknown>[]): string {
  if (rng.bool(0.5)) return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
  return objects.map((o) => JSON.stringify(o, null, rng.bool() ? 2 : undefined)).join("\n---\n");
}
