/**
 * Check: may this connection flow, and why. The result of the evaluation is
 * its explanation: which policies select each end, and for each of their rules
 * whether it matched or why not, named by field path.
 */
import type { Cluster } from "../model/cluster.js";
import type { Direction, Peer, Pod, PolicyObject, Protocol, Rule } from "../model/types.js";
import { type Endpoint, nodeOf } from "./endpoint.js";
import { ipBlockContains, peerSelectsPod, policiesSelecting, resolvePortMatcher } from "./match.js";

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
 * recorded. Either way the rules are evaluated by the same `evaluateRule`.
 */
export function evaluateSubject(cluster: Cluster, subject: Pod, dir: Direction, peer: Endpoint, dstPod: Pod | undefined, t: Traffic, explain = true): DirectionVerdict {
  if (subject.hostNetwork) {
    return { subject: subject.key, allowed: true, isolated: false, reason: "host-network", policies: [], verdicts: NO_VERDICTS };
  }
  const selecting = policiesSelecting(cluster, subject, dir);
  if (selecting.length === 0) {
    return { subject: subject.key, allowed: true, isolated: false, reason: "not-isolated", policies: [], verdicts: NO_VERDICTS };
  }
  const policies = selecting.map(policyKey);
  let allowed = false;
  const verdicts: PolicyVerdict[] = [];
  for (const p of selecting) {
    if (!explain && allowed) break;
    const rules: RuleResult[] = [];
    let policyAllows = false;
    for (const rule of p.policy[dir]!) {
      const r = evaluateRule(cluster, p.namespace, rule, peer, dstPod, t, explain);
      if (r.result === "matched") policyAllows = true;
      if (explain) rules.push(r);
      else if (policyAllows) break;
    }
    allowed ||= policyAllows;
    if (explain) verdicts.push({ policy: p.key, allowed: policyAllows, rules });
  }
  return { subject: subject.key, allowed, isolated: true, reason: allowed ? "allowed" : "no-rule-matched", policies, verdicts };
}

function policyKey(p: PolicyObject): string {
  return p.key;
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

function evaluateRule(cluster: Cluster, policyNs: string, rule: Rule, peer: Endpoint, dstPod: Pod | undefined, t: Traffic, explain: boolean): RuleResult {
  let matchedPeer: Peer | undefined;
  for (const p of rule.peers) {
    if (peerMatches(cluster, policyNs, p, peer)) {
      matchedPeer = p;
      break;
    }
  }
  if (!matchedPeer) return explain ? { field: rule.field, result: "peer-mismatch", detail: PEER_MISMATCH } : UNREAD;
  let protocolSeen = false;
  for (const m of rule.ports) {
    const range = resolvePortMatcher(m, dstPod);
    if (m.kind !== "all" && m.protocol === t.protocol) protocolSeen = true;
    if (!range || (range.protocol !== "any" && range.protocol !== t.protocol)) continue;
    if (t.port >= range.from && t.port <= range.to) {
      return { field: rule.field, result: "matched", peer: matchedPeer.field, port: m.field };
    }
  }
  if (!explain) return UNREAD;
  if (!protocolSeen) {
    return { field: rule.field, result: "protocol-mismatch", detail: `the rule allows no ${t.protocol} port` };
  }
  return { field: rule.field, result: "port-mismatch", detail: `the rule allows no ${t.protocol} port ${t.port}${dstPod ? ` on ${dstPod.key}` : ""}` };
}

const PEER_MISMATCH = "no peer of the rule matches the other end";
/** A mismatch when nothing is explained: only whether a rule matched is read, so no detail is made. */
const UNREAD: RuleResult = { field: "", result: "peer-mismatch", detail: "" };
