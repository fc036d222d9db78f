/**
 * Random small clusters for property tests: three namespaces, two dual-stack
 * nodes, a few pods (some on the host network, pending without an IP,
 * terminated, dual-stack) with named container ports, and a few policies that
 * mix pod, namespace and ipBlock peers (with except), named ports, endPort
 * ranges, protocols, ingress and egress, and empty-versus-missing lists.
 *
 * Models are plain manifests (JSON objects), applied as kubectl would.
 */
import fc from "fast-check";

export const NODES = [
  { name: "node-1", v4: "10.0.0.1", v6: "fd00::1" },
  { name: "node-2", v4: "10.0.0.2", v6: "fd00::2" },
] as const;

export const NAMESPACES = ["ns-a", "ns-b", "ns-c"] as const;

/** Addresses of no pod and no node, per family (terminated pods' addresses join them). */
export const EXTERNALS = {
  ipv4: ["192.168.1.5", "10.2.0.1", "10.1.1.99", "8.8.8.8"],
  ipv6: ["2001:db8::5", "fd10::1:99", "2600::1"],
} as const;

/** The protocols and ports each pair of endpoints is checked on. */
export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const PORTS = [53, 80, 81, 8080, 9090, 9100] as const;

/** Container ports by choice: `http` is the one whose number varies per pod. */
const CONTAINER_PORTS = {
  http: (n: number) => ({ name: "http", containerPort: n, protocol: "TCP" }),
  dns: () => ({ name: "dns", containerPort: 53, protocol: "UDP" }),
  assoc: () => ({ name: "assoc", containerPort: 8080, protocol: "SCTP" }),
  metrics: () => ({ name: "metrics", containerPort: 9100, protocol: "TCP" }),
  plain: () => ({ containerPort: 81 }),
} as const;

const IP_BLOCKS = [
  { cidr: "10.1.0.0/16", except: ["10.1.1.0/24"] },
  { cidr: "10.0.0.0/8", except: ["10.1.2.0/24", "10.1.1.11/32"] },
  { cidr: "0.0.0.0/0", except: ["10.1.0.0/16"] },
  { cidr: "0.0.0.0/0" },
  { cidr: "0.0.0.0/0", except: ["0.0.0.0/1"] },
  { cidr: "10.1.1.0/24" },
  { cidr: "10.1.2.12/32" },
  { cidr: "192.168.0.0/16", except: ["192.168.1.0/24"] },
  { cidr: "10.0.0.0/24" },
  { cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.1.0.0/16"] },
  { cidr: "fd10::/16", except: ["fd10::1:0/112"] },
  { cidr: "::/0", except: ["fd10::/16"] },
  { cidr: "::/0" },
  { cidr: "2001:db8::/32" },
  { cidr: "fd00::/64" },
];

const podSelector = fc.constantFrom<Record<string, unknown>>(
  {},
  { matchLabels: { app: "web" } },
  { matchLabels: { app: "db" } },
  { matchExpressions: [{ key: "tier", operator: "In", values: ["fe"] }] },
  { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web", "db"] }] },
  { matchExpressions: [{ key: "tier", operator: "Exists" }] },
  { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] },
  { matchLabels: { app: "api" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["be"] }] },
);

const namespaceSelector = fc.constantFrom<Record<string, unknown>>(
  {},
  { matchLabels: { team: "x" } },
  { matchLabels: { "kubernetes.io/metadata.name": "ns-b" } },
  { matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] },
  { matchExpressions: [{ key: "team", operator: "Exists" }] },
);

const peer = fc.oneof(fc.record({ podSelector }), fc.record({ namespaceSelector }), fc.record({ namespaceSelector, podSelector }), {
  arbitrary: fc.record({ ipBlock: fc.constantFrom(...IP_BLOCKS) }),
  weight: 2,
});

const protocol = fc.constantFrom(undefined, "TCP", "UDP", "SCTP");

const port = fc.oneof(
  fc.record({ protocol, port: fc.constantFrom(53, 80, 81, 8080, 9090) }),
  { arbitrary: fc.record({ protocol, port: fc.constantFrom("http", "dns", "assoc", "metrics") }), weight: 3 },
  fc.record({ protocol, range: fc.constantFrom([80, 81], [8000, 9100], [50, 60]) }).map(({ protocol, range }) => ({ protocol, port: range[0], endPort: range[1] })),
  fc.record({ protocol: fc.constantFrom("TCP", "UDP", "SCTP") }),
);

