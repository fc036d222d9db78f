/**
 * Random cluster-scoped policies for the random models of
 * test/rules/random-model.ts: ClusterNetworkPolicies of both tiers,
 * AdminNetworkPolicies and the BaselineAdminNetworkPolicy, every action each
 * kind has, subjects by namespace and by pod, peers of every kind
 * (namespaces and pods; for egress also nodes, networks and domain names),
 * port numbers, ranges and named ports, and priorities that tie. The models'
 * nodes get labels for nodes peers to read, and some networks hold the
 * addresses of the twins of test/analysis/support.ts and not those of the
 * pods they are twins of.
 */
import fc from "fast-check";
import type { Manifest } from "./support.js";

/** The labels of the random models' nodes (`zone` is the one twins of a node flip). */
export const NODE_LABELS: Readonly<Record<string, Record<string, string>>> = {
  "node-1": { zone: "a", "kubernetes.io/hostname": "node-1" },
  "node-2": { zone: "b", "kubernetes.io/hostname": "node-2" },
};

const namespaceSelector = fc.constantFrom<Manifest>(
  {},
  { matchLabels: { team: "x" } },
  { matchLabels: { "kubernetes.io/metadata.name": "ns-a" } },
  { matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] },
  { matchExpressions: [{ key: "env", operator: "DoesNotExist" }] },
);

const podSelector = fc.constantFrom<Manifest>(
  {},
  { matchLabels: { app: "web" } },
  { matchExpressions: [{ key: "tier", operator: "In", values: ["fe"] }] },
  { matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] },
);

