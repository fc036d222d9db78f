/**
 * Peers and selectors: podSelector, namespaceSelector, both in one peer (AND)
 * or in two (OR), `namespaceSelector: {}`, and label selector operators, as
 * the API reference's NetworkPolicyPeer and LabelSelector define them.
 */
import { namespace, networkPolicy, pod } from "./cluster.js";
import { type Scenario, SCTP80, TCP80, TCP81, UDP80, UDP81, applying, on, scenario } from "./scenario.js";

/** An ingress policy on x/a with one rule allowing `from` on every port. */
function ingressToXA(name: string, from: unknown[]) {
  return networkPolicy("x", name, { podSelector: { matchLabels: { pod: "a" } }, policyTypes: ["Ingress"], ingress: [{ from }] });
}

/** y/a gets tier=frontend and z/b tier=backend; every other pod has no `tier` label. */
const tierLabels = [pod("y/a", { labels: { pod: "a", tier: "frontend" } }), pod("z/b", { labels: { pod: "b", tier: "backend" } })];

export const peerScenarios: Scenario[] = [
  scenario(
    "podSelector peer selects pods of the policy's own namespace only",
    "podSelector alone selects the pods matching it in the policy's own namespace: x/b, not y/b or z/b",
    [ingressToXA("allow-b", [{ podSelector: { matchLabels: { pod: "b" } } }])],
    on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", "x/b")),
  ),
  scenario(
    "podSelector {} peer selects every pod of the policy's namespace",
    "podSelector present but empty selects all pods, and without namespaceSelector only in the policy's namespace",
    [ingressToXA("allow-own-ns", [{ podSelector: {} }])],
    on([TCP80, UDP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "x" })),
  ),
  scenario(
    "each rule pairs its own peers with its own ports",
    "traffic must match both the ports and the from of one rule: y on TCP/80, z on TCP/81, never y on 81",
    [
      networkPolicy("x", "two-rules", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { ns: "y" } } }], ports: [{ port: 80 }] },
          { from: [{ namespaceSelector: { matchLabels: { ns: "z" } } }], ports: [{ port: 81 }] },
        ],
      }),
    ],
    [
      ...on([TCP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })),
      ...on([TCP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "z" })),
      ...on([UDP80], (r) => r.expectAllIngress("x/a", false)),
    ],
  ),
  scenario(
    "namespaceSelector peer selects every pod of the matching namespaces",
    "namespaceSelector alone selects all pods in the namespaces it selects",
    [ingressToXA("allow-ns-y", [{ namespaceSelector: { matchLabels: { ns: "y" } } }])],
    on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })),
  ),
  scenario(
    "namespaceSelector and podSelector in ONE peer: both must match (AND)",
    "if both are set in one peer, it selects the pods matching podSelector in the namespaces matching namespaceSelector",
    [ingressToXA("allow-y-b", [{ namespaceSelector: { matchLabels: { ns: "y" } }, podSelector: { matchLabels: { pod: "b" } } }])],
    on([TCP80, SCTP80], (r) => r.expectIngressOnlyFrom("x/a", "y/b")),
  ),
  scenario(
    "namespaceSelector and podSelector in TWO peers: either may match (OR)",
    "the peers of a from list are combined with a logical OR; the podSelector peer stays in the policy's namespace",
    [ingressToXA("allow-y-or-b", [{ namespaceSelector: { matchLabels: { ns: "y" } } }, { podSelector: { matchLabels: { pod: "b" } } }])],
    on([TCP80, UDP81], (r) => r.expectIngressOnlyFrom("x/a", [{ ns: "y" }, "x/b"])),
  ),
  scenario(
    "namespaceSelector {} with a podSelector selects those pods in every namespace",
    "namespaceSelector present but empty selects all namespaces",
    [ingressToXA("allow-any-c", [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: "c" } } }])],
    on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", { pod: "c" })),
  ),
  scenario(
    "egress to namespaceSelector {} reaches every pod of every namespace",
    "an empty namespaceSelector selects all namespaces, and an absent podSelector all their pods",
    [networkPolicy("x", "egress-all-pods", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }] }] })],
    on([TCP80, UDP80], () => {}),
  ),
  scenario(
    "matchExpressions In on the namespace selector",
    "operator In: the label's value must be one of the values",
    [ingressToXA("allow-y-z", [{ namespaceSelector: { matchExpressions: [{ key: "ns", operator: "In", values: ["y", "z"] }] } }])],
    on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: ["y", "z"] })),
  ),
  {
    name: "matchExpressions NotIn also matches pods without the key",
    doc: "operator NotIn: the label's value is not in the values, which holds for objects without the label",
    steps: [
      {
        name: "y/a tier=frontend, z/b tier=backend, x/a admits tier notin (frontend) from anywhere",
        act: applying([
          ...tierLabels,
          ingressToXA("not-frontend", [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["frontend"] }] } }]),
        ]),
        cases: on([TCP80, TCP81], (r) => r.expectPeer("y/a", "x/a", false)),
      },
    ],
  },
  {
    name: "matchExpressions Exists matches only pods with the key",
    doc: "operator Exists: the object has the label, whatever its value",
    steps: [
      {
        name: "x/a admits pods having a tier label, from anywhere",
        act: applying([...tierLabels, ingressToXA("has-tier", [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: "tier", operator: "Exists" }] } }])]),
        cases: on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", ["y/a", "z/b"])),
      },
    ],
  },
  {
    name: "matchExpressions DoesNotExist on the namespace selector",
    doc: "operator DoesNotExist: the object lacks the label; namespace z gets team=blue and drops out",
    steps: [
      {
        name: "z labelled team=blue; x/a admits namespaces without a team label",
        act: applying([
          namespace("z", { ns: "z", team: "blue" }),
          ingressToXA("no-team", [{ namespaceSelector: { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] } }]),
        ]),
        cases: on([TCP80, SCTP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: ["x", "y"] })),
      },
    ],
  },
  {
    name: "matchLabels and matchExpressions in one selector must both hold",
    doc: "the requirements of matchLabels and matchExpressions are ANDed: pod=b and a tier label is z/b only",
    steps: [
      {
        name: "x/a admits pod b having a tier label, from anywhere",
        act: applying([
          ...tierLabels,
          ingressToXA("b-with-tier", [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: "b" }, matchExpressions: [{ key: "tier", operator: "Exists" }] } }]),
        ]),
        cases: on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", "z/b")),
      },
    ],
  },
  scenario(
    "matchExpressions In on the policy's own podSelector picks the isolated pods",
    "spec.podSelector selects the pods the policy applies to; pod in (a, b) isolates y/a and y/b, not y/c",
    [networkPolicy("y", "isolate-a-b", { podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["a", "b"] }] }, policyTypes: ["Ingress", "Egress"] })],
    on([TCP80, UDP80], (r) => r.expectAllIngress({ ns: "y", pod: ["a", "b"] }, false).expectAllEgress({ ns: "y", pod: ["a", "b"] }, false)),
  ),
  scenario(
    "matchExpressions NotIn on the policy's own podSelector",
    "pod notin (c) selects z/a and z/b; with policyTypes [Egress] and no rules they may send nothing",
    [networkPolicy("z", "no-egress-but-c", { podSelector: { matchExpressions: [{ key: "pod", operator: "NotIn", values: ["c"] }] }, policyTypes: ["Egress"] })],
    on([TCP80, TCP81], (r) => r.expectAllEgress({ ns: "z", pod: ["a", "b"] }, false)),
  ),
];
