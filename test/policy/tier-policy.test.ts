/**
 * The three cluster-scoped kinds decoded into one model: a test per row of the
 * case table in tier-policy.ts, every field valid and invalid with the API
 * server's exact error, and the upstream examples and conformance manifests.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import type { TierPeer, TierPolicy, TierPort, TierRule } from "../../server/model/tier-types.js";
import type { Cidr, Selector } from "../../server/model/types.js";
import { parseCidr } from "../../server/policy/address.js";
import { Path, formatFieldError } from "../../server/policy/field.js";
import { Reader } from "../../server/policy/reader.js";
import { decodeAdminNetworkPolicy, decodeBaselineAdminNetworkPolicy, decodeClusterNetworkPolicy } from "../../server/policy/tier-policy.js";

type Obj = Record<string, unknown>;
type Kind = TierPolicy["kind"];

const DECODERS = { ClusterNetworkPolicy: decodeClusterNetworkPolicy, AdminNetworkPolicy: decodeAdminNetworkPolicy, BaselineAdminNetworkPolicy: decodeBaselineAdminNetworkPolicy };

function run(kind: Kind, spec: unknown, name = kind === "BaselineAdminNetworkPolicy" ? "default" : "p"): { policy: TierPolicy; errors: string[] } {
  const r = new Reader();
  const policy = DECODERS[kind](r, name, spec, Path.root("spec"));
  return { policy, errors: r.errors.map(formatFieldError) };
}

function decode(kind: Kind, spec: Obj, name?: string): TierPolicy {
  const { policy, errors } = run(kind, spec, name);
  assert.deepEqual(errors, [], "a valid spec decodes without errors");
  return policy;
}

const EVERYTHING: Selector = { kind: "everything" };
const sel = (key: string, v: string): Selector => ({ kind: "match", requirements: [{ key, operator: "In", values: [v] }] });
const cidr = (t: string): Cidr => parseCidr(t)!;
const NS = { namespaces: {} };
const cnp = (over: Obj = {}): Obj => ({ tier: "Admin", priority: 10, subject: NS, ...over });
const anp = (over: Obj = {}): Obj => ({ priority: 10, subject: NS, ...over });
const banp = (over: Obj = {}): Obj => ({ subject: NS, ...over });
const deny = (over: Obj = {}): Obj => ({ action: "Deny", from: [NS], ...over });
const denyTo = (over: Obj = {}): Obj => ({ action: "Deny", to: [NS], ...over });
const allPorts = (field: string): TierPort[] => [{ kind: "all", field }];
const nsPeer = (field: string, namespaces: Selector = EVERYTHING): TierPeer => ({ kind: "namespaces", field, namespaces });
const rule = (field: string, over: Partial<TierRule> = {}): TierRule => ({
  field,
  name: undefined,
  action: "Deny",
  actionWord: "Deny",
  peers: [nsPeer(`${field}.${field.startsWith("spec.ingress") ? "from" : "to"}[0]`)],
  ports: allPorts(field),
  ...over,
});
const policy = (over: Partial<TierPolicy> = {}): TierPolicy => ({
  kind: "ClusterNetworkPolicy",
  name: "p",
  key: "ClusterNetworkPolicy/p",
  tier: "Admin",
  priority: 10,
  subject: { kind: "namespaces", field: "spec.subject.namespaces", namespaces: EVERYTHING },
  ingress: [],
  egress: [],
  unenforceable: [],
  ...over,
});

const I = "spec.ingress[0]";
const E = "spec.egress[0]";

const cases: readonly { name: string; kind: Kind; spec: Obj; want: TierPolicy }[] = [
  { name: "subject.namespaces: {}: every pod of every namespace", kind: "ClusterNetworkPolicy", spec: cnp(), want: policy() },
  {
    name: "subject.pods without namespaceSelector (v1alpha2): pods of every namespace",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ subject: { pods: { podSelector: { matchLabels: { app: "web" } } } } }),
    want: policy({ subject: { kind: "pods", field: "spec.subject.pods", namespaces: EVERYTHING, pods: sel("app", "web") } }),
  },
  { name: "ingress and egress omitted: no rules, neither direction affected", kind: "ClusterNetworkPolicy", spec: cnp(), want: policy() },
  { name: "ingress: [] and egress: []: the same", kind: "ClusterNetworkPolicy", spec: cnp({ ingress: [], egress: [] }), want: policy() },
  { name: "rule without name", kind: "ClusterNetworkPolicy", spec: cnp({ ingress: [deny()] }), want: policy({ ingress: [rule(I)] }) },
  { name: 'rule with name: "": name undefined', kind: "ClusterNetworkPolicy", spec: cnp({ ingress: [deny({ name: "" })] }), want: policy({ ingress: [rule(I)] }) },
  {
    name: "rule with a name",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ ingress: [deny({ name: "deny-all" })] }),
    want: policy({ ingress: [rule(I, { name: "deny-all" })] }),
  },
  {
    name: "v1alpha1 action Allow: Accept, written Allow",
    kind: "AdminNetworkPolicy",
    spec: anp({ ingress: [deny({ action: "Allow" })] }),
    want: policy({ kind: "AdminNetworkPolicy", key: "AdminNetworkPolicy/p", ingress: [rule(I, { action: "Accept", actionWord: "Allow" })] }),
  },
  {
    name: "peer namespaces: {}: every pod of every namespace",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ egress: [denyTo({ to: [{ namespaces: {} }] })] }),
    want: policy({ egress: [rule(E)] }),
  },
  {
    name: "peer pods: {podSelector: {}} (v1alpha2): every pod of every namespace",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ egress: [denyTo({ to: [{ pods: { podSelector: {} } }] })] }),
    want: policy({ egress: [rule(E, { peers: [{ kind: "pods", field: `${E}.to[0]`, namespaces: EVERYTHING, pods: EVERYTHING }] })] }),
  },
  {
    name: "peer nodes: {}: every node",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ egress: [denyTo({ to: [{ nodes: {} }] })] }),
    want: policy({ egress: [rule(E, { peers: [{ kind: "nodes", field: `${E}.to[0]`, nodes: EVERYTHING }] })] }),
  },
  {
    name: "peer networks with host bits set: the network",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ egress: [denyTo({ to: [{ networks: ["10.1.2.3/8", "2001:DB8::/32"] }] })] }),
    want: policy({ egress: [rule(E, { peers: [{ kind: "networks", field: `${E}.to[0]`, networks: [cidr("10.0.0.0/8"), cidr("2001:db8::/32")] }] })] }),
  },
  {
    name: "peer domainNames: kept, and listed as unenforceable",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ egress: [denyTo({ action: "Accept", to: [{ domainNames: ["kubernetes.io", "*.kubernetes.io"] }] })] }),
    want: policy({
      egress: [rule(E, { action: "Accept", actionWord: "Accept", peers: [{ kind: "domainNames", field: `${E}.to[0]`, domainNames: ["kubernetes.io", "*.kubernetes.io"] }] })],
      unenforceable: [`${E}.to[0].domainNames`],
    }),
  },
  { name: "rule without protocols: every port and protocol", kind: "ClusterNetworkPolicy", spec: cnp({ ingress: [deny()] }), want: policy({ ingress: [rule(I)] }) },
  {
    name: "rule without ports (v1alpha1): every port and protocol",
    kind: "BaselineAdminNetworkPolicy",
    spec: banp({ ingress: [deny()] }),
    want: policy({ kind: "BaselineAdminNetworkPolicy", name: "default", key: "BaselineAdminNetworkPolicy/default", tier: "Baseline", priority: undefined, ingress: [rule(I)] }),
  },
  {
    name: "tcp.destinationPort.number, udp range, destinationNamedPort",
    kind: "ClusterNetworkPolicy",
    spec: cnp({
      ingress: [
        deny({
          protocols: [
            { tcp: { destinationPort: { number: 80 } } },
            { udp: { destinationPort: { range: { start: 53, end: 54 } } } },
            { sctp: { destinationPort: { number: 9003 } } },
            { destinationNamedPort: "web-alt" },
          ],
        }),
      ],
    }),
    want: policy({
      ingress: [
        rule(I, {
          ports: [
            { kind: "range", field: `${I}.protocols[0]`, protocol: "TCP", from: 80, to: 80 },
            { kind: "range", field: `${I}.protocols[1]`, protocol: "UDP", from: 53, to: 54 },
            { kind: "range", field: `${I}.protocols[2]`, protocol: "SCTP", from: 9003, to: 9003 },
            { kind: "namedAnyProtocol", field: `${I}.protocols[3]`, name: "web-alt" },
          ],
        }),
      ],
    }),
  },
  {
    name: "v1alpha1 portNumber and portRange without protocol: TCP; namedPort",
    kind: "AdminNetworkPolicy",
    spec: anp({
      ingress: [deny({ ports: [{ portNumber: { port: 80 } }, { portRange: { start: 8080, end: 8090, protocol: "UDP" } }, { namedPort: "http" }] })],
    }),
    want: policy({
      kind: "AdminNetworkPolicy",
      key: "AdminNetworkPolicy/p",
      ingress: [
        rule(I, {
          ports: [
            { kind: "range", field: `${I}.ports[0]`, protocol: "TCP", from: 80, to: 80 },
            { kind: "range", field: `${I}.ports[1]`, protocol: "UDP", from: 8080, to: 8090 },
            { kind: "namedAnyProtocol", field: `${I}.ports[2]`, name: "http" },
          ],
        }),
      ],
    }),
  },
  {
    name: "BaselineAdminNetworkPolicy: tier Baseline, no priority",
    kind: "BaselineAdminNetworkPolicy",
    spec: banp(),
    want: policy({ kind: "BaselineAdminNetworkPolicy", name: "default", key: "BaselineAdminNetworkPolicy/default", tier: "Baseline", priority: undefined }),
  },
  {
    name: "ClusterNetworkPolicy of the Baseline tier keeps its priority",
    kind: "ClusterNetworkPolicy",
    spec: cnp({ tier: "Baseline", priority: 0 }),
    want: policy({ tier: "Baseline", priority: 0 }),
  },
  {
    name: "v1alpha1 subject.pods: both selectors",
    kind: "AdminNetworkPolicy",
    spec: anp({ subject: { pods: { namespaceSelector: { matchLabels: { team: "a" } }, podSelector: {} } } }),
    want: policy({
      kind: "AdminNetworkPolicy",
      key: "AdminNetworkPolicy/p",
      subject: { kind: "pods", field: "spec.subject.pods", namespaces: sel("team", "a"), pods: EVERYTHING },
    }),
  },
  {
    name: "fields the CRD does not know are pruned: namespaces: {namespaceSelector: ...} is namespaces: {}",
    kind: "AdminNetworkPolicy",
    spec: anp({ ingress: [deny({ from: [{ namespaces: { namespaceSelector: { matchLabels: { a: "b" } } } }] })] }),
    want: policy({ kind: "AdminNetworkPolicy", key: "AdminNetworkPolicy/p", ingress: [rule(I)] }),
  },
];

describe("tier policies: the case table", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(decode(c.kind, c.spec), c.want);
    });
  }
  it("a subject selector with matchLabels and matchExpressions", () => {
    const p = decode(
      "ClusterNetworkPolicy",
      cnp({ subject: { namespaces: { matchLabels: { team: "a" }, matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }] } } }),
    );
    assert.deepEqual(p.subject, {
      kind: "namespaces",
      field: "spec.subject.namespaces",
      namespaces: {
        kind: "match",
        requirements: [
          { key: "env", operator: "NotIn", values: ["dev"] },
          { key: "team", operator: "In", values: ["a"] },
        ],
      },
    });
  });
  it("a rule's peers keep their order and paths", () => {
    const p = decode(
      "ClusterNetworkPolicy",
      cnp({ ingress: [deny({ from: [{ namespaces: { matchLabels: { a: "1" } } }, { pods: { namespaceSelector: {}, podSelector: { matchLabels: { b: "2" } } } }] })] }),
    );
    assert.deepEqual(p.ingress[0]?.peers, [nsPeer(`${I}.from[0]`, sel("a", "1")), { kind: "pods", field: `${I}.from[1]`, namespaces: EVERYTHING, pods: sel("b", "2") }]);
  });
});

describe("tier policies: the three kinds map onto one model", () => {
  const rules = { ingress: [{ action: "Pass", from: [NS] }], egress: [{ action: "Deny", to: [NS] }] };
  const c = decode("ClusterNetworkPolicy", cnp(rules));
  const a = decode("AdminNetworkPolicy", anp(rules));
  it("an AdminNetworkPolicy is an Admin-tier ClusterNetworkPolicy but for its kind", () => {
    assert.deepEqual({ ...a, kind: c.kind, key: c.key }, c);
  });
  it("ANP Allow is CNP Accept; the word is kept for explanations", () => {
    const cr = decode("ClusterNetworkPolicy", cnp({ ingress: [deny({ action: "Accept" })] })).ingress[0];
    const ar = decode("AdminNetworkPolicy", anp({ ingress: [deny({ action: "Allow" })] })).ingress[0];
    assert.deepEqual([cr?.action, cr?.actionWord, ar?.action, ar?.actionWord], ["Accept", "Accept", "Accept", "Allow"]);
  });
  it("BANP Allow is Accept too, in the Baseline tier", () => {
    const b = decode("BaselineAdminNetworkPolicy", banp({ egress: [denyTo({ action: "Allow" })] }));
    assert.deepEqual([b.tier, b.priority, b.egress[0]?.action, b.egress[0]?.actionWord], ["Baseline", undefined, "Accept", "Allow"]);
  });
  it("two kinds may share a name; the key tells them apart", () => {
    assert.notEqual(decode("AdminNetworkPolicy", anp(), "x").key, decode("ClusterNetworkPolicy", cnp(), "x").key);
  });
});

/** hasBlockingErr's error: after a type, required, enum, maxItems or maxLength error, no CEL rule runs. */
const NOT_CHECKED = "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";
const NAMED_RULE = "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames";
const BANP_NAME = '<nil>: Invalid value: Only one baseline admin network policy with metadata.name="default" can be created in the cluster';
const many = (n: number, item: unknown): unknown[] => Array.from({ length: n }, () => item);
const DOMAIN = "^(\\*\\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.?$";

