/** Leaf checks: the messages for one value, as k8s.io/apimachinery/pkg/util/validation gives them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from "../../server/policy/validate-leaf.js";
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
  maxLen,
} from "../manifests/k8s-messages.js";

type Check<T> = (v: T) => string[];

function table<T>(title: string, check: Check<T>, rows: readonly (readonly [T, readonly string[]])[]): void {
  describe(title, () => {
    for (const [value, want] of rows) {
      const shown = typeof value === "string" && value.length > 20 ? `${value.slice(0, 12)}… (${value.length})` : JSON.stringify(value);
      it(`${shown} → ${want.length === 0 ? "valid" : want.length === 1 ? "1 error" : `${want.length} errors`}`, () => {
        assert.deepEqual(check(value), want);
      });
    }
  });
}

table("isDNS1123Label", isDNS1123Label, [
  ["prod", []],
  ["a", []],
  ["123-abc", []],
  ["a".repeat(63), []],
  ["a".repeat(64), [maxLen(63)]],
  ["team.a", ["must not contain dots"]],
  ["Prod", [DNS_LABEL]],
  ["-prod", [DNS_LABEL]],
  ["prod-", [DNS_LABEL]],
  ["", [DNS_LABEL]],
  [`${"a".repeat(40)}.${"b".repeat(30)}`, [maxLen(63), "must not contain dots"]],
  ["a_b", [DNS_LABEL]],
]);

table("isDNS1123Subdomain", isDNS1123Subdomain, [
  ["example.com", []],
  ["web-1.prod", []],
  ["a".repeat(253), []],
  ["a".repeat(254), [maxLen(253)]],
  ["Example.com", [DNS_SUBDOMAIN]],
  ["a..b", [DNS_SUBDOMAIN]],
  [".a", [DNS_SUBDOMAIN]],
  ["a_b", [DNS_SUBDOMAIN]],
]);

table("isQualifiedName (label keys)", isQualifiedName, [
  ["app", []],
  ["App.Name_1", []],
  ["example.com/app", []],
  ["kubernetes.io/metadata.name", []],
  ["k".repeat(63), []],
  ["k".repeat(64), [`name part ${maxLen(63)}`]],
  ["-app", [NAME_PART]],
  ["app-", [NAME_PART]],
  ["", ["name part must be non-empty", NAME_PART]],
  ["/app", ["prefix part must be non-empty"]],
  ["example.com/", ["name part must be non-empty", NAME_PART]],
  ["Example.com/app", [`prefix part ${DNS_SUBDOMAIN}`]],
  [`${"p".repeat(254)}/app`, [`prefix part ${maxLen(253)}`]],
  ["EXAMPLE/-x", [`prefix part ${DNS_SUBDOMAIN}`, NAME_PART]],
  ["a/b/c", [QUALIFIED_NAME]],
]);

table("isValidLabelValue", isValidLabelValue, [
  ["", []],
  ["web", []],
  ["My_Value.1", []],
  ["v".repeat(63), []],
  ["v".repeat(64), [maxLen(63)]],
  ["-web", [LABEL_VALUE]],
  ["web.", [LABEL_VALUE]],
  ["a b", [LABEL_VALUE]],
  [`-${"v".repeat(64)}`, [maxLen(63), LABEL_VALUE]],
]);

table("isValidPortName (IANA_SVC_NAME)", isValidPortName, [
  ["http", []],
  ["h2c", []],
  ["web-80", []],
  ["abcdefghijklmno", []],
  ["abcdefghijklmnop", [maxLen(15)]],
  ["HTTP", [PORT_NAME_CHARS, PORT_NAME_LETTER]],
  ["Http", [PORT_NAME_CHARS]],
  ["web_80", [PORT_NAME_CHARS]],
  ["web--80", [PORT_NAME_HYPHENS]],
  ["8080", [PORT_NAME_LETTER]],
  ["-web", [PORT_NAME_EDGE]],
  ["web-", [PORT_NAME_EDGE]],
  ["", [PORT_NAME_CHARS, PORT_NAME_LETTER]],
  ["-", [PORT_NAME_LETTER, PORT_NAME_EDGE]],
  ["--8--abcdefghijk", [maxLen(15), PORT_NAME_HYPHENS, PORT_NAME_EDGE]],
]);

table("isValidPortNum", isValidPortNum, [
  [1, []],
  [65535, []],
  [0, [PORT_RANGE]],
  [65536, [PORT_RANGE]],
  [-80, [PORT_RANGE]],
  [80.5, [PORT_RANGE]],
]);

/**
 * The StrictIPCIDRValidation messages (k8s.io/apimachinery/pkg/util/validation/ip.go,
 * parseIP and parseCIDR), written out literally.
 */
const IP_LEADING_ZEROS = "must not have leading 0s";
const IP_MAPPED = "must not be an IPv4-mapped IPv6 address";
const CIDR_LEADING_ZEROS = "must not have leading 0s in IP or prefix length";
const CIDR_MAPPED = "must not have an IPv4-mapped IPv6 address";
const CIDR_HOST_BITS = "must not have bits set beyond the prefix length";

