/**
 * NetworkPolicy semantics, one point per block, through PodwallService.check
 * on the cluster in test/fixtures/cluster.yaml plus the policies each block
 * adds. Every row asserts the decision and the explanation: which policies
 * selected each end, and per rule matched or why not, by field path.
 *
 * The cluster: node-1 10.0.0.1 + fd00::1, node-2 10.0.0.2.
 *   prod (team=a): web 10.1.1.10 node-1 (http 8080/TCP, dns 53/UDP, assoc 9999/SCTP),
 *                  db 10.1.2.20 node-2 (pg 5432/TCP), client 10.1.1.30 node-1,
 *                  pending (app=client, no IP) node-2, agent (host network, 10.0.0.2) node-2,
 *                  dual 10.1.1.70 + fd00:10::70 node-1
 *   dev (team=b):  client 10.1.2.40, tool 10.1.2.50, dual 10.1.2.71 + fd00:20::71, all node-2
 *   other:         x 10.1.1.60 node-1
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import type { PolicyVerdict, RuleResult } from "../../server/policy/evaluate.js";
import { type Decision, type DirectionView, PodwallError, PodwallService, SYSTEM } from "../../server/service/index.js";

const CLUSTER = readFileSync(new URL("../fixtures/cluster.yaml", import.meta.url), "utf8");

type Obj = Record<string, unknown>;
const np = (namespace: string, name: string, spec: Obj): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});
const app = (v: string): Obj => ({ matchLabels: { app: v } });

async function serviceWith(policies: readonly Obj[]): Promise<PodwallService> {
  const s = await PodwallService.start({ cacheSize: 0 });
  await s.apply(SYSTEM, CLUSTER);
  if (policies.length > 0) await s.apply(SYSTEM, JSON.stringify({ apiVersion: "v1", kind: "List", items: policies }));
  return s;
}

// Rule results, worded as the evaluator words them.
const matched = (field: string, peer: string, port: string): RuleResult => ({ field, result: "matched", peer, port });
const peerMismatch = (field: string): RuleResult => ({ field, result: "peer-mismatch", detail: "no peer of the rule matches the other end" });
const protocolMismatch = (field: string, protocol: string): RuleResult => ({ field, result: "protocol-mismatch", detail: `the rule allows no ${protocol} port` });
const portMismatch = (field: string, protocol: string, port: number, on?: string): RuleResult => ({
  field,
  result: "port-mismatch",
  detail: `the rule allows no ${protocol} port ${port}${on ? ` on ${on}` : ""}`,
});
const verdict = (policy: string, ...rules: RuleResult[]): PolicyVerdict => ({ policy, allowed: rules.some((r) => r.result === "matched"), rules });

// Direction views.
const notIsolated = (subject: string): DirectionView => ({ subject, allowed: true, isolated: false, reason: "not-isolated", policies: [], verdicts: [] });
const notAPod: DirectionView = { allowed: true, isolated: false, reason: "not-a-pod", policies: [], verdicts: [] };
const hostNetwork = (subject: string): DirectionView => ({ subject, allowed: true, isolated: false, reason: "host-network", policies: [], verdicts: [] });
const isolated = (subject: string, ...verdicts: PolicyVerdict[]): DirectionView => {
  const allowed = verdicts.some((v) => v.allowed);
  return { subject, allowed, isolated: true, reason: allowed ? "allowed" : "no-rule-matched", policies: verdicts.map((v) => v.policy), verdicts };
};

interface Row {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol?: string;
  readonly allowed: boolean;
  readonly reason?: Decision["reason"];
  readonly egress?: DirectionView;
  readonly ingress?: DirectionView;
  /** Other fields of the decision that must match (src, dst views). */
  readonly also?: Partial<Decision>;
  readonly note?: string;
}

/** One `it` per row, named after the question and its answer. */
function rows(title: string, policies: readonly Obj[], table: readonly Row[]): void {
  describe(title, () => {
    let s: PodwallService;
    before(async () => {
      s = await serviceWith(policies);
    });
    for (const r of table) {
      const q = `${r.src} → ${r.dst} ${r.protocol ?? "TCP"}/${r.port}`;
      it(`${q}: ${r.allowed ? "allowed" : "denied"}${r.note ? ` (${r.note})` : ""}`, () => {
        const d = s.check(SYSTEM, { src: r.src, dst: r.dst, port: r.port, protocol: r.protocol, explain: true });
        assert.equal(d.allowed, r.allowed);
        assert.equal(d.reason, r.reason ?? "policy");
        if (r.egress) assert.deepEqual(d.egress, r.egress);
        if (r.ingress) assert.deepEqual(d.ingress, r.ingress);
        for (const [k, v] of Object.entries(r.also ?? {})) assert.deepEqual(d[k as keyof Decision], v, k);
      });
    }
  });
}

