/**
 * Changes over time, as upstream's e2e tests make them: relabel a pod or a
 * namespace, update and delete a policy, delete and re-create a pod. Each
 * step asserts the whole table again after the change.
 */
import { namespace, networkPolicy, pod } from "./cluster.js";
import { type Scenario, TCP80, TCP81, UDP80, applying, on, podsWithout } from "./scenario.js";

const selectA = { podSelector: { matchLabels: { pod: "a" } } };

function ingressToXA(name: string, from: unknown[], ports?: unknown[]) {
  return networkPolicy("x", name, { ...selectA, policyTypes: ["Ingress"], ingress: [{ from, ...(ports ? { ports } : {}) }] });
}

const clients = ingressToXA("from-clients", [{ namespaceSelector: {}, podSelector: { matchLabels: { role: "client" } } }]);
const prod = ingressToXA("from-prod", [{ namespaceSelector: { matchLabels: { env: "prod" } } }]);

export const updateScenarios: Scenario[] = [
  {
    name: "update of pod labels changes who is a peer and who is selected",
    doc: "selectors are evaluated against the pods' current labels",
    steps: [
      { name: "no pod has role=client", act: applying([clients]), cases: on([TCP80], (r) => r.expectAllIngress("x/a", false)) },
      {
        name: "y/b relabelled role=client",
        act: applying([pod("y/b", { labels: { pod: "b", role: "client" } })]),
        cases: on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", "y/b")),
      },
      {
        name: "x/c relabelled pod=a: the policy now selects it too",
        act: applying([pod("x/c", { labels: { pod: "a" } })]),
        cases: on([TCP80], (r) => r.expectIngressOnlyFrom({ ns: "x", pod: ["a", "c"] }, "y/b")),
      },
    ],
  },
  {
    name: "update of namespace labels changes which namespaces are peers",
    doc: "namespaceSelector selects namespaces by their current labels",
    steps: [
      { name: "no namespace has env=prod", act: applying([prod]), cases: on([TCP80], (r) => r.expectAllIngress("x/a", false)) },
      {
        name: "z relabelled env=prod",
        act: applying([namespace("z", { ns: "z", env: "prod" })]),
        cases: on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "z" })),
      },
      {
        name: "z loses env=prod again",
        act: applying([namespace("z", { ns: "z" })]),
        cases: on([TCP80], (r) => r.expectAllIngress("x/a", false)),
      },
    ],
  },
  {
    name: "kubernetes.io/metadata.name survives a namespace relabel",
    doc: "the control plane sets the immutable label kubernetes.io/metadata.name on every namespace, to its name",
    steps: [
      {
        name: "x/a admits namespace y by its name label",
        act: applying([ingressToXA("from-y-by-name", [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "y" } } }])]),
        cases: on([TCP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })),
      },
      {
        name: "y re-applied with other labels only",
        act: applying([namespace("y", { env: "dev" })]),
        cases: on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })),
      },
    ],
  },
  {
    name: "update of a pod's address moves it into an ipBlock",
    doc: "ipBlock matches addresses: y/b re-created on node-2 at 10.244.2.99 falls inside 10.244.2.0/24",
    steps: [
      {
        name: "x/a admits 10.244.2.0/24 (the pods of node-2)",
        act: applying([ingressToXA("from-node-2-pods", [{ ipBlock: { cidr: "10.244.2.0/24" } }])]),
        cases: on([TCP80], (r) => r.expectIngressOnlyFrom("x/a", ["x/b", "y/a", "y/c", "z/b"])),
      },
      {
        name: "y/b moves to node-2 at 10.244.2.99",
        act: applying([pod("y/b", { ip: "10.244.2.99", nodeName: "node-2" })]),
        cases: on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", ["x/b", "y/a", "y/b", "y/c", "z/b"])),
      },
    ],
  },
  {
    name: "update of a policy replaces its spec",
    doc: "applying a policy of the same name replaces it: the old rules no longer apply",
    steps: [
      {
        name: "x/a admits y",
        act: applying([ingressToXA("a-ingress", [{ namespaceSelector: { matchLabels: { ns: "y" } } }])]),
        cases: on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })),
      },
      {
        name: "the same policy now admits z on TCP/81 only",
        act: applying([ingressToXA("a-ingress", [{ namespaceSelector: { matchLabels: { ns: "z" } } }], [{ protocol: "TCP", port: 81 }])]),
        cases: [...on([TCP80], (r) => r.expectAllIngress("x/a", false)), ...on([TCP81], (r) => r.expectIngressOnlyFrom("x/a", { ns: "z" }))],
      },
    ],
  },
  {
    name: "delete of policies restores connectivity",
    doc: "a pod no policy selects is non-isolated: once the policies are deleted, everything is allowed again",
    steps: [
      {
        name: "default deny all in x, plus x/a admits y",
        act: applying([
          networkPolicy("x", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
          ingressToXA("a-from-y", [{ namespaceSelector: { matchLabels: { ns: "y" } } }]),
        ]),
        cases: on([TCP80], (r) =>
          r
            .expectAllEgress({ ns: "x" }, false)
            .expectAllIngress({ ns: "x", pod: ["b", "c"] }, false)
            .expectIngressOnlyFrom("x/a", { ns: "y" }),
        ),
      },
      {
        name: "x/a-from-y deleted",
        act: (api) => api.deletePolicy("x", "a-from-y"),
        cases: on([TCP80], (r) => r.expectAllEgress({ ns: "x" }, false).expectAllIngress({ ns: "x" }, false)),
      },
      { name: "x/deny-all deleted", act: (api) => api.deletePolicy("x", "deny-all"), cases: on([TCP80, UDP80], () => {}) },
    ],
  },
  {
    name: "delete of a pod, then re-create",
    doc: "a deleted pod is no peer and no endpoint; re-created with the same labels (and a new address) it is a peer again",
    steps: [
      {
        name: "x/a admits x/b",
        act: applying([ingressToXA("from-b", [{ podSelector: { matchLabels: { pod: "b" } } }])]),
        cases: on([TCP80], (r) => r.expectIngressOnlyFrom("x/a", "x/b")),
      },
      {
        name: "x/b deleted",
        act: (api) => api.deletePod("x", "b"),
        pods: podsWithout("x/b"),
        unknownPods: ["x/b"],
        cases: on([TCP80, TCP81], (r) => r.expectAllIngress("x/a", false)),
      },
      {
        name: "x/b re-created on node-1 at 10.244.1.99",
        act: applying([pod("x/b", { ip: "10.244.1.99", nodeName: "node-1" })]),
        cases: on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", "x/b")),
      },
    ],
  },
];
