/**
 * The network-policy-api's kinds: valid ClusterNetworkPolicies (v1alpha2),
 * AdminNetworkPolicies and the BaselineAdminNetworkPolicy (v1alpha1), which
 * any model takes (they are cluster-scoped and name only labels), and the
 * same objects poisoned by one mutation that the CRDs' schema or CEL rules
 * refuse for certain: a priority out of bounds, an action the kind does not
 * have, a peer its direction does not allow, a named port beside a nodes or
 * networks peer, a BaselineAdminNetworkPolicy not named "default", more rules
 * or peers than allowed, a port range that ends before it starts, a network
 * that is no CIDR, a subject of two kinds, a rule without peers.
 */
import { stringify } from "yaml";
import type { Rng } from "./random.js";

export type TierKind = "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";
export const TIER_KINDS: readonly TierKind[] = ["ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"];

/** Each kind's apiVersion and resource (its path under /v1/ for a delete). */
export const TIER_API: Readonly<Record<TierKind, { readonly apiVersion: string; readonly plural: string }>> = {
  ClusterNetworkPolicy: { apiVersion: "policy.networking.k8s.io/v1alpha2", plural: "clusternetworkpolicies" },
  AdminNetworkPolicy: { apiVersion: "policy.networking.k8s.io/v1alpha1", plural: "adminnetworkpolicies" },
  BaselineAdminNetworkPolicy: { apiVersion: "policy.networking.k8s.io/v1alpha1", plural: "baselineadminnetworkpolicies" },
};

type Obj = Record<string, unknown>;
type Direction = "ingress" | "egress";

const ACTIONS: Readonly<Record<TierKind, readonly string[]>> = {
  ClusterNetworkPolicy: ["Accept", "Deny", "Pass"],
  AdminNetworkPolicy: ["Allow", "Deny", "Pass"],
  BaselineAdminNetworkPolicy: ["Allow", "Deny"],
};

/** Actions a kind does not have, in the spellings a user might try. */
const WRONG_ACTIONS: Readonly<Record<TierKind, readonly string[]>> = {
  ClusterNetworkPolicy: ["Allow", "accept", "Drop", "", "DENY"],
  AdminNetworkPolicy: ["Accept", "allow", "Drop", ""],
  BaselineAdminNetworkPolicy: ["Pass", "Accept", "Drop", ""],
};

/** The most rules per direction, and peers or ports per rule. */
const MAX_RULES: Readonly<Record<TierKind, number>> = { ClusterNetworkPolicy: 25, AdminNetworkPolicy: 100, BaselineAdminNetworkPolicy: 100 };

const SELECTORS: readonly Obj[] = [
  {},
  { matchLabels: { ns: "x" } },
  { matchLabels: { pod: "a" } },
  { matchLabels: { "kubernetes.io/metadata.name": "dev" } },
  { matchExpressions: [{ key: "ns", operator: "In", values: ["y", "z"] }] },
  { matchExpressions: [{ key: "pod", operator: "DoesNotExist" }] },
];
const NODE_SELECTORS: readonly Obj[] = [
  {},
  { matchLabels: { "kubernetes.io/hostname": "node-1" } },
  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: ["node-2"] }] },
];
const NETWORKS = ["10.0.0.0/8", "10.244.1.0/24", "10.0.0.2/32", "0.0.0.0/0", "fd00::/8", "192.0.2.0/24"];
const NAMED_PORTS = ["serve-80-tcp", "serve-81-udp", "serve-80-sctp", "absent-port"];

function pods(rng: Rng, kind: TierKind): Obj {
  // v1alpha2 takes a missing namespaceSelector as every namespace; v1alpha1 requires it.
  const ns = kind !== "ClusterNetworkPolicy" || rng.bool(0.7) ? { namespaceSelector: rng.pick(SELECTORS) } : {};
  return { ...ns, podSelector: rng.pick(SELECTORS) };
}

function peer(rng: Rng, kind: TierKind, dir: Direction, addressed: boolean): Obj {
  if (dir === "egress" && addressed) return rng.bool() ? { nodes: rng.pick(NODE_SELECTORS) } : { networks: [...new Set([rng.pick(NETWORKS), rng.pick(NETWORKS)])] };
  return rng.bool() ? { namespaces: rng.pick(SELECTORS) } : { pods: pods(rng, kind) };
}

