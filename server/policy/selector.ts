/**
 * Label selectors (k8s.io/apimachinery/pkg/labels): decoding with the API
 * server's validation, matching, and a kubectl-style description.
 */
import { type Labels, type Operator, type Requirement, type Selector, OPERATORS } from "../model/types.js";
import { type Path, fieldError } from "./field.js";
import type { Reader } from "./reader.js";
import { isQualifiedName, isValidLabelValue } from "./validate-leaf.js";

export const EVERYTHING: Selector = { kind: "everything" };

/** Validates label keys and values as `metadata.labels` are validated. */
export function validateLabels(r: Reader, labels: Record<string, string>, p: Path): void {
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) r.add(fieldError.invalid(p, k, m));
    for (const m of isValidLabelValue(v)) r.add(fieldError.invalid(p, v, m));
  }
}

/** Decodes a LabelSelector; `{}` is everything. Errors go to the reader. */
export function decodeSelector(r: Reader, raw: unknown, p: Path): Selector {
  const o = r.object(raw, p) ?? {};
  const matchLabels = r.stringMap(o["matchLabels"], p.child("matchLabels"));
  validateLabels(r, matchLabels, p.child("matchLabels"));
  const requirements: Requirement[] = Object.entries(matchLabels).map(([key, v]) => ({
    key,
    operator: "In",
    values: [v],
  }));
  const exprs = r.array(o["matchExpressions"], p.child("matchExpressions")) ?? [];
  exprs.forEach((e, i) => {
    const req = decodeRequirement(r, e, p.child("matchExpressions").index(i));
    if (req) requirements.push(req);
  });
  if (requirements.length === 0) return EVERYTHING;
  // A stable order makes equal selectors compare and hash equal.
  const order = (q: Requirement) => `${q.key}\0${q.operator}\0${q.values.join("\0")}`;
  requirements.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { kind: "match", requirements };
}

function decodeRequirement(r: Reader, raw: unknown, p: Path): Requirement | undefined {
  const o = r.object(raw, p) ?? {};
  const key = r.string(o["key"], p.child("key")) ?? "";
  const op = r.string(o["operator"], p.child("operator")) ?? "";
  const values = (r.array(o["values"], p.child("values")) ?? []).map((v, i) => r.string(v, p.child("values").index(i)) ?? "");
  const before = r.errors.length;
  // The API server's order: operator and values, then key, then each value.
  if (!OPERATORS.includes(op as Operator)) {
    r.add(fieldError.invalid(p.child("operator"), op, "not a valid selector operator"));
  } else if ((op === "In" || op === "NotIn") && values.length === 0) {
    r.add(fieldError.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) {
    r.add(fieldError.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  }
  for (const m of isQualifiedName(key)) r.add(fieldError.invalid(p.child("key"), key, m));
  values.forEach((v, i) => {
    for (const m of isValidLabelValue(v)) r.add(fieldError.invalid(p.child("values").index(i), v, m));
  });
  if (r.errors.length > before) return undefined;
  return { key, operator: op as Operator, values: [...new Set(values)].sort() };
}

/** NotIn and DoesNotExist match an object that lacks the key. */
export function matchesRequirement(req: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, req.key);
  switch (req.operator) {
    case "In":
      return has && req.values.includes(labels[req.key]!);
    case "NotIn":
      return !has || !req.values.includes(labels[req.key]!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
  }
}

export function matches(sel: Selector, labels: Labels): boolean {
  switch (sel.kind) {
    case "everything":
      return true;
    case "match": {
      // A loop rather than `every`: Check matches on every decision, and a callback would be made each time.
      const reqs = sel.requirements;
      for (let i = 0; i < reqs.length; i++) if (!matchesRequirement(reqs[i]!, labels)) return false;
      return true;
    }
  }
}

/** kubectl's notation: `app=web,tier in (a,b),!legacy`; everything is `<all>`. */
export function describeSelector(sel: Selector): string {
  switch (sel.kind) {
    case "everything":
      return "<all>";
    case "match":
      return sel.requirements.map(describeRequirement).join(",");
  }
}

function describeRequirement(req: Requirement): string {
  switch (req.operator) {
    case "In":
      return req.values.length === 1 ? `${req.key}=${req.values[0]}` : `${req.key} in (${req.values.join(",")})`;
    case "NotIn":
      return `${req.key} notin (${req.values.join(",")})`;
    case "Exists":
      return req.key;
    case "DoesNotExist":
      return `!${req.key}`;
  }
}
