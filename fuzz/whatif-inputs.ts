/**
 * The pieces of a what-if, for REST and gRPC alike, each with what the
 * server must make of it: objects to delete (present, absent, of no kind),
 * ports ("80", "UDP/53", and 0, 65536, "udp/"), and manifests to apply
 * (valid, poisoned, YAML bombs, empty).
 */
import { type FuzzContext, absentName } from "./context.js";
import { badManifests } from "./manifests.js";
import { type Verdict, verdictOf } from "./outcome.js";
import type { Rng } from "./random.js";
import { BAD_NUMBERS, oddText } from "./strings.js";
import { TIER_KINDS } from "./tier-manifests.js";
import { manifestsText, validObjects } from "./valid-manifests.js";

const KINDS = ["Namespace", "Node", "Pod", "NetworkPolicy", ...TIER_KINDS];
const NAMESPACED = ["Pod", "NetworkPolicy"];

/** The kind a name stands for, in any case, as the API takes it. */
export const kindOf = (text: string) => KINDS.find((k) => k.toLowerCase() === text.toLowerCase());

export interface DeleteRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Well formed: a known kind, a name, a namespace for a pod or policy. */
  readonly shape: Verdict;
  /** The model holds it: "bad" when it does not. */
  readonly present: Verdict;
}

function shapeOf(kind: string, namespace: string, name: string): Verdict {
  const k = kindOf(kind);
  return verdictOf(k !== undefined && name !== "" && (!NAMESPACED.includes(k) || namespace !== ""));
}

/** An object to delete: one the model holds, or (`odd`) also one it does not, or one of no kind. */
export function deleteRef(rng: Rng, ctx: FuzzContext, odd: boolean): DeleteRef {
  const spell = (k: string) => rng.pick([k, k, k.toLowerCase(), k.toUpperCase()]);
  const held = ctx.objects.length > 0 ? 1 : 0;
  const other = odd || held === 0 ? 1 : 0;
  return rng.weighted<() => DeleteRef>([
    [
      3 * held,
      () => {
        const o = rng.pick(ctx.objects);
        // A namespace given for an object of no namespace is not read.
        const namespace = NAMESPACED.includes(o.kind) ? o.namespace : rng.bool(0.8) ? "" : rng.pick(["x", oddText(rng, 8)]);
        return { kind: spell(o.kind), namespace, name: o.name, shape: "ok", present: "ok" };
      },
    ],
    [
      3 * other,
      () => {
        const kind = spell(rng.pick(KINDS));
        const namespace = NAMESPACED.includes(kindOf(kind)!) ? (rng.bool(0.6) && ctx.namespaces.length > 0 ? rng.pick(ctx.namespaces) : absentName(rng, ctx)) : "";
        const name = absentName(rng, ctx);
        return { kind, namespace, name, shape: shapeOf(kind, namespace, name), present: "bad" };
      },
    ],
    [
      held * other,
      () => {
        const kind = rng.pick([
          "",
          "Deployment",
          "Pods",
          "pod ",
          " Pod",
          "ＰＯＤ",
          "NetworkPolicies",
          "networking.k8s.io/NetworkPolicy",
          "Namespace\u0000",
          "clusternetworkpolicies",
          "policy.networking.k8s.io/AdminNetworkPolicy",
          "BaselineAdminNetworkPolicies",
          oddText(rng, 12),
        ]);
        const o = rng.pick(ctx.objects);
        return { kind, namespace: o.namespace, name: o.name, shape: shapeOf(kind, o.namespace, o.name), present: "unknown" };
      },
    ],
    [
      held * other,
      () => {
        // A pod or policy without its namespace, or an object without its name: only a namespace or node so named is well formed, and held.
        const o = rng.pick(ctx.objects);
        const [namespace, name] = rng.bool() ? ["", o.name] : [o.namespace, ""];
        return { kind: o.kind, namespace, name, shape: shapeOf(o.kind, namespace, name), present: "ok" };
      },
    ],
  ])();
}

/** A port as a what-if takes it, "PORT" or "PROTOCOL/PORT", and whether it is one; only good ones unless `odd`. */
export function portEntry(rng: Rng, odd: boolean): { readonly text: string; readonly verdict: Verdict } {
  return rng.weighted<() => { text: string; verdict: Verdict }>([
    [odd ? 2 : 1, () => ({ text: rng.pick(["80", "81", "443", "53", "1", "65535", "080", "UDP/53", "udp/81", "Tcp/80", "SCTP/80", "TCP/0443"]), verdict: "ok" })],
    [
      odd ? 4 : 0,
      () => ({
        text: rng.pick([
          ...BAD_NUMBERS.filter((n) => !/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 65535),
          "udp/",
          "UDP/",
          "TCP/80/x",
          "80/",
          "80/tcp",
          "ICMP/80",
          "udp",
          "/",
          "//80",
          "TCP /80",
          "TCP/ 80",
          "UDP/65536",
          "tcp/-1",
          "SCTP/0",
        ]),
        verdict: "bad",
      }),
    ],
    [odd ? 1 : 0, () => ({ text: rng.pick(["/80", oddText(rng, 10), `${oddText(rng, 4)}/80`]), verdict: "unknown" })],
  ])();
}

/** Every port of a protocol, or of all three: far past the most a what-if may name. */
export function everyPort(rng: Rng): string[] {
  const protocols = rng.bool(0.8) ? [rng.pick(["TCP", "UDP", "SCTP"])] : ["TCP", "UDP", "SCTP"];
  return protocols.flatMap((p) => Array.from({ length: 65_535 }, (_, i) => `${p}/${i + 1}`));
}

export interface ApplyText {
  readonly text: string;
  readonly tag: string;
  /** What reading it gives: "ok" valid objects, "bad" refused, "unknown" maybe nothing at all. */
  readonly verdict: Verdict;
  /** A write of it is refused or changes nothing: it may be sent as a write too. */
  readonly writable: boolean;
  /** Namespaces its objects are in. */
  readonly namespaces: readonly string[];
}

/** Manifests to apply: valid ones, or (`odd`) bad ones: poisoned objects, YAML bombs and cycles, huge numbers, deep nesting. */
export function applyText(rng: Rng, ctx: FuzzContext, odd: boolean): ApplyText {
  if (!odd) {
    const v = validObjects(rng, ctx);
    return { text: manifestsText(rng, v.objects), tag: "apply-valid", verdict: "ok", writable: false, namespaces: v.namespaces };
  }
  const m = badManifests(rng, ctx.namespaces);
  return { text: m.text, tag: `apply-${m.tag}`, verdict: m.empty ? "unknown" : "bad", writable: true, namespaces: [] };
}
