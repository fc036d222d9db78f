/**
 * Addresses and CIDRs: parsing to one canonical form, and containment,
 * used alike by Check (is this peer in the ipBlock?) and the rule compiler.
 *
 * The API server reads IP text two ways (k8s.io/apimachinery/pkg/util/validation/ip.go):
 * - "legacy": netutils.ParseIPSloppy / ParseCIDRSloppy, Go's net.ParseIP and
 *   net.ParseCIDR as they were before Go 1.17. "Historically, net.ParseIP (and
 *   later netutils.ParseIPSloppy) simply ignored leading "0"s in IPv4
 *   addresses"; an IPv4-mapped IPv6 address is the IPv4 address; a CIDR may
 *   have bits set beyond its prefix, which are cleared.
 * - "strict": netip.ParseAddr / netip.ParsePrefix, which "simply reject inputs
 *   with leading "0"s". What the StrictIPCIDRValidation gate adds on top
 *   (no IPv4-mapped addresses, no bits beyond the prefix) is in validate-leaf.ts.
 */
import type { Address, Cidr, Family } from "../model/types.js";

export type IPMode = "strict" | "legacy";

/**
 * Dotted-quad IPv4. Legacy: a field is any run of decimal digits, leading zeros read as decimal.
 * Read by character code: every address a question names comes through here.
 */
function parseIPv4(s: string, mode: IPMode): number[] | undefined {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= s.length; i++) {
    // The end of the text closes the last field as a dot does.
    const c = i < s.length ? s.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || out.length === 4 || n > 255) return undefined;
      if (mode === "strict" && digits > 1 && leadingZero) return undefined;
      out.push(n);
      n = 0;
      digits = 0;
    } else if (c >= ZERO && c <= NINE) {
      if (digits === 0) leadingZero = c === ZERO;
      n = n * 10 + (c - ZERO);
      digits++;
    } else {
      return undefined;
    }
  }
  return out.length === 4 ? out : undefined;
}

const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

/** IPv6, with an optional trailing dotted quad. Strict: at most 4 hex digits a group. */
function parseIPv6(text: string, mode: IPMode): number[] | undefined {
  const ip = new Array<number>(16).fill(0);
  let s = text;
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return ip;
  }
  let i = 0;
  while (i < 16) {
    const digits = /^[0-9a-fA-F]+/.exec(s)?.[0];
    if (digits === undefined) return undefined;
    if (s[digits.length] === ".") {
      // The embedded IPv4 address must end the address.
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      const v4 = parseIPv4(s, mode);
      if (!v4) return undefined;
      ip.splice(i, 4, ...v4);
      s = "";
      i += 4;
      break;
    }
    if (mode === "strict" && digits.length > 4) return undefined;
    const n = Number.parseInt(digits, 16);
    if (n > 0xffff) return undefined;
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(digits.length);
    if (s === "") break;
    if (s[0] !== ":" || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const tail = ip.slice(ellipsis, i);
    ip.fill(0, ellipsis);
    ip.splice(16 - tail.length, tail.length, ...tail);
  } else if (ellipsis >= 0) {
    // "::" must stand for at least one group of zeros.
    return undefined;
  }
  return ip;
}

/** The address's bytes: 4 for the dotted form, 16 for the colon form. Zones are refused. */
export function parseIPBytes(text: string, mode: IPMode): number[] | undefined {
  // By code unit: every reference is tried as an address first, and "." and ":" are never half of a pair.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) return parseIPv4(text, mode);
    if (c === COLON) return parseIPv6(text, mode);
  }
  return undefined;
}

