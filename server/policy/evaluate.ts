/**
 * Check: may this connection flow, and why. The result of the evaluation is
 * its explanation: which policies select each end, and for each of their rules
 * whether it matched or why not, named by field path.
 */
import type { Cluster } from "../model/cluster.js";
import type { Direction, Peer, Pod, PolicyObject, PortMatcher, Protocol, Rule } from "../model/types.js";
import { type Endpoint, nodeOf } from "./endpoint.js";
import { ipBlockContains, isolatingPolicies, peerSelectsPod, portMatcherAllows, resolvePortMatcher } from "./match.js";

export interface Traffic {
  readonly protocol: Protocol;
  readonly port: number;
}

export type RuleResult =
  | { readonly field: string; readonly result: "matched"; readonly peer: string; readonly port: string }
  | { readonly field: string; readonly result: "peer-mismatch" | "protocol-mismatch" | "port-mismatch"; readonly detail: string };

export interface PolicyVerdict {
  readonly policy: string;
  readonly allowed: boolean;
  readonly rules: readonly RuleResult[];
}

export type DirectionReason = "not-a-pod" | "host-network" | "not-isolated" | "allowed" | "no-rule-matched";

export interface DirectionVerdict {
  /** The pod whose policies were evaluated, if the endpoint is a pod. */
  readonly subject: string | undefined;
  readonly allowed: boolean;
  readonly isolated: boolean;
  readonly reason: DirectionReason;
  readonly policies: readonly string[];
  readonly verdicts: readonly PolicyVerdict[];
}

export type DecisionReason = "policy" | "same-pod" | "own-node";

