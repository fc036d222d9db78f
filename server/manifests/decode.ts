/**
 * Decoding of the kinds Podwall models, with the API server's validation.
 * Every error is collected with its field path; nothing throws.
 */
import type { TierKind, TierPolicy } from "../model/tier-types.js";
import type { Address, ContainerPort, Labels, Manifest, ModelObject, Namespace, Node, Pod, PodPhase, PolicyObject, Protocol, TierPolicyObject } from "../model/types.js";
import { KIND_INFO, isNamespaced, kindOf } from "../model/kinds.js";
import { PROTOCOLS } from "../model/types.js";
import { type IPMode, parseAddress } from "../policy/address.js";
import { type FieldError, Path, fieldError } from "../policy/field.js";
import { decodeNetworkPolicySpec } from "../policy/network-policy.js";
import { DOMAIN_NAMES_UNENFORCEABLE, decodeAdminNetworkPolicy, decodeBaselineAdminNetworkPolicy, decodeClusterNetworkPolicy } from "../policy/tier-policy.js";
import { type Json, Reader } from "../policy/reader.js";
import { validateLabels } from "../policy/selector.js";
import { isDNS1123Label, isDNS1123Subdomain, isValidIP, isValidPortName, isValidPortNum } from "../policy/validate-leaf.js";
import { excerptText } from "./excerpt.js";
import { knownOnly, unknownFields } from "./known-fields.js";
import { duplicateFields } from "./parse.js";

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * One object read: modelled (with the fields the API server would not know,
 * `unknown field "spec.foo"`), of a kind Podwall skips, or invalid. `strict`
 * marks an object the API server could not even decode (a field given twice):
 * a malformed request (400) rather than an invalid object (422).
 */
export type Decoded =
  | { readonly kind: "object"; readonly object: ModelObject; readonly warnings: readonly string[] }
  | { readonly kind: "skipped"; readonly what: string }
  | { readonly kind: "invalid"; readonly what: string; readonly message: string; readonly errors: readonly FieldError[]; readonly strict?: boolean };

/**
 * How decodeObject reads an object.
 * - `defaultNamespace`: the namespace of a namespaced object that names none ("default").
 * - `cidr`: "strict" (the default) validates IPs and CIDRs as a current API
 *   server validates a write (StrictIPCIDRValidation, on by default since
 *   Kubernetes 1.33): no leading zeros, no IPv4-mapped IPv6 addresses, no bits
 *   set beyond a CIDR's prefix. "legacy" accepts what older API servers
 *   accepted, and what a current one still serves from storage: leading zeros
 *   read as decimal, host bits cleared.
 */
export interface DecodeOptions {
  readonly defaultNamespace?: string;
  readonly cidr?: "strict" | "legacy";
}

export function decodeObject(raw: unknown, opts: DecodeOptions = {}): Decoded {
  const defaultNamespace = opts.defaultNamespace ?? "default";
  const ip: IPMode = opts.cidr ?? "strict";
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return invalid("object", "", [fieldError.typeInvalid(Path.root(), raw, "must be an object")]);
  }
  const o = raw as Json;
  const apiVersion = typeof o["apiVersion"] === "string" ? o["apiVersion"] : "";
  const kind = typeof o["kind"] === "string" ? o["kind"] : "";
  const meta = (typeof o["metadata"] === "object" && o["metadata"]) || {};
  const rawName = (meta as Json)["name"];
  const known = kindOf(apiVersion, kind);
  if (known === undefined) {
    if (kind === "" || apiVersion === "") {
      const errs = [];
      if (apiVersion === "") errs.push(fieldError.required(Path.root("apiVersion")));
      if (kind === "") errs.push(fieldError.required(Path.root("kind")));
      return invalid("object", typeof rawName === "string" ? rawName : "", errs);
    }
    const ns = (meta as Json)["namespace"];
    return { kind: "skipped", what: `${apiVersion}/${kind} ${typeof ns === "string" ? `${ns}/` : ""}${String(rawName ?? "")}` };
  }
  const duplicates = duplicateFields(raw);
  const what = KIND_INFO[known].what;
  if (duplicates.length > 0) return undecodable(apiVersion, kind, what, typeof rawName === "string" ? rawName : "", duplicates);
  const r = new Reader();
  const m = decodeMeta(r, o["metadata"], isNamespaced(known), known === "Namespace" ? isDNS1123Label : isDNS1123Subdomain, defaultNamespace);
  let object: ModelObject;
  switch (known) {
    case "Namespace":
      object = decodeNamespace(m);
      break;
    case "Node":
      object = decodeNode(r, o, m, ip);
      break;
    case "Pod":
      object = decodePod(r, o, m, ip);
      break;
    case "NetworkPolicy":
      object = decodePolicy(r, o, m, ip);
      break;
    case "ClusterNetworkPolicy":
    case "AdminNetworkPolicy":
    case "BaselineAdminNetworkPolicy":
      object = decodeTierPolicy(r, known, o, m);
      break;
  }
  if (r.errors.length > 0) return invalid(what, m.name, r.errors);
  const warnings = unknownFields(raw, kind).map((f) => `unknown field ${JSON.stringify(f)}`);
  // Valid, and kept, but no ipset of addresses can stand for a domain name: said on every write.
  if ("policy" in object && "unenforceable" in object.policy) for (const f of object.policy.unenforceable) warnings.push(`${f}: ${DOMAIN_NAMES_UNENFORCEABLE}`);
  return { kind: "object", object, warnings };
}

