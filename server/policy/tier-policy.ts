/**
 * ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2), AdminNetworkPolicy
 * and BaselineAdminNetworkPolicy (v1alpha1): validation as the API server
 * does it with the experimental-channel CRDs installed (schema, then CEL
 * rules; tier-schema.ts), and translation into one model (model/tier-types.ts).
 *
 * | manifest                                             | normalised                                     |
 * |------------------------------------------------------|------------------------------------------------|
 * | `subject.namespaces: {}`                             | every pod of every namespace                   |
 * | `subject.pods` without `namespaceSelector` (v1alpha2)| pods{namespaces: everything}                   |
 * | `ingress`/`egress` omitted or `[]`                   | no rules: that direction is not affected       |
 * | rule without `from`/`to`, or `[]`                    | invalid: Required value / at least 1 items     |
 * | rule without `name`, or `name: ""`                   | name undefined                                 |
 * | v1alpha1 `action: Allow`                             | action Accept, actionWord "Allow"              |
 * | peer `namespaces: {}`                                | namespaces{everything}: every pod, every ns    |
 * | peer `pods: {podSelector: {}}` (v1alpha2)            | pods{namespaces: everything, pods: everything} |
 * | peer `nodes: {}`                                     | nodes{everything}                              |
 * | peer `networks`, host bits set (`10.1.2.3/8`)        | networks, host bits cleared (isCIDR takes it)  |
 * | peer `domainNames`                                   | domainNames; its path in `unenforceable`       |
 * | rule without `protocols` (v1alpha2) / `ports`        | ports [all]: every port and protocol           |
 * | `protocols: []` / `ports: []`                        | invalid: should have at least 1 items          |
 * | `tcp.destinationPort.number: 80`                     | range TCP 80..80                               |
 * | `udp.destinationPort.range: {start: 53, end: 54}`    | range UDP 53..54                               |
 * | `destinationNamedPort` / `namedPort`                 | namedAnyProtocol: the container port's protocol|
 * | `portNumber`/`portRange` without `protocol`          | TCP (the CRD's default)                        |
 * | BaselineAdminNetworkPolicy                           | tier Baseline, priority undefined              |
 *
 * Domain names are decoded and validated but cannot be enforced by ipsets of
 * addresses: the addresses a name stands for come from DNS answers, at run
 * time. The policy lists their paths in `unenforceable` for the caller to
 * refuse or report, with DOMAIN_NAMES_UNENFORCEABLE.
 */
import type { TierAction, TierActionWord, TierKind, TierPeer, TierPolicy, TierPort, TierRule, TierSubject } from "../model/tier-types.js";
import type { Cidr, Direction, Protocol, Selector } from "../model/types.js";
import { PROTOCOLS } from "../model/types.js";
import { isIPv4Mapped, parseCidr, parsePrefix } from "./address.js";
import { Path, fieldError } from "./field.js";
import type { Json, Reader } from "./reader.js";
import { EVERYTHING } from "./selector.js";
import { CrdCheck, selector } from "./tier-schema.js";

export const DOMAIN_NAMES_UNENFORCEABLE = "domain names cannot be enforced by ipsets of addresses: the peer matches no connection";

/** `DomainName` (v1alpha2 and v1alpha1): "'*' may only be specified as a prefix." */
const DOMAIN_NAME = "^(\\*\\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.?$";

/** What tells the kinds apart, from their CRDs. */
interface Flavor {
  readonly kind: TierKind;
  readonly actions: readonly TierActionWord[];
  /** maxItems of `ingress`/`egress`, and of `from`/`to` and `protocols`/`ports`. */
  readonly maxRules: number;
  readonly egressPeers: readonly string[];
  /** NamespacedPod's required fields: v1alpha2 defaults `namespaceSelector` to {}. */
  readonly podRequired: readonly string[];
  /** The egress rule's CEL rule on named ports. */
  readonly namedPortRule: string;
  /** The one name the kind allows, by a CEL rule on the whole object, and the rule's message. */
  readonly onlyName?: { readonly name: string; readonly message: string };
}

const NAMED_PORT_RULE = "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames";

