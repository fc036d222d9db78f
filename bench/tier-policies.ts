/**
 * Deterministic cluster-scoped policies for a generated cluster (generate.ts):
 * an Admin tier of ClusterNetworkPolicies (v1alpha2, `tier: Admin`) and
 * AdminNetworkPolicies (v1alpha1), and the one BaselineAdminNetworkPolicy
 * `default`. As platform teams write them: subjects by namespace labels (team,
 * env) and some by pods (tier, app); rules that accept, deny and pass, from
 * and to namespaces, pods, nodes and networks, on port numbers, ranges and
 * named ports; priorities spread over 0..1000, with ties.
 */
import { ENVS, type Generated, type Manifest, TEAMS, rng } from "./generate.js";

type Action = "Accept" | "Deny" | "Pass";
type Selector = Manifest;
type Peer = { namespaces: Selector } | { pods: { namespaceSelector: Selector; podSelector: Selector } } | { nodes: Selector } | { networks: string[] };
type Port = { protocol: "TCP" | "UDP"; port: number } | { protocol: "TCP"; start: number; end: number } | { named: string };

/** One rule, before it is spelled as one kind spells it. */
interface Rule {
  readonly name: string;
  readonly action: Action;
  readonly peers: readonly Peer[];
  readonly ports?: readonly Port[];
}

const labels = (l: Record<string, string>): Selector => ({ matchLabels: l });
const inValues = (key: string, values: string[]): Selector => ({ matchExpressions: [{ key, operator: "In", values }] });
const DNS: Peer = { pods: { namespaceSelector: labels({ "kubernetes.io/metadata.name": "kube-system" }), podSelector: labels({ "k8s-app": "kube-dns" }) } };

/** Rules of subjects' ingress, each made for a team picked by the caller. */
const INGRESS: readonly ((team: string) => Rule)[] = [
  () => ({ name: "deny-from-dev", action: "Deny", peers: [{ namespaces: labels({ env: "dev" }) }] }),
  () => ({
    name: "accept-monitoring",
    action: "Accept",
    peers: [{ pods: { namespaceSelector: labels({ team: "platform" }), podSelector: labels({ tier: "backend" }) } }],
    ports: [{ named: "metrics" }],
  }),
  (team) => ({ name: `pass-from-${team}`, action: "Pass", peers: [{ namespaces: labels({ team }) }], ports: [{ named: "http" }, { protocol: "TCP", start: 8000, end: 8100 }] }),
  () => ({ name: "deny-metrics-from-others", action: "Deny", peers: [{ namespaces: {} }], ports: [{ protocol: "TCP", port: 9090 }] }),
  () => ({
    name: "accept-frontends",
    action: "Accept",
    peers: [{ pods: { namespaceSelector: {}, podSelector: labels({ tier: "frontend" }) } }],
    ports: [
      { protocol: "TCP", port: 8080 },
      { protocol: "TCP", port: 8000 },
    ],
  }),
  () => ({ name: "pass-from-staging", action: "Pass", peers: [{ namespaces: labels({ env: "staging" }) }] }),
  (team) => ({ name: `deny-grpc-from-${team}`, action: "Deny", peers: [{ namespaces: labels({ team }) }], ports: [{ named: "grpc" }, { protocol: "TCP", port: 50051 }] }),
  (team) => ({
    name: `accept-dns-from-${team}`,
    action: "Accept",
    peers: [{ namespaces: labels({ team }) }, { pods: { namespaceSelector: {}, podSelector: labels({ app: "app-000" }) } }],
    ports: [{ protocol: "UDP", port: 53 }],
  }),
];

