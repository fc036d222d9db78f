/** Between the service's plain values and the generated protobuf messages. */
import { create } from "@bufbuild/protobuf";
import {
  type Decision as DecisionMsg,
  DecisionSchema,
  type DirectionVerdict as DirectionMsg,
  DirectionVerdictSchema,
  EndpointSchema,
  type WriteResponse,
  WriteResponseSchema,
} from "../../gen/podwall/v1/podwall_pb.js";
import type { RuleResult } from "../../policy/index.js";
import type { TierRuleResult } from "../../policy/tier-match.js";
import type { TierPrecedence } from "../../policy/tier-order.js";
import { type Decision, type DirectionView, type EndpointView, type TierView, type WriteResult, decisionOf } from "../../service/index.js";

/** A decision the cache answered is the same object again: its message is made once, and each answer's id set on a copy. */
const messages = new WeakMap<Decision, DecisionMsg>();

export function decisionToProto(d: Decision): DecisionMsg {
  const base = decisionOf(d);
  let m = messages.get(base);
  if (!m) messages.set(base, (m = makeDecision(base)));
  return d.decisionId === undefined ? m : { ...m, decisionId: d.decisionId };
}

function makeDecision(d: Decision): DecisionMsg {
  return create(DecisionSchema, {
    allowed: d.allowed,
    generation: BigInt(d.generation),
    reason: d.reason,
    src: endpointToProto(d.src),
    dst: endpointToProto(d.dst),
    protocol: d.protocol,
    port: d.port,
    egress: directionToProto(d.egress),
    ingress: directionToProto(d.ingress),
  });
}

function endpointToProto(e: EndpointView) {
  return create(EndpointSchema, { kind: e.kind, name: e.name ?? "", ip: e.ip ?? "", node: e.node ?? "", hostNetwork: e.hostNetwork ?? false });
}

function directionToProto(d: DirectionView): DirectionMsg {
  return create(DirectionVerdictSchema, {
    subject: d.subject ?? "",
    allowed: d.allowed,
    isolated: d.isolated,
    reason: d.reason,
    policies: [...d.policies],
    verdicts: (d.verdicts ?? []).map((v) => ({ policy: v.policy, allowed: v.allowed, rules: v.rules.map(ruleToProto) })),
    decidedBy: d.decidedBy ?? "",
    tiers: (d.tiers ?? []).map(tierToProto),
  });
}

function ruleToProto(r: RuleResult | TierRuleResult) {
  const named = "actionWord" in r ? { name: r.name ?? "", action: r.actionWord } : {};
  return r.result === "matched" ? { field: r.field, result: r.result, peer: r.peer, port: r.port, ...named } : { field: r.field, result: r.result, detail: r.detail, ...named };
}

function tierToProto(t: TierView) {
  return {
    tier: t.tier,
    action: t.action,
    policy: t.policy ?? "",
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    rule: t.rule ?? "",
    name: t.name ?? "",
    actionWord: t.actionWord ?? "",
    ...(t.precedence ? { precedence: precedenceToProto(t.precedence) } : {}),
    policies: (t.policies ?? []).map((p) => ({ policy: p.policy, precedence: precedenceToProto(p.precedence), rules: p.rules.map(ruleToProto) })),
  };
}

function precedenceToProto(p: TierPrecedence) {
  switch (p.kind) {
    case "priority":
      return { kind: p.kind, priority: p.priority };
    case "tie":
      return { kind: p.kind, ...(p.priority !== undefined ? { priority: p.priority } : {}), tiedWith: [...p.tiedWith], order: p.order };
    case "last":
      return { kind: p.kind, order: p.order };
  }
}

export function writeToProto(w: WriteResult): WriteResponse {
  return create(WriteResponseSchema, { generation: BigInt(w.generation), applied: [...w.applied], skipped: [...w.skipped], warnings: [...(w.warnings ?? [])] });
}