const CNP: Flavor = {
  kind: "ClusterNetworkPolicy",
  actions: ["Accept", "Deny", "Pass"],
  maxRules: 25,
  egressPeers: ["namespaces", "pods", "nodes", "networks", "domainNames"],
  podRequired: ["podSelector"],
  namedPortRule: NAMED_PORT_RULE,
};
const ANP: Flavor = { ...CNP, kind: "AdminNetworkPolicy", actions: ["Allow", "Deny", "Pass"], maxRules: 100, podRequired: ["namespaceSelector", "podSelector"] };
const BANP: Flavor = {
  ...ANP,
  kind: "BaselineAdminNetworkPolicy",
  actions: ["Allow", "Deny"],
  egressPeers: ["namespaces", "pods", "nodes", "networks"],
  namedPortRule: "networks/nodes peer cannot be set with namedPorts since there are no namedPorts for networks/nodes",
  onlyName: { name: "default", message: 'Only one baseline admin network policy with metadata.name="default" can be created in the cluster' },
};

/** `spec` of a ClusterNetworkPolicy; `p` is its path ("spec"). Errors go to the reader. */
export function decodeClusterNetworkPolicy(r: Reader, name: string, raw: unknown, p: Path): TierPolicy {
  return decodeKind(r, CNP, name, raw, p, (c, spec) => ({
    tier: c.string(c.field(spec, "tier", p, true), p.child("tier"), { oneOf: ["Admin", "Baseline"] }) === "Baseline" ? "Baseline" : "Admin",
    priority: c.integer(c.field(spec, "priority", p, true), p.child("priority"), 0, 1000) ?? 0,
  }));
}

/** `spec` of an AdminNetworkPolicy. */
export function decodeAdminNetworkPolicy(r: Reader, name: string, raw: unknown, p: Path): TierPolicy {
  return decodeKind(r, ANP, name, raw, p, (c, spec) => ({ tier: "Admin", priority: c.integer(c.field(spec, "priority", p, true), p.child("priority"), 0, 1000) ?? 0 }));
}

/** `spec` of a BaselineAdminNetworkPolicy; `name` is its metadata.name, which must be "default". */
export function decodeBaselineAdminNetworkPolicy(r: Reader, name: string, raw: unknown, p: Path): TierPolicy {
  return decodeKind(r, BANP, name, raw, p, () => ({ tier: "Baseline", priority: undefined }));
}

type Head = Pick<TierPolicy, "tier" | "priority">;

function decodeKind(r: Reader, f: Flavor, name: string, raw: unknown, p: Path, head: (c: CrdCheck, spec: Json) => Head): TierPolicy {
  const c = new CrdCheck();
  if (raw === undefined || raw === null) c.required(p);
  // When spec is missing or not an object, nothing under it is checked.
  const spec = c.object(raw ?? undefined, p);
  const { tier, priority } = spec ? head(c, spec) : { tier: "Admin" as const, priority: undefined };
  const unenforceable: string[] = [];
  const policy: TierPolicy = {
    kind: f.kind,
    name,
    key: `${f.kind}/${name}`,
    tier,
    priority,
    subject: spec ? decodeSubject(c, f, c.field(spec, "subject", p, true), p.child("subject")) : { kind: "namespaces", field: "", namespaces: EVERYTHING },
    ingress: spec ? decodeRules(c, f, spec["ingress"], "ingress", p.child("ingress"), unenforceable) : [],
    egress: spec ? decodeRules(c, f, spec["egress"], "egress", p.child("egress"), unenforceable) : [],
    unenforceable,
  };
  // A rule on the whole object, so its path is none: "<nil>".
  if (f.onlyName) c.rule(name === f.onlyName.name, Path.root("<nil>"), f.onlyName.message);
  c.finish(r);
  return policy;
}

function decodeSubject(c: CrdCheck, f: Flavor, raw: unknown, p: Path): TierSubject {
  const o = c.object(raw, p);
  const field = `${p}`;
  if (!o) return { kind: "namespaces", field, namespaces: EVERYTHING };
  const [which] = c.properties(o, ["namespaces", "pods"], p, 1, 1);
  const namespaces = o["namespaces"] ?? undefined;
  const ns = namespaces !== undefined ? selector(c, namespaces, p.child("namespaces")) : undefined;
  const pods = o["pods"] !== undefined && o["pods"] !== null ? namespacedPod(c, f, o["pods"], p.child("pods")) : undefined;
  if (which === "pods" && pods) return { kind: "pods", field: `${p.child("pods")}`, ...pods };
  return { kind: "namespaces", field: `${p.child("namespaces")}`, namespaces: ns ?? EVERYTHING };
}

function namespacedPod(c: CrdCheck, f: Flavor, raw: unknown, p: Path): { namespaces: Selector; pods: Selector } {
  const o = c.object(raw, p) ?? {};
  const nsRaw = c.field(o, "namespaceSelector", p, f.podRequired.includes("namespaceSelector"));
  const podRaw = c.field(o, "podSelector", p, f.podRequired.includes("podSelector"));
  // "NamespaceSelector follows standard label selector semantics; if empty, it selects all Namespaces."
  const namespaces = nsRaw === undefined ? EVERYTHING : selector(c, nsRaw, p.child("namespaceSelector"));
  const pods = podRaw === undefined ? EVERYTHING : selector(c, podRaw, p.child("podSelector"));
  return { namespaces, pods };
}

