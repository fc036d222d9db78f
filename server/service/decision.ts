/**
 * The decision as every front door gives it: plain JSON-ready data, built
 * from the evaluation by one pure function.
 */
import { randomFillSync } from "node:crypto";
import type { Protocol } from "../model/types.js";
import type { Decided } from "../policy/decide.js";
import type { DecisionReason, DirectionVerdict, Endpoint, PolicyVerdict } from "../policy/index.js";
import type { ComposedDirection, TierDecider } from "../policy/tier-compose.js";
import type { TierDirection, TierPolicyTrace, TierVerdict } from "../policy/tier-evaluate.js";
import type { TierPrecedence } from "../policy/tier-order.js";

export interface EndpointView {
  readonly kind: Endpoint["kind"];
  /** "namespace/name" for a pod, the node's name for a node. */
  readonly name?: string;
  readonly ip?: string;
  readonly node?: string;
  readonly hostNetwork?: boolean;
}

/**
 * One direction. `isolated`, `reason`, `policies` and `verdicts` are the
 * NetworkPolicy tier's; `allowed` is the direction's answer. When the model
 * holds cluster-scoped policies, `decidedBy` names the tier whose answer
 * stands and `tiers` the Admin and Baseline tiers' verdicts in the order
 * they were consulted (Baseline only where no NetworkPolicy isolates the pod
 * and the Admin tier passed or said nothing).
 */
export interface DirectionView {
  readonly subject?: string;
  readonly allowed: boolean;
  readonly isolated: boolean;
  readonly reason: DirectionVerdict["reason"];
  readonly policies: readonly string[];
  /** With explain: every selecting policy, each rule matched or why not. */
  readonly verdicts?: readonly PolicyVerdict[];
  readonly decidedBy?: TierDecider;
  readonly tiers?: readonly TierView[];
}

/**
 * What one cluster-scoped tier said: `none`, or the action of the first rule
 * that matched, with its policy ("ClusterNetworkPolicy/name"), priority (none
 * for a BaselineAdminNetworkPolicy), rule path and name. With explain, the
 * tier's selecting policies as far as they were evaluated.
 */
export interface TierView {
  readonly tier: TierVerdict["tier"];
  readonly action: TierVerdict["action"];
  readonly policy?: string;
  readonly priority?: number;
  readonly rule?: string;
  readonly name?: string;
  /** As the manifest spells it, where that differs from `action`: "Allow". */
  readonly actionWord?: string;
  readonly precedence?: TierPrecedence;
  readonly policies?: readonly TierPolicyTrace[];
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

/** A base whose instance is the object given: a subclass's private fields go onto that object. */
class Given {
  constructor(o: object) {
    // biome-ignore lint/correctness/noConstructorReturn: returning the object given is the point.
    return o;
  }
}

/**
 * The decision an answer was made from, kept on the answer: every answer has
 * its own id, the rest of it is the decision the cache holds, so a front door
 * renders that once. A private field, which no property lookup, JSON, copy or
 * comparison sees. Not a WeakMap: an entry per answer, of objects that die
 * young, kept the collector busy; nor a non-enumerable property: defining
 * one costs a tenth of a decision.
 */
class MadeFrom extends Given {
  readonly #decision: Decision;

  private constructor(answer: Decision, decision: Decision) {
    super(answer);
    this.#decision = decision;
  }

  static set(answer: Decision, decision: Decision): void {
    new MadeFrom(answer, decision);
  }