function invalid(what: string, name: string, errors: readonly FieldError[]): Decoded {
  const named = `${what} ${JSON.stringify(excerptText(name))}`;
  return { kind: "invalid", what: named, message: `${named} is invalid`, errors };
}

/**
 * With strict field validation (kubectl's default) the API server refuses a
 * field given twice before it validates anything: `Pod in version "v1" cannot
 * be handled as a Pod: strict decoding error: duplicate field "metadata.name"`.
 */
function undecodable(apiVersion: string, kind: string, what: string, name: string, duplicates: readonly string[]): Decoded {
  const version = apiVersion.slice(apiVersion.lastIndexOf("/") + 1);
  // sigs.k8s.io/json keeps the first 100 strict errors of an object.
  const fields = duplicates.slice(0, 100).map((f) => `duplicate field ${JSON.stringify(f)}`);
  return {
    kind: "invalid",
    what: `${what} ${JSON.stringify(excerptText(name))}`,
    message: `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: strict decoding error: ${fields.join(", ")}`,
    errors: duplicates.slice(0, 100).map((f, i) => ({ field: f, type: "FieldValueDuplicate", detail: fields[i]! })),
    strict: true,
  };
}

interface Meta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

function decodeMeta(r: Reader, raw: unknown, namespaced: boolean, nameCheck: (s: string) => string[], defaultNs: string): Meta {
  const p = Path.root("metadata");
  const o = r.object(raw, p) ?? {};
  const name = r.string(o["name"], p.child("name")) ?? "";
  if (name === "") r.add(fieldError.required(p.child("name"), "name or generateName is required"));
  else for (const msg of nameCheck(name)) r.add(fieldError.invalid(p.child("name"), name, msg));
  let namespace = "";
  if (namespaced) {
    namespace = r.string(o["namespace"], p.child("namespace")) || defaultNs;
    for (const msg of isDNS1123Label(namespace)) r.add(fieldError.invalid(p.child("namespace"), namespace, msg));
  }
  const labels = r.stringMap(o["labels"], p.child("labels"));
  validateLabels(r, labels, p.child("labels"));
  return { name, namespace, labels };
}

function metadata(m: Meta, labels: Labels = m.labels): Manifest {
  return { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), ...(Object.keys(labels).length ? { labels } : {}) };
}

function decodeNamespace(m: Meta): Namespace {
  // The API server sets this label on every namespace, to the namespace's name.
  const labels = { ...m.labels, [NAMESPACE_NAME_LABEL]: m.name };
  return { kind: "Namespace", name: m.name, labels, manifest: { apiVersion: "v1", kind: "Namespace", metadata: metadata(m, labels) } };
}