/** netip.ParsePrefix: the address's bytes as written (not masked) and the prefix length. */
export function parsePrefix(text: string): { bytes: number[]; bits: number } | undefined {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return undefined;
  const bytes = parseIPBytes(text.slice(0, slash), "strict");
  const bitsText = text.slice(slash + 1);
  if (!bytes || !/^(0|[1-9][0-9]*)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= bytes.length * 8 ? { bytes, bits } : undefined;
}

/**
 * net.ParseCIDR before Go 1.17 (netutils.ParseCIDRSloppy): the network with
 * host bits cleared, and the mask length counted in the width the address
 * was written in, as IPMask.Size reports it.
 */
function parseCIDRSloppy(text: string): { bytes: number[]; maskBits: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const bytes = parseIPv4(addr, "legacy") ?? parseIPv6(addr, "legacy");
  const maskText = text.slice(slash + 1);
  if (!bytes || !/^[0-9]+$/.test(maskText)) return undefined;
  const maskBits = Number(maskText);
  if (maskBits > bytes.length * 8) return undefined;
  return { bytes: masked(bytes, maskBits), maskBits };
}

export function isIPv4Mapped(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

export function hasBitsBeyond(bytes: readonly number[], bits: number): boolean {
  return masked(bytes, bits).some((b, i) => b !== bytes[i]);
}

function masked(bytes: readonly number[], bits: number): number[] {
  return bytes.map((b, i) => (i * 8 >= bits ? 0 : i * 8 + 8 <= bits ? b : b & (0xff << (8 - (bits - i * 8))) & 0xff));
}

function address(bytes: readonly number[]): Address {
  const family: Family = bytes.length === 4 ? "ipv4" : "ipv6";
  return { text: family === "ipv4" ? bytes.join(".") : ipv6Text(bytes), family, bytes: [...bytes] };
}

/** RFC 5952: lower case, no leading zeros, "::" for the first longest run of two or more zero groups. */
function ipv6Text(bytes: readonly number[]): string {
  if (isIPv4Mapped(bytes)) return `::ffff:${bytes.slice(12).join(".")}`;
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let [start, len] = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > len) [start, len] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (len < 2) return hex(groups);
  return `${hex(groups.slice(0, start))}::${hex(groups.slice(start + len))}`;
}

/**
 * An address in canonical form. Legacy reads an IPv4-mapped IPv6 address as
 * the IPv4 address (Go prints it so); strict keeps it IPv6, as netip does.
 */
export function parseAddress(text: string, mode: IPMode = "strict"): Address | undefined {
  const bytes = parseIPBytes(text, mode);
  if (!bytes) return undefined;
  // A dotted quad that strict reading takes (no leading zeros) is written canonically already.
  if (mode === "strict" && bytes.length === 4) return { text, family: "ipv4", bytes };
  return address(mode === "legacy" && isIPv4Mapped(bytes) ? bytes.slice(12) : bytes);
}

/**
 * A CIDR as Go's net.IPNet holds it: host bits cleared; an IPv4-mapped
 * network (prefix 96 or longer) is the IPv4 network. `maskBits` is the
 * length as written, which ValidateIPBlock compares (`cidrMaskLen >= exceptMaskLen`).
 */
export function parseIPNet(text: string): { cidr: Cidr; maskBits: number } | undefined {
  const net = parseCIDRSloppy(text);
  if (!net) return undefined;
  const v4 = isIPv4Mapped(net.bytes);
  const bytes = v4 ? net.bytes.slice(12) : net.bytes;
  const prefix = v4 ? net.maskBits - 96 : net.maskBits;
  const a = address(bytes);
  return { cidr: { text: `${a.text}/${prefix}`, family: a.family, bytes: a.bytes, prefix }, maskBits: net.maskBits };
}

/** Parses a CIDR; host bits are cleared, as net.ParseCIDR does. Strict: netip.ParsePrefix's syntax. */
export function parseCidr(text: string, mode: IPMode = "strict"): Cidr | undefined {
  if (mode === "legacy") return parseIPNet(text)?.cidr;
  const p = parsePrefix(text);
  if (!p) return undefined;
  const a = address(masked(p.bytes, p.bits));
  return { text: `${a.text}/${p.bits}`, family: a.family, bytes: a.bytes, prefix: p.bits };
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
