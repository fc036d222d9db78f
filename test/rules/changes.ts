/**
 * Random sequences of changes on the `small` profile, made through the
 * service's public writes as kubectl would: what the incremental rulesets and
 * the deltas are proven over; with the policy tiers, also cluster-scoped
 * policies added, changed and deleted, and nodes relabelled.
 */
import fc from "fast-check";
import { PROFILES, type Manifest, allObjects, generate } from "../../bench/generate.js";
import { type PodwallService, SYSTEM } from "../../server/service/index.js";

export const base = generate(PROFILES["small"]!);
const clone = <T>(x: T): T => structuredClone(x);
const meta = (m: Manifest) => m["metadata"] as { name: string; namespace?: string; labels?: Record<string, string> };

export type Change =
  | { kind: "relabel-pod"; pod: number; app: number; tier: number }
  | { kind: "relabel-namespace"; ns: number; team: number }
  | { kind: "add-policy"; from: number; ns: number }
  | { kind: "delete-policy"; policy: number }
  | { kind: "move-pod"; pod: number; node: number }
  | { kind: "readdress-pod"; pod: number; host: number }
  | { kind: "terminate-pod"; pod: number }
  | { kind: "delete-pod"; pod: number }
  | { kind: "rename-port"; pod: number; port: number }
  | { kind: "readdress-node"; node: number; host: number };

const TEAMS = ["payments", "search", "identity", "checkout", "platform", "data", "ml", "web"];

export const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant("relabel-pod" as const), pod: fc.nat(), app: fc.nat(12), tier: fc.nat(2) }),
  fc.record({ kind: fc.constant("relabel-namespace" as const), ns: fc.nat(), team: fc.nat(7) }),
  fc.record({ kind: fc.constant("add-policy" as const), from: fc.nat(), ns: fc.nat() }),
  fc.record({ kind: fc.constant("delete-policy" as const), policy: fc.nat() }),
  fc.record({ kind: fc.constant("move-pod" as const), pod: fc.nat(), node: fc.nat() }),
  fc.record({ kind: fc.constant("readdress-pod" as const), pod: fc.nat(), host: fc.integer({ min: 1, max: 250 }) }),
  fc.record({ kind: fc.constant("terminate-pod" as const), pod: fc.nat() }),
  fc.record({ kind: fc.constant("delete-pod" as const), pod: fc.nat() }),
  fc.record({ kind: fc.constant("rename-port" as const), pod: fc.nat(), port: fc.integer({ min: 8000, max: 8003 }) }),
  fc.record({ kind: fc.constant("readdress-node" as const), node: fc.nat(), host: fc.integer({ min: 1, max: 250 }) }),
);

