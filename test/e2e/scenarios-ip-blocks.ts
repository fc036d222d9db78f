/**
 * ipBlock peers: CIDRs over the pods' own addresses (as upstream's e2e tests
 * use them) with `except`, an ipBlock beside a pod peer, and single cells
 * whose other end is an address outside the cluster or a node.
 *
 * Pod addresses (cluster.ts): node-1 holds x/a .1.11, x/c .1.13, y/b .1.22,
 * z/a .1.31, z/c .1.33; node-2 holds x/b .2.12, y/a .2.21, y/c .2.23, z/b .2.32.
 */
import { NODES, networkPolicy } from "./cluster.js";
import { type Scenario, TCP80, TCP81, UDP80, cell, on, scenario } from "./scenario.js";

const OUTSIDE_IN = "192.0.2.10"; // TEST-NET-1, inside 192.0.2.0/24 and outside its except
const OUTSIDE_EXCEPTED = "192.0.2.200"; // inside 192.0.2.128/25, the except
const OUTSIDE_OTHER = "198.51.100.7"; // TEST-NET-2, in no block here
const NODE_1 = NODES[0].ip; // x/a's node
const NODE_2 = NODES[1].ip;

const selectA = { podSelector: { matchLabels: { pod: "a" } } };

export const ipBlockScenarios: Scenario[] = [
  scenario(
    "ingress ipBlock over the pods' addresses, with except carving out one pod",
    "ipBlock allows the CIDR except the ranges in except: 10.244.2.0/24 minus y/c's /32 admits x/b, y/a and z/b",
    [
      networkPolicy("x", "from-node-2-block", {
        ...selectA,
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: "10.244.2.0/24", except: ["10.244.2.23/32"] } }] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectIngressOnlyFrom("x/a", ["x/b", "y/a", "z/b"])),
  ),
  scenario(
    "an ipBlock except does not cut what another peer of the rule allows",
    "peers are ORed: y/b is in the except of the ipBlock peer but matches the pod peer, so it is admitted",
    [
      networkPolicy("x", "block-or-y-b", {
        ...selectA,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: "10.244.1.0/24", except: ["10.244.1.22/32"] } },
              { namespaceSelector: { matchLabels: { ns: "y" } }, podSelector: { matchLabels: { pod: "b" } } },
            ],
          },
        ],
      }),
    ],
    on([TCP80, TCP81], (r) => r.expectIngressOnlyFrom("x/a", ["x/c", "y/b", "z/a", "z/c"])),
  ),
  scenario(
    "egress ipBlock over the pods' addresses",
    "egress to 10.244.0.0/16 except 10.244.1.0/24: x/a may reach the pods of node-2 only",
    [
      networkPolicy("x", "to-node-2-pods", {
        ...selectA,
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "10.244.0.0/16", except: ["10.244.1.0/24"] } }] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectEgressOnlyTo("x/a", ["x/b", "y/a", "y/c", "z/b"])),
  ),
  scenario(
    "egress ipBlock to addresses outside the cluster",
    "x/a may send TCP/80 to 192.0.2.0/24 except 192.0.2.128/25 and nowhere else; unselected pods are not restricted",
    [
      networkPolicy("x", "to-test-net", {
        ...selectA,
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "192.0.2.0/24", except: ["192.0.2.128/25"] } }], ports: [{ protocol: "TCP", port: 80 }] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectAllEgress("x/a", false)),
    [
      cell("x/a", OUTSIDE_IN, TCP80, true),
      cell("x/a", OUTSIDE_IN, TCP81, false),
      cell("x/a", OUTSIDE_IN, UDP80, false),
      cell("x/a", OUTSIDE_EXCEPTED, TCP80, false),
      cell("x/a", OUTSIDE_OTHER, TCP80, false),
      cell("x/b", OUTSIDE_OTHER, TCP80, true),
      cell("y/a", OUTSIDE_EXCEPTED, UDP80, true),
    ],
  ),
  scenario(
    "ingress ipBlock from addresses outside the cluster, and the pod's own node",
    "x/a admits 192.0.2.0/24 on every port; traffic from the node where a pod runs is always allowed, from another node it is not",
    [
      networkPolicy("x", "from-test-net", {
        ...selectA,
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: "192.0.2.0/24" } }] }],
      }),
    ],
    on([TCP80, UDP80], (r) => r.expectAllIngress("x/a", false)),
    [
      cell(OUTSIDE_IN, "x/a", TCP80, true),
      cell(OUTSIDE_IN, "x/a", UDP80, true),
      cell(OUTSIDE_EXCEPTED, "x/a", TCP81, true),
      cell(OUTSIDE_OTHER, "x/a", TCP80, false),
      cell(OUTSIDE_OTHER, "x/b", TCP80, true),
      cell(NODE_1, "x/a", TCP80, true),
      cell(NODE_2, "x/a", TCP80, false),
      cell(NODE_2, "x/b", TCP80, true),
    ],
  ),
];
