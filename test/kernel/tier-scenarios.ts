/**
 * Scenarios of the cluster-scoped policy tiers for the kernel test, written
 * from the network-policy-api documentation and its user stories: "Policy
 * tiers are evaluated in the following order: Admin tier, NetworkPolicy tier,
 * Baseline tier." Every kind is used: ClusterNetworkPolicy v1alpha2 of both
 * tiers, AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1. An
 * Admin or Baseline Deny "Drops the selected traffic": those probes time out
 * rather than being refused, and are as blocked as a NetworkPolicy's.
 */
import { namespaceManifest } from "./cluster.js";
import { type Scenario, docs, policy } from "./scenarios.js";

/** YAML written indented in the source, taken back to the left margin. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, "");
  const margin = Math.min(
    ...text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => l.length - l.trimStart().length),
  );
  return text.replace(new RegExp(`^ {${margin}}`, "gm"), "").trimEnd();
}

const indent = (text: string) => text.replace(/^/gm, "  ");

/** A ClusterNetworkPolicy (v1alpha2) of a tier. */
function clusterNetworkPolicy(name: string, tier: "Admin" | "Baseline", priority: number, spec: string): string {
  return `apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n  tier: ${tier}\n  priority: ${priority}\n${indent(spec)}\n`;
}

/** An AdminNetworkPolicy (v1alpha1): of the Admin tier; its action "Allow" is v1alpha2's "Accept". */
function adminNetworkPolicy(name: string, priority: number, spec: string): string {
  return `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n  priority: ${priority}\n${indent(spec)}\n`;
}

/** The BaselineAdminNetworkPolicy (v1alpha1): "Only one ... with metadata.name="default" can be created in the cluster." */
function baselineAdminNetworkPolicy(spec: string): string {
  return `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n${indent(spec)}\n`;
}

const allowAllIngress = (ns: string) => policy(ns, "allow-all-ingress", "podSelector: {}\ningress:\n  - {}");

const ALL_PROBES = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 81 },
  { protocol: "UDP", port: 80 },
  { protocol: "UDP", port: 81 },
] as const;

const denyFromY = clusterNetworkPolicy(
  "sensitive-x",
  "Admin",
  10,
  yaml`
    subject:
      namespaces:
        matchLabels: {ns: x}
    ingress:
      - name: deny-from-y
        action: Deny
        from:
          - namespaces:
              matchLabels: {ns: "y"}
  `,
);

const monitoringAndDns = adminNetworkPolicy(
  "monitoring-and-dns",
  20,
  yaml`
    subject:
      namespaces:
        matchLabels: {ns: x}
    ingress:
      - name: allow-monitoring
        action: Allow
        from:
          - namespaces:
              matchLabels: {ns: z}
        ports:
          - portNumber: {protocol: TCP, port: 80}
    egress:
      - name: allow-dns
        action: Allow
        to:
          - pods:
              namespaceSelector:
                matchLabels: {ns: "y"}
              podSelector:
                matchLabels: {pod: c}
        ports:
          - portNumber: {protocol: UDP, port: 80}
  `,
);

const passFromX = clusterNetworkPolicy(
  "pass-from-x",
  "Admin",
  30,
  yaml`
    subject:
      namespaces:
        matchExpressions:
          - {key: ns, operator: In, values: ["y", z]}
    ingress:
      - name: pass-web
        action: Pass
        from:
          - namespaces:
              matchLabels: {ns: x}
        protocols:
          - tcp:
              destinationPort:
                number: 80
      - name: deny-rest
        action: Deny
        from:
          - namespaces:
              matchLabels: {ns: x}
  `,
);

const baselineDenyZ = clusterNetworkPolicy(
  "baseline-z",
  "Baseline",
  10,
  yaml`
    subject:
      namespaces:
        matchLabels: {ns: z}
    ingress:
      - name: deny-all
        action: Deny
        from:
          - namespaces: {}
  `,
);

/** Story 5's zero-trust default, with an exemption label a namespace can be given. */
const zeroTrust = baselineAdminNetworkPolicy(yaml`
  subject:
    namespaces:
      matchExpressions:
        - {key: exempt, operator: DoesNotExist}
  ingress:
    - name: zero-trust
      action: Deny
      from:
        - namespaces: {}
`);

