/**
 * Fields the API server knows, and those it does not. With field validation
 * "Warn" (the API server's default) a field it does not know is dropped from
 * the object and named in a warning, `unknown field "spec.foo"`; Podwall does
 * the same, so that what it stores of an object is only what Kubernetes would.
 */
import { KUBE_TYPES } from "./kube-fields.js";
import { fieldPath } from "./parse.js";
import { TIER_TYPES } from "./tier-fields.js";
import type { Segment } from "./yaml-check.js";

interface Field {
  /** The type of an object value; undefined for a value not read further. */
  readonly type: string | undefined;
  readonly list: boolean;
}

const TYPES = new Map<string, ReadonlyMap<string, Field>>(
  Object.entries({ ...KUBE_TYPES, ...TIER_TYPES }).map(([name, spec]) => [
    name,
    new Map(
      spec
        .split(" ")
        .filter((f) => f !== "")
        .map((f): [string, Field] => {
          const [field, type] = f.split(":") as [string, string | undefined];
          return [field, { type: type?.replace(/^\[\]/, ""), list: type?.startsWith("[]") ?? false }];
        }),
    ),
  ]),
);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The paths of the fields of `value` that type `type` does not declare, in
 * order. A value of the wrong type is validation's to report, not this.
 */
export function unknownFields(value: unknown, type: string): string[] {
  const out: string[] = [];
  const path: Segment[] = [];
  const walk = (v: unknown, t: string): void => {
    const fields = TYPES.get(t);
    if (!fields || !isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const f = fields.get(k);
      path.push(k);
      if (!f) out.push(fieldPath(path));
      else if (f.type !== undefined) {
        const ft = f.type;
        if (!f.list) walk(x, ft);
        else if (Array.isArray(x)) {
          x.forEach((item, i) => {
            path.push(i);
            walk(item, ft);
            path.pop();
          });
        }
      }
      path.pop();
    }
  };
  walk(value, type);
  return out;
}

/**
 * A copy of `value` holding only the fields its type declares: what the API
 * server stores of it. Values not read further (strings, numbers, maps of
 * strings) are kept as they are; the caller has validated them.
 */
export function knownOnly(value: unknown, type: string): unknown {
  const fields = TYPES.get(type);
  if (!fields || !isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) {
    const f = fields.get(k);
    if (!f) continue;
    const ft = f.type;
    if (ft === undefined) out[k] = x;
    else if (f.list) out[k] = Array.isArray(x) ? x.map((item) => knownOnly(item, ft)) : x;
    else out[k] = knownOnly(x, ft);
  }
  return out;
}