/** Rules of subjects' egress; named ports only where every peer is a pod (the CRDs' rule). */
const EGRESS: readonly ((team: string, zone: number) => Rule)[] = [
  () => ({
    name: "accept-dns",
    action: "Accept",
    peers: [DNS],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  }),
  () => ({ name: "deny-cloud-metadata", action: "Deny", peers: [{ networks: ["169.254.169.254/32"] }] }),
  (_, zone) => ({
    name: `accept-kubelet-zone-${zone}`,
    action: "Accept",
    peers: [{ nodes: labels({ "topology.kubernetes.io/zone": `zone-${zone}` }) }],
    ports: [{ protocol: "TCP", port: 10250 }],
  }),
  () => ({ name: "deny-to-dev", action: "Deny", peers: [{ namespaces: labels({ env: "dev" }) }] }),
  (team) => ({
    name: `pass-to-${team}`,
    action: "Pass",
    peers: [{ namespaces: labels({ team }) }],
    ports: [
      { protocol: "TCP", port: 8080 },
      { protocol: "TCP", start: 8000, end: 8100 },
    ],
  }),
  (_, zone) => ({ name: `deny-metrics-in-10.${zone}`, action: "Deny", peers: [{ networks: [`10.${zone}.0.0/16`] }], ports: [{ protocol: "TCP", port: 9090 }] }),
  (team) => ({
    name: `accept-db-of-${team}`,
    action: "Accept",
    peers: [{ pods: { namespaceSelector: labels({ team }), podSelector: labels({ tier: "db" }) } }],
    ports: [{ named: "http" }, { protocol: "TCP", port: 5432 }],
  }),
  () => ({ name: "accept-https-out", action: "Accept", peers: [{ networks: ["0.0.0.0/0"] }], ports: [{ protocol: "TCP", port: 443 }] }),
];

/**
 * `count` Admin-tier policies, then the BaselineAdminNetworkPolicy `default`,
 * the same for the same cluster and seed. Every other policy is a
 * ClusterNetworkPolicy; about one in eight shares an earlier one's priority.
 */
export function tierPolicies(g: Generated, count = 100, seed = 3): Manifest[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // Between min and max of xs, distinct, in a random order (a partial Fisher-Yates shuffle).
  const some = <T>(xs: readonly T[], min: number, max: number): T[] => {
    const n = min + Math.floor(rand() * (max - min + 1));
    const ys = [...xs];
    for (let k = 0; k < n; k++) {
      const j = k + Math.floor(rand() * (ys.length - k));
      [ys[k], ys[j]] = [ys[j]!, ys[k]!];
    }
    return ys.slice(0, n);
  };
  const apps = [...new Set(g.pods.map((p) => (p["metadata"] as { labels: Record<string, string> }).labels["app"]).filter((a) => a !== undefined))];
  const priorities: number[] = [];
  const out: Manifest[] = [];
  for (let i = 0; i < count; i++) {
    const priority = i > 0 && rand() < 0.125 ? pick(priorities) : Math.floor(rand() * 1001);
    priorities.push(priority);
    const team = pick(TEAMS);
    const zone = Math.floor(rand() * 3);
    const subject = pickSubject(rand, pick, apps);
    // One in ten policies is about one direction only.
    const only = rand();
    const ingress = only < 0.05 ? [] : some(INGRESS, 1, 3).map((r) => r(team));
    const egress = only >= 0.05 && only < 0.1 ? [] : some(EGRESS, 1, 3).map((r) => r(team, zone));
    const name = `admin-${String(i).padStart(3, "0")}-${ingress[0]?.name ?? egress[0]?.name}`;
    out.push(i % 2 === 0 ? clusterNetworkPolicy(name, priority, subject, ingress, egress) : adminNetworkPolicy(name, priority, subject, ingress, egress));
  }
  out.push(baselineDefault());
  return out;
}

type Subject = { namespaces: Selector } | { pods: { namespaceSelector: Selector; podSelector: Selector } };