const acceptZaToYb = (priority: number) =>
  adminNetworkPolicy(
    "accept-za-to-yb",
    priority,
    yaml`
      subject:
        pods:
          namespaceSelector:
            matchLabels: {ns: "y"}
          podSelector:
            matchLabels: {pod: b}
      ingress:
        - name: from-z-a
          action: Allow
          from:
            - pods:
                namespaceSelector:
                  matchLabels: {ns: z}
                podSelector:
                  matchLabels: {pod: a}
    `,
  );

const denyFromZ = clusterNetworkPolicy(
  "deny-from-z",
  "Admin",
  20,
  yaml`
    subject:
      namespaces: {}
    ingress:
      - name: deny-z
        action: Deny
        from:
          - namespaces:
              matchLabels: {ns: z}
  `,
);

export const TIER_SCENARIOS: Scenario[] = [
  {
    name: "Admin Deny guardrail: ingress to x from y is denied though x's NetworkPolicy allows all",
    policies: docs(denyFromY, allowAllIngress("x")),
    expect: { "y/a -> x/b TCP/80": false, "y/c -> x/a UDP/80": false, "z/a -> x/b TCP/80": true, "ext -> x/a TCP/80": true },
    then: {
      name: "after deleting the ClusterNetworkPolicy",
      change: (api) => api.del("/v1/clusternetworkpolicies/sensitive-x"),
      expect: { "y/a -> x/b TCP/80": true },
    },
  },
  {
    name: "Admin Allow over a NetworkPolicy deny: x, isolated both ways, accepts z on TCP 80 and sends DNS to y/c",
    policies: docs(monitoringAndDns, policy("x", "deny-all", "podSelector: {}\npolicyTypes: [Ingress, Egress]")),
    expect: {
      "z/b -> x/a TCP/80": true,
      "z/b -> x/a TCP/81": false,
      "y/a -> x/a TCP/80": false,
      "x/a -> y/c UDP/80": true,
      "x/a -> y/b UDP/80": false,
    },
    then: {
      name: "after deleting the AdminNetworkPolicy",
      change: (api) => api.del("/v1/adminnetworkpolicies/monitoring-and-dns"),
      expect: { "z/b -> x/a TCP/80": false, "x/a -> y/c UDP/80": false },
    },
  },
  {
    name: "Admin Pass: x's TCP 80 to y goes to y's NetworkPolicy, to z (no NetworkPolicy) to a Baseline Deny; the rest from x is denied",
    policies: docs(
      passFromX,
      baselineDenyZ,
      policy("y", "from-pods-a", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector: {}\n        podSelector:\n          matchLabels: {pod: a}"),
    ),
    expect: {
      "x/a -> y/b TCP/80": true,
      "x/b -> y/b TCP/80": false,
      "x/a -> y/b TCP/81": false,
      "x/a -> z/b TCP/80": false,
      "z/a -> y/b TCP/81": true,
      "y/a -> z/b TCP/80": false,
      "ext -> z/a TCP/80": true,
      "x/a -> x/b TCP/81": true,
    },
    then: {
      name: "after deleting the Baseline ClusterNetworkPolicy",
      change: (api) => api.del("/v1/clusternetworkpolicies/baseline-z"),
      expect: { "x/a -> z/b TCP/80": true, "x/a -> z/b TCP/81": false, "y/a -> z/b TCP/80": true },
    },
  },
  {
    name: "Baseline default deny (BaselineAdminNetworkPolicy default), overridden in y by a NetworkPolicy accepting x",
    policies: docs(zeroTrust, policy("y", "ingress-from-x", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: x}")),
    expect: {
      "x/a -> y/b TCP/80": true,
      "z/a -> y/b TCP/80": false,
      "y/a -> x/b TCP/80": false,
      "y/a -> z/b UDP/80": false,
      "ext -> x/a TCP/80": true,
      "ext -> y/a TCP/80": false,
    },
    then: {
      name: "after labelling z exempt, which the subject no longer selects",
      change: (api) => api.apply(namespaceManifest("z", { exempt: "true" })),
      expect: { "y/a -> z/b TCP/80": true, "y/a -> x/b TCP/80": false },
    },
  },
  {
    name: "priorities: an Allow of z/a to y/b at priority 10 stands before a Deny of z at priority 20",
    policies: docs(acceptZaToYb(10), denyFromZ),
    expect: {
      "z/a -> y/b TCP/80": true,
      "z/a -> y/b UDP/80": true,
      "z/b -> y/b TCP/80": false,
      "z/a -> y/a TCP/80": false,
      "z/a -> z/b TCP/80": false,
      "x/a -> y/b TCP/80": true,
    },
    then: {
      name: "after moving the Allow to priority 30, behind the Deny",
      change: (api) => api.apply(acceptZaToYb(30)),
      expect: { "z/a -> y/b TCP/80": false },
    },
  },
  {
    name: "egress networks peers: x may not reach the outside host, nor node-2's pod network over UDP, over x's NetworkPolicy allowing all egress",
    policies: docs(
      clusterNetworkPolicy(
        "x-networks",
        "Admin",
        40,
        yaml`
          subject:
            namespaces:
              matchLabels: {ns: x}
          egress:
            - name: deny-outside-host
              action: Deny
              to:
                - networks: [192.0.2.10/32]
            - name: deny-node-2-pods-udp
              action: Deny
              to:
                - networks: [10.244.2.0/24]
              protocols:
                - udp:
                    destinationPort:
                      range: {start: 80, end: 81}
        `,
      ),
      policy("x", "egress-anywhere", "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to:\n      - ipBlock:\n          cidr: 0.0.0.0/0"),
    ),
    probes: ALL_PROBES,
    expect: {
      "x/a -> ext TCP/80": false,
      "x/a -> ext UDP/81": false,
      "x/a -> x/b UDP/80": false,
      "x/a -> x/b TCP/80": true,
      "x/a -> x/c UDP/80": true,
      "y/a -> ext TCP/80": true,
    },
  },
  {
    name: "egress nodes peers: y may reach node-1 on TCP 80 and no node otherwise",
    policies: adminNetworkPolicy(
      "y-to-nodes",
      50,
      yaml`
        subject:
          namespaces:
            matchLabels: {ns: "y"}
        egress:
          - name: allow-node-1-web
            action: Allow
            to:
              - nodes:
                  matchLabels: {kubernetes.io/hostname: node-1}
            ports:
              - portNumber: {protocol: TCP, port: 80}
          - name: deny-nodes
            action: Deny
            to:
              - nodes:
                  matchExpressions:
                    - {key: kubernetes.io/hostname, operator: Exists}
      `,
    ),
    nodes: true,
    expect: {
      "y/a -> node-1 TCP/80": true,
      "y/a -> node-1 TCP/81": false,
      "y/b -> node-2 TCP/80": false,
      "y/b -> node-2 UDP/80": false,
      "x/a -> node-2 TCP/80": true,
      "y/a -> x/a TCP/81": true,
    },
  },
  {
    name: "ports, named ports and UDP: z accepts x on serve-80-udp and denies UDP 80-81 and TCP 81; y may not send serve-81-tcp or UDP to x/c",
    policies: docs(
      clusterNetworkPolicy(
        "z-ports",
        "Admin",
        60,
        yaml`
          subject:
            namespaces:
              matchLabels: {ns: z}
          ingress:
            - name: accept-x-named
              action: Accept
              from:
                - namespaces:
                    matchLabels: {ns: x}
              protocols:
                - destinationNamedPort: serve-80-udp
            - name: deny-udp-and-81
              action: Deny
              from:
                - namespaces: {}
              protocols:
                - udp:
                    destinationPort:
                      range: {start: 80, end: 81}
                - tcp:
                    destinationPort:
                      number: 81
        `,
      ),
      adminNetworkPolicy(
        "y-to-xc",
        70,
        yaml`
          subject:
            namespaces:
              matchLabels: {ns: "y"}
          egress:
            - name: deny-xc-named-and-udp
              action: Deny
              to:
                - pods:
                    namespaceSelector:
                      matchLabels: {ns: x}
                    podSelector:
                      matchLabels: {pod: c}
              ports:
                - namedPort: serve-81-tcp
                - portRange: {protocol: UDP, start: 80, end: 81}
        `,
      ),
      policy("z", "deny-ingress", "podSelector: {}\npolicyTypes: [Ingress]"),
    ),
    probes: ALL_PROBES,
    expect: {
      "x/a -> z/b UDP/80": true,
      "x/a -> z/b UDP/81": false,
      "x/a -> z/b TCP/80": false,
      "y/a -> z/b UDP/80": false,
      "y/a -> x/c TCP/81": false,
      "y/a -> x/c TCP/80": true,
      "y/a -> x/c UDP/81": false,
      "y/a -> x/b TCP/81": true,
    },
  },
];