/** One port of the kind's shape: v1alpha2 `protocols[]`, v1alpha1 `ports[]`. */
function port(rng: Rng, kind: TierKind, named: boolean): Obj {
  if (named) return kind === "ClusterNetworkPolicy" ? { destinationNamedPort: rng.pick(NAMED_PORTS) } : { namedPort: rng.pick(NAMED_PORTS) };
  const start = rng.pick([1, 53, 80, 443]);
  const ranged = rng.bool(0.3);
  if (kind === "ClusterNetworkPolicy") {
    const destinationPort = ranged ? { range: { start, end: start + rng.int(1, 100) } } : { number: rng.pick([80, 81, 53, 65535]) };
    return { [rng.pick(["tcp", "udp", "sctp"])]: { destinationPort } };
  }
  const protocol = rng.bool(0.3) ? {} : { protocol: rng.pick(["TCP", "UDP", "SCTP"]) };
  return ranged ? { portRange: { ...protocol, start, end: start + rng.int(1, 100) } } : { portNumber: { ...protocol, port: rng.pick([80, 81, 53, 65535]) } };
}

function rule(rng: Rng, kind: TierKind, dir: Direction, i: number): Obj {
  // A named port is only for peers that are pods: "there are no namedPorts for networks/nodes".
  const addressed = dir === "egress" && rng.bool(0.3);
  const named = !addressed && rng.bool(0.25);
  const r: Obj = { action: rng.pick(ACTIONS[kind]) };
  if (rng.bool(0.7)) r["name"] = `rule-${i}`;
  r[dir === "ingress" ? "from" : "to"] = Array.from({ length: rng.int(1, 2) }, () => peer(rng, kind, dir, addressed));
  if (rng.bool(0.6)) r[kind === "ClusterNetworkPolicy" ? "protocols" : "ports"] = Array.from({ length: rng.int(1, 2) }, () => port(rng, kind, named));
  return r;
}

/** A valid spec of the kind. */
export function validTierSpec(rng: Rng, kind: TierKind): Obj {
  const spec: Obj = {};
  if (kind === "ClusterNetworkPolicy") spec["tier"] = rng.pick(["Admin", "Baseline"]);
  if (kind !== "BaselineAdminNetworkPolicy")
    spec["priority"] = rng.weighted<number>([
      [1, 0],
      [1, 1000],
      [6, rng.int(0, 1000)],
    ]);
  spec["subject"] = rng.bool() ? { namespaces: rng.pick(SELECTORS) } : { pods: pods(rng, kind) };
  for (const dir of ["ingress", "egress"] as const) {
    const n = rng.weighted<number>([
      [1, 0],
      [4, rng.int(1, 3)],
    ]);
    if (n > 0 || rng.bool(0.2)) spec[dir] = Array.from({ length: n }, (_, i) => rule(rng, kind, dir, i));
  }
  return spec;
}

/** A valid object of the kind (any kind when none is given); `n` numbers its name. The BaselineAdminNetworkPolicy is always "default". */
export function validTierObject(rng: Rng, n: number, kind: TierKind = rng.pick(TIER_KINDS)): Obj {
  const name = kind === "BaselineAdminNetworkPolicy" ? "default" : `fuzz-tier-${n}`;
  return { apiVersion: TIER_API[kind].apiVersion, kind, metadata: { name, labels: { fuzz: "tier" } }, spec: validTierSpec(rng, kind) };
}

export type TierMutation =
  | "priority"
  | "action"
  | "ingress-peer"
  | "named-port"
  | "banp-name"
  | "too-many-rules"
  | "too-many-peers"
  | "tier"
  | "range"
  | "network"
  | "subject"
  | "no-peers";

/** The mutations that can poison an object of the kind. */
function mutationsOf(kind: TierKind): TierMutation[] {
  const all: TierMutation[] = ["action", "ingress-peer", "named-port", "too-many-rules", "too-many-peers", "range", "network", "subject", "no-peers"];
  if (kind !== "BaselineAdminNetworkPolicy") all.push("priority", "priority");
  if (kind === "BaselineAdminNetworkPolicy") all.push("banp-name", "banp-name");
  if (kind === "ClusterNetworkPolicy") all.push("tier");
  return all;
}

/** A rule of the direction in the spec, made if there is none. */
function someRule(rng: Rng, kind: TierKind, spec: Obj, dir: Direction): Obj {
  const rules = (Array.isArray(spec[dir]) ? spec[dir] : []) as Obj[];
  if (rules.length === 0) rules.push(rule(rng, kind, dir, 0));
  spec[dir] = rules;
  return rng.pick(rules);
}

