/**
 * NetworkPolicy (networking.k8s.io/v1): validation as the API server does it
 * (pkg/apis/networking/validation), and translation into closed cases.
 *
 * | manifest                                         | normalised                                  |
 * |--------------------------------------------------|---------------------------------------------|
 * | `podSelector: {}`                                | every pod of the policy's namespace         |
 * | `policyTypes` omitted                            | Ingress; Egress too iff `egress` has a rule |
 * | Ingress type, `ingress` omitted or `[]`          | `ingress: []`: isolates, allows nothing     |
 * | not of the Ingress type                          | `ingress: undefined`: does not isolate      |
 * | rule without `from`/`to` (or `[]`)               | peers `[all]`: every peer, in or out        |
 * | rule without `ports` (or `[]`)                   | ports `[all]`: every port and protocol      |
 * | peer `podSelector` only                          | pods{namespaces: same, pods: selector}      |
 * | peer `namespaceSelector` only                    | pods{namespaces: selector, pods: everything}|
 * | peer with both                                   | pods{namespaces: selector, pods: selector}  |
 * | peer `ipBlock`                                   | ipBlock{cidr, except}                       |
 * | `cidr`/`except` with bits beyond the prefix      | legacy only: the network, host bits cleared |
 * | port without `protocol`                          | TCP                                         |
 * | port entry without `port`                        | every port of its protocol                  |
 * | numeric `port` (+ `endPort`)                     | range port..endPort                         |
 * | string `port`                                    | named, resolved on the destination pod      |
 */
import type { Cidr, Direction, NetworkPolicy, Peer, PortMatcher, Protocol, Rule } from "../model/types.js";
import { PROTOCOLS } from "../model/types.js";
import { type IPMode, cidrContains, parseIPNet } from "./address.js";
import { type Path, fieldError } from "./field.js";
import type { Json, Reader } from "./reader.js";
import { EVERYTHING, decodeSelector } from "./selector.js";
import { isValidCIDR, isValidPortName, isValidPortNum } from "./validate-leaf.js";

const POLICY_TYPES = ["Ingress", "Egress"] as const;

/**
 * Decodes and validates `spec`; errors go to the reader. `cidr` is how
 * `ipBlock` CIDRs are checked: "strict" as a current API server checks a
 * write (StrictIPCIDRValidation), "legacy" as older ones did. decodeObject
 * chooses, strict by default; the default here reads what an API server holds.
 */
export function decodeNetworkPolicySpec(r: Reader, namespace: string, name: string, raw: unknown, p: Path, cidr: IPMode = "legacy"): NetworkPolicy {
  const spec = r.object(raw, p) ?? {};
  const podSelector = decodeSelector(r, spec["podSelector"], p.child("podSelector"));
  const ingress = decodeRules(r, spec["ingress"], "ingress", p.child("ingress"), cidr);
  const egress = decodeRules(r, spec["egress"], "egress", p.child("egress"), cidr);
  const types = decodePolicyTypes(r, spec["policyTypes"], p.child("policyTypes"));
  // "If this field is not specified, it will default based on the existence
  // of ingress or egress rules; policies that contain an egress section are
  // assumed to affect egress, and all policies (whether or not they contain an
  // ingress section) are assumed to affect ingress."
  const hasIngress = types ? types.includes("Ingress") : true;
  const hasEgress = types ? types.includes("Egress") : egress.length > 0;
  return {
    namespace,
    name,
    key: `${namespace}/${name}`,
    podSelector,
    ingress: hasIngress ? ingress : undefined,
    egress: hasEgress ? egress : undefined,
  };
}

function decodePolicyTypes(r: Reader, raw: unknown, p: Path): string[] | undefined {
  const list = r.array(raw, p);
  if (list === undefined || list.length === 0) return undefined;
  if (list.length > POLICY_TYPES.length) {
    r.add(fieldError.invalid(p, list, "may not specify more than two policyTypes"));
    return undefined;
  }
  const types: string[] = [];
  list.forEach((t, i) => {
    const s = r.string(t, p.index(i));
    if (s === undefined) return;
    if (!(POLICY_TYPES as readonly string[]).includes(s)) r.add(fieldError.notSupported(p.index(i), s, POLICY_TYPES));
    else types.push(s);
  });
  return types;
}

function decodeRules(r: Reader, raw: unknown, dir: Direction, p: Path, cidr: IPMode): Rule[] {
  const peersKey = dir === "ingress" ? "from" : "to";
  return (r.array(raw, p) ?? []).map((rawRule, i) => {
    const rp = p.index(i);
    const rule = r.object(rawRule, rp) ?? {};
    const rawPorts = r.array(rule["ports"], rp.child("ports")) ?? [];
    const rawPeers = r.array(rule[peersKey], rp.child(peersKey)) ?? [];
    // "If this field is empty or missing, this rule matches all ports" /
    // "... this rule matches all sources (traffic not restricted by source)".
    const ports: PortMatcher[] = rawPorts.length === 0 ? [{ kind: "all", field: `${rp}` }] : rawPorts.map((port, j) => decodePort(r, port, rp.child("ports").index(j)));
    const peers: Peer[] = rawPeers.length === 0 ? [{ kind: "all", field: `${rp}` }] : rawPeers.map((peer, j) => decodePeer(r, peer, rp.child(peersKey).index(j), cidr));
    return { field: `${rp}`, peers, ports };
  });
}