const rule = (peerKey: "from" | "to") =>
  fc
    .record({ peers: fc.option(fc.array(peer, { maxLength: 3 }), { nil: undefined }), ports: fc.option(fc.array(port, { maxLength: 3 }), { nil: undefined }) })
    .map((r) => ({ [peerKey]: r.peers, ports: r.ports }));

const policy = fc.record({
  ns: fc.nat(NAMESPACES.length - 1),
  podSelector,
  types: fc.constantFrom<readonly string[] | undefined>(["Ingress"], ["Egress"], ["Ingress", "Egress"], undefined),
  ingress: fc.option(fc.array(rule("from"), { maxLength: 3 }), { nil: undefined }),
  egress: fc.option(fc.array(rule("to"), { maxLength: 3 }), { nil: undefined }),
});

type PodState = "running" | "pending" | "host-network" | "no-ip" | "succeeded";

const pod = fc.record({
  ns: fc.nat(NAMESPACES.length - 1),
  node: fc.nat(NODES.length - 1),
  app: fc.constantFrom(undefined, "web", "db", "api"),
  tier: fc.constantFrom(undefined, "fe", "be"),
  state: fc.oneof({ arbitrary: fc.constant<PodState>("running"), weight: 8 }, { arbitrary: fc.constantFrom<PodState>("pending", "host-network", "no-ip", "succeeded"), weight: 2 }),
  dual: fc.boolean(),
  http: fc.constantFrom(80, 8080, 9090),
  ports: fc.subarray(["http", "dns", "assoc", "metrics", "plain"] as const),
});

const namespaceLabels = fc.record({ team: fc.constantFrom(undefined, "x", "y"), env: fc.constantFrom(undefined, "prod", "dev") });

/** A random model as manifests. */
export const modelArb: fc.Arbitrary<Record<string, unknown>[]> = fc
  .record({
    nsLabels: fc.tuple(namespaceLabels, namespaceLabels, namespaceLabels),
    pods: fc.array(pod, { minLength: 2, maxLength: 7 }),
    policies: fc.array(policy, { minLength: 1, maxLength: 4 }),
  })
  .map((m) => clean(build(m)));

type Of<A> = A extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  readonly nsLabels: readonly Of<typeof namespaceLabels>[];
  readonly pods: readonly Of<typeof pod>[];
  readonly policies: readonly Of<typeof policy>[];
  readonly nodeLabels?: readonly Record<string, string | undefined>[];
}

function build(m: Built): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  NAMESPACES.forEach((name, i) => out.push({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: m.nsLabels[i] } }));
  for (const [i, n] of NODES.entries()) {
    out.push({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: n.name, ...(m.nodeLabels ? { labels: m.nodeLabels[i] } : {}) },
      status: {
        addresses: [
          { type: "InternalIP", address: n.v4 },
          { type: "InternalIP", address: n.v6 },
          { type: "Hostname", address: n.name },
        ],
      },
    });
  }
  m.pods.forEach((p, i) => {
    const node = NODES[p.node]!;
    const v4 = `10.1.${p.node + 1}.${10 + i}`;
    const v6 = `fd10::${p.node + 1}:${10 + i}`;
    let ips: string[] = [];
    let phase = "Running";
    if (p.state === "host-network") ips = p.dual ? [node.v4, node.v6] : [node.v4];
    else if (p.state === "no-ip") phase = "Pending";
    else ips = p.dual ? [v4, v6] : [v4];
    if (p.state === "pending") phase = "Pending";
    if (p.state === "succeeded") phase = "Succeeded";
    out.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `p${i}`, namespace: NAMESPACES[p.ns], labels: { app: p.app, tier: p.tier } },
      spec: {
        nodeName: node.name,
        ...(p.state === "host-network" ? { hostNetwork: true } : {}),
        containers: [{ name: "c", ports: p.ports.map((k) => CONTAINER_PORTS[k](p.http)) }],
      },
      status: { phase, ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) },
    });
  });
  m.policies.forEach((p, i) => {
    const types = p.types ?? (p.egress ? ["Ingress", "Egress"] : ["Ingress"]);
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `pol-${i}`, namespace: NAMESPACES[p.ns] },
      spec: {
        podSelector: p.podSelector,
        ...(p.types ? { policyTypes: p.types } : {}),
        ...(types.includes("Ingress") && p.ingress !== undefined ? { ingress: p.ingress } : {}),
        ...(types.includes("Egress") && p.egress !== undefined ? { egress: p.egress } : {}),
      },
    });
  });
  return out;
}

