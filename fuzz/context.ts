/** What the generators know of the server under test, and pieces they share. */
import type { Rng } from "./random.js";
import type { ObjectRef } from "./state.js";
import { oddName, oddText } from "./strings.js";

export interface FuzzContext {
  /** The model's namespaces. */
  readonly namespaces: readonly string[];
  /** Every object's name: a delete never names one of these. */
  readonly names: ReadonlySet<string>;
  /** Node name → its current ruleset version. */
  readonly versions: ReadonlyMap<string, string>;
  /** Every object of the model. */
  readonly objects: readonly ObjectRef[];
  /** Every object of the model as GET /v1/model gives it. */
  readonly items: readonly Record<string, unknown>[];
  /** The label pairs pods have. */
  readonly labels: readonly (readonly [string, string])[];
}

/**
 * A name that is not the name of an object of the model, and does not become
 * one when sent unencoded in a path (split at "/", cut at "?" or "#").
 */
export function absentName(rng: Rng, ctx: FuzzContext): string {
  for (let i = 0; i < 8; i++) {
    const n = oddName(rng);
    if (!ctx.names.has(n) && !n.split(/[/?#]/).some((p) => ctx.names.has(p))) return n;
  }
  return "fuzz-absent";
}

/** A path segment for a name, encoded as a client might (or might not) encode it. */
export function segment(rng: Rng, name: string): string {
  return rng.weighted<() => string>([
    [5, () => encodeURIComponent(safe(name))],
    [2, () => name],
    [1, () => encodeURIComponent(encodeURIComponent(safe(name)))],
    [1, () => [...Buffer.from(safe(name))].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")],
    [1, () => `${encodeURIComponent(safe(name))}${rng.pick(["%", "%2", "%zz", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%00", "%FF"])}`],
  ])();
}

/** Lone surrogates replaced, so encodeURIComponent takes the text. */
const safe = (s: string) => s.replace(/[\ud800-\udfff]/gu, "\ufffd");

/** An Authorization header that is never a valid credential. */
export function badToken(rng: Rng): string {
  return rng.pick<() => string>([
    () => "Bearer",
    () => "Bearer ",
    () => "Bearer  ",
    () => `Bearer ${oddText(rng, 40)}`,
    () => `bearer ${oddText(rng, 20)}`,
    () => `Bearer ${"t".repeat(rng.size(64, 12_000))}`,
    () => `Bearer a b c`,
    () => "Basic Zm9vOmJhcg==",
    () => `Basic ${oddText(rng, 20)}`,
    () => "Negotiate YIIB",
    () => `Bearer ${Buffer.from(rng.bytes(32)).toString("latin1")}`,
    () => "Bearer null",
    () => "Bearer undefined",
    () => `Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.`,
    () => ",,,",
  ])();
}
