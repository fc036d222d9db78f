/**
 * Odd requests to DecisionService.Matrix and DecisionService.WhatIf, as
 * message fields with the status each must get (outcome.ts), and for a
 * what-if that asks what a refused write asks, that write (ModelService
 * Apply or Delete), whose answer must be the same.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MatrixRequestSchema, WhatIfRequestSchema } from "../server/gen/podwall/v1/podwall_pb.js";
import type { FuzzContext } from "./context.js";
import { type Stage, type Verdict, focus, grpcOutcome, outcome, verdictOf } from "./outcome.js";
import type { Rng } from "./random.js";
import { selectorText } from "./selectors.js";
import { oddName, oddText } from "./strings.js";
import { type DeleteRef, applyText, deleteRef, everyPort, kindOf, portEntry } from "./whatif-inputs.js";

/** A write a what-if's answer is compared with. */
export type GrpcTwin =
  | { readonly method: "apply"; readonly manifests: string; readonly mustReject: boolean }
  | { readonly method: "delete"; readonly kind: string; readonly namespace: string; readonly name: string };

export interface GrpcInput<I> {
  readonly tag: string;
  readonly init: I;
  readonly expect: { readonly code?: number; readonly mustReject: boolean };
  readonly twin?: GrpcTwin;
}

const PROTOCOLS = ["TCP", "UDP", "SCTP"];

function protocol(rng: Rng, odd: boolean): string {
  if (!odd) return rng.pick(["", "TCP", "udp", "Sctp"]);
  return rng.weighted<() => string>([
    [3, () => rng.pick(["ICMP", "udp/", "tcp ", "ＴＣＰ", "ALL", "6", "T\u0000CP"])],
    [1, () => oddText(rng, 12)],
  ])();
}

const PORTS = [80, 81, 53, 1, 65535, 443];
const BAD_PORTS = [0, 65536, 4294967295, 2147483648, 100_000];

function namespaceItems(rng: Rng, ctx: FuzzContext, odd: boolean): string[] {
  const known = () => (ctx.namespaces.length > 0 ? rng.pick(ctx.namespaces) : "default");
  const item = () =>
    rng.weighted<() => string>([
      [6, known],
      [1, () => ` ${known()}\t`],
      [1, () => ""],
      [odd ? 2 : 0, () => `${known()},${known()}`],
      [odd ? 2 : 0, () => rng.pick(["__proto__", "constructor", "nope", "X", oddName(rng).slice(0, 1_000)])],
    ])();
  const n = rng.weighted<() => number>([
    [3, () => 0],
    [6, () => rng.int(1, 4)],
    [1, () => rng.size(5, 50_000)],
  ])();
  return Array.from({ length: n }, item);
}

export function matrixInput(rng: Rng, ctx: FuzzContext): GrpcInput<MessageInitShape<typeof MatrixRequestSchema>> {
  const odd = focus(rng, ["protocol", "port", "namespaces", "pods"] as const);
  const proto = protocol(rng, odd("protocol"));
  const port = odd("port") ? (rng.bool(0.8) ? rng.pick(BAD_PORTS) : rng.int(0, 2 ** 32 - 1)) : rng.pick(PORTS);
  const namespaces = odd("namespaces") || rng.bool(0.5) ? namespaceItems(rng, ctx, odd("namespaces")) : [];
  const selector = odd("pods") || rng.bool(0.3) ? selectorText(rng, ctx.labels, odd("pods"), rng.bool(0.9) ? 300 : 200_000) : undefined;
  // Each item is one namespace's name, "x,y" included; blank items are left out.
  const nsVerdicts: Verdict[] = namespaces.map((n) => verdictOf(n.trim() === "" || ctx.namespaces.includes(n.trim())));
  const stages: Stage[] = [
    { status: 400, verdicts: [verdictOf(proto === "" || PROTOCOLS.includes(proto.toUpperCase())), verdictOf(port >= 1 && port <= 65535), selector?.verdict ?? "ok"] },
    { status: 404, verdicts: nsVerdicts },
  ];
  return {
    tag: selector ? "selector" : namespaces.length > 4 ? "many-namespaces" : "fields",
    init: { protocol: proto, port, namespaces, pods: selector?.text ?? "", group: rng.bool(0.3) },
    expect: grpcOutcome(outcome(stages)),
  };
}

const LIMITS = [0, 0, 1, 2, 10_000, 10_001, 2 ** 31, 2 ** 32 - 1];

export function whatIfInput(rng: Rng, ctx: FuzzContext): GrpcInput<MessageInitShape<typeof WhatIfRequestSchema>> {
  const odd = focus(rng, ["apply", "delete", "ports"] as const);
  const a = odd("apply") || rng.bool(0.5) ? applyText(rng, ctx, odd("apply")) : undefined;
  const many = () => (rng.bool(0.9) ? rng.int(1, 3) : rng.size(4, 2_000));
  const refs: DeleteRef[] = odd("delete") || rng.bool(a ? 0.3 : 0.85) ? Array.from({ length: many() }, () => deleteRef(rng, ctx, odd("delete"))) : [];
  const ports = rng.weighted<() => { texts: string[]; verdicts: Verdict[] }>([
    [odd("ports") ? 0 : 6, () => ({ texts: [], verdicts: [] })],
    [
      3,
      () => {
        const p = Array.from({ length: rng.int(1, 6) }, () => portEntry(rng, odd("ports")));
        return { texts: p.map((x) => x.text), verdicts: p.map((x) => x.verdict) };
      },
    ],
    // Past the 256 ports a what-if may name: refused before anything is read.
    [odd("ports") ? 1 : 0, () => ({ texts: everyPort(rng), verdicts: ["bad"] })],
  ])();
  const limit = rng.pick(LIMITS);
  const apply = a === undefined ? "" : a.text;
  const fields: Verdict[] = [...refs.map((r) => r.shape), ...ports.verdicts];
  // An empty apply is no apply: with nothing to delete, nothing is asked.
  if (apply === "" && refs.length === 0) fields.push("bad");
  const deleted = new Set(refs.filter((r) => kindOf(r.kind) === "Namespace").map((r) => r.name));
  const stages: Stage[] = [
    { status: 400, verdicts: fields },
    { status: undefined, verdicts: apply !== "" && a ? [a.verdict] : [] },
    { status: 404, verdicts: refs.map((r) => r.present) },
    { status: undefined, verdicts: (a?.namespaces ?? []).some((ns) => deleted.has(ns)) ? ["unknown"] : [] },
  ];
  const o = outcome(stages);
  const tag = a?.tag ?? (refs.some((r) => r.present === "bad") ? "delete-absent" : "delete");
  const init = { apply, delete: refs.map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name })), ports: ports.texts, limit };
  const expect = grpcOutcome(o);
  if (fields.some((f) => f !== "ok")) return { tag, init, expect };
  if (a?.writable && refs.length === 0) return { tag, init, expect, twin: { method: "apply", manifests: a.text, mustReject: a.verdict === "bad" } };
  const one = refs.length === 1 && apply === "" && refs[0]!.present === "bad" ? refs[0]! : undefined;
  if (one) {
    const kind = kindOf(one.kind)!;
    const namespace = kind === "Pod" || kind === "NetworkPolicy" ? one.namespace : "";
    return { tag, init, expect, twin: { method: "delete", kind: one.kind, namespace, name: one.name } };
  }
  return { tag, init, expect };
}
