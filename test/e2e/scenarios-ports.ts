/**
 * Ports: numeric, protocol-only, UDP and SCTP, named ports (resolved on the
 * destination pod, in ingress and in egress) and endPort ranges, as the API
 * reference's NetworkPolicyPort defines them.
 */
import { SERVE_PORTS, networkPolicy, pod } from "./cluster.js";
import type { Reachability } from "./reachability.js";
import { type Scenario, SCTP80, SCTP81, TCP80, TCP81, UDP80, UDP81, applying, on, scenario } from "./scenario.js";

/** An ingress policy on x/a: one rule from every source, with these ports. */
function portsToXA(name: string, ports: unknown[], from?: unknown[]) {
  return networkPolicy("x", name, {
    podSelector: { matchLabels: { pod: "a" } },
    policyTypes: ["Ingress"],
    ingress: [{ ...(from ? { from } : {}), ports }],
  });
}

/** x/a is isolated for ingress and this protocol/port is in none of its rules. */
const closedXA = (r: Reachability) => r.expectAllIngress("x/a", false);

export const portScenarios: Scenario[] = [
  scenario(
    "a numeric port allows that port only, over TCP by default",
    "port: 80 with no protocol: protocol defaults to TCP; TCP/81 and UDP/80 stay denied to x/a",
    [portsToXA("tcp-80", [{ port: 80 }])],
    [...on([TCP80], () => {}), ...on([TCP81, UDP80], closedXA)],
  ),
  scenario(
    "a port entry with a protocol and no port allows every port of that protocol",
    "if port is not specified, the entry matches all port numbers of its protocol",
    [portsToXA("all-udp", [{ protocol: "UDP" }])],
    [...on([UDP80, UDP81], () => {}), ...on([TCP80, SCTP80], closedXA)],
  ),
  scenario(
    "a UDP-only rule leaves TCP denied",
    "the entry matches UDP port 81 only: the same port over TCP, and UDP/80, are denied",
    [portsToXA("udp-81", [{ protocol: "UDP", port: 81 }])],
    [...on([UDP81], () => {}), ...on([TCP81, UDP80], closedXA)],
  ),
  scenario(
    "an SCTP rule from namespace y",
    "protocol SCTP port 80 from the pods of y: SCTP/80 from y only, nothing over TCP or on SCTP/81",
    [portsToXA("sctp-80-from-y", [{ protocol: "SCTP", port: 80 }], [{ namespaceSelector: { matchLabels: { ns: "y" } } }])],
    [...on([SCTP80], (r) => r.expectIngressOnlyFrom("x/a", { ns: "y" })), ...on([TCP80, SCTP81], closedXA)],
  ),
  scenario(
    "named ports in ingress resolve on the destination pod",
    "port may be a named port on a pod: serve-80-tcp is TCP/80 and serve-81-udp (protocol UDP) is UDP/81 on x/a",
    [portsToXA("named", [{ port: "serve-80-tcp" }, { protocol: "UDP", port: "serve-81-udp" }])],
    [...on([TCP80, UDP81], () => {}), ...on([TCP81, UDP80], closedXA)],
  ),
  {
    name: "a named port in egress resolves on each destination pod",
    doc: "a named port names a port of the destination: z/c swaps its TCP names, so serve-81-tcp is 80 there and 81 elsewhere",
    steps: [
      {
        name: "z/c serves serve-81-tcp on 80 and serve-80-tcp on 81; x may send to serve-81-tcp only",
        act: applying([
          pod("z/c", {
            ports: SERVE_PORTS.map((p) => (p.protocol === "TCP" ? { ...p, name: p.containerPort === 80 ? "serve-81-tcp" : "serve-80-tcp" } : p)),
          }),
          networkPolicy("x", "egress-serve-81", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ port: "serve-81-tcp" }] }] }),
        ]),
        cases: [
          ...on([TCP81], (r) => r.expectEgressOnlyTo({ ns: "x" }, [{ ns: ["x", "y"] }, "z/a", "z/b"])),
          ...on([TCP80], (r) => r.expectEgressOnlyTo({ ns: "x" }, "z/c")),
          ...on([UDP81], (r) => r.expectAllEgress({ ns: "x" }, false)),
        ],
      },
    ],
  },
  {
    name: "a named port the destination does not define matches nothing there",
    doc: "x/c serves TCP/80 as http-80, not serve-80-tcp: a rule on serve-80-tcp admits TCP/80 to x/a and x/b but not to x/c",
    steps: [
      {
        name: "x/c renames serve-80-tcp to http-80; x admits serve-80-tcp from anywhere",
        act: applying([
          pod("x/c", { ports: SERVE_PORTS.map((p) => (p.name === "serve-80-tcp" ? { ...p, name: "http-80" } : p)) }),
          networkPolicy("x", "named-80", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: "serve-80-tcp" }] }] }),
        ]),
        cases: [...on([TCP80], (r) => r.expectAllIngress("x/c", false)), ...on([TCP81, UDP80], (r) => r.expectAllIngress({ ns: "x" }, false))],
      },
    ],
  },
  scenario(
    "a named port no pod defines matches nothing",
    "serve-90-tcp names no port of x/a: x/a is isolated and admits nothing",
    [portsToXA("named-90", [{ port: "serve-90-tcp" }])],
    on([TCP80, TCP81], closedXA),
  ),
  scenario(
    "endPort 80-81 allows both ports",
    "port 80 with endPort 81 matches the inclusive range 80..81, over TCP",
    [portsToXA("range-80-81", [{ protocol: "TCP", port: 80, endPort: 81 }])],
    [...on([TCP80, TCP81], () => {}), ...on([UDP80, SCTP81], closedXA)],
  ),
  scenario(
    "endPort 81-90 in egress allows 81, not 80",
    "the range 81..90 excludes 80: pods of x may send TCP/81 anywhere and TCP/80 nowhere",
    [networkPolicy("x", "egress-81-90", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ protocol: "TCP", port: 81, endPort: 90 }] }] })],
    [...on([TCP81], () => {}), ...on([TCP80, UDP81], (r) => r.expectAllEgress({ ns: "x" }, false))],
  ),
];
