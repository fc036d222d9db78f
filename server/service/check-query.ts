/**
 * A connectivity question as the front doors receive it, validated into a
 * closed form before it reaches the evaluator.
 */
import { PROTOCOLS, type Protocol } from "../model/types.js";
import { type FieldError, Path, fieldError } from "../policy/field.js";
import { isPortNum } from "../policy/validate-leaf.js";
import { PodwallError } from "./errors.js";

export interface CheckInput {
  readonly src?: unknown;
  readonly dst?: unknown;
  readonly protocol?: unknown;
  readonly port?: unknown;
  readonly explain?: unknown;
}

export interface CheckQuery {
  readonly src: string;
  readonly dst: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly explain: boolean;
}

/** Validates one question; `at` prefixes field paths inside a batch (`checks[3]`). */
export function parseCheckQuery(input: CheckInput, at?: Path): CheckQuery | FieldError[] {
  // A batch entry may be anything JSON holds (null, a string): reading fields of it must not throw.
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return [fieldError.typeInvalid(at ?? Path.root(), input, "must be an object")];
  }
  // Field paths are made only for an error: every question is read here.
  const errs: FieldError[] = [];
  const src = reference(input.src, at, "src", errs);
  const dst = reference(input.dst, at, "dst", errs);
  const { protocol, port } = parseTraffic(input, at, errs);
  const explain = input.explain === true || input.explain === "true" || input.explain === "1";
  return errs.length > 0 ? errs : { src, dst, protocol, port, explain };
}

/** A question's protocol (any case, TCP when absent) and port (1-65535, required); errors go to `errs`. */
export function parseTraffic(input: { readonly protocol?: unknown; readonly port?: unknown }, at: Path | undefined, errs: FieldError[]): { protocol: Protocol; port: number } {
  let protocol: Protocol = "TCP";
  if (input.protocol !== undefined && input.protocol !== "") {
    const up = typeof input.protocol === "string" ? input.protocol.toUpperCase() : "";
    if ((PROTOCOLS as readonly string[]).includes(up)) protocol = up as Protocol;
    else errs.push(fieldError.notSupported(fieldPath(at, "protocol"), input.protocol, PROTOCOLS));
  }
  let port = 0;
  const raw = input.port;
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (raw === undefined || raw === "") errs.push(fieldError.required(fieldPath(at, "port"), "must be between 1 and 65535, inclusive"));
  else if (!isPortNum(n)) errs.push(fieldError.invalid(fieldPath(at, "port"), raw, "must be between 1 and 65535, inclusive"));
  else port = n;
  return { protocol, port };
}

/**
 * A yes-or-no field as Go's strconv.ParseBool reads it ("1", "t", "T",
 * "TRUE", "true", "True" and their opposites), or a JSON boolean; absent is
 * false. Anything else is an error on the field.
 */
export function parseFlag(v: unknown, name: string, errs: FieldError[]): boolean {
  if (v === undefined || typeof v === "boolean") return v === true;
  if (typeof v === "string" && TRUE_WORDS.includes(v)) return true;
  if (typeof v === "string" && FALSE_WORDS.includes(v)) return false;
  errs.push(fieldError.invalid(Path.root(name), v, "must be true or false"));
  return false;
}

const TRUE_WORDS = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE_WORDS = ["0", "f", "F", "FALSE", "false", "False"];

function fieldPath(at: Path | undefined, name: string): Path {
  return at ? at.child(name) : Path.root(name);
}

function reference(v: unknown, at: Path | undefined, name: string, errs: FieldError[]): string {
  if (typeof v === "string") {
    const t = v.trim();
    if (t !== "") return t;
  }
  const p = fieldPath(at, name);
  errs.push(v === undefined || v === "" ? fieldError.required(p, "a pod as namespace/name, or an IP address") : fieldError.invalid(p, v, "must be a string"));
  return "";
}

export function checkQueryOrThrow(input: CheckInput): CheckQuery {
  const q = parseCheckQuery(input);
  if (Array.isArray(q)) throw badQuery(q);
  return q;
}

export function badQuery(errs: readonly FieldError[]): PodwallError {
  return new PodwallError("bad-request", `invalid check: ${errs.map((e) => `${e.field}: ${e.detail}`).join("; ")}`, errs);
}
