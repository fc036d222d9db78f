/**
 * Directions: egress rules, policies on both ends of a connection, additive
 * policies on one pod, and what policyTypes (given or defaulted) makes a
 * policy affect, per the API reference's NetworkPolicySpec.
 */
import { networkPolicy } from "./cluster.js";
import { type Scenario, SCTP81, TCP80, TCP81, UDP80, UDP81, on, scenario } from "./scenario.js";

const selectA = { podSelector: { matchLabels: { pod: "a" } } };
const nsY = { namespaceSelector: { matchLabels: { ns: "y" } } };
const nsZ = { namespaceSelector: { matchLabels: { ns: "z" } } };

export const directionScenarios: Scenario[] = [
  scenario(
    "egress rules with a pod peer and a namespace+pod peer",
    "egress to x/b (same namespace) or to pod c of namespace z; everything else from x/a is denied",
    [
      networkPolicy("x", "a-egress", {
        ...selectA,
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: { pod: "b" } } }, { ...nsZ, podSelector: { matchLabels: { pod: "c" } } }] }],
      }),
    ],
    on([TCP80, SCTP81], (r) => r.expectEgressOnlyTo("x/a", ["x/b", "z/c"])),
  ),
  scenario(
    "egress from x restricted AND ingress to y restricted",
    "a connection needs both the source's egress and the destination's ingress to allow it: x may send only to y, y admits only x/a",
    [
      networkPolicy("x", "egress-to-y", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [nsY] }] }),
      networkPolicy("y", "ingress-from-x-a", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: "x" } }, podSelector: { matchLabels: { pod: "a" } } }] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectEgressOnlyTo({ ns: "x" }, { ns: "y" }).expectIngressOnlyFrom({ ns: "y" }, "x/a")),
  ),
  scenario(
    "several policies on one pod are additive (union)",
    "policies do not conflict: traffic to x/a is allowed if any selecting policy allows it; a default deny takes nothing away",
    [
      networkPolicy("x", "deny-all-ingress", { podSelector: {}, policyTypes: ["Ingress"] }),
      networkPolicy("x", "a-from-y-80", { ...selectA, policyTypes: ["Ingress"], ingress: [{ from: [nsY], ports: [{ port: 80 }] }] }),
      networkPolicy("x", "a-from-c-81", {
        ...selectA,
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: "c" } } }], ports: [{ port: 81 }] }],
      }),
    ],
    [
      ...on([TCP80], (r) => r.expectAllIngress({ ns: "x", pod: ["b", "c"] }, false).expectIngressOnlyFrom("x/a", { ns: "y" })),
      ...on([TCP81], (r) => r.expectAllIngress({ ns: "x", pod: ["b", "c"] }, false).expectIngressOnlyFrom("x/a", "x/c")),
      ...on([UDP80], (r) => r.expectAllIngress({ ns: "x" }, false)),
    ],
  ),
  scenario(
    "policyTypes omitted with only an egress section affects ingress and egress",
    "without policyTypes, a policy with an egress section affects egress, and every policy affects ingress: no ingress rules, so x/a admits nothing",
    [networkPolicy("x", "egress-only-no-types", { ...selectA, egress: [{ to: [nsY] }] })],
    on([TCP80, UDP81], (r) => r.expectAllIngress("x/a", false).expectEgressOnlyTo("x/a", { ns: "y" })),
  ),
  scenario(
    "policyTypes omitted with only an ingress section leaves egress alone",
    "a policy without an egress section is assumed to be of type Ingress only: x/a still sends anywhere",
    [networkPolicy("x", "ingress-only-no-types", { ...selectA, ingress: [{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }] })],
    on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", "x/b")),
  ),
  scenario(
    "policyTypes [Egress] ignores an ingress section",
    "policyTypes lists the rule types the policy relates to: with [Egress], x/a's ingress is not isolated and its ingress section is ignored",
    [
      networkPolicy("x", "egress-type-with-ingress", {
        ...selectA,
        policyTypes: ["Egress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }],
        egress: [{ to: [nsZ] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectEgressOnlyTo("x/a", { ns: "z" })),
  ),
  scenario(
    "policyTypes [Ingress] ignores an egress section",
    "with [Ingress] only, the egress section is ignored and x/a may send anywhere; its ingress admits z only",
    [
      networkPolicy("x", "ingress-type-with-egress", {
        ...selectA,
        policyTypes: ["Ingress"],
        ingress: [{ from: [nsZ] }],
        egress: [{ to: [nsY] }],
      }),
    ],
    on([TCP81, UDP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "z" })),
  ),
];