/** A valid object with one certain error: `mutation` says which. */
export function poisonedTierObject(rng: Rng, n: number): { object: Obj; mutation: TierMutation } {
  const kind = rng.pick(TIER_KINDS);
  const object = validTierObject(rng, n, kind);
  const spec = object["spec"] as Obj;
  const mutation = rng.pick(mutationsOf(kind));
  const portsKey = kind === "ClusterNetworkPolicy" ? "protocols" : "ports";
  switch (mutation) {
    case "priority":
      // "Priority is a value from 0 to 1000"; an integer, and required.
      if (rng.bool(0.2)) delete spec["priority"];
      else spec["priority"] = rng.pick<unknown>([-1, 1001, 2 ** 31, 1e6, 1.5, "10", true]);
      break;
    case "action":
      someRule(rng, kind, spec, rng.pick(["ingress", "egress"] as const))["action"] = rng.pick(WRONG_ACTIONS[kind]);
      break;
    case "ingress-peer":
      // Nodes, networks and domain names are egress peers only: in `from` they are no peer at all.
      someRule(rng, kind, spec, "ingress")["from"] = [rng.pick<Obj>([{ nodes: {} }, { networks: ["10.0.0.0/8"] }, { domainNames: ["example.com"] }])];
      break;
    case "named-port": {
      const r = someRule(rng, kind, spec, "egress");
      r["to"] = [rng.bool() ? { nodes: rng.pick(NODE_SELECTORS) } : { networks: [rng.pick(NETWORKS)] }];
      r[portsKey] = [port(rng, kind, true)];
      break;
    }
    case "banp-name":
      // "Only one baseline admin network policy with metadata.name="default" can be created in the cluster."
      (object["metadata"] as Obj)["name"] = rng.pick(["other", "default-2", "baseline", `fuzz-tier-${n}`]);
      break;
    case "too-many-rules": {
      const dir = rng.pick(["ingress", "egress"] as const);
      spec[dir] = Array.from({ length: MAX_RULES[kind] + rng.int(1, 5) }, (_, i) => rule(rng, kind, dir, i));
      break;
    }
    case "too-many-peers": {
      const dir = rng.pick(["ingress", "egress"] as const);
      const r = someRule(rng, kind, spec, dir);
      r[dir === "ingress" ? "from" : "to"] = Array.from({ length: MAX_RULES[kind] + rng.int(1, 5) }, () => ({ namespaces: rng.pick(SELECTORS) }));
      break;
    }
    case "tier":
      spec["tier"] = rng.pick(["Top", "admin", "", "Application", "NetworkPolicy"]);
      break;
    case "range": {
      const start = rng.int(2, 65535);
      const end = rng.int(1, start);
      const r = someRule(rng, kind, spec, rng.pick(["ingress", "egress"] as const));
      r[portsKey] = [kind === "ClusterNetworkPolicy" ? { tcp: { destinationPort: { range: { start, end } } } } : { portRange: { start, end } }];
      break;
    }
    case "network": {
      const r = someRule(rng, kind, spec, "egress");
      r["to"] = [{ networks: [rng.pick(["10.0.0.1/33", "300.0.0.0/8", "10.0.0.0", "::ffff:10.0.0.0/104", "fd00::/129", "", "any"])] }];
      delete r[portsKey];
      break;
    }
    case "subject":
      spec["subject"] = rng.pick<unknown>([{ namespaces: {}, pods: pods(rng, kind) }, {}, "x", null]);
      break;
    case "no-peers": {
      const dir = rng.pick(["ingress", "egress"] as const);
      const r = someRule(rng, kind, spec, dir);
      if (rng.bool()) delete r[dir === "ingress" ? "from" : "to"];
      else r[dir === "ingress" ? "from" : "to"] = [];
      break;
    }
  }
  return { object, mutation };
}

/** Objects as manifests text: a JSON List, JSON documents, or YAML as kubectl writes it (1.1: "y" quoted). */
export function tierText(rng: Rng, objects: readonly Obj[]): string {
  return rng.weighted<() => string>([
    [2, () => JSON.stringify({ apiVersion: "v1", kind: "List", items: objects })],
    [1, () => objects.map((o) => JSON.stringify(o)).join("\n---\n")],
    [2, () => objects.map((o) => stringify(o, { version: "1.1" })).join("---\n")],
  ])();
}