const DENY_ALL_PROD = np("prod", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
const denyAll = verdict("prod/deny-all");

rows(
  "isolation: no policy selects the pod",
  [],
  [{ src: "prod/client", dst: "prod/web", port: 8080, allowed: true, egress: notIsolated("prod/client"), ingress: notIsolated("prod/web") }],
);

rows(
  "isolation: a policy must select the pod AND have the direction in policyTypes",
  [
    np("prod", "web-egress-only", { podSelector: app("web"), policyTypes: ["Egress"] }),
    np("prod", "db-only", { podSelector: app("db"), ingress: [] }),
    np("dev", "dev-deny", { podSelector: {} }),
  ],
  [
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: true, note: "web is isolated for egress only", ingress: notIsolated("prod/web") },
    { src: "prod/web", dst: "8.8.8.8", port: 53, protocol: "UDP", allowed: false, egress: isolated("prod/web", verdict("prod/web-egress-only")), ingress: notAPod },
    { src: "prod/client", dst: "prod/db", port: 5432, allowed: false, ingress: isolated("prod/db", verdict("prod/db-only")) },
    { src: "prod/client", dst: "dev/tool", port: 80, allowed: false, note: "dev-deny isolates every pod of dev", ingress: isolated("dev/tool", verdict("dev/dev-deny")) },
    {
      src: "dev/tool",
      dst: "prod/client",
      port: 80,
      allowed: true,
      note: "dev-deny has no Egress type and selects no pod of prod",
      egress: notIsolated("dev/tool"),
      ingress: notIsolated("prod/client"),
    },
  ],
);

rows(
  "isolation: policyTypes omitted with egress rules means Ingress and Egress",
  [np("prod", "web", { podSelector: app("web"), egress: [{}] })],
  [
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: false, ingress: isolated("prod/web", verdict("prod/web")) },
    {
      src: "prod/web",
      dst: "prod/db",
      port: 5432,
      allowed: true,
      egress: isolated("prod/web", verdict("prod/web", matched("spec.egress[0]", "spec.egress[0]", "spec.egress[0]"))),
    },
  ],
);

rows(
  "isolation: every selecting policy is listed, in name order; one allowing is enough",
  [
    np("prod", "b-allow-client", { podSelector: app("web"), ingress: [{ from: [{ podSelector: app("client") }] }] }),
    np("prod", "a-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
  ],
  [
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/a-deny"), verdict("prod/b-allow-client", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "prod/client", dst: "prod/db", port: 5432, allowed: false, ingress: isolated("prod/db", verdict("prod/a-deny")) },
  ],
);

rows(
  "ingress: [] allows nothing",
  [np("prod", "deny-in", { podSelector: {}, policyTypes: ["Ingress"], ingress: [] })],
  [
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: false, egress: notIsolated("prod/client"), ingress: isolated("prod/web", verdict("prod/deny-in")) },
    { src: "203.0.113.9", dst: "prod/web", port: 8080, allowed: false, egress: notAPod, ingress: isolated("prod/web", verdict("prod/deny-in")) },
    { src: "prod/web", dst: "203.0.113.9", port: 443, allowed: true, note: "egress is not isolated", egress: notIsolated("prod/web"), ingress: notAPod },
  ],
);

const OPEN = verdict("prod/open", matched("spec.ingress[0]", "spec.ingress[0]", "spec.ingress[0]"));
rows(
  "ingress: [{}] allows everything, outside addresses included",
  [np("prod", "open", { podSelector: app("web"), ingress: [{}] })],
  [
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: true, ingress: isolated("prod/web", OPEN) },
    { src: "other/x", dst: "prod/web", port: 1, protocol: "SCTP", allowed: true, ingress: isolated("prod/web", OPEN) },
    { src: "203.0.113.9", dst: "prod/web", port: 53, protocol: "UDP", allowed: true, ingress: isolated("prod/web", OPEN) },
    {
      src: "2001:db8::9",
      dst: "prod/web",
      port: 65535,
      allowed: true,
      note: "web has no IPv6 address; a rule without peers does not need one",
      ingress: isolated("prod/web", OPEN),
    },
    { src: "10.0.0.2", dst: "prod/web", port: 8080, allowed: true, note: "another node", ingress: isolated("prod/web", OPEN) },
  ],
);

