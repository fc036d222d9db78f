/**
 * Validation of a custom resource as the API server does it
 * (k8s.io/apiextensions-apiserver, customResourceStrategy.Validate): the
 * CRD's OpenAPI schema (k8s.io/kube-openapi/pkg/validation), then its CEL
 * rules (`x-kubernetes-validations`). The words are kube-openapi's, turned
 * into field errors by kubeOpenAPIResultToFieldErrors:
 *
 *     spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000
 *     spec.tier: Unsupported value: "Top": supported values: "Admin", "Baseline"
 *     spec.ingress: Too many: 26: must have at most 25 items
 *
 * "OpenAPIv3 type/maxLength/maxItems/MaxProperties/required/enum violation/
 * wrong type field validation failures are viewed as blocking err for CEL
 * validation": after such an error no rule runs and one error says so
 * (hasBlockingErr). A null is a missing field: the API server prunes nulls
 * from fields that are not nullable. A field the schema does not know is
 * pruned too, so it counts for neither minProperties nor maxProperties.
 *
 * Podwall's own checks, where an implementation could not apply what the
 * schema lets through (a label selector's content, a protocol name), are kept
 * apart: they never hide a CEL error. Here too: the metav1.LabelSelector, as
 * every CRD of the three kinds holds it.
 */
import { type FieldError, Path, fieldError } from "./field.js";
import { type Json, Reader } from "./reader.js";
import type { Selector } from "../model/types.js";
import { EVERYTHING, decodeSelector } from "./selector.js";

/** A CEL rule on an object or a list: since Kubernetes 1.35 its error leaves the value out. */
const OMITTED = Symbol("omitted");

export class CrdCheck {
  private readonly schema: FieldError[] = [];
  private readonly sets: FieldError[] = [];
  private readonly rules: FieldError[] = [];
  private readonly podwall: FieldError[] = [];
  private blocked = false;

  /** Adds every error to the reader, in the API server's order, then Podwall's own. */
  finish(r: Reader): void {
    r.add(...this.schema, ...this.sets);
    if (this.blocked) {
      r.add(
        fieldError.invalid(Path.root("<nil>"), null, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"),
      );
    } else {
      r.add(...this.rules);
    }
    r.add(...this.podwall);
  }

  private fail(e: FieldError, blocking: boolean): void {
    this.schema.push(e);
    if (blocking) this.blocked = true;
  }

  /** A field of an object: its value, or undefined when missing ("Required value" if it must be set). */
  field(o: Json, key: string, p: Path, required = false): unknown {
    const v = o[key];
    if (v !== undefined && v !== null) return v;
    if (required) this.required(p.child(key));
    return undefined;
  }

  /** A required field is missing. */
  required(p: Path): void {
    this.fail(fieldError.required(p), true);
  }

  /** `in body must be of type object: "string"` */
  private typed(v: unknown, p: Path, want: string): boolean {
    const got = jsonType(v);
    if (got === want || (want === "number" && got === "integer")) return true;
    this.fail(fieldError.typeInvalid(p, got, `${p} in body must be of type ${want}: ${JSON.stringify(got)}`), true);
    return false;
  }

  object(v: unknown, p: Path): Json | undefined {
    return v !== undefined && this.typed(v, p, "object") ? (v as Json) : undefined;
  }

  /**
   * The fields of `o` among `known`, with minProperties and maxProperties
   * ("Exactly one field must be set" is both at 1).
   */
  properties(o: Json, known: readonly string[], p: Path, min: number, max?: number): string[] {
    const present = known.filter((k) => o[k] !== undefined && o[k] !== null);
    if (present.length < min) this.fail(fieldError.invalid(p, present.length, `${p} in body should have at least ${min} properties`), false);
    if (max !== undefined && present.length > max) this.fail(tooMany(p, present.length, max), true);
    return present;
  }

  array(v: unknown, p: Path, min: number | undefined, max: number): readonly unknown[] | undefined {
    if (v === undefined || !this.typed(v, p, "array")) return undefined;
    const list = v as readonly unknown[];
    if (min !== undefined && list.length < min) this.fail(fieldError.invalid(p, list.length, `${p} in body should have at least ${min} items`), false);
    if (list.length > max) this.fail(tooMany(p, list.length, max), true);
    return list;
  }

  string(v: unknown, p: Path, opts: { maxLength?: number; pattern?: string; oneOf?: readonly string[] } = {}): string | undefined {
    if (v === undefined || !this.typed(v, p, "string")) return undefined;
    const s = v as string;
    let ok = true;
    // kube-openapi counts characters (runes); the field error speaks of bytes.
    if (opts.maxLength !== undefined && [...s].length > opts.maxLength) {
      this.fail(tooLong(p, opts.maxLength), true);
      ok = false;
    }
    if (opts.pattern !== undefined && !new RegExp(opts.pattern).test(s)) {
      this.fail(fieldError.invalid(p, s, `${p} in body should match '${opts.pattern}'`), false);
      ok = false;
    }
    if (opts.oneOf !== undefined && !opts.oneOf.includes(s)) {
      this.fail(fieldError.notSupported(p, s, opts.oneOf), true);
      ok = false;
    }
    return ok ? s : undefined;
  }

  /** An integer within [min, max]; undefined when it is not. */
  integer(v: unknown, p: Path, min: number, max: number): number | undefined {
    if (v === undefined || !this.typed(v, p, "integer")) return undefined;
    const n = v as number;
    if (n < min) this.fail(fieldError.invalid(p, n, `${p} in body should be greater than or equal to ${min}`), false);
    if (n > max) this.fail(fieldError.invalid(p, n, `${p} in body should be less than or equal to ${max}`), false);
    return n >= min && n <= max ? n : undefined;
  }

  /** `x-kubernetes-list-type: set`: each repeated item is a "Duplicate value". */
  set(list: readonly unknown[], p: Path): void {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) this.sets.push(fieldError.duplicate(p.index(i), v));
      seen.add(k);
    });
  }

  /** A CEL rule (`x-kubernetes-validations`) that does not hold: its message, verbatim. */
  rule(holds: boolean, p: Path, message: string, value: unknown = OMITTED): void {
    if (holds) return;
    this.rules.push(value === OMITTED ? { field: `${p}`, type: "FieldValueInvalid", detail: message } : fieldError.invalid(p, value, message));
  }

  /** A check of Podwall's own, beyond the schema. */
  own(...errs: FieldError[]): void {
    this.podwall.push(...errs);
  }
}

