/**
 * Leaf checks with the Kubernetes wording
 * (k8s.io/apimachinery/pkg/util/validation). Each returns the list of
 * messages for one value; the caller attaches the field path.
 */
import { type IPMode, hasBitsBeyond, isIPv4Mapped, parseIPBytes, parseIPNet, parsePrefix } from "./address.js";

const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

const dnsLabelRe = new RegExp(`^${DNS1123_LABEL}$`);
const dnsSubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN}$`);
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE}$`);

function maxLen(n: number): string {
  return `must be no more than ${n} characters`;
}

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dnsLabelRe.test(v) && dnsSubdomainRe.test(v)) {
    // "It was a valid subdomain and not a valid label. Since we already
    // checked length, it must be dots."
    errs.push("must not contain dots");
  } else if (!dnsLabelRe.test(v)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
        DNS1123_LABEL +
        "')",
    );
  }
  return errs;
}

export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!dnsSubdomainRe.test(v)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        DNS1123_SUBDOMAIN +
        "')",
    );
  }
  return errs;
}

/** A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" +
        QUALIFIED_NAME +
        "') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  // Kubernetes checks the pattern even for an empty name part, so "a/" has both errors.
  if (!qualifiedNameRe.test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" +
        QUALIFIED_NAME +
        "')",
    );
  }
  return errs;
}

export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!labelValueRe.test(v)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '" +
        LABEL_VALUE +
        "')",
    );
  }
  return errs;
}

export function isValidPortNum(n: number): string[] {
  return isPortNum(n) ? [] : ["must be between 1 and 65535, inclusive"];
}

/** isValidPortNum as a yes or no, for a question's port: nothing is made. */
export function isPortNum(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** An IANA_SVC_NAME (RFC 6335): what a named port must be. */
export function isValidPortName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push(maxLen(15));
  if (!/^[-a-z0-9]+$/.test(v)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(v)) errs.push("must contain at least one letter (a-z)");
  if (v.includes("--")) errs.push("must not contain consecutive hyphens");
  if (v.startsWith("-") || v.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

/**
 * IsValidIPForLegacyField (k8s.io/apimachinery/pkg/util/validation/ip.go), the
 * check of status.podIPs[i]. "strict" is the StrictIPCIDRValidation gate on,
 * as a current API server has it: "The updated validation will reject IPv4 IPs
 * with leading "0"s" and "will reject IPv4-mapped IPv6 addresses" (KEP-4858).
 * Non-canonical IPv6 (`FD00:0::1`) stays valid in these legacy fields.
 */
export function isValidIP(v: string, mode: IPMode = "strict"): string[] {
  if (!parseIPBytes(v, "legacy")) return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"];
  if (mode === "legacy") return [];
  // "If netutils.ParseIPSloppy parsed it, but netip.ParseAddr doesn't, then it
  // must have illegal leading 0s."
  const bytes = parseIPBytes(v, "strict");
  if (!bytes) return ["must not have leading 0s"];
  if (isIPv4Mapped(bytes)) return ["must not be an IPv4-mapped IPv6 address"];
  return [];
}

/**
 * IsValidCIDRForLegacyField, the check of ipBlock.cidr and ipBlock.except[i].
 * Strict adds, in this order and one message at most: leading zeros (in the
 * address or the prefix length), an IPv4-mapped address, then "the value is
 * required to be in "subnet"/"mask" form" (no bits beyond the prefix).
 */
export function isValidCIDR(v: string, mode: IPMode = "strict"): string[] {
  if (!parseIPNet(v)) return ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"];
  if (mode === "legacy") return [];
  const prefix = parsePrefix(v);
  if (!prefix) return ["must not have leading 0s in IP or prefix length"];
  if (isIPv4Mapped(prefix.bytes)) return ["must not have an IPv4-mapped IPv6 address"];
  if (hasBitsBeyond(prefix.bytes, prefix.bits)) return ["must not have bits set beyond the prefix length"];
  return [];
}