const clientsAnyPort = np("prod", "clients", { podSelector: app("web"), ingress: [{ from: [{ podSelector: app("client") }] }] });
const CLIENTS = verdict("prod/clients", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"));
rows(
  "a rule without ports matches every port and protocol",
  [clientsAnyPort],
  [
    { src: "prod/client", dst: "prod/web", port: 1, allowed: true, ingress: isolated("prod/web", CLIENTS) },
    { src: "prod/client", dst: "prod/web", port: 65535, allowed: true, ingress: isolated("prod/web", CLIENTS) },
    { src: "prod/client", dst: "prod/web", port: 53, protocol: "udp", allowed: true, ingress: isolated("prod/web", CLIENTS) },
    { src: "prod/client", dst: "prod/web", port: 9999, protocol: "Sctp", allowed: true, ingress: isolated("prod/web", CLIENTS) },
  ],
);

rows(
  "podSelector peer: pods of the policy's namespace only",
  [clientsAnyPort],
  [
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: true, ingress: isolated("prod/web", CLIENTS) },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "same labels, other namespace",
      ingress: isolated("prod/web", verdict("prod/clients", peerMismatch("spec.ingress[0]"))),
    },
    { src: "10.1.1.30", dst: "prod/web", port: 8080, allowed: true, note: "prod/client by its address", ingress: isolated("prod/web", CLIENTS) },
    {
      src: "10.1.1.31",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "an address outside the cluster",
      ingress: isolated("prod/web", verdict("prod/clients", peerMismatch("spec.ingress[0]"))),
    },
  ],
);

rows(
  "namespaceSelector peer: every pod of the selected namespaces",
  [
    np("prod", "team-b", { podSelector: app("web"), ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }] }] }),
    np("prod", "any-ns", { podSelector: app("db"), ingress: [{ from: [{ namespaceSelector: {} }] }] }),
    np("prod", "by-name", { podSelector: app("client"), ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] }] }),
  ],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/team-b", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "dev/tool", dst: "prod/web", port: 8080, allowed: true },
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "prod is team=a",
      ingress: isolated("prod/web", verdict("prod/team-b", peerMismatch("spec.ingress[0]"))),
    },
    {
      src: "other/x",
      dst: "prod/db",
      port: 5432,
      allowed: true,
      note: "namespaceSelector: {}",
      ingress: isolated("prod/db", verdict("prod/any-ns", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "prod/web", dst: "prod/db", port: 5432, allowed: true, note: "namespaceSelector: {} includes the policy's own namespace" },
    {
      src: "203.0.113.9",
      dst: "prod/db",
      port: 5432,
      allowed: false,
      note: "namespaceSelector: {} selects pods, not outside addresses",
      ingress: isolated("prod/db", verdict("prod/any-ns", peerMismatch("spec.ingress[0]"))),
    },
    { src: "10.0.0.2", dst: "prod/db", port: 5432, allowed: true, reason: "own-node", note: "db's own node" },
    {
      src: "10.0.0.1",
      dst: "prod/db",
      port: 5432,
      allowed: false,
      note: "another node is not a pod",
      ingress: isolated("prod/db", verdict("prod/any-ns", peerMismatch("spec.ingress[0]"))),
    },
    { src: "other/x", dst: "prod/client", port: 80, allowed: true, note: "the kubernetes.io/metadata.name label" },
    { src: "dev/tool", dst: "prod/client", port: 80, allowed: false },
  ],
);

rows(
  "both selectors in one peer are ANDed",
  [np("prod", "and", { podSelector: app("web"), ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } }, podSelector: app("client") }] }] })],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/and", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    {
      src: "dev/tool",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "right namespace, wrong pod",
      ingress: isolated("prod/web", verdict("prod/and", peerMismatch("spec.ingress[0]"))),
    },
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: false, note: "right pod, wrong namespace" },
  ],
);

