/**
 * Typed reads from decoded JSON/YAML, collecting a field error for every
 * value of the wrong type instead of throwing.
 */
import { type FieldError, type Path, fieldError } from "./field.js";

export type Json = Readonly<Record<string, unknown>>;

export class Reader {
  readonly errors: FieldError[] = [];

  add(...errs: FieldError[]): void {
    this.errors.push(...errs);
  }

  /** An object, or undefined when absent (null counts as absent, as in Go). */
  object(v: unknown, p: Path): Json | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "object" && !Array.isArray(v)) return v as Json;
    this.errors.push(fieldError.typeInvalid(p, v, "must be an object"));
    return undefined;
  }

  array(v: unknown, p: Path): readonly unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    this.errors.push(fieldError.typeInvalid(p, v, "must be an array"));
    return undefined;
  }

  string(v: unknown, p: Path): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    this.errors.push(fieldError.typeInvalid(p, v, "must be a string"));
    return undefined;
  }

  integer(v: unknown, p: Path): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isInteger(v)) return v;
    this.errors.push(fieldError.typeInvalid(p, v, "must be an integer"));
    return undefined;
  }

  boolean(v: unknown, p: Path): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    this.errors.push(fieldError.typeInvalid(p, v, "must be a boolean"));
    return undefined;
  }

  /** A map of strings to strings, such as labels or matchLabels. */
  stringMap(v: unknown, p: Path): Record<string, string> {
    const o = this.object(v, p);
    const out: Record<string, string> = {};
    if (!o) return out;
    for (const [k, val] of Object.entries(o)) {
      const s = this.string(val, p.child(k));
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
}
