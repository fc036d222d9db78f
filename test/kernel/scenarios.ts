/**
 * Policy scenarios for the kernel test, written from the Kubernetes
 * documentation. Each gives the policies to load on top of the base cluster
 * and, optionally, a change made afterwards; the matrix is compared after each.
 */
import { PODS, podManifest } from "./cluster.js";

export interface Api {
  apply(yaml: string): Promise<void>;
  del(path: string): Promise<void>;
}

/**
 * Cells whose answer the scenario's source states, as "src -> dst PROTO/port"
 * (`"y/a -> x/b TCP/80": false`): Check must give it, besides the kernel
 * agreeing with Check on every cell.
 */
export type Expected = Readonly<Record<string, boolean>>;

export interface Scenario {
  readonly name: string;
  readonly policies: string;
  readonly expect?: Expected;
  readonly then?: { readonly name: string; readonly change: (api: Api) => Promise<void>; readonly expect?: Expected };
  /** Port/protocols probed; default TCP/80, TCP/81, UDP/80. */
  readonly probes?: readonly { protocol: "TCP" | "UDP"; port: number }[];
  /** Whether the pods also probe the nodes' addresses (for `nodes` peers). */
  readonly nodes?: boolean;
}

/** A NetworkPolicy manifest from its namespace, name and spec (YAML, indented by 2). */
export function policy(ns: string, name: string, spec: string): string {
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n  namespace: "${ns}"\nspec:\n${spec.replace(/^/gm, "  ")}\n`;
}

const denyIngress = (ns: string) => policy(ns, "deny-ingress", "podSelector: {}\npolicyTypes: [Ingress]");
const denyEgress = (ns: string) => policy(ns, "deny-egress", "podSelector: {}\npolicyTypes: [Egress]");
export const docs = (...d: string[]) => d.join("---\n");

export const SCENARIOS: Scenario[] = [
  { name: "no policies: every pod reaches every pod and the outside host", policies: "" },
  { name: "default deny ingress in x", policies: denyIngress("x") },
  { name: "default deny egress in y", policies: denyEgress("y") },
  { name: "default deny in both directions in z", policies: policy("z", "deny-all", "podSelector: {}\npolicyTypes: [Ingress, Egress]") },
  {
    name: "pod selector: x/a accepts only pods b of its own namespace",
    policies: policy("x", "a-from-b", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - podSelector:\n          matchLabels: {pod: b}"),
  },
  {
    name: "namespace selector: the pods of y accept only the pods of z",
    policies: policy("y", "from-z", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: z}"),
  },
  {
    name: "namespace AND pod selector in one peer: z/a accepts only pod c of namespace x",
    policies: policy(
      "z",
      "and",
      "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: x}\n        podSelector:\n          matchLabels: {pod: c}",
    ),
  },
  {
    name: "namespace OR pod selector in two peers: z/a accepts namespace x and pods c of z",
    policies: policy(
      "z",
      "or",
      "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: x}\n      - podSelector:\n          matchLabels: {pod: c}",
    ),
  },
  {
    name: "ipBlock with except: x may send to node-1's pods and the outside net but not 192.0.2.10; y/a accepts the outside host on TCP 80",
    policies: docs(
      policy(
        "x",
        "egress-blocks",
        "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to:\n      - ipBlock:\n          cidr: 192.0.2.0/24\n          except: [192.0.2.10/32]\n      - ipBlock:\n          cidr: 10.244.0.0/16\n          except: [10.244.2.0/24]",
      ),
      policy("y", "from-outside", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - ipBlock:\n          cidr: 192.0.2.0/24\n    ports:\n      - port: 80"),
    ),
  },
  {
    name: "named port: y/b accepts only its serve-81-tcp",
    policies: policy("y", "named", "podSelector:\n  matchLabels: {pod: b}\ningress:\n  - ports:\n      - port: serve-81-tcp"),
  },
  {
    name: "endPort: x accepts TCP 80-81 from y; z/b accepts TCP 81-90 from anyone",
    policies: docs(
      policy("x", "range", "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: 'y'}\n    ports:\n      - port: 80\n        endPort: 81"),
      policy("z", "range", "podSelector:\n  matchLabels: {pod: b}\ningress:\n  - ports:\n      - protocol: TCP\n        port: 81\n        endPort: 90"),
    ),
  },
  {
    name: "UDP only: the pods of z accept UDP 80 and nothing else",
    policies: policy("z", "udp", "podSelector: {}\ningress:\n  - ports:\n      - protocol: UDP\n        port: 80"),
    probes: [
      { protocol: "TCP", port: 80 },
      { protocol: "UDP", port: 80 },
      { protocol: "UDP", port: 81 },
    ],
  },
  {
    name: "both directions: x may only send to y, and y accepts only x/a",
    policies: docs(
      policy("x", "to-y", "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to:\n      - namespaceSelector:\n          matchLabels: {ns: 'y'}"),
      policy(
        "y",
        "from-xa",
        "podSelector: {}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: x}\n        podSelector:\n          matchLabels: {pod: a}",
      ),
    ),
  },
  {
    name: "egress named port: y may send only to serve-80-tcp and serve-81-udp of any pod",
    policies: policy(
      "y",
      "named-egress",
      "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - ports:\n      - port: serve-80-tcp\n      - protocol: UDP\n        port: serve-81-udp",
    ),
    probes: [
      { protocol: "TCP", port: 80 },
      { protocol: "TCP", port: 81 },
      { protocol: "UDP", port: 80 },
      { protocol: "UDP", port: 81 },
    ],
  },
  {
    name: "matchExpressions: pods of x with pod NotIn (a) deny ingress from pods without pod in (a, b)",
    policies: policy(
      "x",
      "exprs",
      "podSelector:\n  matchExpressions:\n    - {key: pod, operator: NotIn, values: [a]}\ningress:\n  - from:\n      - namespaceSelector: {}\n        podSelector:\n          matchExpressions:\n            - {key: pod, operator: In, values: [a, b]}",
    ),
  },
  {
    name: "policy update: x/a first accepts y, then only z",
    policies: policy("x", "a-from", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: 'y'}"),
    then: {
      name: "after the update",
      change: (api) => api.apply(policy("x", "a-from", "podSelector:\n  matchLabels: {pod: a}\ningress:\n  - from:\n      - namespaceSelector:\n          matchLabels: {ns: z}")),
    },
  },
  {
    name: "policy delete: removing y's default deny restores ingress",
    policies: docs(denyIngress("y"), denyEgress("z")),
    then: { name: "after the delete", change: (api) => api.del("/v1/namespaces/y/networkpolicies/deny-ingress") },
  },
  {
    name: "label update: relabelling z/c to pod=a brings it under z's policy for pods a",
    policies: policy("z", "a-deny", "podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Ingress, Egress]"),
    then: { name: "after relabelling z/c", change: (api) => api.apply(podManifest(PODS.find((p) => p.key === "z/c")!, { pod: "a" })) },
  },
];