function decodeRules(c: CrdCheck, f: Flavor, raw: unknown, dir: Direction, p: Path, unenforceable: string[]): TierRule[] {
  return (c.array(raw ?? undefined, p, undefined, f.maxRules) ?? []).map((rawRule, i) => decodeRule(c, f, rawRule, dir, p.index(i), unenforceable));
}

function decodeRule(c: CrdCheck, f: Flavor, raw: unknown, dir: Direction, p: Path, unenforceable: string[]): TierRule {
  const o = c.object(raw ?? undefined, p) ?? {};
  const name = c.string(c.field(o, "name", p), p.child("name"), { maxLength: 100 });
  const word = c.string(c.field(o, "action", p, true), p.child("action"), { oneOf: f.actions }) as TierActionWord | undefined;
  const peersKey = dir === "ingress" ? "from" : "to";
  const pp = p.child(peersKey);
  const rawPeers = c.array(c.field(o, peersKey, p, true), pp, 1, f.maxRules) ?? [];
  const known = dir === "ingress" ? ["namespaces", "pods"] : f.egressPeers;
  const peers = rawPeers.map((peer, j) => decodePeer(c, f, peer, known, pp.index(j), unenforceable));
  const isCnp = f.kind === "ClusterNetworkPolicy";
  const portsKey = isCnp ? "protocols" : "ports";
  const rawPorts = c.array(c.field(o, portsKey, p), p.child(portsKey), 1, f.maxRules);
  const ports: TierPort[] =
    rawPorts === undefined
      ? [{ kind: "all", field: `${p}` }]
      : rawPorts.map((port, j) => (isCnp ? decodeProtocol(c, port, p.child(portsKey).index(j)) : decodePort(c, port, p.child(portsKey).index(j))));
  if (dir === "egress") {
    const named = isCnp ? "destinationNamedPort" : "namedPort";
    const addressed = rawPeers.some((peer) => isJson(peer) && ["networks", "nodes", "domainNames"].some((k) => f.egressPeers.includes(k) && present(peer, k)));
    const hasNamed = (rawPorts ?? []).some((port) => isJson(port) && present(port, named));
    c.rule(!(addressed && hasNamed), p, f.namedPortRule);
  }
  const actionWord = word ?? "Deny";
  const action: TierAction = actionWord === "Allow" ? "Accept" : actionWord;
  return { field: `${p}`, name: name || undefined, action, actionWord, peers, ports };
}

function decodePeer(c: CrdCheck, f: Flavor, raw: unknown, known: readonly string[], p: Path, unenforceable: string[]): TierPeer {
  const o = c.object(raw ?? undefined, p) ?? {};
  const field = `${p}`;
  const given = c.properties(o, known, p, 1, 1);
  const peers = given.map((k): TierPeer => {
    const kp = p.child(k);
    switch (k) {
      case "pods":
        return { kind: "pods", field, ...namespacedPod(c, f, o[k], kp) };
      case "nodes":
        return { kind: "nodes", field, nodes: selector(c, o[k], kp) };
      case "networks":
        return { kind: "networks", field, networks: decodeNetworks(c, o[k], kp) };
      case "domainNames":
        unenforceable.push(`${kp}`);
        return { kind: "domainNames", field, domainNames: decodeDomainNames(c, o[k], kp) };
      default:
        return { kind: "namespaces", field, namespaces: selector(c, o[k], kp) };
    }
  });
  return peers[0] ?? { kind: "namespaces", field, namespaces: EVERYTHING };
}

function decodeDomainNames(c: CrdCheck, raw: unknown, p: Path): string[] {
  const list = c.array(raw, p, 1, 25) ?? [];
  const names = list.map((n, i) => c.string(n ?? undefined, p.index(i), { pattern: DOMAIN_NAME }));
  c.set(list, p);
  return names.filter((n) => n !== undefined);
}

/** `networks`: "Each item in Networks should be provided in the CIDR format", checked by CEL `isCIDR(self)`. */
function decodeNetworks(c: CrdCheck, raw: unknown, p: Path): Cidr[] {
  const list = c.array(raw, p, 1, 25) ?? [];
  const out: Cidr[] = [];
  list.forEach((v, i) => {
    const text = c.string(v ?? undefined, p.index(i), { maxLength: 43 });
    if (text === undefined) return;
    // isCIDR is netip.ParsePrefix, refusing an IPv4-mapped address (before masking).
    const prefix = parsePrefix(text);
    const cidr = prefix && !isIPv4Mapped(prefix.bytes) ? parseCidr(text, "strict") : undefined;
    c.rule(cidr !== undefined, p.index(i), "Invalid CIDR format provided", text);
    if (cidr) out.push(cidr);
  });
  c.set(list, p);
  return out;
}