type ErrCase = readonly [string, Kind, unknown, readonly string[]] | readonly [string, Kind, unknown, readonly string[], string];

const errCases: readonly ErrCase[] = [
  // spec
  ["spec missing", "ClusterNetworkPolicy", undefined, ["spec: Required value", NOT_CHECKED]],
  ["spec not an object", "ClusterNetworkPolicy", "x", ['spec: Invalid value: "string": spec in body must be of type object: "string"', NOT_CHECKED]],
  // tier
  ["tier missing", "ClusterNetworkPolicy", { priority: 1, subject: NS }, ["spec.tier: Required value", NOT_CHECKED]],
  ["tier unknown", "ClusterNetworkPolicy", cnp({ tier: "admin" }), ['spec.tier: Unsupported value: "admin": supported values: "Admin", "Baseline"', NOT_CHECKED]],
  // priority
  ["priority missing", "ClusterNetworkPolicy", { tier: "Admin", subject: NS }, ["spec.priority: Required value", NOT_CHECKED]],
  ["priority 1001", "ClusterNetworkPolicy", cnp({ priority: 1001 }), ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000"]],
  ["priority -1", "AdminNetworkPolicy", anp({ priority: -1 }), ["spec.priority: Invalid value: -1: spec.priority in body should be greater than or equal to 0"]],
  ["priority 1000 is valid", "AdminNetworkPolicy", anp({ priority: 1000 }), []],
  ["priority 0 is valid", "ClusterNetworkPolicy", cnp({ priority: 0 }), []],
  [
    "priority a string",
    "ClusterNetworkPolicy",
    cnp({ priority: "10" }),
    ['spec.priority: Invalid value: "string": spec.priority in body must be of type integer: "string"', NOT_CHECKED],
  ],
  [
    "priority a fraction",
    "AdminNetworkPolicy",
    anp({ priority: 1.5 }),
    ['spec.priority: Invalid value: "number": spec.priority in body must be of type integer: "number"', NOT_CHECKED],
  ],
  ["ANP priority missing", "AdminNetworkPolicy", { subject: NS }, ["spec.priority: Required value", NOT_CHECKED]],
  ["BANP has no priority: pruned", "BaselineAdminNetworkPolicy", banp({ priority: 5000 }), []],
  // subject
  ["subject missing", "ClusterNetworkPolicy", { tier: "Admin", priority: 1 }, ["spec.subject: Required value", NOT_CHECKED]],
  ["subject {}", "ClusterNetworkPolicy", cnp({ subject: {} }), ["spec.subject: Invalid value: 0: spec.subject in body should have at least 1 properties"]],
  [
    "subject with both fields",
    "AdminNetworkPolicy",
    anp({ subject: { namespaces: {}, pods: { namespaceSelector: {}, podSelector: {} } } }),
    ["spec.subject: Too many: 2: must have at most 1 item", NOT_CHECKED],
  ],
  [
    "subject.pods without podSelector",
    "ClusterNetworkPolicy",
    cnp({ subject: { pods: { namespaceSelector: {} } } }),
    ["spec.subject.pods.podSelector: Required value", NOT_CHECKED],
  ],
  [
    "v1alpha1 subject.pods without namespaceSelector",
    "BaselineAdminNetworkPolicy",
    banp({ subject: { pods: { podSelector: {} } } }),
    ["spec.subject.pods.namespaceSelector: Required value", NOT_CHECKED],
  ],
  [
    "subject.namespaces not an object",
    "ClusterNetworkPolicy",
    cnp({ subject: { namespaces: [] } }),
    ['spec.subject.namespaces: Invalid value: "array": spec.subject.namespaces in body must be of type object: "array"', NOT_CHECKED],
  ],
  // label selectors: the schema's shape, then Podwall's check of the content
  [
    "matchExpressions without key and operator",
    "ClusterNetworkPolicy",
    cnp({ subject: { namespaces: { matchExpressions: [{ values: ["a"] }] } } }),
    ["spec.subject.namespaces.matchExpressions[0].key: Required value", "spec.subject.namespaces.matchExpressions[0].operator: Required value", NOT_CHECKED],
  ],
  [
    "matchLabels value not a string",
    "ClusterNetworkPolicy",
    cnp({ subject: { namespaces: { matchLabels: { app: true } } } }),
    ['spec.subject.namespaces.matchLabels.app: Invalid value: "boolean": spec.subject.namespaces.matchLabels.app in body must be of type string: "boolean"', NOT_CHECKED],
  ],
  [
    "matchExpressions operator unknown (Podwall's check: the schema lets it through)",
    "ClusterNetworkPolicy",
    cnp({ subject: { namespaces: { matchExpressions: [{ key: "a", operator: "Equals", values: ["b"] }] } } }),
    ['spec.subject.namespaces.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator'],
  ],
  [
    "matchLabels value not a label value (Podwall's check)",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ from: [{ namespaces: { matchLabels: { app: "a b" } } }] })] }),
    [
      "spec.ingress[0].from[0].namespaces.matchLabels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  ],
  // ingress and egress
  [
    "ingress not a list",
    "ClusterNetworkPolicy",
    cnp({ ingress: {} }),
    ['spec.ingress: Invalid value: "object": spec.ingress in body must be of type array: "object"', NOT_CHECKED],
  ],
  ["26 ingress rules", "ClusterNetworkPolicy", cnp({ ingress: many(26, deny()) }), ["spec.ingress: Too many: 26: must have at most 25 items", NOT_CHECKED]],
  ["25 egress rules are valid", "ClusterNetworkPolicy", cnp({ egress: many(25, denyTo()) }), []],
  ["101 ANP egress rules", "AdminNetworkPolicy", anp({ egress: many(101, denyTo()) }), ["spec.egress: Too many: 101: must have at most 100 items", NOT_CHECKED]],
  ["100 BANP ingress rules are valid", "BaselineAdminNetworkPolicy", banp({ ingress: many(100, deny()) }), []],
  // name
  ["name of 100 characters is valid", "ClusterNetworkPolicy", cnp({ ingress: [deny({ name: "n".repeat(100) })] }), []],
  // FieldError has no TooLong type: the API server says "spec.ingress[0].name: Too long: may not be more than 100 bytes".
  [
    "name of 101 characters",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ name: "n".repeat(101) })] }),
    ["spec.ingress[0].name: Invalid value: may not be more than 100 bytes", NOT_CHECKED],
  ],
  ["name counted in characters", "AdminNetworkPolicy", anp({ ingress: [deny({ name: "é".repeat(100) })] }), []],
  // action
  ["action missing", "ClusterNetworkPolicy", cnp({ ingress: [{ from: [NS] }] }), ["spec.ingress[0].action: Required value", NOT_CHECKED]],
  [
    "CNP action Allow",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ action: "Allow" })] }),
    ['spec.ingress[0].action: Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"', NOT_CHECKED],
  ],
  [
    "ANP action Accept",
    "AdminNetworkPolicy",
    anp({ egress: [denyTo({ action: "Accept" })] }),
    ['spec.egress[0].action: Unsupported value: "Accept": supported values: "Allow", "Deny", "Pass"', NOT_CHECKED],
  ],
  [
    "BANP action Pass",
    "BaselineAdminNetworkPolicy",
    banp({ ingress: [deny({ action: "Pass" })] }),
    ['spec.ingress[0].action: Unsupported value: "Pass": supported values: "Allow", "Deny"', NOT_CHECKED],
  ],
  // from / to
  ["from missing", "ClusterNetworkPolicy", cnp({ ingress: [{ action: "Deny" }] }), ["spec.ingress[0].from: Required value", NOT_CHECKED]],
  [
    "from: []",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ from: [] })] }),
    ["spec.ingress[0].from: Invalid value: 0: spec.ingress[0].from in body should have at least 1 items"],
  ],
  ["to missing", "BaselineAdminNetworkPolicy", banp({ egress: [{ action: "Deny" }] }), ["spec.egress[0].to: Required value", NOT_CHECKED]],
  ["26 peers", "ClusterNetworkPolicy", cnp({ egress: [denyTo({ to: many(26, NS) })] }), ["spec.egress[0].to: Too many: 26: must have at most 25 items", NOT_CHECKED]],
  ["101 ANP peers", "AdminNetworkPolicy", anp({ ingress: [deny({ from: many(101, NS) })] }), ["spec.ingress[0].from: Too many: 101: must have at most 100 items", NOT_CHECKED]],
  // peers
  [
    "peer {}",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ from: [{}] })] }),
    ["spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body should have at least 1 properties"],
  ],
  [
    "peer with two fields",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ namespaces: {}, networks: ["10.0.0.0/8"] }] })] }),
    ["spec.egress[0].to[0]: Too many: 2: must have at most 1 item", NOT_CHECKED],
  ],
  [
    "ingress peer networks: not an ingress field, pruned",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ from: [{ networks: ["10.0.0.0/8"] }] })] }),
    ["spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body should have at least 1 properties"],
  ],
  [
    "v1alpha1 egress pods without namespaceSelector",
    "AdminNetworkPolicy",
    anp({ egress: [denyTo({ to: [{ pods: { podSelector: {} } }] })] }),
    ["spec.egress[0].to[0].pods.namespaceSelector: Required value", NOT_CHECKED],
  ],
  // networks
  [
    "networks: []",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: [] }] })] }),
    ["spec.egress[0].to[0].networks: Invalid value: 0: spec.egress[0].to[0].networks in body should have at least 1 items"],
  ],
  [
    "26 networks",
    "AdminNetworkPolicy",
    anp({ egress: [denyTo({ to: [{ networks: Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`) }] })] }),
    ["spec.egress[0].to[0].networks: Too many: 26: must have at most 25 items", NOT_CHECKED],
  ],
  [
    "network not a CIDR",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: ["10.0.0.300/24"] }] })] }),
    ['spec.egress[0].to[0].networks[0]: Invalid value: "10.0.0.300/24": Invalid CIDR format provided'],
  ],
  [
    "network with leading zeros",
    "BaselineAdminNetworkPolicy",
    banp({ egress: [denyTo({ to: [{ networks: ["10.0.0.010/32"] }] })] }),
    ['spec.egress[0].to[0].networks[0]: Invalid value: "10.0.0.010/32": Invalid CIDR format provided'],
  ],
  [
    "network an address",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: ["10.0.0.1"] }] })] }),
    ['spec.egress[0].to[0].networks[0]: Invalid value: "10.0.0.1": Invalid CIDR format provided'],
  ],
  [
    "network IPv4-mapped",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: ["::ffff:10.0.0.0/104"] }] })] }),
    ['spec.egress[0].to[0].networks[0]: Invalid value: "::ffff:10.0.0.0/104": Invalid CIDR format provided'],
  ],
  [
    "network of 44 characters",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: ["2001:0db8:0000:0000:0000:0000:0000:0000/0128"] }] })] }),
    ["spec.egress[0].to[0].networks[0]: Invalid value: may not be more than 43 bytes", NOT_CHECKED],
  ],
  [
    "networks listed twice",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ networks: ["10.0.0.0/8", "10.0.0.0/8"] }] })] }),
    ['spec.egress[0].to[0].networks[1]: Duplicate value: "10.0.0.0/8"'],
  ],
  // domainNames
  [
    "domainNames with a wildcard prefix are valid",
    "AdminNetworkPolicy",
    anp({ egress: [denyTo({ action: "Allow", to: [{ domainNames: ["*.example.com", "example.com."] }] })] }),
    [],
  ],
  [
    "domainName with a wildcard inside",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ domainNames: ["www.*.example.com"] }] })] }),
    [`spec.egress[0].to[0].domainNames[0]: Invalid value: "www.*.example.com": spec.egress[0].to[0].domainNames[0] in body should match '${DOMAIN}'`],
  ],
  [
    "domainName of one label",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ domainNames: ["localhost", "a.io", "a.io"] }] })] }),
    [
      `spec.egress[0].to[0].domainNames[0]: Invalid value: "localhost": spec.egress[0].to[0].domainNames[0] in body should match '${DOMAIN}'`,
      'spec.egress[0].to[0].domainNames[2]: Duplicate value: "a.io"',
    ],
  ],
  [
    "BANP has no domainNames: pruned",
    "BaselineAdminNetworkPolicy",
    banp({ egress: [denyTo({ to: [{ domainNames: ["a.io"] }] })] }),
    ["spec.egress[0].to[0]: Invalid value: 0: spec.egress[0].to[0] in body should have at least 1 properties"],
  ],
  // protocols (v1alpha2)
  [
    "protocols: []",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [] })] }),
    ["spec.ingress[0].protocols: Invalid value: 0: spec.ingress[0].protocols in body should have at least 1 items"],
  ],
  [
    "26 protocols",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: many(26, { destinationNamedPort: "http" }) })] }),
    ["spec.ingress[0].protocols: Too many: 26: must have at most 25 items", NOT_CHECKED],
  ],
  [
    "protocol {}",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{}] })] }),
    ["spec.ingress[0].protocols[0]: Invalid value: 0: spec.ingress[0].protocols[0] in body should have at least 1 properties"],
  ],
  [
    "protocol with tcp and udp",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ tcp: { destinationPort: { number: 1 } }, udp: { destinationPort: { number: 1 } } }] })] }),
    ["spec.ingress[0].protocols[0]: Too many: 2: must have at most 1 item", NOT_CHECKED],
  ],
  [
    "tcp: {}",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ tcp: {} }] })] }),
    ["spec.ingress[0].protocols[0].tcp: Invalid value: 0: spec.ingress[0].protocols[0].tcp in body should have at least 1 properties"],
  ],
  [
    "destinationPort: {}",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ udp: { destinationPort: {} } }] })] }),
    ["spec.ingress[0].protocols[0].udp.destinationPort: Invalid value: 0: spec.ingress[0].protocols[0].udp.destinationPort in body should have at least 1 properties"],
  ],
  [
    "port number 0",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ tcp: { destinationPort: { number: 0 } } }] })] }),
    [
      "spec.ingress[0].protocols[0].tcp.destinationPort.number: Invalid value: 0: spec.ingress[0].protocols[0].tcp.destinationPort.number in body should be greater than or equal to 1",
    ],
  ],
  [
    "port number 65536",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ sctp: { destinationPort: { number: 65536 } } }] })] }),
    [
      "spec.ingress[0].protocols[0].sctp.destinationPort.number: Invalid value: 65536: spec.ingress[0].protocols[0].sctp.destinationPort.number in body should be less than or equal to 65535",
    ],
  ],
  [
    "range start equal to end",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ tcp: { destinationPort: { range: { start: 80, end: 80 } } } }] })] }),
    ["spec.ingress[0].protocols[0].tcp.destinationPort.range: Invalid value: Start port must be less than End port"],
  ],
  [
    "range without end",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ tcp: { destinationPort: { range: { start: 80 } } } }] })] }),
    ["spec.ingress[0].protocols[0].tcp.destinationPort.range.end: Required value", NOT_CHECKED],
  ],
  [
    "range end 70000",
    "ClusterNetworkPolicy",
    cnp({ ingress: [deny({ protocols: [{ udp: { destinationPort: { range: { start: 80, end: 70000 } } } }] })] }),
    [
      "spec.ingress[0].protocols[0].udp.destinationPort.range.end: Invalid value: 70000: spec.ingress[0].protocols[0].udp.destinationPort.range.end in body should be less than or equal to 65535",
    ],
  ],
  // the named-port rule
  [
    "named port with a pods peer is valid",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [{ pods: { podSelector: {} } }], protocols: [{ destinationNamedPort: "dns" }] })] }),
    [],
  ],
  [
    "named port with a networks peer",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ to: [NS, { networks: ["10.0.0.0/8"] }], protocols: [{ destinationNamedPort: "dns" }] })] }),
    [`spec.egress[0]: Invalid value: ${NAMED_RULE}`],
  ],
  [
    "named port with a nodes peer (ANP)",
    "AdminNetworkPolicy",
    anp({ egress: [denyTo({ to: [{ nodes: {} }], ports: [{ namedPort: "dns" }] })] }),
    [`spec.egress[0]: Invalid value: ${NAMED_RULE}`],
  ],
  [
    "named port with a nodes peer (BANP)",
    "BaselineAdminNetworkPolicy",
    banp({ egress: [denyTo({ to: [{ nodes: {} }], ports: [{ namedPort: "dns" }] })] }),
    ["spec.egress[0]: Invalid value: networks/nodes peer cannot be set with namedPorts since there are no namedPorts for networks/nodes"],
  ],
  [
    "named port with a domainNames peer",
    "ClusterNetworkPolicy",
    cnp({ egress: [denyTo({ action: "Accept", to: [{ domainNames: ["a.io"] }], protocols: [{ destinationNamedPort: "https" }] })] }),
    [`spec.egress[0]: Invalid value: ${NAMED_RULE}`],
  ],
  ["an ingress rule has no such rule", "ClusterNetworkPolicy", cnp({ ingress: [deny({ protocols: [{ destinationNamedPort: "dns" }] })] }), []],
  [
    "a blocking error elsewhere: the rule is not checked",
    "ClusterNetworkPolicy",
    cnp({ tier: "Top", egress: [denyTo({ to: [{ nodes: {} }], protocols: [{ destinationNamedPort: "dns" }] })] }),
    ['spec.tier: Unsupported value: "Top": supported values: "Admin", "Baseline"', NOT_CHECKED],
  ],
  [
    "a non-blocking error elsewhere: the rule is checked",
    "ClusterNetworkPolicy",
    cnp({ priority: 1001, egress: [denyTo({ to: [{ nodes: {} }], protocols: [{ destinationNamedPort: "dns" }] })] }),
    ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000", `spec.egress[0]: Invalid value: ${NAMED_RULE}`],
  ],
  // ports (v1alpha1)
  [
    "ports: []",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [] })] }),
    ["spec.ingress[0].ports: Invalid value: 0: spec.ingress[0].ports in body should have at least 1 items"],
  ],
  [
    "101 ports",
    "BaselineAdminNetworkPolicy",
    banp({ ingress: [deny({ ports: many(101, { namedPort: "a" }) })] }),
    ["spec.ingress[0].ports: Too many: 101: must have at most 100 items", NOT_CHECKED],
  ],
  [
    "port {}",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{}] })] }),
    ["spec.ingress[0].ports[0]: Invalid value: 0: spec.ingress[0].ports[0] in body should have at least 1 properties"],
  ],
  [
    "port with two fields",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{ namedPort: "a", portNumber: { port: 1 } }] })] }),
    ["spec.ingress[0].ports[0]: Too many: 2: must have at most 1 item", NOT_CHECKED],
  ],
  [
    "portNumber without port",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{ portNumber: { protocol: "UDP" } }] })] }),
    ["spec.ingress[0].ports[0].portNumber.port: Required value", NOT_CHECKED],
  ],
  [
    "portNumber port 0",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{ portNumber: { port: 0 } }] })] }),
    ["spec.ingress[0].ports[0].portNumber.port: Invalid value: 0: spec.ingress[0].ports[0].portNumber.port in body should be greater than or equal to 1"],
  ],
  [
    "portNumber protocol ICMP (Podwall's check: the v1alpha1 CRD has no enum)",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{ portNumber: { port: 1, protocol: "ICMP" } }] })] }),
    ['spec.ingress[0].ports[0].portNumber.protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
  ],
  [
    "portRange without start",
    "BaselineAdminNetworkPolicy",
    banp({ ingress: [deny({ ports: [{ portRange: { end: 10 } }] })] }),
    ["spec.ingress[0].ports[0].portRange.start: Required value", NOT_CHECKED],
  ],
  [
    "portRange end before start (Podwall's check: documented, not in the v1alpha1 CRD)",
    "AdminNetworkPolicy",
    anp({ ingress: [deny({ ports: [{ portRange: { start: 90, end: 80 } }] })] }),
    ["spec.ingress[0].ports[0].portRange.end: Invalid value: 80: must be greater than `start`"],
  ],
  // BaselineAdminNetworkPolicy's name
  ["BANP named other than default", "BaselineAdminNetworkPolicy", banp(), [BANP_NAME], "baseline"],
  [
    "BANP misnamed with a blocking error: the rule is not checked",
    "BaselineAdminNetworkPolicy",
    banp({ subject: undefined }),
    ["spec.subject: Required value", NOT_CHECKED],
    "baseline",
  ],
  ["ANP and CNP may be named default", "AdminNetworkPolicy", anp(), [], "default"],
];

describe("tier policies: validation as the API server does it", () => {
  for (const [name, kind, spec, want, objectName] of errCases) {
    it(`${kind}: ${name}`, () => {
      assert.deepEqual(run(kind, spec, objectName).errors, want);
    });
  }
});

const FIXTURES = new URL("../fixtures/tiers/", import.meta.url).pathname;
/** The upstream copies: every YAML file but those of eval/, which are this project's scenarios. */
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? (f === "eval" ? [] : walk(join(d, f))) : f.endsWith(".yaml") ? [join(d, f)] : []));

/** The fixtures the API server refuses, with its errors; every other one is valid. */
const INVALID_FIXTURES: Readonly<Record<string, readonly string[]>> = {
  "crdtest/invalid/cidr-invalid.yaml": ['spec.egress[0].to[0].networks[0]: Invalid value: "10.0.0.300/24": Invalid CIDR format provided'],
  "crdtest/invalid/egress-peer-namedport-conflict.experimental.yaml": [`spec.egress[0]: Invalid value: ${NAMED_RULE}`],
  "crdtest/invalid/invalid-ingress-action.yaml": ['spec.ingress[0].action: Unsupported value: "Invalid": supported values: "Accept", "Deny", "Pass"', NOT_CHECKED],
  "crdtest/invalid/port-range-invalid.yaml": ["spec.egress[0].protocols[0].tcp.destinationPort.range: Invalid value: Start port must be less than End port"],
  // The pod peer's selectors sit under `namespaces`, which NamespacedPod does not have.
  "site-src/v1alpha1/user-story-2.yaml": ["spec.egress[0].to[0].pods.namespaceSelector: Required value", NOT_CHECKED],
};

/** `{key: "tenant"; operator: Exists}` is not YAML: kubectl stops before the API server sees it. */
const UNPARSEABLE = [
  "site-src/v1alpha1/user-story-4-v1.yaml",
  "site-src/v1alpha1/user-story-4-v2.yaml",
  "site-src/v1alpha2/user-story-4-v1.yaml",
  "site-src/v1alpha2/user-story-4-v2.yaml",
];

describe("tier policies: upstream examples and conformance manifests", () => {
  const files = walk(FIXTURES).sort();
  it("finds the fixtures", () => {
    assert.equal(files.length, 60);
  });
  for (const file of files) {
    const rel = relative(FIXTURES, file);
    it(rel, () => {
      // The conformance suite fills in its host-network ports before applying a manifest.
      const text = readFileSync(file, "utf8").replace(/\{\{ index \.HostNetworkPorts (\d) \}\}/g, (_, n: string) => String(34346 + Number(n)));
      const docs = parseAllDocuments(text);
      if (UNPARSEABLE.includes(rel)) {
        assert.ok(docs.some((d) => d.errors.length > 0));
        return;
      }
      const got: string[] = [];
      let decoded = 0;
      for (const doc of docs) {
        assert.deepEqual(doc.errors, []);
        const o = doc.toJS() as Obj | null;
        const kind = o?.["kind"] as string;
        if (!o || !(kind in DECODERS)) continue;
        const apiVersion = kind === "ClusterNetworkPolicy" ? "policy.networking.k8s.io/v1alpha2" : "policy.networking.k8s.io/v1alpha1";
        assert.equal(o["apiVersion"], apiVersion);
        got.push(...run(kind as Kind, o["spec"], (o["metadata"] as Obj)["name"] as string).errors);
        decoded++;
      }
      assert.ok(decoded > 0);
      assert.deepEqual(got, INVALID_FIXTURES[rel] ?? []);
    });
  }
  it("user story 3 as a ClusterNetworkPolicy", () => {
    const o = parseAllDocuments(readFileSync(join(FIXTURES, "site-src/v1alpha2/user-story-3.yaml"), "utf8"))[0]!.toJS() as Obj;
    const p = decode("ClusterNetworkPolicy", o["spec"] as Obj, "pub-svc-delegate-example");
    assert.deepEqual(p.egress, [
      {
        field: E,
        name: undefined,
        action: "Pass",
        actionWord: "Pass",
        peers: [{ kind: "pods", field: `${E}.to[0]`, namespaces: sel("kubernetes.io/metadata.name", "bar-ns-1"), pods: sel("app", "svc-pub") }],
        ports: [
          { kind: "range", field: `${E}.protocols[0]`, protocol: "TCP", from: 8080, to: 8080 },
          { kind: "namedAnyProtocol", field: `${E}.protocols[1]`, name: "web-alt" },
          { kind: "range", field: `${E}.protocols[2]`, protocol: "UDP", from: 53, to: 53 },
        ],
      },
    ]);
  });
});