/** Drops undefined fields, as a manifest would not have them. */
function clean<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

// ----- the policy tiers -----

const nodeLabels = fc.record({ zone: fc.constantFrom(undefined, "a", "b"), role: fc.constantFrom(undefined, "infra") });

const nodeSelector = fc.constantFrom<Record<string, unknown>>(
  {},
  { matchLabels: { zone: "a" } },
  { matchLabels: { zone: "b" } },
  { matchExpressions: [{ key: "role", operator: "Exists" }] },
  { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
);

/** `networks` of a peer: CIDRs that hold pods, nodes, outside addresses, both families. */
const NETWORKS: readonly (readonly string[])[] = [
  ["10.1.0.0/16"],
  ["10.1.1.0/24", "fd10::1:0/112"],
  ["10.0.0.0/24"],
  ["10.0.0.1/32", "fd00::2/128"],
  ["0.0.0.0/0"],
  ["::/0", "192.168.0.0/16"],
  ["8.8.8.8/32", "2001:db8::/32"],
  ["10.1.2.0/24", "10.2.0.0/16"],
  ["fd00::/64"],
];

const tierPodsPeer = fc.record({ namespaceSelector, podSelector });
const ingressTierPeer = fc.oneof(fc.record({ namespaces: namespaceSelector }), fc.record({ pods: tierPodsPeer }));

const egressTierPeer = (domains: boolean) =>
  fc.oneof(
    { arbitrary: ingressTierPeer, weight: 3 },
    { arbitrary: fc.record({ nodes: nodeSelector }), weight: 2 },
    { arbitrary: fc.record({ networks: fc.constantFrom(...NETWORKS) }), weight: 2 },
    { arbitrary: fc.constant(domains ? { domainNames: ["*.example.com", "example.org"] } : { networks: ["10.0.0.2/32"] }), weight: 1 },
  );

const NAMED = ["http", "dns", "assoc", "metrics", "nothing"] as const;

/** ClusterNetworkPolicy `protocols[]`. */
const cnpPort: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ p: fc.constantFrom("tcp", "udp", "sctp"), n: fc.constantFrom(53, 80, 81, 8080, 9100) }).map(({ p, n }) => ({ [p]: { destinationPort: { number: n } } })),
  fc
    .record({ p: fc.constantFrom("tcp", "udp", "sctp"), r: fc.constantFrom([80, 81], [8000, 9100], [50, 60]) })
    .map(({ p, r }) => ({ [p]: { destinationPort: { range: { start: r[0], end: r[1] } } } })),
  { arbitrary: fc.constantFrom(...NAMED).map((name) => ({ destinationNamedPort: name })), weight: 2 },
);

/** AdminNetworkPolicy and BaselineAdminNetworkPolicy `ports[]`. */
const anpPort: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ protocol: fc.constantFrom(undefined, "TCP", "UDP", "SCTP"), port: fc.constantFrom(53, 80, 81, 8080, 9100) }).map((x) => ({ portNumber: x })),
  fc
    .record({ protocol: fc.constantFrom(undefined, "TCP", "UDP", "SCTP"), r: fc.constantFrom([80, 81], [8000, 9100], [50, 60]) })
    .map(({ protocol, r }) => ({ portRange: { protocol, start: r[0], end: r[1] } })),
  { arbitrary: fc.constantFrom(...NAMED).map((name) => ({ namedPort: name })), weight: 2 },
);

type TierKindName = "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";

const RULE_NAMES = [undefined, "dns", "deny all", 'say "hi"'];