const nodeSelector = fc.constantFrom<Manifest>(
  {},
  { matchLabels: { zone: "a" } },
  { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
  { matchLabels: { "kubernetes.io/hostname": "node-2" } },
);

/** Pods are at 10.1.N.10+ and fd10::N:10+, their twins at .200+, nodes at 10.0.0.N and fd00::N. */
const NETWORKS: readonly string[][] = [
  ["10.1.1.0/24"],
  ["10.1.0.0/16", "fd10::/16"],
  ["10.0.0.0/24"],
  ["10.1.1.192/26", "10.1.2.192/26"],
  ["0.0.0.0/0"],
  ["fd10::1:0/112", "fd00::/64"],
  ["10.1.2.8/29"],
];

type Dir = "ingress" | "egress";

const peer = (dir: Dir) =>
  dir === "ingress"
    ? fc.oneof(fc.record({ namespaces: namespaceSelector }), fc.record({ pods: fc.record({ namespaceSelector, podSelector }) }))
    : fc.oneof(
        { arbitrary: fc.record({ namespaces: namespaceSelector }), weight: 2 },
        { arbitrary: fc.record({ pods: fc.record({ namespaceSelector, podSelector }) }), weight: 2 },
        { arbitrary: fc.record({ nodes: nodeSelector }), weight: 2 },
        { arbitrary: fc.record({ networks: fc.constantFrom(...NETWORKS) }), weight: 2 },
        fc.constant({ domainNames: ["example.com", "*.example.org"] }),
      );

/** A port entry, as the kinds have it in common. */
type Port = { readonly protocol: "TCP" | "UDP" | "SCTP"; readonly from: number; readonly to: number } | { readonly named: string };

const port: fc.Arbitrary<Port> = fc.oneof(
  fc.record({ protocol: fc.constantFrom("TCP" as const, "UDP" as const, "SCTP" as const), from: fc.constantFrom(53, 80, 8080) }).map((p) => ({ ...p, to: p.from })),
  fc.record({ protocol: fc.constantFrom("TCP" as const, "UDP" as const), range: fc.constantFrom([80, 81], [8000, 9100], [50, 60]) }).map((p) => ({
    protocol: p.protocol,
    from: p.range[0]!,
    to: p.range[1]!,
  })),
  { arbitrary: fc.record({ named: fc.constantFrom("http", "dns", "assoc") }), weight: 2 },
);

const rule = (dir: Dir) =>
  fc.record({
    action: fc.constantFrom("Accept", "Deny", "Pass"),
    peers: fc.array(peer(dir), { minLength: 1, maxLength: 3 }),
    ports: fc.option(fc.array(port, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  });

type Rule = { action: string; peers: Manifest[]; ports: Port[] | undefined };

export const tierPolicyArb = fc.record({
  kind: fc.constantFrom("Admin", "Baseline", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"),
  priority: fc.nat(3),
  subject: fc.oneof(fc.record({ namespaces: namespaceSelector }), fc.record({ pods: fc.record({ namespaceSelector, podSelector }) })),
  ingress: fc.array(rule("ingress"), { maxLength: 3 }),
  egress: fc.array(rule("egress"), { maxLength: 3 }),
});

export type TierPolicySpec = typeof tierPolicyArb extends fc.Arbitrary<infer T> ? T : never;

/** Up to four policies, as manifests named tp-0, tp-1, ... (one BaselineAdminNetworkPolicy at most: it is named default). */
export const tierPoliciesArb: fc.Arbitrary<Manifest[]> = fc.array(tierPolicyArb, { maxLength: 4 }).map((specs) => {
  let baseline = false;
  return specs.flatMap((s, i) => {
    if (s.kind === "BaselineAdminNetworkPolicy") {
      if (baseline) return [];
      baseline = true;
    }
    return [tierManifest(s, `tp-${i}`)];
  });
});

/** The model with its nodes labelled and the tier policies added. */
export function withTiers(model: readonly Manifest[], tiers: readonly Manifest[]): Manifest[] {
  const labelled = model.map((m) => {
    if (m["kind"] !== "Node") return m;
    const meta = m["metadata"] as { name: string };
    return { ...m, metadata: { ...meta, labels: NODE_LABELS[meta.name] ?? {} } };
  });
  return [...labelled, ...tiers];
}

/** A host-network pod on each node (`ns-a/agent-<node>`, at the node's addresses): what nodes peers reach. */
export function hostAgents(nodes: readonly { name: string; v4: string; v6: string }[]): Manifest[] {
  return nodes.map((n) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `agent-${n.name}`, namespace: "ns-a", labels: { app: "agent" } },
    spec: { nodeName: n.name, hostNetwork: true, containers: [{ name: "c" }] },
    status: { phase: "Running", podIP: n.v4, podIPs: [{ ip: n.v4 }, { ip: n.v6 }] },
  }));
}

/** One policy of the spec's kind; a BaselineAdminNetworkPolicy is named default. */
export function tierManifest(s: TierPolicySpec, name: string): Manifest {
  const v1alpha1 = s.kind === "AdminNetworkPolicy" || s.kind === "BaselineAdminNetworkPolicy";
  const banp = s.kind === "BaselineAdminNetworkPolicy";
  const rules = (dir: Dir, list: readonly Rule[]) =>
    list.map((r) => {
      let peers = r.peers;
      // A BaselineAdminNetworkPolicy has no domainNames peer.
      if (banp) peers = peers.filter((p) => !("domainNames" in p));
      if (peers.length === 0) peers = [{ namespaces: {} }];
      // "networks/nodes/domainNames peer cannot be set with namedPorts".
      const addressed = peers.some((p) => "nodes" in p || "networks" in p || "domainNames" in p);
      const ports = (r.ports ?? []).filter((p) => !(addressed && "named" in p));
      const action = r.action === "Accept" && v1alpha1 ? "Allow" : banp && r.action === "Pass" ? "Deny" : r.action;
      const out: Manifest = { action, [dir === "ingress" ? "from" : "to"]: peers };
      if (r.ports !== undefined && ports.length > 0) out[v1alpha1 ? "ports" : "protocols"] = ports.map((p) => (v1alpha1 ? v1alpha1Port(p) : v1alpha2Port(p)));
      return out;
    });
  const body = {
    subject: s.subject,
    ...(s.ingress.length > 0 ? { ingress: rules("ingress", s.ingress) } : {}),
    ...(s.egress.length > 0 ? { egress: rules("egress", s.egress) } : {}),
  };
  switch (s.kind) {
    case "Admin":
    case "Baseline":
      return { apiVersion: "policy.networking.k8s.io/v1alpha2", kind: "ClusterNetworkPolicy", metadata: { name }, spec: { tier: s.kind, priority: s.priority, ...body } };
    case "AdminNetworkPolicy":
      return { apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "AdminNetworkPolicy", metadata: { name }, spec: { priority: s.priority, ...body } };
    case "BaselineAdminNetworkPolicy":
      return { apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "BaselineAdminNetworkPolicy", metadata: { name: "default" }, spec: body };
  }
}

function v1alpha2Port(p: Port): Manifest {
  if ("named" in p) return { destinationNamedPort: p.named };
  const destinationPort = p.from === p.to ? { number: p.from } : { range: { start: p.from, end: p.to } };
  return { [p.protocol.toLowerCase()]: { destinationPort } };
}

function v1alpha1Port(p: Port): Manifest {
  if ("named" in p) return { namedPort: p.named };
  return p.from === p.to ? { portNumber: { protocol: p.protocol, port: p.from } } : { portRange: { protocol: p.protocol, start: p.from, end: p.to } };
}
