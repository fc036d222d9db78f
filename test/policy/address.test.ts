/** Addresses and CIDRs: canonical parsing, containment across families, strict subsets. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Address, Cidr } from "../../server/model/types.js";
import { cidrContains, isStrictSubset, parseAddress, parseCidr } from "../../server/policy/address.js";

const c = (t: string): Cidr => {
  const v = parseCidr(t);
  assert.ok(v, `${t} parses`);
  return v;
};
const a = (t: string): Address => {
  const v = parseAddress(t);
  assert.ok(v, `${t} parses`);
  return v;
};

describe("parseCidr", () => {
  const valid: readonly [string, string, "ipv4" | "ipv6", number][] = [
    ["10.0.0.0/8", "10.0.0.0/8", "ipv4", 8],
    ["10.1.2.3/8", "10.0.0.0/8", "ipv4", 8],
    ["192.168.1.255/23", "192.168.0.0/23", "ipv4", 23],
    ["172.16.5.4/32", "172.16.5.4/32", "ipv4", 32],
    ["255.255.255.255/0", "0.0.0.0/0", "ipv4", 0],
    ["2001:DB8::1/32", "2001:db8::/32", "ipv6", 32],
    ["2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128", "ipv6", 128],
    ["2001:db8:ffff:ffff::/33", "2001:db8:8000::/33", "ipv6", 33],
    ["fd00:0:0:1:0:0:0:1/64", "fd00:0:0:1::/64", "ipv6", 64],
    ["2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128", "ipv6", 128],
    ["ffff::1/0", "::/0", "ipv6", 0],
  ];
  for (const [text, canonical, family, prefix] of valid) {
    it(`${text} → ${canonical}`, () => {
      const v = c(text);
      assert.deepEqual([v.text, v.family, v.prefix], [canonical, family, prefix]);
      assert.equal(v.bytes.length, family === "ipv4" ? 4 : 16);
    });
  }
  it("host bits are cleared in the bytes, not only the text", () => {
    assert.deepEqual(c("192.168.1.255/23").bytes, [192, 168, 0, 0]);
  });
  for (const text of ["10.0.0/8", "10.0.0.0/33", "foo", "10.0.0.0", "::/129", "10.0.0.0/-1", "10.0.0.0/", "/8", "10.0.0.0/8/8", "010.0.0.0/8", "fe80::1%eth0/64"]) {
    it(`${JSON.stringify(text)} is not a CIDR`, () => {
      assert.equal(parseCidr(text), undefined);
    });
  }
});

describe("parseAddress", () => {
  for (const [text, canonical, family] of [
    ["10.1.2.3", "10.1.2.3", "ipv4"],
    ["2001:0DB8::0001", "2001:db8::1", "ipv6"],
    ["fd00:0:0:0:0:0:0:10", "fd00::10", "ipv6"],
    ["::", "::", "ipv6"],
  ] as const) {
    it(`${text} → ${canonical}`, () => {
      assert.deepEqual([a(text).text, a(text).family], [canonical, family]);
    });
  }
  for (const text of ["10.1.2", "10.1.2.3.4", "256.0.0.1", "fe80::1%eth0", "prod/web", "", "0x0a.0.0.1"]) {
    it(`${JSON.stringify(text)} is not an address`, () => {
      assert.equal(parseAddress(text), undefined);
    });
  }
});

describe("cidrContains", () => {
  const rows: readonly [string, string, boolean][] = [
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "10.0.0.0", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["10.1.2.3/24", "10.1.2.200", true],
    ["192.168.0.0/23", "192.168.1.9", true],
    ["192.168.0.0/23", "192.168.2.9", false],
    ["10.1.1.10/32", "10.1.1.10", true],
    ["10.1.1.10/32", "10.1.1.11", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["0.0.0.0/0", "fd00::1", false],
    ["::/0", "10.0.0.1", false],
    ["::/0", "2001:db8::1", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8:8000::/33", "2001:db8:7fff::1", false],
    ["2001:db8:8000::/33", "2001:db8:8001::1", true],
    ["10.0.0.0/8", "::ffff:10.0.0.1", false],
  ];
  for (const [cidr, addr, want] of rows) {
    it(`${cidr} ${want ? "contains" : "does not contain"} ${addr}`, () => {
      assert.equal(cidrContains(c(cidr), a(addr)), want);
    });
  }
});

describe("isStrictSubset", () => {
  const rows: readonly [string, string, boolean][] = [
    ["10.1.0.0/16", "10.0.0.0/8", true],
    ["10.1.2.3/32", "10.0.0.0/8", true],
    ["10.0.0.0/8", "10.0.0.0/8", false],
    ["10.5.6.7/8", "10.0.0.0/8", false],
    ["10.0.0.0/7", "10.0.0.0/8", false],
    ["11.1.0.0/16", "10.0.0.0/8", false],
    ["fd00::/64", "10.0.0.0/8", false],
    ["10.0.0.0/16", "::/0", false],
    ["2001:db8:1::/48", "2001:db8::/32", true],
    ["2001:db8::/32", "2001:db8::/32", false],
    ["2001:db9::/48", "2001:db8::/32", false],
    ["0.0.0.0/1", "0.0.0.0/0", true],
  ];
  for (const [inner, outer, want] of rows) {
    it(`${inner} ${want ? "is" : "is not"} a strict subset of ${outer}`, () => {
      assert.equal(isStrictSubset(c(inner), c(outer)), want);
    });
  }
});
