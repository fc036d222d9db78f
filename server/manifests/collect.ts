/**
 * The objects of one write, gathered as they are read: what is written, what
 * is skipped, the warnings, and, if any object cannot be written, why, in
 * Kubernetes' words. An answer lists at most `maxErrors` field errors and
 * `maxWarnings` warnings, and counts the rest.
 */
import type { ModelObject } from "../model/types.js";
import { type FieldError, formatFieldError } from "../policy/field.js";
import { excerptValue } from "./excerpt.js";
import type { ReadItem } from "./read.js";

export interface Refusal {
  /** An object the API server could not decode (a field given twice): 400, else 422. */
  readonly strict: boolean;
  readonly message: string;
  readonly errors: readonly (FieldError & { readonly object: string })[];
  /** Field errors left out of `errors`. */
  readonly omitted: number;
}

export interface Collected {
  readonly objects: ModelObject[];
  readonly skipped: string[];
  /** `unknown field "spec.foo" (NetworkPolicy x/p)`; the last one counts those left out. */
  readonly warnings: string[];
  readonly refusal?: Refusal;
}

interface Problems {
  readonly messages: string[];
  readonly errors: (FieldError & { readonly object: string })[];
  /** Field errors left out of `errors`. */
  omitted: number;
  /** Of those, the errors of objects left out of the message too. */
  unlisted: number;
}

export class Collector {
  private readonly objects: ModelObject[] = [];
  private readonly skipped: string[] = [];
  private readonly warnings: string[] = [];
  private moreWarnings = 0;
  private readonly strict: Problems = { messages: [], errors: [], omitted: 0, unlisted: 0 };
  private readonly invalid: Problems = { messages: [], errors: [], omitted: 0, unlisted: 0 };

  constructor(private readonly limits: { readonly maxErrors: number; readonly maxWarnings: number }) {}

  add(item: ReadItem): void {
    const d = item.decoded;
    switch (d.kind) {
      case "object": {
        this.objects.push(d.object);
        const room = Math.max(0, this.limits.maxWarnings - this.warnings.length);
        const what = describeObject(d.object);
        for (const w of d.warnings.slice(0, room)) this.warnings.push(`${w} (${what})`);
        this.moreWarnings += Math.max(0, d.warnings.length - room) + item.moreWarnings;
        return;
      }
      case "skipped":
        this.skipped.push(d.what);
        return;
      case "invalid": {
        const p = d.strict ? this.strict : this.invalid;
        const room = Math.max(0, this.limits.maxErrors - p.errors.length);
        const listed = d.errors.slice(0, room);
        const more = d.errors.length - listed.length + item.moreErrors;
        p.omitted += more;
        if (listed.length === 0) {
          p.unlisted += more;
          return;
        }
        for (const e of listed) p.errors.push({ ...e, object: d.what });
        p.messages.push(d.strict ? d.message : invalidMessage(d.what, listed, more));
        return;
      }
    }
  }

  collected(): Collected {
    const warnings = this.moreWarnings > 0 ? [...this.warnings, `${this.moreWarnings} more warnings left out`] : this.warnings;
    const p = this.strict.errors.length > 0 ? this.strict : this.invalid.errors.length > 0 ? this.invalid : undefined;
    const refusal: Refusal | undefined = p && {
      strict: p === this.strict,
      message: `${p.messages.join("; ")}${p.unlisted > 0 ? `; and ${p.unlisted} more errors of other objects` : ""}`,
      errors: p.errors,
      omitted: p.omitted,
    };
    return { objects: this.objects, skipped: this.skipped, warnings, ...(refusal ? { refusal } : {}) };
  }
}

/**
 * Kubernetes' message for one invalid object: `Kind "name" is invalid: [err,
 * err]`, each value quoted as an excerpt; `more` errors left out are counted.
 */
export function invalidMessage(what: string, errors: readonly FieldError[], more = 0): string {
  const texts = errors.map((e) => formatFieldError("value" in e ? { ...e, value: excerptValue(e.value) } : e));
  const list = texts.length === 1 && more === 0 ? texts[0] : `[${texts.join(", ")}${more > 0 ? `, and ${more} more` : ""}]`;
  return `${what} is invalid: ${list}`;
}

/** "Kind namespace/name", or "Kind name" for the kinds that live in no namespace. */
export function describeObject(o: ModelObject): string {
  return `${o.kind} ${"namespace" in o && o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}