function decodePort(r: Reader, raw: unknown, p: Path): PortMatcher {
  const o: Json = r.object(raw, p) ?? {};
  const field = `${p}`;
  const protoRaw = r.string(o["protocol"], p.child("protocol"));
  let protocol: Protocol = "TCP";
  if (protoRaw !== undefined) {
    if ((PROTOCOLS as readonly string[]).includes(protoRaw)) protocol = protoRaw as Protocol;
    else r.add(fieldError.notSupported(p.child("protocol"), protoRaw, PROTOCOLS));
  }
  const port = o["port"];
  const endPort = r.integer(o["endPort"], p.child("endPort"));
  if (port === undefined || port === null) {
    if (endPort !== undefined) {
      r.add(fieldError.invalid(p.child("endPort"), endPort, "may not be specified when `port` is not specified"));
    }
    return { kind: "protocol", field, protocol };
  }
  if (typeof port === "number" && Number.isInteger(port)) {
    for (const m of isValidPortNum(port)) r.add(fieldError.invalid(p.child("port"), port, m));
    if (endPort !== undefined) {
      if (endPort < port) r.add(fieldError.invalid(p.child("endPort"), port, "must be greater than or equal to `port`"));
      for (const m of isValidPortNum(endPort)) r.add(fieldError.invalid(p.child("endPort"), endPort, m));
    }
    return { kind: "range", field, protocol, from: port, to: endPort ?? port };
  }
  if (typeof port === "string") {
    if (endPort !== undefined) {
      r.add(fieldError.invalid(p.child("endPort"), endPort, "may not be specified when `port` is non-numeric"));
    }
    for (const m of isValidPortName(port)) r.add(fieldError.invalid(p.child("port"), port, m));
    return { kind: "named", field, protocol, name: port };
  }
  r.add(fieldError.typeInvalid(p.child("port"), port, "must be an integer or a string"));
  return { kind: "protocol", field, protocol };
}

function decodePeer(r: Reader, raw: unknown, p: Path, cidr: IPMode): Peer {
  const o: Json = r.object(raw, p) ?? {};
  const field = `${p}`;
  const has = (k: string) => o[k] !== undefined && o[k] !== null;
  const given = ["podSelector", "namespaceSelector", "ipBlock"].filter(has);
  const podSel = has("podSelector") ? decodeSelector(r, o["podSelector"], p.child("podSelector")) : EVERYTHING;
  const nsSel = has("namespaceSelector") ? decodeSelector(r, o["namespaceSelector"], p.child("namespaceSelector")) : undefined;
  const block = has("ipBlock") ? decodeIpBlock(r, o["ipBlock"], p.child("ipBlock"), cidr) : undefined;
  if (given.length === 0) r.add(fieldError.required(p, "must specify a peer"));
  else if (given.length > 1 && has("ipBlock")) r.add(fieldError.forbidden(p, "may not specify both ipBlock and another peer"));
  if (block && given.length === 1) return { kind: "ipBlock", field, ...block };
  return {
    kind: "pods",
    field,
    namespaces: nsSel ? { kind: "selector", selector: nsSel } : { kind: "same" },
    pods: podSel,
  };
}

/**
 * ValidateIPBlock. Whatever the mode, `except` is compared with `cidr` as
 * ParseCIDRSloppy reads both ("!cidrIPNet.Contains(exceptCIDR.IP) ||
 * cidrMaskLen >= exceptMaskLen" is an error), so a value that fails only the
 * strict check gets both errors, as from the API server.
 */
function decodeIpBlock(r: Reader, raw: unknown, p: Path, mode: IPMode): { cidr: Cidr; except: Cidr[] } | undefined {
  const o: Json = r.object(raw, p) ?? {};
  const cidrText = r.string(o["cidr"], p.child("cidr")) ?? "";
  if (cidrText === "") {
    r.add(fieldError.required(p.child("cidr")));
    return undefined;
  }
  for (const m of isValidCIDR(cidrText, mode)) r.add(fieldError.invalid(p.child("cidr"), cidrText, m));
  const cidr = parseIPNet(cidrText);
  if (!cidr) return undefined;
  const except: Cidr[] = [];
  (r.array(o["except"], p.child("except")) ?? []).forEach((e, i) => {
    const ep = p.child("except").index(i);
    const text = r.string(e, ep);
    if (text === undefined) return;
    for (const m of isValidCIDR(text, mode)) r.add(fieldError.invalid(ep, text, m));
    const ex = parseIPNet(text);
    if (!ex) return;
    if (cidrContains(cidr.cidr, ex.cidr) && cidr.maskBits < ex.maskBits) except.push(ex.cidr);
    else r.add(fieldError.invalid(ep, text, "must be a strict subset of `cidr`"));
  });
  return { cidr: cidr.cidr, except };
}