function decodeNode(r: Reader, o: Json, m: Meta, ip: IPMode): Node {
  const p = Path.root("status").child("addresses");
  const status = r.object(o["status"], Path.root("status")) ?? {};
  const addresses: Address[] = [];
  const kept: Manifest[] = [];
  (r.array(status["addresses"], p) ?? []).forEach((raw, i) => {
    const ap = p.index(i);
    const a = r.object(raw, ap) ?? {};
    const type = r.string(a["type"], ap.child("type")) ?? "";
    const text = r.string(a["address"], ap.child("address")) ?? "";
    if (type !== "InternalIP") return;
    // The API server does not check node addresses; Podwall needs InternalIP
    // addresses and holds them to the rule of status.podIPs.
    for (const msg of isValidIP(text, ip)) r.add(fieldError.invalid(ap.child("address"), text, msg));
    const addr = parseAddress(text, "legacy");
    if (addr) {
      addresses.push(addr);
      kept.push({ type, address: addr.text });
    }
  });
  return {
    kind: "Node",
    name: m.name,
    labels: m.labels,
    addresses,
    manifest: { apiVersion: "v1", kind: "Node", metadata: metadata(m), status: { addresses: kept } },
  };
}

const PHASES: readonly PodPhase[] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

function decodePod(r: Reader, o: Json, m: Meta, ip: IPMode): Pod {
  const sp = Path.root("spec");
  const spec = r.object(o["spec"], sp) ?? {};
  const nodeName = r.string(spec["nodeName"], sp.child("nodeName")) || undefined;
  const hostNetwork = r.boolean(spec["hostNetwork"], sp.child("hostNetwork")) ?? false;
  const ports: ContainerPort[] = [];
  const containers: Manifest[] = [];
  (r.array(spec["containers"], sp.child("containers")) ?? []).forEach((rawC, ci) => {
    const cp = sp.child("containers").index(ci);
    const c = r.object(rawC, cp) ?? {};
    const keptPorts: Manifest[] = [];
    // Port names are unique within a container, not across a pod's containers.
    const names = new Set<string>();
    (r.array(c["ports"], cp.child("ports")) ?? []).forEach((rawP, pi) => {
      const pp = cp.child("ports").index(pi);
      const port = decodeContainerPort(r, rawP, pp, names);
      if (port) {
        ports.push(port);
        keptPorts.push({ ...(port.name ? { name: port.name } : {}), containerPort: port.port, protocol: port.protocol });
      }
    });
    const name = r.string(c["name"], cp.child("name"));
    containers.push({ ...(name ? { name } : {}), ...(keptPorts.length ? { ports: keptPorts } : {}) });
  });
  const stp = Path.root("status");
  const status = r.object(o["status"], stp) ?? {};
  const phaseText = r.string(status["phase"], stp.child("phase"));
  let phase: PodPhase | undefined;
  if (phaseText !== undefined && phaseText !== "") {
    if ((PHASES as readonly string[]).includes(phaseText)) phase = phaseText as PodPhase;
    else r.add(fieldError.notSupported(stp.child("phase"), phaseText, PHASES));
  }
  const ips = decodePodIPs(r, status, stp, ip);
  return {
    kind: "Pod",
    namespace: m.namespace,
    name: m.name,
    key: `${m.namespace}/${m.name}`,
    labels: m.labels,
    nodeName,
    hostNetwork,
    ips,
    phase,
    ports,
    manifest: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: metadata(m),
      spec: { ...(nodeName ? { nodeName } : {}), ...(hostNetwork ? { hostNetwork } : {}), containers },
      status: {
        ...(phase ? { phase } : {}),
        ...(ips.length ? { podIP: ips[0]!.text, podIPs: ips.map((a) => ({ ip: a.text })) } : {}),
      },
    },
  };
}