/**
 * A metav1.LabelSelector. The CRD schema checks its shape only (`key` and
 * `operator` required, strings throughout); an implementation cannot apply a
 * selector that LabelSelectorAsSelector refuses, so Podwall also checks its
 * content as for a NetworkPolicy, as a check of its own.
 */
export function selector(c: CrdCheck, raw: unknown, p: Path): Selector {
  const o = c.object(raw, p);
  if (!o) return EVERYTHING;
  let shaped = true;
  const labels: Record<string, string> = {};
  const lp = p.child("matchLabels");
  const rawLabels = c.object(o["matchLabels"] ?? undefined, lp) ?? {};
  for (const [k, v] of Object.entries(rawLabels)) {
    if (v === null || v === undefined) continue;
    const s = c.string(v, lp.child(k));
    if (s === undefined) shaped = false;
    else labels[k] = s;
  }
  const ep = p.child("matchExpressions");
  const exprs = (c.array(o["matchExpressions"] ?? undefined, ep, undefined, Number.POSITIVE_INFINITY) ?? []).map((e, i) => {
    const xp = ep.index(i);
    const x = c.object(e ?? undefined, xp) ?? {};
    const key = c.string(c.field(x, "key", xp, true), xp.child("key"));
    const operator = c.string(c.field(x, "operator", xp, true), xp.child("operator"));
    const values = (c.array(x["values"] ?? undefined, xp.child("values"), undefined, Number.POSITIVE_INFINITY) ?? []).map((v, j) =>
      c.string(v ?? undefined, xp.child("values").index(j)),
    );
    if (key === undefined || operator === undefined || values.includes(undefined)) shaped = false;
    return { key, operator, values };
  });
  if (!shaped) return EVERYTHING;
  const own = new Reader();
  const sel = decodeSelector(own, { matchLabels: labels, matchExpressions: exprs }, p);
  c.own(...own.errors);
  return sel;
}

/** The JSON Schema type of a decoded JSON value, as kube-openapi names it. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (v === null) return "null";
  return typeof v;
}

/** field.TooMany: "must have at most 1 item", "must have at most 25 items". */
function tooMany(p: Path, actual: number, max: number): FieldError {
  return { field: `${p}`, type: "FieldValueTooMany", value: actual, detail: `must have at most ${max} ${max === 1 ? "item" : "items"}` };
}

/**
 * field.TooLong: "Too long: may not be more than 100 bytes", the value left
 * out. FieldError has no TooLong type: until it has, this is an Invalid
 * value with the same detail and no value.
 */
function tooLong(p: Path, max: number): FieldError {
  return { field: `${p}`, type: "FieldValueInvalid", detail: `may not be more than ${max} ${max === 1 ? "byte" : "bytes"}` };
}
