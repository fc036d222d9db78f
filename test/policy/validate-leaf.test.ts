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

table("isValidIP", isValidIP, [
  ["10.9.8.7", []],
  ["2001:db8::ffff", []],
  ["::", []],
  ["10.9.8", [IP]],
  ["10.9.8.256", [IP]],
  ["2001:db8::gggg", [IP]],
  ["fe80::1%eth0", [IP]],
  ["", [IP]],
]);

table("isValidCIDR", isValidCIDR, [
  ["10.9.8.0/24", []],
  ["10.9.8.7/24", []],
  ["2001:db8::/64", []],
  ["0.0.0.0/0", []],
  ["10.9.8.0", [CIDR]],
  ["10.9.8.0/33", [CIDR]],
  ["2001:db8::/129", [CIDR]],
  ["10.9.8/24", [CIDR]],
  ["foo", [CIDR]],
]);