  static get(answer: Decision): Decision | undefined {
    return #decision in answer ? (answer as MadeFrom).#decision : undefined;
  }
}

/** The decision with this answer's id. */
export function answerOf(d: Decision, decisionId: string): Decision {
  // Field by field, in toDecision's order, rather than spread: one answer per question.
  const a: Decision = {
    decisionId,
    allowed: d.allowed,
    generation: d.generation,
    reason: d.reason,
    src: d.src,
    dst: d.dst,
    protocol: d.protocol,
    port: d.port,
    egress: d.egress,
    ingress: d.ingress,
  };
  MadeFrom.set(a, d);
  return a;
}

/**
 * A random (version 4) UUID, as crypto.randomUUID makes it, for an answer's
 * id. randomUUID draws entropy for 128 ids at a time, and each draw costs
 * about as much as a decision: every 128th decision took several times as
 * long as the rest. Here a draw is for 4096 ids, and the text is made in one
 * piece rather than joined from 20.
 */
export function newDecisionId(): string {
  if (idOffset === ID_ENTROPY.length) {
    randomFillSync(ID_ENTROPY);
    idOffset = 0;
  }
  for (let i = 0; i < 16; i++) {
    let b = ID_ENTROPY[idOffset + i]!;
    // Byte 6 holds the version (4), byte 8 the variant (binary 10).
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    const at = ID_DIGITS_AT[i]!;
    idChars[at] = HEX_DIGITS.charCodeAt(b >> 4);
    idChars[at + 1] = HEX_DIGITS.charCodeAt(b & 0x0f);
  }
  idOffset += 16;
  return String.fromCharCode.apply(null, idChars);
}

const ID_ENTROPY = new Uint8Array(16 * 4096);
/** Where the next id's 16 bytes start; at the end, the entropy is drawn again. */
let idOffset = ID_ENTROPY.length;
const HEX_DIGITS = "0123456789abcdef";
/** Where each byte's two digits go in xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx. */
const ID_DIGITS_AT: readonly number[] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The id's character codes, the dashes in place. */
const idChars: number[] = Array.from("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", (c) => c.charCodeAt(0));

/** What an answer was made from: the decision without its id (the answer itself when it has none). */
export function decisionOf(a: Decision): Decision {
  return MadeFrom.get(a) ?? a;
}

export function toDecision(e: Decided, ends: { src: Endpoint; dst: Endpoint }, q: { protocol: Protocol; port: number; explain: boolean }, generation: number): Decision {
  const tiers = e.tiers;
  return {
    allowed: e.allowed,
    generation,
    reason: e.reason,
    src: endpointView(ends.src),
    dst: endpointView(ends.dst),
    protocol: q.protocol,
    port: q.port,
    egress: directionView(e.np.egress, tiers && { composed: tiers.egress, evaluated: tiers.evaluation?.egress }, q.explain),
    ingress: directionView(e.np.ingress, tiers && { composed: tiers.ingress, evaluated: tiers.evaluation?.ingress }, q.explain),
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

/** `tiers.evaluated`: with explain, the tiers' traces. */
function directionView(d: DirectionVerdict, tiers: { composed: ComposedDirection; evaluated: TierDirection | undefined } | undefined, explain: boolean): DirectionView {
  const v: { -readonly [K in keyof DirectionView]: DirectionView[K] } =
    d.subject === undefined
      ? { allowed: d.allowed, isolated: d.isolated, reason: d.reason, policies: d.policies }
      : { subject: d.subject, allowed: d.allowed, isolated: d.isolated, reason: d.reason, policies: d.policies };
  if (explain) v.verdicts = d.verdicts;
  if (tiers !== undefined) {
    const evaluated = tiers.evaluated;
    v.allowed = tiers.composed.allowed;
    v.decidedBy = tiers.composed.decidedBy;
    v.tiers = evaluated ? tiers.composed.consulted.map((verdict) => tierView(verdict, evaluated[verdict.tier].policies)) : viewsOf(tiers.composed.consulted);
  }
  return v;
}

/** Without explain, a list of verdicts (one per combination, see tier-compose.ts) has one view, made once. */
function viewsOf(consulted: readonly TierVerdict[]): readonly TierView[] {
  let v = views.get(consulted);
  if (v === undefined) views.set(consulted, (v = consulted.map((t) => tierView(t, undefined))));
  return v;
}

const views = new WeakMap<readonly TierVerdict[], readonly TierView[]>();

function tierView(t: TierVerdict, policies: readonly TierPolicyTrace[] | undefined): TierView {
  const v: { -readonly [K in keyof TierView]: TierView[K] } = { tier: t.tier, action: t.action };
  if (t.action !== "none") {
    v.policy = t.policy;
    if (t.priority !== undefined) v.priority = t.priority;
    v.rule = t.rule;
    if (t.name !== undefined) v.name = t.name;
    if (t.actionWord !== t.action) v.actionWord = t.actionWord;
    v.precedence = t.precedence;
  }
  if (policies !== undefined) v.policies = policies;
  return v;
}
