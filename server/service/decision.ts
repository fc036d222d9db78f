/**
 * The decision as every front door gives it: plain JSON-ready data, built
 * from the evaluation by one pure function.
 */
import type { Protocol } from "../model/types.js";
import type { DecisionReason, DirectionVerdict, Endpoint, Evaluation, PolicyVerdict } from "../policy/index.js";

export interface EndpointView {
  readonly kind: Endpoint["kind"];
  /** "namespace/name" for a pod, the node's name for a node. */
  readonly name?: string;
  readonly ip?: string;
  readonly node?: string;
  readonly hostNetwork?: boolean;
}

export interface DirectionView {
  readonly subject?: string;
  readonly allowed: boolean;
  readonly isolated: boolean;
  readonly reason: DirectionVerdict["reason"];
  readonly policies: readonly string[];
  /** With explain: every selecting policy, each rule matched or why not. */
  readonly verdicts?: readonly PolicyVerdict[];
}

export interface Decision {
  /** The answer's id, as the decision log records it; every answer to a caller has its own. */
  readonly decisionId?: string;
  readonly allowed: boolean;
  readonly generation: number;
  readonly reason: DecisionReason;
  readonly src: EndpointView;
  readonly dst: EndpointView;
  readonly protocol: Protocol;
  readonly port: number;
  readonly egress: DirectionView;
  readonly ingress: DirectionView;
}

/**
 * The decision an answer was made from, by answer: every answer has its own
 * id, the rest of it is the decision the cache holds, so a front door renders
 * that once.
 */
const answered = new WeakMap<Decision, Decision>();

/** The decision with this answer's id. */
export function answerOf(d: Decision, decisionId: string): Decision {
  const a = { decisionId, ...d };
  answered.set(a, d);
  return a;
}

/** What an answer was made from: the decision without its id (the answer itself when it has none). */
export function decisionOf(a: Decision): Decision {
  return answered.get(a) ?? a;
}

export function toDecision(e: Evaluation, ends: { src: Endpoint; dst: Endpoint }, q: { protocol: Protocol; port: number; explain: boolean }, generation: number): Decision {
  return {
    allowed: e.allowed,
    generation,
    reason: e.reason,
    src: endpointView(ends.src),
    dst: endpointView(ends.dst),
    protocol: q.protocol,
    port: q.port,
    egress: directionView(e.egress, q.explain),
    ingress: directionView(e.ingress, q.explain),
  };
}

function endpointView(e: Endpoint): EndpointView {
  switch (e.kind) {
    case "pod": {
      const v: { -readonly [K in keyof EndpointView]: EndpointView[K] } = { kind: "pod", name: e.pod.key };
      if (e.ip) v.ip = e.ip.text;
      if (e.pod.nodeName) v.node = e.pod.nodeName;
      if (e.pod.hostNetwork) v.hostNetwork = true;
      return v;
    }
    case "node":
      return { kind: "node", name: e.node.name, ip: e.ip.text, node: e.node.name };
    case "external":
      return { kind: "external", ip: e.ip.text };
  }
}

function directionView(d: DirectionVerdict, explain: boolean): DirectionView {
  const v: { -readonly [K in keyof DirectionView]: DirectionView[K] } =
    d.subject === undefined
      ? { allowed: d.allowed, isolated: d.isolated, reason: d.reason, policies: d.policies }
      : { subject: d.subject, allowed: d.allowed, isolated: d.isolated, reason: d.reason, policies: d.policies };
  if (explain) v.verdicts = d.verdicts;
  return v;
}