/** Rows of [value, strict messages, legacy messages]: IsValidIPForLegacyField with the gate on and off. */
const IP_ROWS: readonly (readonly [string, readonly string[], readonly string[]])[] = [
  ["10.9.8.7", [], []],
  ["0.0.0.0", [], []],
  ["255.255.255.255", [], []],
  ["2001:db8::ffff", [], []],
  ["::", [], []],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", [], []],
  // Legacy fields keep non-canonical IPv6 valid (the API server only warns).
  ["FD00:0::1", [], []],
  ["0001:002:03:4::", [], []],
  // IPv4-compatible, not IPv4-mapped.
  ["::1.2.3.4", [], []],
  ["010.0.0.1", [IP_LEADING_ZEROS], []],
  ["1.1.1.01", [IP_LEADING_ZEROS], []],
  ["0000000010.0.0.1", [IP_LEADING_ZEROS], []],
  ["00001::", [IP_LEADING_ZEROS], []],
  ["::ffff:01.2.3.4", [IP_LEADING_ZEROS], []],
  ["::ffff:1.1.1.1", [IP_MAPPED], []],
  ["::FFFF:10.0.0.1", [IP_MAPPED], []],
  ["0:0:0:0:0:ffff:10.0.0.1", [IP_MAPPED], []],
  ["", [IP], [IP]],
  ["aaaaaaa", [IP], [IP]],
  ["myhost.mydomain", [IP], [IP]],
  ["10.9.8", [IP], [IP]],
  ["10.9.8.256", [IP], [IP]],
  ["1.2.3.0/24", [IP], [IP]],
  ["-1.0.0.0", [IP], [IP]],
  ["1.2.3.4:80", [IP], [IP]],
  ["0x0a.0.0.1", [IP], [IP]],
  ["2001:db8::gggg", [IP], [IP]],
  ["2001:db8::10005", [IP], [IP]],
  ["[2001:db8::1]", [IP], [IP]],
  ["1::2::3", [IP], [IP]],
  ["1:2:3:4:5:6:7:8::", [IP], [IP]],
  ["::ffff:1.2.3.400", [IP], [IP]],
  ["fe80::1%eth0", [IP], [IP]],
  ["169.254.0.0%eth0", [IP], [IP]],
];

table(
  "isValidIP (strict, the default)",
  isValidIP,
  IP_ROWS.map(([v, strict]) => [v, strict] as const),
);
table(
  "isValidIP legacy",
  (v: string) => isValidIP(v, "legacy"),
  IP_ROWS.map(([v, , legacy]) => [v, legacy] as const),
);

/** Rows of [value, strict messages, legacy messages]: IsValidCIDRForLegacyField with the gate on and off. */
const CIDR_ROWS: readonly (readonly [string, readonly string[], readonly string[]])[] = [
  ["10.9.8.0/24", [], []],
  ["1.0.0.0/8", [], []],
  ["0.0.0.0/0", [], []],
  ["1.1.1.1/32", [], []],
  ["2001:db8::/64", [], []],
  ["::/0", [], []],
  ["::1/128", [], []],
  ["2001:DB8::/64", [], []],
  ["10.9.8.7/24", [CIDR_HOST_BITS], []],
  ["10.1.2.3/8", [CIDR_HOST_BITS], []],
  ["2001:db8::1/64", [CIDR_HOST_BITS], []],
  ["010.0.0.0/8", [CIDR_LEADING_ZEROS], []],
  ["1.1.01.0/24", [CIDR_LEADING_ZEROS], []],
  ["192.168.0.0/016", [CIDR_LEADING_ZEROS], []],
  ["10.0.0.0/08", [CIDR_LEADING_ZEROS], []],
  ["0.0.0.0/00", [CIDR_LEADING_ZEROS], []],
  ["::ffff:1.1.1.0/24", [CIDR_MAPPED], []],
  ["::ffff:1.1.1.0/120", [CIDR_MAPPED], []],
  // One message each, in parseCIDR's order: leading zeros, then IPv4-mapped, then host bits.
  ["010.0.0.1/8", [CIDR_LEADING_ZEROS], []],
  ["::ffff:1.1.1.1/120", [CIDR_MAPPED], []],
  ["", [CIDR], [CIDR]],
  ["foo", [CIDR], [CIDR]],
  ["10.9.8.0", [CIDR], [CIDR]],
  ["10.9.8.0/33", [CIDR], [CIDR]],
  ["2001:db8::/129", [CIDR], [CIDR]],
  ["10.9.8/24", [CIDR], [CIDR]],
  ["10.9.8.0/", [CIDR], [CIDR]],
  ["/8", [CIDR], [CIDR]],
  ["192.168.0.1/healthz", [CIDR], [CIDR]],
  ["192.168.0.1/0/99", [CIDR], [CIDR]],
  ["192.168.0.0/-16", [CIDR], [CIDR]],
  ["192.168.0.0/+16", [CIDR], [CIDR]],
  ["10.0.0.0/ 8", [CIDR], [CIDR]],
  ["fe80::1%eth0/64", [CIDR], [CIDR]],
];

table(
  "isValidCIDR (strict, the default)",
  isValidCIDR,
  CIDR_ROWS.map(([v, strict]) => [v, strict] as const),
);
table(
  "isValidCIDR legacy",
  (v: string) => isValidCIDR(v, "legacy"),
  CIDR_ROWS.map(([v, , legacy]) => [v, legacy] as const),
);