/** Applies one change to the service through its public writes. Changes that the model rejects are skipped. */
export async function applyChange(s: PodwallService, c: Change): Promise<void> {
  const model = JSON.parse(s.model(SYSTEM, "json").text) as { items: Manifest[] };
  const of = (kind: string) => model.items.filter((m) => m["kind"] === kind);
  const pods = of("Pod");
  const at = <T>(xs: T[], i: number): T | undefined => xs[i % Math.max(1, xs.length)];
  const apply = async (m: Manifest) => {
    try {
      await s.applyObjects(SYSTEM, [m]);
    } catch {
      // an address already taken, say: nothing changed, as a failed write must
    }
  };
  switch (c.kind) {
    case "relabel-pod": {
      const p = at(pods, c.pod);
      if (p)
        await apply({ ...p, metadata: { ...meta(p), labels: { ...meta(p).labels, app: `app-${String(c.app).padStart(3, "0")}`, tier: ["frontend", "backend", "db"][c.tier]! } } });
      return;
    }
    case "relabel-namespace": {
      const n = at(of("Namespace"), c.ns);
      if (n) await apply({ ...n, metadata: { ...meta(n), labels: { ...meta(n).labels, team: TEAMS[c.team]! } } });
      return;
    }
    case "add-policy": {
      const p = clone(at(base.policies, c.from)!);
      const ns = at(of("Namespace"), c.ns)!;
      await apply({ ...p, metadata: { name: `added-${c.from}`, namespace: meta(ns).name } });
      return;
    }
    case "delete-policy": {
      const p = at(of("NetworkPolicy"), c.policy);
      if (p) await s.delete(SYSTEM, "NetworkPolicy", meta(p).namespace!, meta(p).name);
      return;
    }
    case "move-pod": {
      const p = at(pods, c.pod);
      const node = at(of("Node"), c.node)!;
      if (p) await apply({ ...p, spec: { ...(p["spec"] as object), nodeName: meta(node).name } });
      return;
    }
    case "readdress-pod": {
      const p = at(pods, c.pod);
      if (p) await apply({ ...p, status: { phase: "Running", podIP: `10.99.0.${c.host}` } });
      return;
    }
    case "terminate-pod": {
      const p = at(pods, c.pod);
      if (p) await apply({ ...p, status: { ...(p["status"] as object), phase: "Succeeded" } });
      return;
    }
    case "delete-pod": {
      const p = at(pods, c.pod);
      if (p) await s.delete(SYSTEM, "Pod", meta(p).namespace!, meta(p).name);
      return;
    }
    case "rename-port": {
      const p = at(pods, c.pod);
      if (p)
        await apply({
          ...p,
          spec: {
            ...(p["spec"] as object),
            containers: [
              {
                name: "main",
                ports: [
                  { name: "http", containerPort: c.port },
                  { name: "metrics", containerPort: 9090 },
                ],
              },
            ],
          },
        });
      return;
    }
    case "readdress-node": {
      const n = at(of("Node"), c.node);
      if (n) await apply({ ...n, status: { addresses: [{ type: "InternalIP", address: `172.31.0.${c.host}` }] } });
      return;
    }
  }
}

// ----- the policy tiers -----

const v1alpha2 = "policy.networking.k8s.io/v1alpha2";
const v1alpha1 = "policy.networking.k8s.io/v1alpha1";
const team = (t: string) => ({ matchLabels: { team: t } });

/**
 * Cluster-scoped policies on the small profile, of every kind and tier, with
 * every action and peer type: namespaces and pods (by team and tier labels
 * that relabels move), nodes (by zone), networks (pods readdressed move into
 * 10.99.0.0/24), named ports of any protocol.
 */
export const TIER_TEMPLATES: readonly ((priority: number, teamOf: string) => Manifest)[] = [
  (priority, t) => ({
    apiVersion: v1alpha2,
    kind: "ClusterNetworkPolicy",
    metadata: { name: `guard-${t}` },
    spec: {
      tier: "Admin",
      priority,
      subject: { namespaces: team(t) },
      ingress: [{ name: "from-payments", action: "Pass", from: [{ namespaces: team("payments") }] }],
      egress: [
        { name: "moved", action: "Deny", to: [{ networks: ["10.99.0.0/24"] }] },
        { name: "zone-0", action: "Accept", to: [{ nodes: { matchLabels: { "topology.kubernetes.io/zone": "zone-0" } } }] },
      ],
    },
  }),
  (priority, t) => ({
    apiVersion: v1alpha1,
    kind: "AdminNetworkPolicy",
    metadata: { name: `frontends-${t}` },
    spec: {
      priority,
      subject: { pods: { namespaceSelector: team(t), podSelector: { matchLabels: { tier: "frontend" } } } },
      ingress: [
        { action: "Allow", from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { tier: "backend" } } } }], ports: [{ namedPort: "http" }] },
        { action: "Deny", from: [{ namespaces: {} }] },
      ],
      egress: [
        {
          action: "Allow",
          to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { tier: "db" } } } }],
          ports: [{ namedPort: "http" }, { portNumber: { port: 9090 } }],
        },
      ],
    },
  }),
  (priority, t) => ({
    apiVersion: v1alpha2,
    kind: "ClusterNetworkPolicy",
    metadata: { name: `baseline-${t}` },
    spec: {
      tier: "Baseline",
      priority,
      subject: { namespaces: { matchExpressions: [{ key: "team", operator: "NotIn", values: [t] }] } },
      ingress: [{ action: "Deny", from: [{ namespaces: team(t) }] }],
      egress: [
        { action: "Deny", to: [{ nodes: {} }], protocols: [{ tcp: { destinationPort: { number: 10250 } } }] },
        { action: "Accept", to: [{ pods: { namespaceSelector: team(t), podSelector: {} } }], protocols: [{ destinationNamedPort: "metrics" }] },
      ],
    },
  }),
  (_priority, t) => ({
    apiVersion: v1alpha1,
    kind: "BaselineAdminNetworkPolicy",
    metadata: { name: "default" },
    spec: {
      subject: { namespaces: team(t) },
      ingress: [{ action: "Deny", from: [{ namespaces: { matchLabels: { env: "dev" } } }] }],
      egress: [{ action: "Deny", to: [{ networks: ["0.0.0.0/0"] }, { nodes: { matchLabels: { "topology.kubernetes.io/zone": "zone-1" } } }] }],
    },
  }),
];

