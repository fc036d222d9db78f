/**
 * Random changes to the random models of test/rules/random-model.ts (with the
 * tier policies of tier-model.ts), for the what-if tests: pods relabelled,
 * added and deleted, policies added, changed (their spec replaced by another
 * random policy's) and deleted, tier policies likewise, namespaces
 * relabelled and deleted, nodes relabelled. A change is several edits made
 * as one: the manifests to apply and the objects to delete, each object
 * named once.
 */
import fc from "fast-check";
import { NAMESPACES, NODES, modelArb } from "../rules/random-model.js";
import type { Manifest } from "./support.js";
import { type TierPolicySpec, tierManifest, tierPolicyArb } from "./tier-model.js";

export interface Ref {
  readonly kind: "Pod" | "NetworkPolicy" | "Namespace" | "Node" | "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";
  readonly namespace: string;
  readonly name: string;
}

export interface PlannedChange {
  readonly apply: Manifest[];
  readonly delete: Ref[];
}

/** The kinds of the cluster-scoped policies. */
export const TIER_KINDS: readonly string[] = ["ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"];

const app = fc.constantFrom(undefined, "web", "db", "api");
const tier = fc.constantFrom(undefined, "fe", "be");

const edit = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("relabel-pod" as const), pod: fc.nat(), app, tier }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("add-pod" as const),
      ns: fc.nat(NAMESPACES.length - 1),
      node: fc.nat(NODES.length - 1),
      app,
      tier,
      dual: fc.boolean(),
      hostNetwork: fc.boolean(),
      http: fc.constantFrom(80, 8080, 9090),
      ports: fc.subarray(["http", "dns", "metrics"] as const),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("delete-pod" as const), pod: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("add-policy" as const), from: fc.nat(), ns: fc.nat(NAMESPACES.length - 1) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("change-policy" as const), policy: fc.nat(), from: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("delete-policy" as const), policy: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("relabel-namespace" as const),
      ns: fc.nat(NAMESPACES.length - 1),
      team: fc.constantFrom(undefined, "x", "y"),
      env: fc.constantFrom(undefined, "prod", "dev"),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("delete-namespace" as const), ns: fc.nat(NAMESPACES.length - 1) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("add-tier-policy" as const), from: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("change-tier-policy" as const), policy: fc.nat(), from: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("delete-tier-policy" as const), policy: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("relabel-node" as const), node: fc.nat(NODES.length - 1), zone: fc.constantFrom(undefined, "a", "b") }), weight: 2 },
);

/** The edits of tier policies and nodes alone. */
const tierEdit = edit.filter((e) => e.kind === "add-tier-policy" || e.kind === "change-tier-policy" || e.kind === "delete-tier-policy" || e.kind === "relabel-node");

export type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** One to three edits, and a random model and tier policies whose policies the added and changed policies take their specs from. */
export const changeArb = fc.record({
  edits: fc.array(edit, { minLength: 1, maxLength: 3 }),
  other: modelArb,
  otherTiers: fc.array(tierPolicyArb, { minLength: 1, maxLength: 3 }),
});

/** One to three edits of tier policies and nodes. */
export const tierChangeArb = fc.record({
  edits: fc.array(tierEdit, { minLength: 1, maxLength: 3 }),
  other: fc.constant<Manifest[]>([]),
  otherTiers: fc.array(tierPolicyArb, { minLength: 1, maxLength: 3 }),
});

const meta = (m: Manifest) => m["metadata"] as { name: string; namespace?: string; labels?: Record<string, string> };
const clean = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const refKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

const CONTAINER_PORTS = {
  http: (n: number) => ({ name: "http", containerPort: n, protocol: "TCP" }),
  dns: () => ({ name: "dns", containerPort: 53, protocol: "UDP" }),
  metrics: () => ({ name: "metrics", containerPort: 9100, protocol: "TCP" }),
} as const;

/**
 * The edits as one change to `model`: later edits of an object replace
 * earlier ones; edits of objects in a namespace the change deletes, and
 * edits that name nothing, are dropped.
 */
