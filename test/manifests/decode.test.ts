/**
 * Validation as the Kubernetes API server does it, through decodeObject: for
 * every error the exact field path, type, bad value and detail, in the order
 * the API server reports them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type DecodeOptions, decodeObject } from "../../server/manifests/decode.js";
import type { FieldError } from "../../server/policy/field.js";
import {
  CIDR,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  IP,
  LABEL_VALUE,
  NAME_PART,
  PORT_NAME_CHARS,
  PORT_NAME_EDGE,
  PORT_NAME_HYPHENS,
  PORT_NAME_LETTER,
  PORT_RANGE,
  QUALIFIED_NAME,
  err,
  maxLen,
} from "./k8s-messages.js";

type Obj = Record<string, unknown>;

const policy = (spec: Obj, metadata: Obj = { name: "p", namespace: "default" }): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata,
  spec,
});
const pod = (spec: Obj = {}, status: Obj = {}, metadata: Obj = { name: "p", namespace: "default" }): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata,
  spec: { containers: [{ name: "c" }], ...spec },
  status,
});
const namespace = (metadata: Obj): Obj => ({ apiVersion: "v1", kind: "Namespace", metadata });
const node = (addresses: Obj[], metadata: Obj = { name: "n1" }): Obj => ({ apiVersion: "v1", kind: "Node", metadata, status: { addresses } });
const ports = (...p: Obj[]): Obj => ({ containers: [{ name: "c", ports: p }] });
const ingressPorts = (...p: Obj[]): Obj => ({ podSelector: {}, ingress: [{ ports: p }] });
const egressPeers = (...to: Obj[]): Obj => ({ podSelector: {}, policyTypes: ["Egress"], egress: [{ to }] });
const ingressPeers = (...from: Obj[]): Obj => ({ podSelector: {}, ingress: [{ from }] });
const expr = (e: Obj): Obj => ({ podSelector: { matchExpressions: [e] } });

function errorsOf(raw: Obj, opts?: DecodeOptions): readonly FieldError[] {
  const d = decodeObject(raw, opts);
  assert.equal(d.kind, "invalid", `expected ${JSON.stringify(raw)} to be rejected`);
  return d.kind === "invalid" ? d.errors : [];
}

interface Case {
  readonly name: string;
  readonly object: Obj;
  readonly errors: readonly FieldError[];
}

function table(title: string, cases: readonly Case[], opts?: DecodeOptions): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, () => {
        assert.deepEqual(errorsOf(c.object, opts), c.errors);
      });
    }
  });
}

const MS = "spec.podSelector.matchExpressions[0]";

/**
 * StrictIPCIDRValidation, on by default since Kubernetes 1.33: what
 * IsValidCIDRForLegacyField and IsValidIPForLegacyField refuse
 * (k8s.io/apimachinery/pkg/util/validation/ip.go).
 */
const IP_LEADING_ZEROS = "must not have leading 0s";
const IP_MAPPED = "must not be an IPv4-mapped IPv6 address";
const CIDR_LEADING_ZEROS = "must not have leading 0s in IP or prefix length";
const CIDR_MAPPED = "must not have an IPv4-mapped IPv6 address";
const CIDR_HOST_BITS = "must not have bits set beyond the prefix length";

table("metadata.name", [
  { name: "policy without a name", object: policy({}, { namespace: "default" }), errors: [err.required("metadata.name", "name or generateName is required")] },
  { name: "policy with an empty name", object: policy({}, { name: "", namespace: "default" }), errors: [err.required("metadata.name", "name or generateName is required")] },
  { name: "policy name with an underscore", object: policy({}, { name: "allow_web" }), errors: [err.invalid("metadata.name", "allow_web", DNS_SUBDOMAIN)] },
  { name: "policy name with upper case", object: policy({}, { name: "AllowWeb" }), errors: [err.invalid("metadata.name", "AllowWeb", DNS_SUBDOMAIN)] },
  { name: "pod name starting with a hyphen", object: pod({}, {}, { name: "-web" }), errors: [err.invalid("metadata.name", "-web", DNS_SUBDOMAIN)] },
  { name: "pod name ending with a dot", object: pod({}, {}, { name: "web." }), errors: [err.invalid("metadata.name", "web.", DNS_SUBDOMAIN)] },
  { name: "pod without a name", object: pod({}, {}, {}), errors: [err.required("metadata.name", "name or generateName is required")] },
  { name: "node name with an underscore", object: node([], { name: "node_1" }), errors: [err.invalid("metadata.name", "node_1", DNS_SUBDOMAIN)] },
  { name: "node name of 254 characters", object: node([], { name: "a".repeat(254) }), errors: [err.invalid("metadata.name", "a".repeat(254), maxLen(253))] },
  { name: "namespace without a name", object: namespace({}), errors: [err.required("metadata.name", "name or generateName is required")] },
  {
    name: "namespace name with a dot (a subdomain, not a label)",
    object: namespace({ name: "team.a" }),
    errors: [err.invalid("metadata.name", "team.a", "must not contain dots")],
  },
  { name: "namespace name with upper case", object: namespace({ name: "Team" }), errors: [err.invalid("metadata.name", "Team", DNS_LABEL)] },
  { name: "namespace name of 64 characters", object: namespace({ name: "a".repeat(64) }), errors: [err.invalid("metadata.name", "a".repeat(64), maxLen(63))] },
  { name: "pod in a namespace that is not a DNS label", object: pod({}, {}, { name: "p", namespace: "Prod" }), errors: [err.invalid("metadata.namespace", "Prod", DNS_LABEL)] },
]);

