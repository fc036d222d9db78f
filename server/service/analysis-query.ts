/**
 * Whole-cluster questions as the front doors receive them, validated into a
 * closed form (400 naming each bad field) before they are answered.
 */
import type { MatrixTraffic } from "../analysis/matrix.js";
import { unionTraffic } from "../analysis/whatif.js";
import { isNamespaced } from "../model/kinds.js";
import { KINDS, type Kind, type Selector, parseKind } from "../model/types.js";
import { type FieldError, Path, fieldError } from "../policy/field.js";
import { parseSelectorText } from "../policy/selector-text.js";
import type { WhatIfInput } from "./analysis.js";
import { parseTraffic } from "./check-query.js";
import { PodwallError } from "./errors.js";

export interface WhatIfQuery {
  readonly apply: string | readonly unknown[] | undefined;
  readonly deletes: readonly { kind: Kind; namespace: string; name: string }[];
  readonly traffic: MatrixTraffic[] | undefined;
  readonly limit: number;
}

/** A what-if's body, validated: 400 naming each bad field. */
export function parseWhatIf(input: unknown, maxCells: number): WhatIfQuery {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new PodwallError("bad-request", "body must be a JSON object");
  const body = input as WhatIfInput;
  const errs: FieldError[] = [];
  let apply: WhatIfQuery["apply"];
  if (typeof body.apply === "string" || Array.isArray(body.apply)) apply = body.apply;
  else if (body.apply !== undefined) errs.push(fieldError.typeInvalid(Path.root("apply"), body.apply, "must be manifests (YAML or JSON text) or a list of objects"));
  const deletes: { kind: Kind; namespace: string; name: string }[] = [];
  if (body.delete !== undefined && !Array.isArray(body.delete)) errs.push(fieldError.typeInvalid(Path.root("delete"), body.delete, "must be a list of objects"));
  (Array.isArray(body.delete) ? body.delete : []).forEach((d: unknown, i) => {
    const p = Path.root("delete").index(i);
    const o = (typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>;
    const kind = typeof o["kind"] === "string" ? parseKind(o["kind"]) : undefined;
    if (kind === undefined) errs.push(fieldError.notSupported(p.child("kind"), o["kind"], KINDS));
    const name = typeof o["name"] === "string" ? o["name"] : "";
    if (name === "") errs.push(fieldError.required(p.child("name")));
    const namespace = typeof o["namespace"] === "string" ? o["namespace"] : "";
    if (kind !== undefined && isNamespaced(kind) && namespace === "") errs.push(fieldError.required(p.child("namespace")));
    if (kind !== undefined) deletes.push({ kind, namespace: isNamespaced(kind) ? namespace : "", name });
  });
  const traffic = body.ports === undefined ? undefined : parsePorts(body.ports, errs);
  let limit = maxCells;
  if (body.limit !== undefined) {
    if (typeof body.limit === "number" && Number.isInteger(body.limit) && body.limit >= 0) limit = Math.min(body.limit, maxCells);
    else errs.push(fieldError.invalid(Path.root("limit"), body.limit, "must be a whole number"));
  }
  if (apply === undefined && deletes.length === 0 && errs.length === 0) errs.push(fieldError.required(Path.root("apply"), "manifests to apply, or objects to delete"));
  if (errs.length > 0) throw new PodwallError("bad-request", `invalid what-if: ${errs.map((e) => `${e.field}: ${e.detail}`).join("; ")}`, errs);
  return { apply, deletes, traffic, limit };
}

/** The most ports one what-if names: each is a matrix's worth of the changed rows and columns. */
const MAX_PORTS = 256;

/** ["80", "UDP/53"], each once. */
function parsePorts(v: unknown, errs: FieldError[]): MatrixTraffic[] | undefined {
  if (!Array.isArray(v)) {
    errs.push(fieldError.typeInvalid(Path.root("ports"), v, 'must be a list such as ["80", "UDP/53"]'));
    return undefined;
  }
  if (v.length > MAX_PORTS) {
    errs.push(fieldError.tooMany(Path.root("ports"), v.length, MAX_PORTS));
    return undefined;
  }
  const out: MatrixTraffic[] = [];
  v.forEach((item: unknown, i) => {
    const text = typeof item === "number" ? String(item) : typeof item === "string" ? item : "";
    const slash = text.indexOf("/");
    const local: FieldError[] = [];
    const t = parseTraffic(slash < 0 ? { port: text } : { protocol: text.slice(0, slash), port: text.slice(slash + 1) }, undefined, local);
    if (local.length > 0 || slash === 0)
      errs.push(fieldError.invalid(Path.root("ports").index(i), item, 'must be PORT or PROTOCOL/PORT, such as "80" or "UDP/53", with a port from 1 to 65535'));
    else out.push(t);
  });
  return unionTraffic(out, []);
}

/** A comma-separated list, or an array of strings; undefined when absent or empty. */
export function listOf(v: unknown, name: string, errs: FieldError[]): string[] | undefined {
  if (v === undefined || v === "") return undefined;
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : undefined;
  if (!items || items.some((x) => typeof x !== "string")) {
    errs.push(fieldError.typeInvalid(Path.root(name), v, "must be a comma-separated list of names"));
    return undefined;
  }
  const names = [...new Set((items as string[]).map((x) => x.trim()).filter((x) => x !== ""))];
  return names.length > 0 ? names : undefined;
}

export function selectorOf(v: unknown, errs: FieldError[]): Selector | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") {
    errs.push(fieldError.typeInvalid(Path.root("pods"), v, "must be a label selector"));
    return undefined;
  }
  const s = parseSelectorText(v);
  if ("error" in s) {
    errs.push(fieldError.invalid(Path.root("pods"), v, s.error));
    return undefined;
  }
  return s;
}
