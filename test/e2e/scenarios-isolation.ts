/**
 * Isolation: default deny and allow-all policies, straight from the
 * "Default policies" section of the Kubernetes NetworkPolicy concepts page.
 */
import { networkPolicy } from "./cluster.js";
import { type Scenario, SCTP80, SCTP81, TCP80, TCP81, UDP80, UDP81, allAllowed, on, scenario } from "./scenario.js";

const denyIngressX = networkPolicy("x", "default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] });
const denyEgressX = networkPolicy("x", "default-deny-egress", { podSelector: {}, policyTypes: ["Egress"] });

export const isolationScenarios: Scenario[] = [
  scenario(
    "default deny ingress in namespace x",
    "podSelector {} selects every pod of the namespace; policyTypes [Ingress] with no ingress rules allows no incoming traffic",
    [denyIngressX],
    on([TCP80, UDP80, SCTP81], (r) => r.expectAllIngress({ ns: "x" }, false)),
  ),
  scenario(
    "default deny egress in namespace x",
    "policyTypes [Egress] with no egress rules: the selected pods may send nothing; their ingress is untouched",
    [denyEgressX],
    on([TCP80, UDP81], (r) => r.expectAllEgress({ ns: "x" }, false)),
  ),
  scenario(
    "default deny ingress and egress in namespace x",
    "policyTypes [Ingress, Egress] with no rules isolates the selected pods both ways",
    [networkPolicy("x", "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })],
    on([TCP80, SCTP80], (r) => r.expectAllIngress({ ns: "x" }, false).expectAllEgress({ ns: "x" }, false)),
  ),
  scenario(
    "allow all ingress ([{}]) to x/a alongside a default deny in x",
    "an ingress rule with no from and no ports matches all traffic; policies are additive, so x/a is reachable while x/b and x/c stay isolated",
    [denyIngressX, networkPolicy("x", "allow-all-to-a", { podSelector: { matchLabels: { pod: "a" } }, policyTypes: ["Ingress"], ingress: [{}] })],
    on([TCP80, UDP81], (r) => r.expectAllIngress({ ns: "x", pod: ["b", "c"] }, false)),
  ),
  scenario(
    "allow all egress ([{}]) alongside a default deny egress in x",
    "an egress rule with no to and no ports allows all outgoing traffic, whatever other policies say",
    [denyEgressX, networkPolicy("x", "allow-all-egress", { podSelector: {}, policyTypes: ["Egress"], egress: [{}] })],
    allAllowed(TCP80, TCP81, UDP80),
  ),
  scenario(
    "default deny ingress in x except from x itself",
    "the allow-same-namespace recipe: podSelector {} with one rule from podSelector {} admits x's own pods only",
    [networkPolicy("x", "allow-same-namespace", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] })],
    on([TCP80, SCTP80], (r) => r.expectIngressOnlyFrom({ ns: "x" }, { ns: "x" })),
  ),
  scenario(
    "ingress: [] with policyTypes omitted denies all ingress, nothing else",
    "if ingress is empty the policy allows no incoming traffic; without an egress section it does not affect egress",
    [networkPolicy("x", "b-no-ingress", { podSelector: { matchLabels: { pod: "b" } }, ingress: [] })],
    on([TCP80, UDP80], (r) => r.expectAllIngress("x/b", false)),
  ),
  scenario(
    "from: [] and to: [] match every peer; the rule's ports still apply",
    "if from (to) is empty or missing, the rule matches all sources (destinations): x/a admits TCP/81 from anyone and sends UDP anywhere",
    [
      networkPolicy("x", "a-empty-peers", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [], ports: [{ protocol: "TCP", port: 81 }] }],
        egress: [{ to: [], ports: [{ protocol: "UDP" }] }],
      }),
    ],
    [
      ...on([TCP81], (r) => r.expectAllEgress("x/a", false)),
      ...on([UDP80, UDP81], (r) => r.expectAllIngress("x/a", false)),
      ...on([TCP80], (r) => r.expectAllIngress("x/a", false).expectAllEgress("x/a", false)),
    ],
  ),
  scenario(
    "a deny policy whose podSelector matches no pod isolates nothing",
    "pods are isolated only by a policy that selects them: a selector no pod matches leaves y open, while x's default deny still holds",
    [denyIngressX, networkPolicy("y", "deny-nobody", { podSelector: { matchLabels: { pod: "nobody" } }, policyTypes: ["Ingress", "Egress"] })],
    on([TCP80, TCP81], (r) => r.expectAllIngress({ ns: "x" }, false)),
  ),
];