export type TierChange =
  | Change
  | { kind: "add-tier-policy"; template: number; priority: number; team: number }
  | { kind: "change-tier-policy"; policy: number; action: number }
  | { kind: "delete-tier-policy"; policy: number }
  | { kind: "relabel-node"; node: number; zone: number };

export const tierChange: fc.Arbitrary<TierChange> = fc.oneof(
  { arbitrary: change, weight: 2 },
  // Namespaces' labels choose the subjects: relabelled more often than among the other changes.
  fc.record({ kind: fc.constant("relabel-namespace" as const), ns: fc.nat(), team: fc.nat(7) }),
  fc.record({ kind: fc.constant("add-tier-policy" as const), template: fc.nat(TIER_TEMPLATES.length - 1), priority: fc.nat(3), team: fc.nat(TEAMS.length - 1) }),
  fc.record({ kind: fc.constant("change-tier-policy" as const), policy: fc.nat(), action: fc.nat(2) }),
  fc.record({ kind: fc.constant("delete-tier-policy" as const), policy: fc.nat() }),
  fc.record({ kind: fc.constant("relabel-node" as const), node: fc.nat(), zone: fc.nat(3) }),
);

const TIER_KIND_NAMES = ["ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"] as const;

/** The small profile with two cluster-scoped policies. */
export const tieredBase: Manifest[] = [...allObjects(base), TIER_TEMPLATES[0]!(5, "payments"), TIER_TEMPLATES[2]!(5, "search")];

/** Applies one change, of the policy tiers or another, through the service's public writes. */
export async function applyTierChange(s: PodwallService, c: TierChange): Promise<void> {
  const model = JSON.parse(s.model(SYSTEM, "json").text) as { items: Manifest[] };
  const tiers = model.items.filter((m) => (TIER_KIND_NAMES as readonly unknown[]).includes(m["kind"]));
  const at = <T>(xs: T[], i: number): T | undefined => xs[i % Math.max(1, xs.length)];
  switch (c.kind) {
    case "add-tier-policy":
      await s.applyObjects(SYSTEM, [TIER_TEMPLATES[c.template]!(c.priority, TEAMS[c.team]!)]);
      return;
    case "change-tier-policy": {
      const p = at(tiers, c.policy);
      if (!p) return;
      const spec = clone(p["spec"] as { ingress?: { action: string }[]; egress?: { action: string }[] });
      const words = p["kind"] === "ClusterNetworkPolicy" ? ["Accept", "Deny", "Pass"] : p["kind"] === "AdminNetworkPolicy" ? ["Allow", "Deny", "Pass"] : ["Allow", "Deny"];
      const rule = spec.egress?.[0] ?? spec.ingress?.[0];
      if (rule) rule.action = words[c.action % words.length]!;
      await s.applyObjects(SYSTEM, [{ ...p, spec }]);
      return;
    }
    case "delete-tier-policy": {
      const p = at(tiers, c.policy);
      if (p) await s.delete(SYSTEM, p["kind"] as (typeof TIER_KIND_NAMES)[number], "", meta(p).name);
      return;
    }
    case "relabel-node": {
      const n = at(
        model.items.filter((m) => m["kind"] === "Node"),
        c.node,
      );
      if (n) await s.applyObjects(SYSTEM, [{ ...n, metadata: { ...meta(n), labels: { ...meta(n).labels, "topology.kubernetes.io/zone": `zone-${c.zone}` } } }]);
      return;
    }
    default:
      await applyChange(s, c);
  }
}