rows(
  "two peers in one rule are ORed",
  [np("prod", "or", { podSelector: app("web"), ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }, { podSelector: app("client") }] }] })],
  [
    {
      src: "dev/tool",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/or", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/or", matched("spec.ingress[0]", "spec.ingress[0].from[1]", "spec.ingress[0]"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      note: "matches both: the first is named",
      ingress: isolated("prod/web", verdict("prod/or", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "other/x", dst: "prod/web", port: 8080, allowed: false, ingress: isolated("prod/web", verdict("prod/or", peerMismatch("spec.ingress[0]"))) },
  ],
);

rows(
  "ipBlock is matched against pod IPs too",
  [np("prod", "subnet", { podSelector: app("web"), ingress: [{ from: [{ ipBlock: { cidr: "10.1.2.0/24" } }] }] })],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/subnet", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "prod/db", dst: "prod/web", port: 8080, allowed: true, note: "10.1.2.20" },
    { src: "10.1.2.200", dst: "prod/web", port: 8080, allowed: true, note: "outside the cluster, inside the block" },
    { src: "prod/client", dst: "prod/web", port: 8080, allowed: false, note: "10.1.1.30", ingress: isolated("prod/web", verdict("prod/subnet", peerMismatch("spec.ingress[0]"))) },
  ],
);

rows(
  "ipBlock except applies to its own peer only",
  [
    np("prod", "except", {
      podSelector: app("web"),
      ingress: [{ from: [{ ipBlock: { cidr: "10.1.0.0/16", except: ["10.1.2.0/24"] } }, { ipBlock: { cidr: "10.1.2.40/32" } }] }],
    }),
  ],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      note: "10.1.2.40: excepted by from[0], allowed by from[1]",
      ingress: isolated("prod/web", verdict("prod/except", matched("spec.ingress[0]", "spec.ingress[0].from[1]", "spec.ingress[0]"))),
    },
    { src: "dev/tool", dst: "prod/web", port: 8080, allowed: false, note: "10.1.2.50", ingress: isolated("prod/web", verdict("prod/except", peerMismatch("spec.ingress[0]"))) },
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      note: "10.1.1.30",
      ingress: isolated("prod/web", verdict("prod/except", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "10.1.3.5", dst: "prod/web", port: 8080, allowed: true },
    { src: "10.1.2.99", dst: "prod/web", port: 8080, allowed: false },
    { src: "10.2.0.1", dst: "prod/web", port: 8080, allowed: false },
  ],
);

rows(
  "an address outside the cluster: only the in-cluster side is evaluated",
  [np("prod", "web-dns", { podSelector: app("web"), policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "8.8.8.8/32" } }], ports: [{ port: 53, protocol: "UDP" }] }] })],
  [
    {
      src: "prod/web",
      dst: "8.8.8.8",
      port: 53,
      protocol: "UDP",
      allowed: true,
      egress: isolated("prod/web", verdict("prod/web-dns", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0].ports[0]"))),
      ingress: notAPod,
      also: { dst: { kind: "external", ip: "8.8.8.8" }, src: { kind: "pod", name: "prod/web", ip: "10.1.1.10", node: "node-1" } },
    },
    {
      src: "prod/web",
      dst: "8.8.4.4",
      port: 53,
      protocol: "UDP",
      allowed: false,
      egress: isolated("prod/web", verdict("prod/web-dns", peerMismatch("spec.egress[0]"))),
      ingress: notAPod,
    },
    {
      src: "203.0.113.9",
      dst: "prod/client",
      port: 80,
      allowed: true,
      egress: notAPod,
      ingress: notIsolated("prod/client"),
      also: { src: { kind: "external", ip: "203.0.113.9" } },
    },
    { src: "203.0.113.9", dst: "8.8.8.8", port: 53, allowed: true, note: "nothing in the cluster to evaluate", egress: notAPod, ingress: notAPod },
  ],
);

rows(
  "a pod can always reach itself, even under deny-all",
  [DENY_ALL_PROD],
  [
    { src: "prod/web", dst: "prod/web", port: 8080, allowed: true, reason: "same-pod", egress: { ...isolated("prod/web", denyAll) }, ingress: isolated("prod/web", denyAll) },
    { src: "prod/web", dst: "10.1.1.10", port: 8080, allowed: true, reason: "same-pod", note: "itself by address" },
    { src: "10.1.1.10", dst: "prod/web", port: 8080, allowed: true, reason: "same-pod" },
    {
      src: "prod/web",
      dst: "prod/client",
      port: 8080,
      allowed: false,
      note: "same node, another pod",
      egress: isolated("prod/web", denyAll),
      ingress: isolated("prod/client", denyAll),
    },
  ],
);

rows(
  "a pod and its own node always reach each other; another node is subject to policy",
  [DENY_ALL_PROD],
  [
    { src: "prod/web", dst: "10.0.0.1", port: 10250, allowed: true, reason: "own-node", also: { dst: { kind: "node", name: "node-1", ip: "10.0.0.1", node: "node-1" } } },
    { src: "10.0.0.1", dst: "prod/web", port: 8080, allowed: true, reason: "own-node", ingress: isolated("prod/web", denyAll) },
    { src: "prod/web", dst: "fd00::1", port: 10250, allowed: true, reason: "own-node", note: "node-1's IPv6 address" },
    { src: "prod/web", dst: "10.0.0.2", port: 10250, allowed: false, note: "node-2", egress: isolated("prod/web", denyAll), ingress: notAPod },
    { src: "10.0.0.2", dst: "prod/web", port: 8080, allowed: false, note: "node-2", egress: notAPod, ingress: isolated("prod/web", denyAll) },
    { src: "prod/client", dst: "10.0.0.2", port: 10250, allowed: false },
    { src: "prod/db", dst: "10.0.0.1", port: 10250, allowed: false, note: "db is on node-2" },
    {
      src: "prod/dual",
      dst: "10.0.0.2",
      port: 10250,
      allowed: false,
      egress: isolated("prod/dual", denyAll),
    },
  ],
);