export interface Evaluation {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

/**
 * "For a connection from a source pod to a destination pod to be allowed,
 * both the egress policy on the source pod and the ingress policy on the
 * destination pod need to allow the connection." An address outside the
 * cluster has no policies: only the in-cluster side is evaluated.
 */
export function evaluate(cluster: Cluster, src: Endpoint, dst: Endpoint, t: Traffic, explain = true): Evaluation {
  const dstPod = dst.kind === "pod" ? dst.pod : undefined;
  const egress = src.kind === "pod" ? evaluateSubject(cluster, src.pod, "egress", dst, dstPod, t, explain) : notAPod;
  const ingress = dstPod ? evaluateSubject(cluster, dstPod, "ingress", src, dstPod, t, explain) : notAPod;
  const exception = exceptionFor(src, dst);
  return { allowed: exception !== undefined || (egress.allowed && ingress.allowed), reason: exception ?? "policy", egress, ingress };
}

const notAPod: DirectionVerdict = {
  subject: undefined,
  allowed: true,
  isolated: false,
  reason: "not-a-pod",
  policies: [],
  verdicts: [],
};

const NO_VERDICTS: readonly PolicyVerdict[] = [];
const NO_POLICIES: readonly string[] = [];

/**
 * The API reference's two exceptions: "traffic to and from the node where a
 * Pod is running is always allowed", and a pod may always reach itself. A
 * host-network pod's traffic is its node's traffic.
 */
function exceptionFor(src: Endpoint, dst: Endpoint): DecisionReason | undefined {
  if (src.kind === "pod" && dst.kind === "pod" && src.pod === dst.pod) return "same-pod";
  const sNode = nodeOf(src);
  const dNode = nodeOf(dst);
  if (sNode === undefined || sNode !== dNode) return undefined;
  return isNodeSide(src) || isNodeSide(dst) ? "own-node" : undefined;
}

function isNodeSide(e: Endpoint): boolean {
  return e.kind === "node" || (e.kind === "pod" && e.pod.hostNetwork);
}

/**
 * One direction of one pod: `peer` is the other end, `dstPod` resolves named
 * ports. With `explain`, every rule of every selecting policy is evaluated
 * and recorded; without, the first rule that matches decides and nothing is
 * recorded, and the rules' ports are read from their flat form. Either way
 * a peer matches by `matchingPeer`, and a port entry allows what
 * resolvePortMatcher's range holds.
 */
export function evaluateSubject(cluster: Cluster, subject: Pod, dir: Direction, peer: Endpoint, dstPod: Pod | undefined, t: Traffic, explain = true): DirectionVerdict {
  if (subject.hostNetwork) {
    return { subject: subject.key, allowed: true, isolated: false, reason: "host-network", policies: NO_POLICIES, verdicts: NO_VERDICTS };
  }
  const selecting = isolatingPolicies(cluster, subject, dir);
  if (selecting.length === 0) {
    return { subject: subject.key, allowed: true, isolated: false, reason: "not-isolated", policies: NO_POLICIES, verdicts: NO_VERDICTS };
  }
  const flat = flatten(selecting, dir);
  if (!explain) {
    const allowed = anyRuleMatches(cluster, flat, peer, dstPod, t);
    return { subject: subject.key, allowed, isolated: true, reason: allowed ? "allowed" : "no-rule-matched", policies: flat.keys, verdicts: NO_VERDICTS };
  }
  let allowed = false;
  const verdicts: PolicyVerdict[] = [];
  for (const p of selecting) {
    const rules: RuleResult[] = [];
    let policyAllows = false;
    for (const rule of p.policy[dir]!) {
      const r = evaluateRule(cluster, p.namespace, rule, peer, dstPod, t);
      if (r.result === "matched") policyAllows = true;
      rules.push(r);
    }
    allowed ||= policyAllows;
    verdicts.push({ policy: p.key, allowed: policyAllows, rules });
  }
  return { subject: subject.key, allowed, isolated: true, reason: allowed ? "allowed" : "no-rule-matched", policies: flat.keys, verdicts };
}

/**
 * The policies of a pod in one direction, made once per list (the selection
 * index gives pods with the same policies one list, and a pod a new one
 * whenever its policies change) and shared by the decisions that use it: the policies' keys, in their order, and their
 * rules' port entries in one flat array, so that a question is mostly
 * answered without reading the policies' objects at all.
 */
interface Flat {
  readonly keys: readonly string[];
  /**
   * Four numbers per port entry, the entries of a rule together: the
   * protocol (a PROTOCOL_CODE, or NAMED), the first and last port (for a
   * named entry, its index in `named` and 0), and the rule's index in `rules`.
   */
  readonly ports: readonly number[];
  readonly rules: readonly Rule[];
  /** The namespace of each rule's policy. */
  readonly namespaces: readonly string[];
  /** The named port entries, resolved on each question's destination. */
  readonly named: readonly PortMatcher[];
}

const ANY = 0;
const NAMED = -1;
/** A protocol no entry is for. */
const NO_PROTOCOL = -2;
const PROTOCOL_CODE: Readonly<Record<Protocol, number>> = { TCP: 1, UDP: 2, SCTP: 3 };

/** One map per direction: a list's rules are those of the direction it was made for. */
const flats: Readonly<Record<Direction, WeakMap<readonly PolicyObject[], Flat>>> = { ingress: new WeakMap(), egress: new WeakMap() };

function flatten(selecting: readonly PolicyObject[], dir: Direction): Flat {
  let flat = flats[dir].get(selecting);
  if (flat === undefined) flats[dir].set(selecting, (flat = makeFlat(selecting, dir)));
  return flat;
}

function makeFlat(selecting: readonly PolicyObject[], dir: Direction): Flat {
  const ports: number[] = [];
  const rules: Rule[] = [];
  const namespaces: string[] = [];
  const named: PortMatcher[] = [];
  for (const p of selecting) {
    for (const rule of p.policy[dir]!) {
      const r = rules.length;
      rules.push(rule);
      namespaces.push(p.namespace);
      for (const m of rule.ports) {
        if (m.kind === "named") {
          ports.push(NAMED, named.length, 0, r);
          named.push(m);
        } else {
          // Only a named entry's range depends on the destination.
          const range = resolvePortMatcher(m, undefined)!;
          ports.push(range.protocol === "any" ? ANY : PROTOCOL_CODE[range.protocol], range.from, range.to, r);
        }
      }
    }
  }
  return { keys: selecting.map(policyKey), ports, rules, namespaces, named };
}

function policyKey(p: PolicyObject): string {
  return p.key;
}

/**
 * Without explain: whether any rule of the policies matches, stopping at the
 * first; nothing is made. A rule's ports are looked at before its peers: the
 * answer is the same either way, and most rules a question meets are for
 * other ports, which the flat array tells without reading the rule or the
 * other end's namespace and labels.
 */
function anyRuleMatches(cluster: Cluster, flat: Flat, peer: Endpoint, dstPod: Pod | undefined, t: Traffic): boolean {
  const ports = flat.ports;
  const protocol = t.protocol === "TCP" ? PROTOCOL_CODE.TCP : t.protocol === "UDP" ? PROTOCOL_CODE.UDP : t.protocol === "SCTP" ? PROTOCOL_CODE.SCTP : NO_PROTOCOL;
  const port = t.port;
  // A rule whose peers did not match: its other port entries need not be looked at.
  let failed = -1;
  for (let i = 0; i < ports.length; i += 4) {
    const r = ports[i + 3]!;
    if (r === failed) continue;
    const code = ports[i]!;
    if (code === NAMED) {
      if (!portMatcherAllows(flat.named[ports[i + 1]!]!, dstPod, t)) continue;
    } else if ((code !== ANY && code !== protocol) || port < ports[i + 1]! || port > ports[i + 2]!) {
      continue;
    }
    if (matchingPeer(cluster, flat.namespaces[r]!, flat.rules[r]!, peer) !== undefined) return true;
    failed = r;
  }
  return false;
}

/**
 * Whether some rule of the pod's isolating policies in `dir` has a port entry
 * that may allow `t`, whatever the peer: false means evaluateSubject answers
 * no-rule-matched for every peer. A named entry is resolved on `dstPod`, and
 * counted as a may when the destination is not known (undefined).
 */
export function someRuleMayAllowPort(cluster: Cluster, subject: Pod, dir: Direction, dstPod: Pod | undefined, t: Traffic): boolean {
  const selecting = isolatingPolicies(cluster, subject, dir);
  if (selecting.length === 0) return true;
  const ports = flatten(selecting, dir).ports;
  const protocol = PROTOCOL_CODE[t.protocol];
  for (let i = 0; i < ports.length; i += 4) {
    const code = ports[i]!;
    if (code === NAMED) {
      if (dstPod === undefined || portMatcherAllows(flatten(selecting, dir).named[ports[i + 1]!]!, dstPod, t)) return true;
    } else if ((code === ANY || code === protocol) && t.port >= ports[i + 1]! && t.port <= ports[i + 2]!) {
      return true;
    }
  }
  return false;
}

function peerMatches(cluster: Cluster, policyNs: string, p: Peer, peer: Endpoint): boolean {
  switch (p.kind) {
    case "all":
      return true;
    case "ipBlock":
      return peer.ip !== undefined && ipBlockContains(p, peer.ip);
    case "pods":
      return peer.kind === "pod" && peerSelectsPod(cluster, policyNs, p, peer.pod);
  }
}

/** The rule's first peer that matches the other end. */
function matchingPeer(cluster: Cluster, policyNs: string, rule: Rule, peer: Endpoint): Peer | undefined {
  const peers = rule.peers;
  for (let i = 0; i < peers.length; i++) if (peerMatches(cluster, policyNs, peers[i]!, peer)) return peers[i];
  return undefined;
}

/** The rule's first port entry that allows the traffic. */
function matchingPort(rule: Rule, dstPod: Pod | undefined, t: Traffic): PortMatcher | undefined {
  const ports = rule.ports;
  for (let i = 0; i < ports.length; i++) if (portMatcherAllows(ports[i]!, dstPod, t)) return ports[i];
  return undefined;
}

/** One rule, explained: matched by which peer and port entry, or why not. */
function evaluateRule(cluster: Cluster, policyNs: string, rule: Rule, peer: Endpoint, dstPod: Pod | undefined, t: Traffic): RuleResult {
  const matchedPeer = matchingPeer(cluster, policyNs, rule, peer);
  if (!matchedPeer) return { field: rule.field, result: "peer-mismatch", detail: PEER_MISMATCH };
  const port = matchingPort(rule, dstPod, t);
  if (port) return { field: rule.field, result: "matched", peer: matchedPeer.field, port: port.field };
  if (!rule.ports.some((m) => m.kind !== "all" && m.protocol === t.protocol)) {
    return { field: rule.field, result: "protocol-mismatch", detail: `the rule allows no ${t.protocol} port` };
  }
  return { field: rule.field, result: "port-mismatch", detail: `the rule allows no ${t.protocol} port ${t.port}${dstPod ? ` on ${dstPod.key}` : ""}` };
}

const PEER_MISMATCH = "no peer of the rule matches the other end";
