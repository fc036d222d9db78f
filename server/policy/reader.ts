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

  /**
   * A map of strings to strings, such as labels or matchLabels. A value that
   * is not a string (YAML 1.1 reads `yes`, `on`, `0777` unquoted as a boolean
   * or a number) is reported at the map, in the words of the API server's JSON
   * decoder: `json: cannot unmarshal bool into Go struct field
   * LabelSelector.spec.podSelector.matchLabels of type string`. A null value
   * is the empty string, as Go decodes it.
   */
  stringMap(v: unknown, p: Path): Record<string, string> {
    const o = this.object(v, p);
    const out: Record<string, string> = {};
    if (!o) return out;
    for (const [k, val] of Object.entries(o)) {
      if (typeof val === "string" || val === null) out[k] = val ?? "";
      else this.errors.push(fieldError.typeInvalid(p, val, `json: cannot unmarshal ${jsonKind(val)} into ${goField(p)}`));
    }
    return out;
  }
}

/** The JSON kind Go's UnmarshalTypeError names. */
function jsonKind(v: unknown): string {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number" || typeof v === "bigint") return "number";
  if (Array.isArray(v)) return "array";
  return typeof v === "object" ? "object" : "string";
}

/** The Go struct holding each string map Podwall reads, as encoding/json names it in errors. */
const GO_STRUCTS: Readonly<Record<string, string>> = { labels: "ObjectMeta", matchLabels: "LabelSelector" };

/** "Go struct field ObjectMeta.metadata.labels of type string": the JSON path, without indexes. */
function goField(p: Path): string {
  const path = `${p}`.replace(/\[[^\]]*\]/g, "");
  const struct = GO_STRUCTS[path.slice(path.lastIndexOf(".") + 1)];
  return struct ? `Go struct field ${struct}.${path} of type string` : "Go value of type string";
}
