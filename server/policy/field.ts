/**
 * Field errors as the Kubernetes API server reports them
 * (k8s.io/apimachinery/pkg/util/validation/field): a path such as
 * `spec.ingress[0].from[1].ipBlock.except[0]`, a type, the bad value and a
 * detail. Validation collects every error and never throws.
 */
export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueDuplicate"
  | "FieldValueTypeInvalid"
  | "FieldValueNotFound"
  | "FieldValueTooMany";

export interface FieldError {
  readonly field: string;
  readonly type: FieldErrorType;
  readonly value?: unknown;
  readonly detail: string;
}

/** An immutable field path. */
export class Path {
  private constructor(private readonly text: string) {}
  static root(name?: string): Path {
    return new Path(name ?? "");
  }
  child(name: string): Path {
    return new Path(this.text === "" ? name : `${this.text}.${name}`);
  }
  index(i: number | string): Path {
    return new Path(`${this.text}[${i}]`);
  }
  toString(): string {
    return this.text;
  }
}

const TYPE_WORDS: Record<FieldErrorType, string> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
  FieldValueTypeInvalid: "Invalid value",
  FieldValueNotFound: "Not found",
  FieldValueTooMany: "Too many",
};

export const fieldError = {
  required: (p: Path, detail = ""): FieldError => ({ field: `${p}`, type: "FieldValueRequired", detail }),
  invalid: (p: Path, value: unknown, detail: string): FieldError => ({
    field: `${p}`,
    type: "FieldValueInvalid",
    value,
    detail,
  }),
  notSupported: (p: Path, value: unknown, supported: readonly string[]): FieldError => ({
    field: `${p}`,
    type: "FieldValueNotSupported",
    value,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
  }),
  forbidden: (p: Path, detail: string): FieldError => ({ field: `${p}`, type: "FieldValueForbidden", detail }),
  duplicate: (p: Path, value: unknown): FieldError => ({ field: `${p}`, type: "FieldValueDuplicate", value, detail: "" }),
  typeInvalid: (p: Path, value: unknown, detail: string): FieldError => ({
    field: `${p}`,
    type: "FieldValueTypeInvalid",
    value,
    detail,
  }),
  notFound: (p: Path, value: unknown, detail = ""): FieldError => ({ field: `${p}`, type: "FieldValueNotFound", value, detail }),
  tooMany: (p: Path, actual: number, max: number): FieldError => ({ field: `${p}`, type: "FieldValueTooMany", value: actual, detail: `must have at most ${max} items` }),
};

/** `spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive` */
export function formatFieldError(e: FieldError): string {
  let s = `${e.field}: ${TYPE_WORDS[e.type]}`;
  if ("value" in e && e.type !== "FieldValueRequired" && e.type !== "FieldValueForbidden") {
    s += `: ${formatValue(e.value)}`;
  }
  return e.detail === "" ? s : `${s}: ${e.detail}`;
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "null";
  return JSON.stringify(v);
}