/** Seven in ten by namespace labels, the rest by pods. */
function pickSubject(rand: () => number, pick: <T>(xs: readonly T[]) => T, apps: readonly string[]): Subject {
  const r = rand();
  if (r < 0.3) return { namespaces: labels({ team: pick(TEAMS) }) };
  if (r < 0.5) return { namespaces: labels({ env: pick(ENVS) }) };
  if (r < 0.6) return { namespaces: inValues("env", ["prod", "staging"]) };
  if (r < 0.7) return { namespaces: labels({ team: pick(TEAMS), env: pick(ENVS) }) };
  if (r < 0.8) return { pods: { namespaceSelector: {}, podSelector: labels({ tier: "db" }) } };
  if (r < 0.9) return { pods: { namespaceSelector: labels({ env: pick(ENVS) }), podSelector: inValues("tier", ["frontend", "backend"]) } };
  return { pods: { namespaceSelector: labels({ team: pick(TEAMS) }), podSelector: labels({ app: pick(apps) }) } };
}

function clusterNetworkPolicy(name: string, priority: number, subject: Subject, ingress: readonly Rule[], egress: readonly Rule[]): Manifest {
  const protocols = (ports: readonly Port[]) =>
    ports.map((p) => {
      if ("named" in p) return { destinationNamedPort: p.named };
      const key = p.protocol.toLowerCase();
      return { [key]: { destinationPort: "port" in p ? { number: p.port } : { range: { start: p.start, end: p.end } } } };
    });
  const rule = (r: Rule, peersKey: "from" | "to") => ({ name: r.name, action: r.action, [peersKey]: r.peers, ...(r.ports ? { protocols: protocols(r.ports) } : {}) });
  return {
    apiVersion: "policy.networking.k8s.io/v1alpha2",
    kind: "ClusterNetworkPolicy",
    metadata: { name },
    spec: {
      tier: "Admin",
      priority,
      subject,
      ...gress(
        ingress.map((r) => rule(r, "from")),
        egress.map((r) => rule(r, "to")),
      ),
    },
  };
}

/** v1alpha1: `Allow` for Accept, `ports` of portNumber, portRange and namedPort. */
function v1alpha1Rule(r: Rule, peersKey: "from" | "to"): Manifest {
  const ports = r.ports?.map((p) => ("named" in p ? { namedPort: p.named } : "port" in p ? { portNumber: p } : { portRange: p }));
  return { name: r.name, action: r.action === "Accept" ? "Allow" : r.action, [peersKey]: r.peers, ...(ports ? { ports } : {}) };
}

function adminNetworkPolicy(name: string, priority: number, subject: Subject, ingress: readonly Rule[], egress: readonly Rule[]): Manifest {
  return {
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "AdminNetworkPolicy",
    metadata: { name },
    spec: {
      priority,
      subject,
      ...gress(
        ingress.map((r) => v1alpha1Rule(r, "from")),
        egress.map((r) => v1alpha1Rule(r, "to")),
      ),
    },
  };
}

const gress = (ingress: readonly Manifest[], egress: readonly Manifest[]) => ({ ...(ingress.length ? { ingress } : {}), ...(egress.length ? { egress } : {}) });

/**
 * A zero-trust default where no NetworkPolicy speaks: ingress only from the
 * platform team's namespaces; egress to DNS, not to the cloud's metadata
 * address, and not into prod namespaces.
 */
function baselineDefault(): Manifest {
  const ingress: Rule[] = [
    { name: "allow-from-platform", action: "Accept", peers: [{ namespaces: labels({ team: "platform" }) }] },
    { name: "deny-from-namespaces", action: "Deny", peers: [{ namespaces: {} }] },
  ];
  const egress: Rule[] = [
    {
      name: "allow-dns",
      action: "Accept",
      peers: [DNS],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    { name: "deny-cloud-metadata", action: "Deny", peers: [{ networks: ["169.254.169.254/32"] }] },
    { name: "deny-into-prod", action: "Deny", peers: [{ namespaces: labels({ env: "prod" }) }] },
  ];
  return {
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "BaselineAdminNetworkPolicy",
    metadata: { name: "default" },
    spec: {
      subject: { namespaces: {} },
      ...gress(
        ingress.map((r) => v1alpha1Rule(r, "from")),
        egress.map((r) => v1alpha1Rule(r, "to")),
      ),
    },
  };
}
