/**
 * decodeNetworkPolicySpec: one test per row of the case table in its doc
 * comment. Missing versus empty is decided here and nowhere else.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Cidr, NetworkPolicy, Peer, PortMatcher, Rule, Selector } from "../../server/model/types.js";
import { parseCidr } from "../../server/policy/address.js";
import { Path } from "../../server/policy/field.js";
import { decodeNetworkPolicySpec } from "../../server/policy/network-policy.js";
import { Reader } from "../../server/policy/reader.js";

type Obj = Record<string, unknown>;

function decode(spec: Obj): NetworkPolicy {
  const r = new Reader();
  const p = decodeNetworkPolicySpec(r, "prod", "p", spec, Path.root("spec"));
  assert.deepEqual(r.errors, [], "a valid spec decodes without errors");
  return p;
}

const EVERYTHING: Selector = { kind: "everything" };
const app = (v: string): Selector => ({ kind: "match", requirements: [{ key: "app", operator: "In", values: [v] }] });
const team = (v: string): Selector => ({ kind: "match", requirements: [{ key: "team", operator: "In", values: [v] }] });
const cidr = (t: string): Cidr => parseCidr(t)!;
const allPeers = (field: string): Peer[] => [{ kind: "all", field }];
const allPorts = (field: string): PortMatcher[] => [{ kind: "all", field }];
const openRule = (field: string): Rule => ({ field, peers: allPeers(field), ports: allPorts(field) });
const policy = (over: Partial<NetworkPolicy>): NetworkPolicy => ({
  namespace: "prod",
  name: "p",
  key: "prod/p",
  podSelector: EVERYTHING,
  ingress: [],
  egress: undefined,
  ...over,
});

interface Case {
  readonly name: string;
  readonly spec: Obj;
  readonly want: NetworkPolicy;
}

const cases: readonly Case[] = [
  { name: "podSelector: {} selects every pod of the namespace", spec: { podSelector: {} }, want: policy({}) },
  { name: "podSelector omitted is {} too", spec: {}, want: policy({}) },
  { name: "podSelector with matchLabels", spec: { podSelector: { matchLabels: { app: "web" } } }, want: policy({ podSelector: app("web") }) },
  { name: "policyTypes omitted, no egress: Ingress only", spec: { podSelector: {}, ingress: [{}] }, want: policy({ ingress: [openRule("spec.ingress[0]")] }) },
  {
    name: "policyTypes omitted, egress with a rule: Ingress and Egress",
    spec: { podSelector: {}, egress: [{}] },
    want: policy({ ingress: [], egress: [openRule("spec.egress[0]")] }),
  },
  { name: "policyTypes omitted, egress: []: Ingress only", spec: { podSelector: {}, egress: [] }, want: policy({ ingress: [], egress: undefined }) },
  { name: "policyTypes: [] is the same as omitted", spec: { podSelector: {}, policyTypes: [], egress: [{}] }, want: policy({ ingress: [], egress: [openRule("spec.egress[0]")] }) },
  { name: "Ingress type, ingress omitted: isolates, allows nothing", spec: { podSelector: {}, policyTypes: ["Ingress"] }, want: policy({ ingress: [] }) },
  { name: "Ingress type, ingress: []: isolates, allows nothing", spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [] }, want: policy({ ingress: [] }) },
  { name: "ingress: [{}]: one rule allowing every peer on every port", spec: { podSelector: {}, ingress: [{}] }, want: policy({ ingress: [openRule("spec.ingress[0]")] }) },
  {
    name: "not of the Ingress type: ingress rules are ignored, no ingress isolation",
    spec: { podSelector: {}, policyTypes: ["Egress"], ingress: [{}] },
    want: policy({ ingress: undefined, egress: [] }),
  },
  {
    name: "both types, no rules: isolates both ways",
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    want: policy({ ingress: [], egress: [] }),
  },
  {
    name: "rule without from",
    spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] },
    want: policy({
      ingress: [{ field: "spec.ingress[0]", peers: allPeers("spec.ingress[0]"), ports: [{ kind: "range", field: "spec.ingress[0].ports[0]", protocol: "TCP", from: 80, to: 80 }] }],
    }),
  },
  { name: "rule with from: []", spec: { podSelector: {}, ingress: [{ from: [] }] }, want: policy({ ingress: [openRule("spec.ingress[0]")] }) },
  {
    name: "egress rule with to: []",
    spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{}, { to: [] }] },
    want: policy({ ingress: undefined, egress: [openRule("spec.egress[0]"), openRule("spec.egress[1]")] }),
  },
  {
    name: "rule without ports",
    spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] },
    want: policy({
      ingress: [
        {
          field: "spec.ingress[0]",
          peers: [{ kind: "pods", field: "spec.ingress[0].from[0]", namespaces: { kind: "same" }, pods: EVERYTHING }],
          ports: allPorts("spec.ingress[0]"),
        },
      ],
    }),
  },
  { name: "rule with ports: []", spec: { podSelector: {}, ingress: [{ ports: [] }] }, want: policy({ ingress: [openRule("spec.ingress[0]")] }) },
];

const portCases: readonly { name: string; port: Obj; want: PortMatcher }[] = [
  { name: "port without protocol is TCP", port: { port: 443 }, want: { kind: "range", field: "spec.ingress[0].ports[0]", protocol: "TCP", from: 443, to: 443 } },
  { name: "port entry without port: every port of its protocol", port: { protocol: "UDP" }, want: { kind: "protocol", field: "spec.ingress[0].ports[0]", protocol: "UDP" } },
  { name: "port entry with neither: every TCP port", port: {}, want: { kind: "protocol", field: "spec.ingress[0].ports[0]", protocol: "TCP" } },
  {
    name: "numeric port with endPort: an inclusive range",
    port: { port: 32000, endPort: 32768, protocol: "SCTP" },
    want: { kind: "range", field: "spec.ingress[0].ports[0]", protocol: "SCTP", from: 32000, to: 32768 },
  },
  {
    name: "endPort equal to port",
    port: { port: 53, endPort: 53, protocol: "UDP" },
    want: { kind: "range", field: "spec.ingress[0].ports[0]", protocol: "UDP", from: 53, to: 53 },
  },
  {
    name: "string port: named, resolved later on the destination",
    port: { port: "http" },
    want: { kind: "named", field: "spec.ingress[0].ports[0]", protocol: "TCP", name: "http" },
  },
  { name: "named port with a protocol", port: { port: "dns", protocol: "UDP" }, want: { kind: "named", field: "spec.ingress[0].ports[0]", protocol: "UDP", name: "dns" } },
];

const F = "spec.egress[0].to[0]";
const peerCases: readonly { name: string; peer: Obj; want: Peer }[] = [
  {
    name: "podSelector only: pods of the policy's namespace",
    peer: { podSelector: { matchLabels: { app: "db" } } },
    want: { kind: "pods", field: F, namespaces: { kind: "same" }, pods: app("db") },
  },
  {
    name: "podSelector: {} only: every pod of the policy's namespace",
    peer: { podSelector: {} },
    want: { kind: "pods", field: F, namespaces: { kind: "same" }, pods: EVERYTHING },
  },
  {
    name: "namespaceSelector only: every pod of the selected namespaces",
    peer: { namespaceSelector: { matchLabels: { team: "b" } } },
    want: { kind: "pods", field: F, namespaces: { kind: "selector", selector: team("b") }, pods: EVERYTHING },
  },
  {
    name: "namespaceSelector: {}: every pod of every namespace",
    peer: { namespaceSelector: {} },
    want: { kind: "pods", field: F, namespaces: { kind: "selector", selector: EVERYTHING }, pods: EVERYTHING },
  },
  {
    name: "both selectors in one peer: ANDed",
    peer: { namespaceSelector: { matchLabels: { team: "b" } }, podSelector: { matchLabels: { app: "db" } } },
    want: { kind: "pods", field: F, namespaces: { kind: "selector", selector: team("b") }, pods: app("db") },
  },
  { name: "ipBlock without except", peer: { ipBlock: { cidr: "10.0.0.0/8" } }, want: { kind: "ipBlock", field: F, cidr: cidr("10.0.0.0/8"), except: [] } },
  {
    name: "ipBlock with except, host bits cleared",
    peer: { ipBlock: { cidr: "10.1.2.3/8", except: ["10.1.0.0/16", "10.2.3.4/16"] } },
    want: { kind: "ipBlock", field: F, cidr: cidr("10.0.0.0/8"), except: [cidr("10.1.0.0/16"), cidr("10.2.0.0/16")] },
  },
  {
    name: "IPv6 ipBlock",
    peer: { ipBlock: { cidr: "2001:DB8::/32", except: ["2001:db8:0:1::/64"] } },
    want: { kind: "ipBlock", field: F, cidr: cidr("2001:db8::/32"), except: [cidr("2001:db8:0:1::/64")] },
  },
];

describe("decodeNetworkPolicySpec: the case table", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(decode(c.spec), c.want);
    });
  }
});

describe("decodeNetworkPolicySpec: ports", () => {
  for (const c of portCases) {
    it(c.name, () => {
      assert.deepEqual(decode({ podSelector: {}, ingress: [{ ports: [c.port] }] }).ingress?.[0]?.ports, [c.want]);
    });
  }
});

describe("decodeNetworkPolicySpec: peers", () => {
  for (const c of peerCases) {
    it(c.name, () => {
      assert.deepEqual(decode({ podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [c.peer] }] }).egress?.[0]?.peers, [c.want]);
    });
  }
  it("the canonical CIDR text is what the peer keeps", () => {
    const peer = decode({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "2001:DB8:0:0::1/48" } }] }] }).ingress?.[0]?.peers[0];
    assert.equal(peer?.kind === "ipBlock" ? peer.cidr.text : undefined, "2001:db8::/48");
  });
});