const labelled = (labels: Obj): Obj => namespace({ name: "ns", labels });

table("label keys and values in metadata.labels", [
  {
    name: "key with a prefix that is not a DNS subdomain",
    object: labelled({ "Example.com/app": "x" }),
    errors: [err.invalid("metadata.labels", "Example.com/app", `prefix part ${DNS_SUBDOMAIN}`)],
  },
  { name: "key with an empty prefix", object: labelled({ "/app": "x" }), errors: [err.invalid("metadata.labels", "/app", "prefix part must be non-empty")] },
  { name: "key whose name part starts with a hyphen", object: labelled({ "example.com/-app": "x" }), errors: [err.invalid("metadata.labels", "example.com/-app", NAME_PART)] },
  { name: "key with a space in the name part", object: labelled({ "my app": "x" }), errors: [err.invalid("metadata.labels", "my app", NAME_PART)] },
  {
    name: "key with an empty name part",
    object: labelled({ "example.com/": "x" }),
    errors: [err.invalid("metadata.labels", "example.com/", "name part must be non-empty"), err.invalid("metadata.labels", "example.com/", NAME_PART)],
  },
  {
    name: "key whose name part has 64 characters",
    object: labelled({ ["k".repeat(64)]: "x" }),
    errors: [err.invalid("metadata.labels", "k".repeat(64), `name part ${maxLen(63)}`)],
  },
  { name: "key with two slashes", object: labelled({ "a/b/c": "x" }), errors: [err.invalid("metadata.labels", "a/b/c", QUALIFIED_NAME)] },
  { name: "value starting with a hyphen", object: labelled({ app: "-web" }), errors: [err.invalid("metadata.labels", "-web", LABEL_VALUE)] },
  { name: "value with a slash", object: labelled({ app: "a/b" }), errors: [err.invalid("metadata.labels", "a/b", LABEL_VALUE)] },
  { name: "value of 64 characters", object: labelled({ app: "v".repeat(64) }), errors: [err.invalid("metadata.labels", "v".repeat(64), maxLen(63))] },
  {
    name: "bad key and bad value: the key's error first",
    object: labelled({ "-k": "-v" }),
    errors: [err.invalid("metadata.labels", "-k", NAME_PART), err.invalid("metadata.labels", "-v", LABEL_VALUE)],
  },
  { name: "labels of a pod", object: pod({}, {}, { name: "p", labels: { "a/b/c": "x" } }), errors: [err.invalid("metadata.labels", "a/b/c", QUALIFIED_NAME)] },
]);

table("matchLabels", [
  {
    name: "bad key in spec.podSelector.matchLabels",
    object: policy({ podSelector: { matchLabels: { "-app": "web" } } }),
    errors: [err.invalid("spec.podSelector.matchLabels", "-app", NAME_PART)],
  },
  {
    name: "bad value in spec.podSelector.matchLabels",
    object: policy({ podSelector: { matchLabels: { app: "web!" } } }),
    errors: [err.invalid("spec.podSelector.matchLabels", "web!", LABEL_VALUE)],
  },
  {
    name: "bad value in a peer's podSelector",
    object: policy(ingressPeers({ podSelector: { matchLabels: { app: "-x" } } })),
    errors: [err.invalid("spec.ingress[0].from[0].podSelector.matchLabels", "-x", LABEL_VALUE)],
  },
  {
    name: "bad key in a peer's namespaceSelector",
    object: policy(egressPeers({ namespaceSelector: { matchLabels: { "a/b/c": "x" } } })),
    errors: [err.invalid("spec.egress[0].to[0].namespaceSelector.matchLabels", "a/b/c", QUALIFIED_NAME)],
  },
]);