export function planChange(model: readonly Manifest[], change: { edits: readonly Edit[]; other: readonly Manifest[]; otherTiers: readonly TierPolicySpec[] }): PlannedChange {
  const of = (kind: string) => model.filter((m) => m["kind"] === kind);
  const pods = of("Pod");
  const policies = of("NetworkPolicy");
  const namespaces = of("Namespace");
  const nodes = of("Node");
  const tierPolicies = model.filter((m) => TIER_KINDS.includes(String(m["kind"])));
  const specs = change.other.filter((m) => m["kind"] === "NetworkPolicy").map((m) => m["spec"]);
  const at = <T>(xs: readonly T[], i: number): T | undefined => xs[i % Math.max(1, xs.length)];
  const ops = new Map<string, { put: Manifest } | { delete: Ref }>();
  const put = (m: Manifest) => ops.set(refKey(String(m["kind"]), meta(m).namespace ?? "", meta(m).name), { put: m });
  const del = (r: Ref) => ops.set(refKey(r.kind, r.namespace, r.name), { delete: r });
  change.edits.forEach((e, i) => {
    switch (e.kind) {
      case "relabel-pod": {
        const p = at(pods, e.pod);
        if (p) put(clean({ ...p, metadata: { ...meta(p), labels: { app: e.app, tier: e.tier } } }));
        return;
      }
      case "add-pod": {
        const node = NODES[e.node]!;
        const v4 = `10.1.${e.node + 1}.${100 + i}`;
        const v6 = `fd10::${e.node + 1}:${100 + i}`;
        const ips = e.hostNetwork ? (e.dual ? [node.v4, node.v6] : [node.v4]) : e.dual ? [v4, v6] : [v4];
        put(
          clean({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `added-${i}`, namespace: NAMESPACES[e.ns], labels: { app: e.app, tier: e.tier } },
            spec: {
              nodeName: node.name,
              ...(e.hostNetwork ? { hostNetwork: true } : {}),
              containers: [{ name: "c", ports: e.ports.map((k) => CONTAINER_PORTS[k](e.http)) }],
            },
            status: { phase: "Running", podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
          }),
        );
        return;
      }
      case "delete-pod": {
        const p = at(pods, e.pod);
        if (p) del({ kind: "Pod", namespace: meta(p).namespace!, name: meta(p).name });
        return;
      }
      case "add-policy": {
        const spec = at(specs, e.from);
        if (spec) put({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: `added-${i}`, namespace: NAMESPACES[e.ns] }, spec });
        return;
      }
      case "change-policy": {
        const p = at(policies, e.policy);
        const spec = at(specs, e.from);
        if (p && spec) put({ ...p, spec });
        return;
      }
      case "delete-policy": {
        const p = at(policies, e.policy);
        if (p) del({ kind: "NetworkPolicy", namespace: meta(p).namespace!, name: meta(p).name });
        return;
      }
      case "relabel-namespace": {
        const n = at(namespaces, e.ns);
        if (n) put(clean({ ...n, metadata: { ...meta(n), labels: { team: e.team, env: e.env } } }));
        return;
      }
      case "delete-namespace": {
        const n = at(namespaces, e.ns);
        if (n) del({ kind: "Namespace", namespace: "", name: meta(n).name });
        return;
      }
      case "add-tier-policy": {
        const spec = at(change.otherTiers, e.from);
        if (spec) put(clean(tierManifest(spec, `added-${i}`)));
        return;
      }
      case "change-tier-policy": {
        const p = at(tierPolicies, e.policy);
        const spec = at(change.otherTiers, e.from);
        if (p && spec) put(clean(tierManifest({ ...spec, kind: kindOf(p, spec) }, meta(p).name)));
        return;
      }
      case "delete-tier-policy": {
        const p = at(tierPolicies, e.policy);
        if (p) del({ kind: p["kind"] as Ref["kind"], namespace: "", name: meta(p).name });
        return;
      }
      case "relabel-node": {
        const n = at(nodes, e.node);
        if (n) put(clean({ ...n, metadata: { ...meta(n), labels: { ...meta(n).labels, zone: e.zone } } }));
        return;
      }
    }
  });
  const existing = new Set(model.map((m) => refKey(String(m["kind"]), meta(m).namespace ?? "", meta(m).name)));
  const gone = new Set([...ops.values()].flatMap((o) => ("delete" in o && o.delete.kind === "Namespace" ? [o.delete.name] : [])));
  const apply: Manifest[] = [];
  const deletes: Ref[] = [];
  for (const [key, o] of ops) {
    if ("put" in o) {
      const ns = meta(o.put).namespace;
      if (o.put["kind"] === "Namespace" ? !gone.has(meta(o.put).name) : ns === undefined || !gone.has(ns)) apply.push(o.put);
    } else if (existing.has(key) && (o.delete.kind === "Namespace" || !gone.has(o.delete.namespace))) {
      deletes.push(o.delete);
    }
  }
  return { apply, delete: deletes };
}

/** A changed tier policy keeps its kind (a ClusterNetworkPolicy may move to the other tier). */
function kindOf(p: Manifest, spec: TierPolicySpec): TierPolicySpec["kind"] {
  switch (p["kind"]) {
    case "AdminNetworkPolicy":
      return "AdminNetworkPolicy";
    case "BaselineAdminNetworkPolicy":
      return "BaselineAdminNetworkPolicy";
    default:
      return spec.kind === "Admin" || spec.kind === "Baseline" ? spec.kind : "Admin";
  }
}
