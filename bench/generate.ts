/**
 * Deterministic cluster generator for tests and benchmarks: namespaces with
 * labels, pods with app/tier labels and named container ports spread over
 * nodes, and the mix of policies real clusters have (default deny per
 * namespace, allow from the same app, from labelled namespaces, ipBlock with
 * except, named ports, port ranges, egress to DNS).
 */
export interface Profile {
  readonly name: string;
  readonly namespaces: number;
  readonly pods: number;
  readonly policies: number;
  readonly nodes: number;
}

export const PROFILES: Record<string, Profile> = {
  tiny: { name: "tiny", namespaces: 4, pods: 40, policies: 12, nodes: 3 },
  small: { name: "small", namespaces: 20, pods: 1_000, policies: 100, nodes: 10 },
  large: { name: "large", namespaces: 200, pods: 10_000, policies: 10_000, nodes: 100 },
  huge: { name: "huge", namespaces: 1_000, pods: 100_000, policies: 10_000, nodes: 1_000 },
};

export type Manifest = Record<string, unknown>;

/** mulberry32: a small seeded PRNG, so the same profile always gives the same cluster. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The namespaces' `team` and `env` labels. */
export const TEAMS = ["payments", "search", "identity", "checkout", "platform", "data", "ml", "web"];
export const ENVS = ["prod", "staging", "dev"];
const TIERS = ["frontend", "backend", "db"];
const pad = (n: number, w = 4) => String(n).padStart(w, "0");

export interface Generated {
  readonly profile: Profile;
  readonly namespaces: Manifest[];
  readonly nodes: Manifest[];
  readonly pods: Manifest[];
  readonly policies: Manifest[];
}

export function generate(profile: Profile, seed = 1): Generated {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nsNames = Array.from({ length: profile.namespaces }, (_, i) => `ns-${pad(i)}`);
  const namespaces: Manifest[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
    ...nsNames.map((name) => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { team: pick(TEAMS), env: pick(ENVS) } },
    })),
  ];
  const nodeNames = Array.from({ length: profile.nodes }, (_, i) => `node-${pad(i)}`);
  const nodes = nodeNames.map((name, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": `zone-${i % 3}` } },
    status: { addresses: [{ type: "InternalIP", address: `172.16.${i >> 8}.${(i & 255) + 0}` }] },
  }));
  const nextHost = new Array<number>(profile.nodes).fill(1);
  const podIP = (node: number) => `10.${node >> 8}.${node & 255}.${nextHost[node]!++}`;
  const pods: Manifest[] = [];
  const pod = (ns: string, name: string, labels: Record<string, string>, ports: Manifest[]) => {
    const node = Math.floor(rand() * profile.nodes);
    const ip = podIP(node);
    pods.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns, labels },
      spec: { nodeName: nodeNames[node], containers: [{ name: "main", ports }] },
      status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
    });
  };
  for (let i = 0; i < Math.min(2, profile.pods); i++) {
    pod("kube-system", `coredns-${i}`, { "k8s-app": "kube-dns" }, [
      { name: "dns", containerPort: 53, protocol: "UDP" },
      { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
    ]);
  }
  // Apps of 5 pods each, spread evenly over the namespaces.
  const appsPerNs = Math.max(1, Math.round((profile.pods - 2) / profile.namespaces / 5));
  const apps: { ns: string; app: string; tier: string }[] = [];
  for (let i = 0; pods.length < profile.pods; i++) {
    const ns = nsNames[i % profile.namespaces]!;
    const appIndex = Math.floor(i / profile.namespaces) % appsPerNs;
    const app = `app-${pad(appIndex, 3)}`;
    const tier = TIERS[appIndex % TIERS.length]!;
    if (i < profile.namespaces * appsPerNs) apps.push({ ns, app, tier });
    const httpPort = appIndex % 4 === 0 ? 8000 : 8080;
    pod(ns, `${app}-${pad(Math.floor(i / (profile.namespaces * appsPerNs)), 3)}`, { app, tier, version: `v${appIndex % 3}` }, [
      { name: "http", containerPort: httpPort, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
      ...(tier === "backend" ? [{ name: "grpc", containerPort: 50051, protocol: "TCP" }] : []),
    ]);
  }
  return { profile, namespaces, nodes, pods, policies: generatePolicies(profile, nsNames, apps, rand) };
}

function generatePolicies(profile: Profile, nsNames: string[], apps: { ns: string; app: string; tier: string }[], rand: () => number): Manifest[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: Manifest[] = [];
  const np = (ns: string, name: string, spec: Manifest) => out.push({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec });
  // One default deny of ingress per namespace, and egress limited to DNS in a quarter of them.
  for (const [i, ns] of nsNames.entries()) {
    if (out.length >= profile.policies) break;
    np(ns, "default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] });
    if (i % 4 === 0 && out.length < profile.policies) {
      np(ns, "egress-dns-and-namespace", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: [{ podSelector: {} }] },
        ],
      });
    }
  }
  const kinds = ["same-app", "from-team", "ip-block", "named-port", "range", "egress-external"] as const;
  for (let i = 0; out.length < profile.policies; i++) {
    const a = apps[i % apps.length]!;
    const kind = kinds[Math.floor(rand() * kinds.length)]!;
    const name = `${a.app}-${kind}-${i}`;
    const target = { matchLabels: { app: a.app } };
    switch (kind) {
      case "same-app":
        np(a.ns, name, { podSelector: target, ingress: [{ from: [{ podSelector: { matchLabels: { app: a.app } } }], ports: [{ port: "http" }] }] });
        break;
      case "from-team":
        np(a.ns, name, {
          podSelector: target,
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { team: pick(TEAMS) } },
                  podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["frontend", "backend"] }] },
                },
              ],
              ports: [{ port: "http" }, { port: "grpc" }],
            },
          ],
        });
        break;
      case "ip-block":
        np(a.ns, name, {
          podSelector: target,
          ingress: [
            {
              from: [{ ipBlock: { cidr: "10.0.0.0/8", except: [`10.${Math.floor(rand() * 4)}.0.0/16`] } }, { podSelector: { matchLabels: { tier: "frontend" } } }],
              ports: [{ port: 9090 }],
            },
          ],
        });
        break;
      case "named-port":
        np(a.ns, name, {
          podSelector: target,
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: pick(["prod", "staging", "dev"]) } } }], ports: [{ port: "metrics" }] }],
        });
        break;
      case "range":
        np(a.ns, name, {
          podSelector: target,
          ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: "backend" } } }], ports: [{ port: 8000, endPort: 8100 }] }],
        });
        break;
      case "egress-external":
        np(a.ns, name, {
          podSelector: target,
          policyTypes: ["Egress"],
          egress: [
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }], ports: [{ protocol: "TCP", port: 443 }] },
            { to: [{ podSelector: { matchLabels: { tier: "db" } } }], ports: [{ port: 5432 }] },
          ],
        });
        break;
    }
  }
  return out;
}

/** Every object, in an order a write accepts (namespaces first). */
export function allObjects(g: Generated): Manifest[] {
  return [...g.namespaces, ...g.nodes, ...g.pods, ...g.policies];
}