function decodeContainerPort(r: Reader, raw: unknown, p: Path, names: Set<string>): ContainerPort | undefined {
  const before = r.errors.length;
  const o = r.object(raw, p) ?? {};
  // The API server's order (validateContainerPorts): name, containerPort, protocol.
  const name = r.string(o["name"], p.child("name")) || undefined;
  if (name !== undefined) {
    const msgs = isValidPortName(name);
    for (const msg of msgs) r.add(fieldError.invalid(p.child("name"), name, msg));
    if (msgs.length === 0 && names.has(name)) r.add(fieldError.duplicate(p.child("name"), name));
    names.add(name);
  }
  // containerPort 0 is the Go zero value: the API server reports it as missing.
  const port = r.integer(o["containerPort"], p.child("containerPort"));
  if (port === undefined || port === 0) r.add(fieldError.required(p.child("containerPort")));
  else for (const msg of isValidPortNum(port)) r.add(fieldError.invalid(p.child("containerPort"), port, msg));
  // An empty protocol defaults to TCP; the supported values are listed sorted, as sets.List gives them.
  const proto = r.string(o["protocol"], p.child("protocol")) || "TCP";
  if (!(PROTOCOLS as readonly string[]).includes(proto)) r.add(fieldError.notSupported(p.child("protocol"), proto, [...PROTOCOLS].sort()));
  if (r.errors.length > before) return undefined;
  return { name, port: port!, protocol: proto as Protocol };
}

/** status.podIPs (primary first, at most one per family), or status.podIP alone. */
function decodePodIPs(r: Reader, status: Json, p: Path, mode: IPMode): Address[] {
  const podIP = r.string(status["podIP"], p.child("podIP")) || undefined;
  const texts: [string, Path][] = [];
  const list = r.array(status["podIPs"], p.child("podIPs")) ?? [];
  // The API server reports a bad address at `status.podIPs[i]` (podIP alone
  // becomes podIPs[0] when the object is converted).
  list.forEach((raw, i) => {
    const ip = r.string(r.object(raw, p.child("podIPs").index(i))?.["ip"], p.child("podIPs").index(i).child("ip"));
    if (ip !== undefined) texts.push([ip, p.child("podIPs").index(i)]);
  });
  if (texts.length === 0 && podIP !== undefined) texts.push([podIP, p.child("podIPs").index(0)]);
  else if (podIP !== undefined && texts[0] && texts[0][0] !== podIP) {
    r.add(fieldError.invalid(p.child("podIPs").index(0).child("ip"), texts[0][0], "must match `podIP`"));
  }
  const out: Address[] = [];
  for (const [text, ip] of texts) {
    for (const msg of isValidIP(text, mode)) r.add(fieldError.invalid(ip, text, msg));
    // The one-per-family check reads each address as ParseIPSloppy does, in either mode.
    const a = parseAddress(text, "legacy");
    if (!a) continue;
    if (out.some((b) => b.family === a.family)) {
      r.add(
        fieldError.invalid(
          p.child("podIPs"),
          texts.map((t) => t[0]),
          "may specify no more than one IP for each IP family",
        ),
      );
      continue;
    }
    out.push(a);
  }
  return out;
}

const TIER_DECODERS: Readonly<Record<TierKind, (r: Reader, name: string, raw: unknown, p: Path) => TierPolicy>> = {
  ClusterNetworkPolicy: decodeClusterNetworkPolicy,
  AdminNetworkPolicy: decodeAdminNetworkPolicy,
  BaselineAdminNetworkPolicy: decodeBaselineAdminNetworkPolicy,
};

function decodeTierPolicy(r: Reader, kind: TierKind, o: Json, m: Meta): TierPolicyObject {
  const policy = TIER_DECODERS[kind](r, m.name, o["spec"], Path.root("spec"));
  return {
    kind,
    name: m.name,
    key: policy.key,
    policy,
    manifest: { apiVersion: KIND_INFO[kind].apiVersion, kind, metadata: metadata(m), spec: knownOnly(o["spec"] ?? {}, `${kind}Spec`) },
  };
}

function decodePolicy(r: Reader, o: Json, m: Meta, ip: IPMode): PolicyObject {
  const policy = decodeNetworkPolicySpec(r, m.namespace, m.name, o["spec"], Path.root("spec"), ip);
  return {
    kind: "NetworkPolicy",
    namespace: m.namespace,
    name: m.name,
    key: `${m.namespace}/${m.name}`,
    policy,
    // What the API server stores of the spec: its fields, not those it does not know.
    manifest: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: metadata(m), spec: knownOnly(o["spec"] ?? {}, "NetworkPolicySpec") },
  };
}