/** One rule of a tier policy, valid for its kind: "networks/nodes/domainNames peer cannot be set with namedPorts". */
function tierRule(kind: TierKindName, dir: "ingress" | "egress") {
  // Deny twice as often: most rules of the other actions leave the connection allowed.
  const actions =
    kind === "ClusterNetworkPolicy" ? ["Accept", "Deny", "Deny", "Pass"] : kind === "AdminNetworkPolicy" ? ["Allow", "Deny", "Deny", "Pass"] : ["Allow", "Deny", "Deny"];
  const peer = dir === "ingress" ? ingressTierPeer : egressTierPeer(kind !== "BaselineAdminNetworkPolicy");
  const portsKey = kind === "ClusterNetworkPolicy" ? "protocols" : "ports";
  return fc
    .record({
      name: fc.constantFrom(...RULE_NAMES),
      action: fc.constantFrom(...actions),
      peers: fc.array(peer, { minLength: 1, maxLength: 3 }),
      ports: fc.option(fc.array(kind === "ClusterNetworkPolicy" ? cnpPort : anpPort, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    })
    .map((r) => {
      const addressed = r.peers.some((p) => "nodes" in p || "networks" in p || "domainNames" in p);
      const named = (p: Record<string, unknown>) => "destinationNamedPort" in p || "namedPort" in p;
      const ports = dir === "egress" && addressed ? r.ports?.filter((p) => !named(p)) : r.ports;
      return { name: r.name, action: r.action, [dir === "ingress" ? "from" : "to"]: r.peers, ...(ports?.length ? { [portsKey]: ports } : {}) };
    });
}

const tierSubject = fc.oneof(fc.record({ namespaces: namespaceSelector }), fc.record({ pods: tierPodsPeer }));

const tierPolicy = fc
  .constantFrom<[TierKindName, "Admin" | "Baseline" | undefined]>(
    ["ClusterNetworkPolicy", "Admin"],
    ["ClusterNetworkPolicy", "Admin"],
    ["ClusterNetworkPolicy", "Baseline"],
    ["ClusterNetworkPolicy", "Baseline"],
    ["AdminNetworkPolicy", undefined],
    ["BaselineAdminNetworkPolicy", undefined],
  )
  .chain(([kind, tier]) =>
    fc.record({
      kind: fc.constant(kind),
      tier: fc.constant(tier),
      priority: fc.nat(3),
      subject: tierSubject,
      ingress: fc.array(tierRule(kind, "ingress"), { maxLength: 3 }),
      egress: fc.array(tierRule(kind, "egress"), { maxLength: 3 }),
    }),
  );

/** The manifests of tier policies: names by position, at most one BaselineAdminNetworkPolicy ("default"). */
function buildTierPolicies(policies: readonly Of<typeof tierPolicy>[]): Record<string, unknown>[] {
  let baselineAdmin = false;
  const out: Record<string, unknown>[] = [];
  policies.forEach((p, i) => {
    if (p.kind === "BaselineAdminNetworkPolicy") {
      if (baselineAdmin) return;
      baselineAdmin = true;
    }
    const v1alpha2 = p.kind === "ClusterNetworkPolicy";
    out.push({
      apiVersion: `policy.networking.k8s.io/${v1alpha2 ? "v1alpha2" : "v1alpha1"}`,
      kind: p.kind,
      metadata: { name: p.kind === "BaselineAdminNetworkPolicy" ? "default" : `tier-${i}` },
      spec: {
        ...(v1alpha2 ? { tier: p.tier } : {}),
        ...(p.kind === "BaselineAdminNetworkPolicy" ? {} : { priority: p.priority }),
        subject: p.subject,
        ...(p.ingress.length ? { ingress: p.ingress } : {}),
        ...(p.egress.length ? { egress: p.egress } : {}),
      },
    });
  });
  return out;
}

/**
 * A random model with the policy tiers: as modelArb, with labelled nodes and
 * one to four cluster-scoped policies of every kind and tier (priorities in
 * 0..3, so ties happen), every action, subjects of namespaces and of pods, and
 * every peer (nodes and networks among them) and port (named ones too).
 */
export const tieredModelArb: fc.Arbitrary<Record<string, unknown>[]> = fc
  .record({
    nsLabels: fc.tuple(namespaceLabels, namespaceLabels, namespaceLabels),
    nodeLabels: fc.tuple(nodeLabels, nodeLabels),
    pods: fc.array(pod, { minLength: 2, maxLength: 7 }),
    policies: fc.array(policy, { maxLength: 3 }),
    tiers: fc.array(tierPolicy, { minLength: 1, maxLength: 4 }),
  })
  .map((m) => clean([...build(m), ...buildTierPolicies(m.tiers)]));