const PROTOCOL_KEYS: Readonly<Record<string, Protocol>> = { tcp: "TCP", udp: "UDP", sctp: "SCTP" };

/** v1alpha2 `protocols[]`: exactly one of tcp, udp, sctp (each a `destinationPort`) and `destinationNamedPort`. */
function decodeProtocol(c: CrdCheck, raw: unknown, p: Path): TierPort {
  const o = c.object(raw ?? undefined, p) ?? {};
  const field = `${p}`;
  const given = c.properties(o, ["tcp", "udp", "sctp", "destinationNamedPort"], p, 1, 1);
  const ports = given.map((k): TierPort => {
    const kp = p.child(k);
    const protocol = PROTOCOL_KEYS[k];
    if (protocol === undefined) return { kind: "namedAnyProtocol", field, name: c.string(o[k], kp) ?? "" };
    const proto = c.object(o[k], kp) ?? {};
    c.properties(proto, ["destinationPort"], kp, 1);
    const dp = kp.child("destinationPort");
    const dest = c.object(proto["destinationPort"] ?? undefined, dp);
    if (!dest) return { kind: "all", field };
    const [which] = c.properties(dest, ["number", "range"], dp, 1, 1);
    if (which === undefined) return { kind: "all", field };
    if (which === "number") {
      const n = c.integer(dest["number"], dp.child("number"), 1, 65535) ?? 1;
      return { kind: "range", field, protocol, from: n, to: n };
    }
    const rp = dp.child("range");
    const range = c.object(dest["range"] ?? undefined, rp) ?? {};
    const start = c.integer(c.field(range, "start", rp, true), rp.child("start"), 1, 65535);
    const end = c.integer(c.field(range, "end", rp, true), rp.child("end"), 1, 65535);
    c.rule(start === undefined || end === undefined || start < end, rp, "Start port must be less than End port");
    return { kind: "range", field, protocol, from: start ?? 1, to: end ?? 65535 };
  });
  return ports[0] ?? { kind: "all", field };
}

/** v1alpha1 `ports[]`: exactly one of portNumber, namedPort, portRange; `protocol` defaults to TCP. */
function decodePort(c: CrdCheck, raw: unknown, p: Path): TierPort {
  const o = c.object(raw ?? undefined, p) ?? {};
  const field = `${p}`;
  const given = c.properties(o, ["portNumber", "namedPort", "portRange"], p, 1, 1);
  const ports = given.map((k): TierPort => {
    const kp = p.child(k);
    if (k === "namedPort") return { kind: "namedAnyProtocol", field, name: c.string(o[k], kp) ?? "" };
    const x = c.object(o[k], kp) ?? {};
    const protocol = decodeProtocolName(c, x["protocol"] ?? undefined, kp.child("protocol"));
    if (k === "portNumber") {
      const n = c.integer(c.field(x, "port", kp, true), kp.child("port"), 1, 65535) ?? 1;
      return { kind: "range", field, protocol, from: n, to: n };
    }
    const start = c.integer(c.field(x, "start", kp, true), kp.child("start"), 1, 65535);
    const end = c.integer(c.field(x, "end", kp, true), kp.child("end"), 1, 65535);
    // "the End value must be greater than Start": documented, not in the v1alpha1 CRD.
    if (start !== undefined && end !== undefined && end <= start) c.own(fieldError.invalid(kp.child("end"), end, "must be greater than `start`"));
    return { kind: "range", field, protocol, from: start ?? 1, to: end ?? 65535 };
  });
  return ports[0] ?? { kind: "all", field };
}

/** v1.Protocol, unchecked by the v1alpha1 CRD; a rule can only match TCP, UDP or SCTP. */
function decodeProtocolName(c: CrdCheck, raw: unknown, p: Path): Protocol {
  const s = raw === undefined ? "TCP" : c.string(raw, p);
  if (s === undefined || (PROTOCOLS as readonly string[]).includes(s)) return (s ?? "TCP") as Protocol;
  c.own(fieldError.notSupported(p, s, PROTOCOLS));
  return "TCP";
}

function isJson(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function present(o: Json, k: string): boolean {
  return o[k] !== undefined && o[k] !== null;
}