rows(
  "a pod reaches another node's address when egress allows it",
  [DENY_ALL_PROD, np("prod", "to-node-2", { podSelector: app("web"), policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.0.0.2/32" } }] }] })],
  [
    {
      src: "prod/web",
      dst: "10.0.0.2",
      port: 10250,
      allowed: true,
      egress: isolated("prod/web", denyAll, verdict("prod/to-node-2", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0]"))),
      ingress: notAPod,
    },
  ],
);

rows(
  "host-network pods are not selected by policies",
  [DENY_ALL_PROD],
  [
    { src: "prod/agent", dst: "8.8.8.8", port: 443, allowed: true, egress: hostNetwork("prod/agent"), ingress: notAPod },
    { src: "203.0.113.9", dst: "prod/agent", port: 8080, allowed: true, egress: notAPod, ingress: hostNetwork("prod/agent") },
    { src: "prod/agent", dst: "prod/db", port: 5432, allowed: true, reason: "own-node", note: "its node's traffic, to a pod on that node" },
    {
      src: "prod/agent",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "web, on another node, is isolated",
      egress: hostNetwork("prod/agent"),
      ingress: isolated("prod/web", denyAll),
    },
    {
      src: "10.0.0.2",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "its address is its node's",
      also: { src: { kind: "node", name: "node-2", ip: "10.0.0.2", node: "node-2" } },
    },
  ],
);

rows(
  "pod selectors never match a host-network pod; ipBlock matches its (node's) address",
  [
    np("prod", "all-pods", { podSelector: app("web"), ingress: [{ from: [{ podSelector: {} }] }] }),
    np("prod", "node-2", { podSelector: app("client"), ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.2/32" } }] }] }),
  ],
  [
    { src: "prod/agent", dst: "prod/web", port: 8080, allowed: false, ingress: isolated("prod/web", verdict("prod/all-pods", peerMismatch("spec.ingress[0]"))) },
    { src: "prod/db", dst: "prod/web", port: 8080, allowed: true },
    {
      src: "prod/agent",
      dst: "prod/client",
      port: 80,
      allowed: true,
      ingress: isolated("prod/client", verdict("prod/node-2", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
  ],
);

rows(
  "a pod without an IP is checked by name; ipBlock peers never match it",
  [
    np("prod", "clients", { podSelector: app("web"), ingress: [{ from: [{ podSelector: app("client") }] }] }),
    np("prod", "anywhere", { podSelector: app("db"), ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] }),
  ],
  [
    {
      src: "prod/pending",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      also: { src: { kind: "pod", name: "prod/pending", node: "node-2" } },
      ingress: isolated("prod/web", verdict("prod/clients", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    { src: "prod/pending", dst: "prod/db", port: 5432, allowed: false, ingress: isolated("prod/db", verdict("prod/anywhere", peerMismatch("spec.ingress[0]"))) },
    { src: "prod/client", dst: "prod/db", port: 5432, allowed: true, note: "a pod with an address is in 0.0.0.0/0" },
  ],
);

rows(
  "egress of a pod without an IP: ipBlock cannot match, pod peers can",
  [np("prod", "out", { podSelector: app("client"), policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.1.0.0/16" } }] }, { to: [{ podSelector: app("web") }] }] })],
  [
    {
      src: "prod/pending",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      egress: isolated(
        "prod/pending",
        verdict("prod/out", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0]"), matched("spec.egress[1]", "spec.egress[1].to[0]", "spec.egress[1]")),
      ),
    },
    {
      src: "prod/pending",
      dst: "prod/db",
      port: 5432,
      allowed: true,
      note: "db's address is in the block",
      egress: isolated("prod/pending", verdict("prod/out", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0]"), peerMismatch("spec.egress[1]"))),
    },
    { src: "prod/web", dst: "prod/pending", port: 80, allowed: true, note: "pending's ingress is not isolated", ingress: notIsolated("prod/pending") },
  ],
);

rows(
  "named ports: name and protocol must both match, on the destination pod",
  [
    np("prod", "http", { podSelector: app("web"), ingress: [{ ports: [{ port: "http" }] }] }),
    np("prod", "dns-tcp", { podSelector: app("db"), ingress: [{ ports: [{ port: "pg" }, { port: "dns" }] }] }),
    np("prod", "client-out", { podSelector: app("client"), policyTypes: ["Egress"], egress: [{ ports: [{ port: "pg" }, { port: "dns", protocol: "UDP" }] }] }),
  ],
  [
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      note: "client's egress allows pg and dns only",
      egress: isolated("prod/client", verdict("prod/client-out", portMismatch("spec.egress[0]", "TCP", 8080, "prod/web"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/http", matched("spec.ingress[0]", "spec.ingress[0]", "spec.ingress[0].ports[0]"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8081,
      allowed: false,
      ingress: isolated("prod/web", verdict("prod/http", portMismatch("spec.ingress[0]", "TCP", 8081, "prod/web"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8080,
      protocol: "UDP",
      allowed: false,
      ingress: isolated("prod/web", verdict("prod/http", protocolMismatch("spec.ingress[0]", "UDP"))),
    },
    {
      src: "prod/client",
      dst: "prod/db",
      port: 5432,
      allowed: true,
      note: "pg is db's port, not the client's",
      egress: isolated("prod/client", verdict("prod/client-out", matched("spec.egress[0]", "spec.egress[0]", "spec.egress[0].ports[0]"))),
    },
    {
      src: "prod/client",
      dst: "prod/web",
      port: 53,
      protocol: "UDP",
      allowed: false,
      note: "dns/UDP on web: client's egress allows it, web's ingress (http only) does not",
      egress: isolated("prod/client", verdict("prod/client-out", matched("spec.egress[0]", "spec.egress[0]", "spec.egress[0].ports[1]"))),
      ingress: isolated("prod/web", verdict("prod/http", protocolMismatch("spec.ingress[0]", "UDP"))),
    },
    {
      src: "dev/client",
      dst: "prod/db",
      port: 53,
      allowed: false,
      note: "db defines no dns port",
      ingress: isolated("prod/db", verdict("prod/dns-tcp", portMismatch("spec.ingress[0]", "TCP", 53, "prod/db"))),
    },
    {
      src: "prod/client",
      dst: "8.8.8.8",
      port: 53,
      protocol: "UDP",
      allowed: false,
      note: "an outside address has no named ports",
      egress: isolated("prod/client", verdict("prod/client-out", portMismatch("spec.egress[0]", "UDP", 53))),
    },
  ],
);

rows(
  "named port resolved on the destination: a TCP name does not match UDP",
  [np("prod", "dns-tcp", { podSelector: app("web"), ingress: [{ ports: [{ port: "dns" }] }] })],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 53,
      protocol: "UDP",
      allowed: false,
      note: "dns is UDP on web; the policy asks for TCP",
      ingress: isolated("prod/web", verdict("prod/dns-tcp", protocolMismatch("spec.ingress[0]", "UDP"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 53,
      allowed: false,
      ingress: isolated("prod/web", verdict("prod/dns-tcp", portMismatch("spec.ingress[0]", "TCP", 53, "prod/web"))),
    },
  ],
);

rows(
  "endPort: an inclusive range",
  [np("prod", "range", { podSelector: app("web"), ingress: [{ ports: [{ port: 8000, endPort: 8080 }] }] })],
  [
    ...[8000, 8040, 8080].map(
      (port): Row => ({
        src: "dev/client",
        dst: "prod/web",
        port,
        allowed: true,
        ingress: isolated("prod/web", verdict("prod/range", matched("spec.ingress[0]", "spec.ingress[0]", "spec.ingress[0].ports[0]"))),
      }),
    ),
    ...[7999, 8081].map(
      (port): Row => ({
        src: "dev/client",
        dst: "prod/web",
        port,
        allowed: false,
        ingress: isolated("prod/web", verdict("prod/range", portMismatch("spec.ingress[0]", "TCP", port, "prod/web"))),
      }),
    ),
    {
      src: "dev/client",
      dst: "prod/web",
      port: 8000,
      protocol: "UDP",
      allowed: false,
      ingress: isolated("prod/web", verdict("prod/range", protocolMismatch("spec.ingress[0]", "UDP"))),
    },
  ],
);

rows(
  "SCTP, and a port entry without a port",
  [
    np("prod", "sctp", { podSelector: app("web"), ingress: [{ ports: [{ protocol: "SCTP", port: 9999 }] }] }),
    np("prod", "udp-any", { podSelector: app("db"), ingress: [{ ports: [{ protocol: "UDP" }] }] }),
  ],
  [
    {
      src: "dev/client",
      dst: "prod/web",
      port: 9999,
      protocol: "SCTP",
      allowed: true,
      ingress: isolated("prod/web", verdict("prod/sctp", matched("spec.ingress[0]", "spec.ingress[0]", "spec.ingress[0].ports[0]"))),
    },
    {
      src: "dev/client",
      dst: "prod/web",
      port: 9998,
      protocol: "SCTP",
      allowed: false,
      ingress: isolated("prod/web", verdict("prod/sctp", portMismatch("spec.ingress[0]", "SCTP", 9998, "prod/web"))),
    },
    { src: "dev/client", dst: "prod/web", port: 9999, allowed: false, ingress: isolated("prod/web", verdict("prod/sctp", protocolMismatch("spec.ingress[0]", "TCP"))) },
    {
      src: "dev/client",
      dst: "prod/db",
      port: 1,
      protocol: "UDP",
      allowed: true,
      ingress: isolated("prod/db", verdict("prod/udp-any", matched("spec.ingress[0]", "spec.ingress[0]", "spec.ingress[0].ports[0]"))),
    },
    { src: "dev/client", dst: "prod/db", port: 65535, protocol: "UDP", allowed: true },
    { src: "dev/client", dst: "prod/db", port: 5432, allowed: false, ingress: isolated("prod/db", verdict("prod/udp-any", protocolMismatch("spec.ingress[0]", "TCP"))) },
  ],
);

rows(
  "egress of the source and ingress of the destination must both allow",
  [
    np("prod", "client-to-db", { podSelector: app("client"), policyTypes: ["Egress"], egress: [{ to: [{ podSelector: app("db") }] }] }),
    np("prod", "db-from-web", { podSelector: app("db"), ingress: [{ from: [{ podSelector: app("web") }] }] }),
  ],
  [
    {
      src: "prod/client",
      dst: "prod/web",
      port: 8080,
      allowed: false,
      egress: isolated("prod/client", verdict("prod/client-to-db", peerMismatch("spec.egress[0]"))),
      ingress: notIsolated("prod/web"),
    },
    {
      src: "prod/client",
      dst: "prod/db",
      port: 5432,
      allowed: false,
      egress: isolated("prod/client", verdict("prod/client-to-db", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0]"))),
      ingress: isolated("prod/db", verdict("prod/db-from-web", peerMismatch("spec.ingress[0]"))),
    },
    { src: "prod/web", dst: "prod/db", port: 5432, allowed: true },
  ],
);

rows(
  "dual stack: the connection's family picks each pod's address",
  [
    np("prod", "dual-out", {
      podSelector: app("dual"),
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "2001:db8::/64" } }, { ipBlock: { cidr: "10.1.2.71/32" } }] }],
    }),
    np("dev", "dual-in", { podSelector: app("dual"), ingress: [{ from: [{ ipBlock: { cidr: "fd00:10::/64" } }] }] }),
  ],
  [
    {
      src: "prod/dual",
      dst: "2001:db8::9",
      port: 443,
      allowed: true,
      also: { src: { kind: "pod", name: "prod/dual", ip: "fd00:10::70", node: "node-1" } },
      egress: isolated("prod/dual", verdict("prod/dual-out", matched("spec.egress[0]", "spec.egress[0].to[0]", "spec.egress[0]"))),
    },
    { src: "prod/dual", dst: "2001:db9::9", port: 443, allowed: false, egress: isolated("prod/dual", verdict("prod/dual-out", peerMismatch("spec.egress[0]"))) },
    { src: "prod/dual", dst: "203.0.113.9", port: 443, allowed: false, also: { src: { kind: "pod", name: "prod/dual", ip: "10.1.1.70", node: "node-1" } } },
    {
      src: "fd00:10::70",
      dst: "dev/dual",
      port: 443,
      allowed: false,
      note: "over IPv6: dev/dual's fd00:20::71 is not in 10.1.2.71/32",
      also: { dst: { kind: "pod", name: "dev/dual", ip: "fd00:20::71", node: "node-2" } },
      egress: isolated("prod/dual", verdict("prod/dual-out", peerMismatch("spec.egress[0]"))),
      ingress: isolated("dev/dual", verdict("dev/dual-in", matched("spec.ingress[0]", "spec.ingress[0].from[0]", "spec.ingress[0]"))),
    },
    {
      src: "prod/dual",
      dst: "dev/dual",
      port: 443,
      allowed: false,
      note: "by name: the source's primary family, IPv4",
      also: { src: { kind: "pod", name: "prod/dual", ip: "10.1.1.70", node: "node-1" }, dst: { kind: "pod", name: "dev/dual", ip: "10.1.2.71", node: "node-2" } },
      egress: isolated("prod/dual", verdict("prod/dual-out", matched("spec.egress[0]", "spec.egress[0].to[1]", "spec.egress[0]"))),
      ingress: isolated("dev/dual", verdict("dev/dual-in", peerMismatch("spec.ingress[0]"))),
    },
  ],
);

describe("questions that cannot be answered", () => {
  let s: PodwallService;
  before(async () => {
    s = await serviceWith([]);
  });
  const cases: readonly { name: string; input: Obj; code: PodwallError["code"]; message: string; errors: readonly Obj[] }[] = [
    { name: "unknown source pod", input: { src: "prod/ghost", dst: "prod/web", port: 80 }, code: "not-found", message: 'pods "ghost" not found in namespace "prod"', errors: [] },
    {
      name: "unknown destination pod",
      input: { src: "prod/web", dst: "nowhere/web", port: 80 },
      code: "not-found",
      message: 'pods "web" not found in namespace "nowhere"',
      errors: [],
    },
    {
      name: "port 0",
      input: { src: "prod/web", dst: "prod/db", port: 0 },
      code: "bad-request",
      message: "invalid check: port: must be between 1 and 65535, inclusive",
      errors: [{ field: "port", type: "FieldValueInvalid", value: 0, detail: "must be between 1 and 65535, inclusive" }],
    },
    {
      name: "port 65536 as text",
      input: { src: "prod/web", dst: "prod/db", port: "65536" },
      code: "bad-request",
      message: "invalid check: port: must be between 1 and 65535, inclusive",
      errors: [{ field: "port", type: "FieldValueInvalid", value: "65536", detail: "must be between 1 and 65535, inclusive" }],
    },
    {
      name: "a port name",
      input: { src: "prod/web", dst: "prod/db", port: "http" },
      code: "bad-request",
      message: "invalid check: port: must be between 1 and 65535, inclusive",
      errors: [{ field: "port", type: "FieldValueInvalid", value: "http", detail: "must be between 1 and 65535, inclusive" }],
    },
    {
      name: "no port",
      input: { src: "prod/web", dst: "prod/db" },
      code: "bad-request",
      message: "invalid check: port: must be between 1 and 65535, inclusive",
      errors: [{ field: "port", type: "FieldValueRequired", detail: "must be between 1 and 65535, inclusive" }],
    },
    {
      name: "protocol ICMP",
      input: { src: "prod/web", dst: "prod/db", port: 80, protocol: "icmp" },
      code: "bad-request",
      message: 'invalid check: protocol: supported values: "TCP", "UDP", "SCTP"',
      errors: [{ field: "protocol", type: "FieldValueNotSupported", value: "icmp", detail: 'supported values: "TCP", "UDP", "SCTP"' }],
    },
    {
      name: "bad protocol and bad port: both fields",
      input: { src: "prod/web", dst: "prod/db", port: -1, protocol: "GRE" },
      code: "bad-request",
      message: 'invalid check: protocol: supported values: "TCP", "UDP", "SCTP"; port: must be between 1 and 65535, inclusive',
      errors: [
        { field: "protocol", type: "FieldValueNotSupported", value: "GRE", detail: 'supported values: "TCP", "UDP", "SCTP"' },
        { field: "port", type: "FieldValueInvalid", value: -1, detail: "must be between 1 and 65535, inclusive" },
      ],
    },
    {
      name: "a source that is neither a pod nor an address",
      input: { src: "prod", dst: "prod/db", port: 80 },
      code: "bad-request",
      message: 'src: "prod" is neither "namespace/name" nor an IP address',
      errors: [{ field: "src", type: "FieldValueInvalid", value: "prod", detail: '"prod" is neither "namespace/name" nor an IP address' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => s.check(SYSTEM, c.input),
        (e: unknown) => {
          assert.ok(e instanceof PodwallError);
          assert.equal(e.code, c.code);
          assert.equal(e.message, c.message);
          assert.deepEqual(e.errors, c.errors);
          return true;
        },
      );
    });
  }
  it("the generation of the model is in every decision", () => {
    const d = s.check(SYSTEM, { src: "prod/web", dst: "prod/db", port: 80 });
    assert.equal(d.generation, s.generation);
    assert.deepEqual([d.protocol, d.port], ["TCP", 80]);
  });
});
