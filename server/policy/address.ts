/**
 * Addresses and CIDRs: parsing to one canonical form, and containment,
 * used alike by Check (is this peer in the ipBlock?) and the rule compiler.
 */
import type { Address, Cidr, Family } from "../model/types.js";
import { parseCIDRText, parseIP } from "./validate-leaf.js";

export function parseAddress(text: string): Address | undefined {
  const ip = parseIP(text);
  if (!ip) return undefined;
  return { text: ip.toString(), family: ip.kind() as Family, bytes: ip.toByteArray() };
}

/** Parses a CIDR; host bits are cleared, as net.ParseCIDR does. */
export function parseCidr(text: string): Cidr | undefined {
  const parsed = parseCIDRText(text);
  if (!parsed) return undefined;
  const [ip, prefix] = parsed;
  const bytes = ip.toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  }
  const family = ip.kind() as Family;
  const net = family === "ipv4" ? bytes.join(".") : ipv6Text(bytes);
  return { text: `${net}/${prefix}`, family, bytes, prefix };
}

function ipv6Text(bytes: number[]): string {
  const ip = parseIP(
    Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(":"),
  );
  return ip!.toString();
}

function prefixMatches(net: readonly number[], prefix: number, bytes: readonly number[]): boolean {
  let bit = 0;
  for (; bit + 8 <= prefix; bit += 8) {
    if (net[bit >> 3] !== bytes[bit >> 3]) return false;
  }
  if (bit < prefix) {
    const mask = (0xff << (8 - (prefix - bit))) & 0xff;
    if ((net[bit >> 3]! & mask) !== (bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

export function cidrContains(c: Cidr, a: Address): boolean {
  return c.family === a.family && prefixMatches(c.bytes, c.prefix, a.bytes);
}

/** True when `inner` lies inside `outer` and is smaller: what `except` must be. */
export function isStrictSubset(inner: Cidr, outer: Cidr): boolean {
  return inner.family === outer.family && inner.prefix > outer.prefix && prefixMatches(outer.bytes, outer.prefix, inner.bytes);
}