table("matchExpressions", [
  {
    name: "unknown operator",
    object: policy(expr({ key: "app", operator: "Equals", values: ["a"] })),
    errors: [err.invalid(`${MS}.operator`, "Equals", "not a valid selector operator")],
  },
  {
    name: "operator in the wrong case",
    object: policy(expr({ key: "app", operator: "in", values: ["a"] })),
    errors: [err.invalid(`${MS}.operator`, "in", "not a valid selector operator")],
  },
  {
    name: "In without values",
    object: policy(expr({ key: "app", operator: "In" })),
    errors: [err.required(`${MS}.values`, "must be specified when `operator` is 'In' or 'NotIn'")],
  },
  {
    name: "NotIn with empty values",
    object: policy(expr({ key: "app", operator: "NotIn", values: [] })),
    errors: [err.required(`${MS}.values`, "must be specified when `operator` is 'In' or 'NotIn'")],
  },
  {
    name: "Exists with values",
    object: policy(expr({ key: "app", operator: "Exists", values: ["a"] })),
    errors: [err.forbidden(`${MS}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")],
  },
  {
    name: "DoesNotExist with values",
    object: policy(expr({ key: "app", operator: "DoesNotExist", values: ["a"] })),
    errors: [err.forbidden(`${MS}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")],
  },
  { name: "bad key", object: policy(expr({ key: "-app", operator: "Exists" })), errors: [err.invalid(`${MS}.key`, "-app", NAME_PART)] },
  { name: "bad second value", object: policy(expr({ key: "app", operator: "In", values: ["web", "-db"] })), errors: [err.invalid(`${MS}.values[1]`, "-db", LABEL_VALUE)] },
  {
    name: "bad operator and bad key: the operator first, as the API server checks it first",
    object: policy(expr({ key: "a/b/c", operator: "Has" })),
    errors: [err.invalid(`${MS}.operator`, "Has", "not a valid selector operator"), err.invalid(`${MS}.key`, "a/b/c", QUALIFIED_NAME)],
  },
  {
    name: "second expression of a peer's namespaceSelector",
    object: policy(
      ingressPeers({
        namespaceSelector: {
          matchExpressions: [
            { key: "a", operator: "Exists" },
            { key: "b", operator: "In" },
          ],
        },
      }),
    ),
    errors: [err.required("spec.ingress[0].from[0].namespaceSelector.matchExpressions[1].values", "must be specified when `operator` is 'In' or 'NotIn'")],
  },
]);

const PEER_FORBIDDEN = "may not specify both ipBlock and another peer";
table("peers", [
  { name: "empty ingress peer {}", object: policy(ingressPeers({})), errors: [err.required("spec.ingress[0].from[0]", "must specify a peer")] },
  { name: "empty egress peer {}", object: policy(egressPeers({ podSelector: {} }, {})), errors: [err.required("spec.egress[0].to[1]", "must specify a peer")] },
  {
    name: "ipBlock with podSelector",
    object: policy(ingressPeers({ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} })),
    errors: [err.forbidden("spec.ingress[0].from[0]", PEER_FORBIDDEN)],
  },
  {
    name: "ipBlock with namespaceSelector",
    object: policy(egressPeers({ ipBlock: { cidr: "10.0.0.0/8" }, namespaceSelector: { matchLabels: { a: "b" } } })),
    errors: [err.forbidden("spec.egress[0].to[0]", PEER_FORBIDDEN)],
  },
  {
    name: "ipBlock with both selectors: one error",
    object: policy(ingressPeers({ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {}, namespaceSelector: {} })),
    errors: [err.forbidden("spec.ingress[0].from[0]", PEER_FORBIDDEN)],
  },
  {
    name: "ipBlock and podSelector, both invalid: the parts' errors come first",
    object: policy(ingressPeers({ podSelector: { matchLabels: { a: "-" } }, ipBlock: { cidr: "x" } })),
    errors: [
      err.invalid("spec.ingress[0].from[0].podSelector.matchLabels", "-", LABEL_VALUE),
      err.invalid("spec.ingress[0].from[0].ipBlock.cidr", "x", CIDR),
      err.forbidden("spec.ingress[0].from[0]", PEER_FORBIDDEN),
    ],
  },
]);

const block = (ipBlock: Obj): Obj => policy(egressPeers({ ipBlock }));
const EXCEPT = "spec.egress[0].to[0].ipBlock.except[1]";
const SUBSET = "must be a strict subset of `cidr`";
table("ipBlock", [
  { name: "cidr missing", object: block({}), errors: [err.required("spec.egress[0].to[0].ipBlock.cidr")] },
  { name: "cidr empty", object: block({ cidr: "" }), errors: [err.required("spec.egress[0].to[0].ipBlock.cidr")] },
  ...["10.0.0/8", "10.0.0.0/33", "foo", "10.0.0.0", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/8/8"].map((cidr) => ({
    name: `cidr ${JSON.stringify(cidr)}`,
    object: block({ cidr }),
    errors: [err.invalid("spec.egress[0].to[0].ipBlock.cidr", cidr, CIDR)],
  })),
  { name: "invalid cidr: except is not checked", object: block({ cidr: "foo", except: ["bar"] }), errors: [err.invalid("spec.egress[0].to[0].ipBlock.cidr", "foo", CIDR)] },
  { name: "except not a CIDR", object: block({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.0.0"] }), errors: [err.invalid(EXCEPT, "10.2.0.0", CIDR)] },
  { name: "except equal to cidr", object: block({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.0.0.0/8"] }), errors: [err.invalid(EXCEPT, "10.0.0.0/8", SUBSET)] },
  { name: "except bigger than cidr", object: block({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.0.0.0/7"] }), errors: [err.invalid(EXCEPT, "10.0.0.0/7", SUBSET)] },
  { name: "except outside cidr", object: block({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "11.1.0.0/16"] }), errors: [err.invalid(EXCEPT, "11.1.0.0/16", SUBSET)] },
  { name: "except of the other family", object: block({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "fd00::/64"] }), errors: [err.invalid(EXCEPT, "fd00::/64", SUBSET)] },
  {
    name: "IPv6 except equal to its cidr written differently: host bits, and not a strict subset",
    object: block({ cidr: "fd00::/64", except: ["fd00::/96", "fd00:0::1/64"] }),
    errors: [err.invalid(EXCEPT, "fd00:0::1/64", CIDR_HOST_BITS), err.invalid(EXCEPT, "fd00:0::1/64", SUBSET)],
  },
]);

describe("ipBlock accepted", () => {
  for (const [name, ipBlock] of [
    ["IPv6 cidr and except", { cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] }],
    ["non-canonical IPv6 (a legacy field: only a warning)", { cidr: "2001:DB8:0::/32", except: ["2001:db8:0:1::/64"] }],
    ["0.0.0.0/0 except one address", { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] }],
  ] as const) {
    it(name, () => {
      assert.equal(decodeObject(block(ipBlock)).kind, "object");
    });
  }
});

const FROM1 = "spec.ingress[0].from[1].ipBlock";
const fromSecond = (ipBlock: Obj): Obj => policy(ingressPeers({ podSelector: {} }, { ipBlock }));
const strictCases: readonly Case[] = [
  {
    name: "except with bits beyond its prefix",
    object: fromSecond({ cidr: "10.0.0.0/8", except: ["10.1.2.3/16"] }),
    errors: [err.invalid(`${FROM1}.except[0]`, "10.1.2.3/16", CIDR_HOST_BITS)],
  },
  { name: "cidr with bits beyond its prefix", object: fromSecond({ cidr: "10.1.2.3/8" }), errors: [err.invalid(`${FROM1}.cidr`, "10.1.2.3/8", CIDR_HOST_BITS)] },
  { name: "IPv6 cidr with bits beyond its prefix", object: fromSecond({ cidr: "2001:db8::1/32" }), errors: [err.invalid(`${FROM1}.cidr`, "2001:db8::1/32", CIDR_HOST_BITS)] },
  { name: "cidr with a leading zero", object: fromSecond({ cidr: "010.0.0.0/8" }), errors: [err.invalid(`${FROM1}.cidr`, "010.0.0.0/8", CIDR_LEADING_ZEROS)] },
  { name: "prefix length with a leading zero", object: fromSecond({ cidr: "10.0.0.0/08" }), errors: [err.invalid(`${FROM1}.cidr`, "10.0.0.0/08", CIDR_LEADING_ZEROS)] },
  {
    name: "except with leading zeros, inside cidr once read as decimal",
    object: fromSecond({ cidr: "10.0.0.0/8", except: ["010.001.0.0/16"] }),
    errors: [err.invalid(`${FROM1}.except[0]`, "010.001.0.0/16", CIDR_LEADING_ZEROS)],
  },
  { name: "IPv4-mapped IPv6 cidr", object: fromSecond({ cidr: "::ffff:10.0.0.0/104" }), errors: [err.invalid(`${FROM1}.cidr`, "::ffff:10.0.0.0/104", CIDR_MAPPED)] },
  {
    name: "except with host bits outside cidr: both errors, the format first",
    object: fromSecond({ cidr: "10.0.0.0/8", except: ["11.1.2.3/16"] }),
    errors: [err.invalid(`${FROM1}.except[0]`, "11.1.2.3/16", CIDR_HOST_BITS), err.invalid(`${FROM1}.except[0]`, "11.1.2.3/16", SUBSET)],
  },
  {
    name: "cidr and except both refused",
    object: fromSecond({ cidr: "10.0.0.1/8", except: ["10.1.0.0/16", "10.02.0.0/16"] }),
    errors: [err.invalid(`${FROM1}.cidr`, "10.0.0.1/8", CIDR_HOST_BITS), err.invalid(`${FROM1}.except[1]`, "10.02.0.0/16", CIDR_LEADING_ZEROS)],
  },
  { name: "podIP with a leading zero", object: pod({}, { podIP: "010.0.0.1" }), errors: [err.invalid("status.podIPs[0]", "010.0.0.1", IP_LEADING_ZEROS)] },
  {
    name: "IPv4-mapped second podIP: refused, and counted as IPv4",
    object: pod({}, { podIPs: [{ ip: "10.0.0.1" }, { ip: "::ffff:10.0.0.2" }] }),
    errors: [
      err.invalid("status.podIPs[1]", "::ffff:10.0.0.2", IP_MAPPED),
      err.invalid("status.podIPs", ["10.0.0.1", "::ffff:10.0.0.2"], "may specify no more than one IP for each IP family"),
    ],
  },
  {
    name: "node InternalIP with a leading zero",
    object: node([{ type: "InternalIP", address: "10.0.0.01" }]),
    errors: [err.invalid("status.addresses[0].address", "10.0.0.01", IP_LEADING_ZEROS)],
  },
  {
    name: "IPv4-mapped node InternalIP",
    object: node([{ type: "InternalIP", address: "::ffff:10.0.0.1" }]),
    errors: [err.invalid("status.addresses[0].address", "::ffff:10.0.0.1", IP_MAPPED)],
  },
];
table("strict IP and CIDR validation (the default)", strictCases);
table("strict IP and CIDR validation, asked for", strictCases.slice(0, 2), { cidr: "strict" });

table(
  "legacy IP and CIDR validation: only what older API servers refused",
  [
    { name: "cidr that is not a CIDR", object: fromSecond({ cidr: "10.0.0.0" }), errors: [err.invalid(`${FROM1}.cidr`, "10.0.0.0", CIDR)] },
    { name: "except outside cidr", object: fromSecond({ cidr: "10.1.2.3/8", except: ["11.0.0.1/16"] }), errors: [err.invalid(`${FROM1}.except[0]`, "11.0.0.1/16", SUBSET)] },
    // ValidateIPBlock compares mask lengths as written: 104 (of 128) is not shorter than 16 (of 32).
    {
      name: "IPv4-mapped cidr over an IPv4 except",
      object: fromSecond({ cidr: "::ffff:10.0.0.0/104", except: ["10.1.0.0/16"] }),
      errors: [err.invalid(`${FROM1}.except[0]`, "10.1.0.0/16", SUBSET)],
    },
    { name: "podIP that is not an address", object: pod({}, { podIP: "10.0.0.256" }), errors: [err.invalid("status.podIPs[0]", "10.0.0.256", IP)] },
    {
      name: "node InternalIP that is not an address",
      object: node([{ type: "InternalIP", address: "010.0.0" }]),
      errors: [err.invalid("status.addresses[0].address", "010.0.0", IP)],
    },
  ],
  { cidr: "legacy" },
);

describe("legacy IP and CIDR validation: accepted and read as Go's legacy parser read them", () => {
  const peerOf = (ipBlock: Obj): unknown => {
    const d = decodeObject(fromSecond(ipBlock), { cidr: "legacy" });
    assert.equal(d.kind, "object", JSON.stringify(d));
    const p = d.kind === "object" && d.object.kind === "NetworkPolicy" ? d.object.policy.ingress?.[0]?.peers[1] : undefined;
    return p?.kind === "ipBlock" ? [p.cidr.text, p.except.map((e) => e.text)] : p;
  };
  const rows: readonly [string, Obj, readonly [string, readonly string[]]][] = [
    ["bits beyond the prefix are cleared", { cidr: "10.1.2.3/8", except: ["10.1.2.3/16"] }, ["10.0.0.0/8", ["10.1.0.0/16"]]],
    ["leading zeros are decimal, not octal", { cidr: "010.000.0.0/8", except: ["010.010.0.0/16"] }, ["10.0.0.0/8", ["10.10.0.0/16"]]],
    ["a prefix length with leading zeros", { cidr: "10.0.0.0/008" }, ["10.0.0.0/8", []]],
    ["an IPv4-mapped CIDR is the IPv4 CIDR", { cidr: "::ffff:10.0.0.0/104", except: ["::ffff:10.1.0.0/112"] }, ["10.0.0.0/8", ["10.1.0.0/16"]]],
    ["an IPv4-mapped except longer as written than cidr", { cidr: "10.0.0.0/8", except: ["::ffff:10.0.0.0/104"] }, ["10.0.0.0/8", ["10.0.0.0/8"]]],
    ["an IPv4-mapped prefix under 96 is IPv6", { cidr: "::ffff:10.0.0.0/80" }, ["::/80", []]],
    ["IPv6 host bits", { cidr: "2001:DB8::1/32", except: ["2001:db8:0:1::1/64"] }, ["2001:db8::/32", ["2001:db8:0:1::/64"]]],
  ];
  for (const [name, ipBlock, want] of rows) {
    it(name, () => {
      assert.deepEqual(peerOf(ipBlock), want);
    });
  }
  it("pod IPs with leading zeros and IPv4-mapped", () => {
    const d = decodeObject(pod({}, { podIP: "010.000.000.001", podIPs: [{ ip: "010.000.000.001" }, { ip: "FD00:0::0001" }] }), { cidr: "legacy" });
    assert.deepEqual(d.kind === "object" && d.object.kind === "Pod" ? d.object.ips.map((a) => [a.text, a.family]) : d, [
      ["10.0.0.1", "ipv4"],
      ["fd00::1", "ipv6"],
    ]);
    const mapped = decodeObject(pod({}, { podIP: "::ffff:10.0.0.1" }), { cidr: "legacy" });
    assert.deepEqual(mapped.kind === "object" && mapped.object.kind === "Pod" ? mapped.object.ips.map((a) => [a.text, a.family]) : mapped, [["10.0.0.1", "ipv4"]]);
  });
  it("node InternalIP with leading zeros", () => {
    const d = decodeObject(node([{ type: "InternalIP", address: "192.168.001.010" }]), { cidr: "legacy" });
    assert.deepEqual(d.kind === "object" && d.object.kind === "Node" ? d.object.addresses.map((a) => a.text) : d, ["192.168.1.10"]);
  });
});

describe("decode options", () => {
  it("defaultNamespace names the namespace of an object that names none", () => {
    const d = decodeObject(policy({ podSelector: {} }, { name: "p" }), { defaultNamespace: "prod" });
    assert.equal(d.kind === "object" && d.object.kind === "NetworkPolicy" ? d.object.namespace : d, "prod");
  });
  it('without options: the namespace "default"', () => {
    const d = decodeObject(policy({ podSelector: {} }, { name: "p" }));
    assert.equal(d.kind === "object" && d.object.kind === "NetworkPolicy" ? d.object.namespace : d, "default");
  });
});

/** A string map's value of another JSON type, as the API server's JSON decoder reports it. */
const typeErr = (field: string, value: unknown, kind: string, goPath: string): FieldError => ({
  field,
  type: "FieldValueTypeInvalid",
  value,
  detail: `json: cannot unmarshal ${kind} into Go struct field ${goPath} of type string`,
});
table("string maps holding other types (YAML 1.1 `yes`, `on`, `0777` unquoted)", [
  {
    name: "a boolean in spec.podSelector.matchLabels",
    object: policy({ podSelector: { matchLabels: { access: true } } }),
    errors: [typeErr("spec.podSelector.matchLabels", true, "bool", "LabelSelector.spec.podSelector.matchLabels")],
  },
  {
    name: "a number in a peer's namespaceSelector: the Go path has no indexes",
    object: policy(ingressPeers({ namespaceSelector: { matchLabels: { version: 511 } } })),
    errors: [typeErr("spec.ingress[0].from[0].namespaceSelector.matchLabels", 511, "number", "LabelSelector.spec.ingress.from.namespaceSelector.matchLabels")],
  },
  {
    name: "a boolean in metadata.labels",
    object: namespace({ name: "ns", labels: { enabled: false } }),
    errors: [typeErr("metadata.labels", false, "bool", "ObjectMeta.metadata.labels")],
  },
  {
    name: "an object and an array in pod labels",
    object: pod({}, {}, { name: "p", labels: { a: { b: "c" }, d: ["e"] } }),
    errors: [typeErr("metadata.labels", { b: "c" }, "object", "ObjectMeta.metadata.labels"), typeErr("metadata.labels", ["e"], "array", "ObjectMeta.metadata.labels")],
  },
]);

describe("string maps: null is the empty string, as Go decodes it", () => {
  it('matchLabels {access: null} selects access=""', () => {
    const d = decodeObject(policy({ podSelector: { matchLabels: { access: null } } }));
    assert.deepEqual(d.kind === "object" && d.object.kind === "NetworkPolicy" ? d.object.policy.podSelector : d, {
      kind: "match",
      requirements: [{ key: "access", operator: "In", values: [""] }],
    });
  });
});

const P0 = "spec.ingress[0].ports[0]";
table("policy ports", [
  { name: "protocol ICMP", object: policy(ingressPorts({ protocol: "ICMP", port: 80 })), errors: [err.notSupported(`${P0}.protocol`, "ICMP", ["TCP", "UDP", "SCTP"])] },
  { name: "protocol in lower case", object: policy(ingressPorts({ protocol: "tcp", port: 80 })), errors: [err.notSupported(`${P0}.protocol`, "tcp", ["TCP", "UDP", "SCTP"])] },
  { name: "port 0", object: policy(ingressPorts({ port: 0 })), errors: [err.invalid(`${P0}.port`, 0, PORT_RANGE)] },
  { name: "port 65536", object: policy(ingressPorts({ port: 65536 })), errors: [err.invalid(`${P0}.port`, 65536, PORT_RANGE)] },
  { name: "port -1", object: policy(ingressPorts({ port: -1 })), errors: [err.invalid(`${P0}.port`, -1, PORT_RANGE)] },
  { name: "named port longer than 15", object: policy(ingressPorts({ port: "abcdefghijklmnop" })), errors: [err.invalid(`${P0}.port`, "abcdefghijklmnop", maxLen(15))] },
  {
    name: "named port in upper case",
    object: policy(ingressPorts({ port: "HTTP" })),
    errors: [err.invalid(`${P0}.port`, "HTTP", PORT_NAME_CHARS), err.invalid(`${P0}.port`, "HTTP", PORT_NAME_LETTER)],
  },
  { name: "named port in mixed case", object: policy(ingressPorts({ port: "Http" })), errors: [err.invalid(`${P0}.port`, "Http", PORT_NAME_CHARS)] },
  { name: "named port with consecutive hyphens", object: policy(ingressPorts({ port: "web--1" })), errors: [err.invalid(`${P0}.port`, "web--1", PORT_NAME_HYPHENS)] },
  { name: "named port without a letter", object: policy(ingressPorts({ port: "8080" })), errors: [err.invalid(`${P0}.port`, "8080", PORT_NAME_LETTER)] },
  { name: "named port with a leading hyphen", object: policy(ingressPorts({ port: "-http" })), errors: [err.invalid(`${P0}.port`, "-http", PORT_NAME_EDGE)] },
  { name: "named port with a trailing hyphen", object: policy(ingressPorts({ port: "http-" })), errors: [err.invalid(`${P0}.port`, "http-", PORT_NAME_EDGE)] },
  {
    name: "named port '--': every rule it breaks, in order",
    object: policy(ingressPorts({ port: "--" })),
    errors: [err.invalid(`${P0}.port`, "--", PORT_NAME_LETTER), err.invalid(`${P0}.port`, "--", PORT_NAME_HYPHENS), err.invalid(`${P0}.port`, "--", PORT_NAME_EDGE)],
  },
  {
    name: "named port empty",
    object: policy(ingressPorts({ port: "" })),
    errors: [err.invalid(`${P0}.port`, "", PORT_NAME_CHARS), err.invalid(`${P0}.port`, "", PORT_NAME_LETTER)],
  },
  {
    name: "endPort without port",
    object: policy(ingressPorts({ endPort: 8080 })),
    errors: [err.invalid(`${P0}.endPort`, 8080, "may not be specified when `port` is not specified")],
  },
  {
    name: "endPort with a named port",
    object: policy(ingressPorts({ port: "http", endPort: 8080 })),
    errors: [err.invalid(`${P0}.endPort`, 8080, "may not be specified when `port` is non-numeric")],
  },
  // Released Kubernetes reports the `port` value here (kubernetes#137960 changes it to endPort).
  {
    name: "endPort below port: the value reported is port's",
    object: policy(ingressPorts({ port: 9000, endPort: 8000 })),
    errors: [err.invalid(`${P0}.endPort`, 9000, "must be greater than or equal to `port`")],
  },
  { name: "endPort 65536", object: policy(ingressPorts({ port: 80, endPort: 65536 })), errors: [err.invalid(`${P0}.endPort`, 65536, PORT_RANGE)] },
  {
    name: "egress port: path under spec.egress",
    object: policy({ podSelector: {}, policyTypes: ["Egress"], egress: [{}, { ports: [{ port: 53, protocol: "UDP" }, { port: 0 }] }] }),
    errors: [err.invalid("spec.egress[1].ports[1].port", 0, PORT_RANGE)],
  },
]);

table("policyTypes", [
  {
    name: "unsupported second value",
    object: policy({ podSelector: {}, policyTypes: ["Ingress", "Both"] }),
    errors: [err.notSupported("spec.policyTypes[1]", "Both", ["Ingress", "Egress"])],
  },
  { name: "lower-case value", object: policy({ podSelector: {}, policyTypes: ["ingress"] }), errors: [err.notSupported("spec.policyTypes[0]", "ingress", ["Ingress", "Egress"])] },
  {
    name: "more than two entries",
    object: policy({ podSelector: {}, policyTypes: ["Ingress", "Egress", "Ingress"] }),
    errors: [err.invalid("spec.policyTypes", ["Ingress", "Egress", "Ingress"], "may not specify more than two policyTypes")],
  },
]);

const CP = "spec.containers[0].ports[0]";
table("pod container ports", [
  { name: "containerPort 0 is reported as missing", object: pod(ports({ containerPort: 0 })), errors: [err.required(`${CP}.containerPort`)] },
  { name: "containerPort missing", object: pod(ports({ name: "http" })), errors: [err.required(`${CP}.containerPort`)] },
  { name: "containerPort 70000", object: pod(ports({ containerPort: 70000 })), errors: [err.invalid(`${CP}.containerPort`, 70000, PORT_RANGE)] },
  {
    name: "duplicate port name in one container",
    object: pod(ports({ name: "http", containerPort: 80 }, { name: "http", containerPort: 8080 })),
    errors: [err.duplicate("spec.containers[0].ports[1].name", "http")],
  },
  { name: "invalid port name", object: pod(ports({ name: "web_http", containerPort: 80 })), errors: [err.invalid(`${CP}.name`, "web_http", PORT_NAME_CHARS)] },
  {
    name: "protocol ICMP (supported values sorted)",
    object: pod(ports({ containerPort: 80, protocol: "ICMP" })),
    errors: [err.notSupported(`${CP}.protocol`, "ICMP", ["SCTP", "TCP", "UDP"])],
  },
  {
    name: "name, containerPort and protocol all wrong: in that order",
    object: pod(ports({ name: "HTTP", containerPort: 0, protocol: "icmp" })),
    errors: [
      err.invalid(`${CP}.name`, "HTTP", PORT_NAME_CHARS),
      err.invalid(`${CP}.name`, "HTTP", PORT_NAME_LETTER),
      err.required(`${CP}.containerPort`),
      err.notSupported(`${CP}.protocol`, "icmp", ["SCTP", "TCP", "UDP"]),
    ],
  },
]);

describe("pod container ports accepted", () => {
  it("the same port name in two containers", () => {
    const d = decodeObject(
      pod({
        containers: [
          { name: "a", ports: [{ name: "http", containerPort: 80 }] },
          { name: "b", ports: [{ name: "http", containerPort: 81 }] },
        ],
      }),
    );
    assert.equal(d.kind, "object");
    assert.deepEqual(d.kind === "object" && d.object.kind === "Pod" ? d.object.ports : undefined, [
      { name: "http", port: 80, protocol: "TCP" },
      { name: "http", port: 81, protocol: "TCP" },
    ]);
  });
  it("an empty protocol defaults to TCP", () => {
    const d = decodeObject(pod(ports({ containerPort: 53, protocol: "" })));
    assert.deepEqual(d.kind === "object" && d.object.kind === "Pod" ? d.object.ports : undefined, [{ name: undefined, port: 53, protocol: "TCP" }]);
  });
});

table("pod IPs", [
  { name: "invalid podIP", object: pod({}, { podIP: "10.0.0.300" }), errors: [err.invalid("status.podIPs[0]", "10.0.0.300", IP)] },
  {
    name: "invalid second podIPs entry",
    object: pod({}, { podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::zz" }] }),
    errors: [err.invalid("status.podIPs[1]", "fd00::zz", IP)],
  },
  { name: "IPv4 shorthand is not an address", object: pod({}, { podIPs: [{ ip: "10.1" }] }), errors: [err.invalid("status.podIPs[0]", "10.1", IP)] },
  {
    name: "two IPv4 addresses",
    object: pod({}, { podIPs: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }] }),
    errors: [err.invalid("status.podIPs", ["10.0.0.1", "10.0.0.2"], "may specify no more than one IP for each IP family")],
  },
  {
    name: "two IPv6 addresses after an IPv4 one",
    object: pod({}, { podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }, { ip: "fd00::2" }] }),
    errors: [err.invalid("status.podIPs", ["10.0.0.1", "fd00::1", "fd00::2"], "may specify no more than one IP for each IP family")],
  },
  // Podwall's own rule: the API server would take podIP as authoritative.
  {
    name: "podIP differs from podIPs[0]",
    object: pod({}, { podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.2" }] }),
    errors: [err.invalid("status.podIPs[0].ip", "10.0.0.2", "must match `podIP`")],
  },
]);

table("node addresses", [
  {
    name: "InternalIP that is not an address",
    object: node([{ type: "InternalIP", address: "10.0.0.256" }]),
    errors: [err.invalid("status.addresses[0].address", "10.0.0.256", IP)],
  },
  {
    name: "second InternalIP invalid, after a Hostname",
    object: node([
      { type: "Hostname", address: "n1" },
      { type: "InternalIP", address: "10.0.0.1" },
      { type: "InternalIP", address: "fd00::1::2" },
    ]),
    errors: [err.invalid("status.addresses[2].address", "fd00::1::2", IP)],
  },
]);

describe("node addresses accepted", () => {
  it("keeps InternalIP addresses only, canonical, in order", () => {
    const d = decodeObject(
      node([
        { type: "Hostname", address: "n1" },
        { type: "ExternalIP", address: "not-checked" },
        { type: "InternalIP", address: "FD00:0::1" },
        { type: "InternalIP", address: "10.0.0.1" },
      ]),
    );
    assert.deepEqual(d.kind === "object" && d.object.kind === "Node" ? d.object.addresses.map((a) => a.text) : undefined, ["fd00::1", "10.0.0.1"]);
  });
});

describe("several errors in one object", () => {
  const bad = policy(
    {
      podSelector: { matchExpressions: [{ key: "app", operator: "Exists", values: ["x"] }] },
      ingress: [{ from: [{}, { ipBlock: { cidr: "10.0.0.0/8", except: ["12.0.0.0/8"] } }], ports: [{ port: 0 }, { protocol: "ICMP" }] }],
      egress: [{ to: [{ ipBlock: {} }], ports: [{ port: "HTTP-" }] }],
      policyTypes: ["Ingress", "Sideways"],
    },
    { name: "bad", namespace: "prod", labels: { "-k": "v" } },
  );
  const expected = [
    err.invalid("metadata.labels", "-k", NAME_PART),
    err.forbidden(`${MS}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    err.invalid("spec.ingress[0].ports[0].port", 0, PORT_RANGE),
    err.notSupported("spec.ingress[0].ports[1].protocol", "ICMP", ["TCP", "UDP", "SCTP"]),
    err.required("spec.ingress[0].from[0]", "must specify a peer"),
    err.invalid("spec.ingress[0].from[1].ipBlock.except[0]", "12.0.0.0/8", "must be a strict subset of `cidr`"),
    err.invalid("spec.egress[0].ports[0].port", "HTTP-", PORT_NAME_CHARS),
    err.invalid("spec.egress[0].ports[0].port", "HTTP-", PORT_NAME_LETTER),
    err.invalid("spec.egress[0].ports[0].port", "HTTP-", PORT_NAME_EDGE),
    err.required("spec.egress[0].to[0].ipBlock.cidr"),
    err.notSupported("spec.policyTypes[1]", "Sideways", ["Ingress", "Egress"]),
  ];
  it("reports every error, in the API server's order (metadata, podSelector, ingress ports then peers, egress, policyTypes)", () => {
    assert.deepEqual(errorsOf(bad), expected);
  });
  it("names the object as Kubernetes does", () => {
    const d = decodeObject(bad);
    assert.equal(d.kind === "invalid" ? d.what : undefined, 'NetworkPolicy.networking.k8s.io "bad"');
    assert.equal(d.kind === "invalid" ? d.message : undefined, 'NetworkPolicy.networking.k8s.io "bad" is invalid');
  });
});

describe("objects that are not validated", () => {
  it("skips kinds Podwall does not model", () => {
    assert.deepEqual(decodeObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "prod" } }), {
      kind: "skipped",
      what: "apps/v1/Deployment prod/web",
    });
  });
  it("requires apiVersion and kind", () => {
    const d = decodeObject({ metadata: { name: "x" } });
    assert.deepEqual(d.kind === "invalid" ? d.errors : undefined, [err.required("apiVersion"), err.required("kind")]);
  });
});
