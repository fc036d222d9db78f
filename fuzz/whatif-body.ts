/**
 * The members of a what-if's JSON body (apply, delete, ports, limit, and
 * keys no one reads), mostly one odd among valid ones, each with what the
 * server must make of it: a field of the wrong shape is a 400, manifests
 * are read as a write reads them, a delete names an object the model holds
 * or not.
 */
import type { FuzzContext } from "./context.js";
import { poisonedObject } from "./manifests.js";
import { type Verdict, focus } from "./outcome.js";
import type { Rng } from "./random.js";
import { oddText } from "./strings.js";
import { type JsonText, deepJson, depth, oddJson, str } from "./values.js";
import { validObjects } from "./valid-manifests.js";
import { type DeleteRef, applyText, deleteRef, everyPort, kindOf, portEntry } from "./whatif-inputs.js";

/** A member of the body with what it means: the field checks (400), what reading manifests gives, which deletes the model holds. */
export interface Member {
  readonly key: string;
  readonly text: JsonText;
  readonly field: Verdict;
  readonly read?: Verdict;
  readonly present?: readonly Verdict[];
  /** How many objects it deletes, as the answer counts them. */
  readonly deletes?: number;
  /** Set when it is one object to delete, well formed, that the model lacks. */
  readonly absent?: DeleteRef;
  /** Manifests a write may be asked too, as POST /v1/apply takes them. */
  readonly writable?: string;
  readonly namespaces?: readonly string[];
  readonly limit?: number;
}

function applyMember(rng: Rng, ctx: FuzzContext, odd: boolean): Member {
  if (!odd) {
    return rng.weighted<() => Member>([
      [4, () => (({ text, namespaces }) => ({ key: "apply", text: str(text), field: "ok", read: "ok", namespaces }))(applyText(rng, ctx, false))],
      [2, () => (({ objects, namespaces }) => ({ key: "apply", text: JSON.stringify(objects), field: "ok", read: "ok", namespaces }))(validObjects(rng, ctx))],
      [1, () => ({ key: "apply", text: rng.pick(["[]", '""']), field: "ok", read: "ok" })],
    ])();
  }
  return rng.weighted<() => Member>([
    [
      5,
      () => {
        const a = applyText(rng, ctx, true);
        return { key: "apply", text: str(a.text), field: "ok", read: a.verdict, namespaces: a.namespaces, ...(a.writable ? { writable: a.text } : {}) };
      },
    ],
    [
      2,
      () => {
        const items = Array.from({ length: rng.size(1, 6) }, () => (rng.bool(0.85) ? poisonedObject(rng, ctx.namespaces) : oddJson(rng, 1)));
        const text = `[${items.join(",")}]`;
        const list = listOf(text);
        return { key: "apply", text, field: "ok", read: "bad", ...(list !== undefined ? { writable: list } : {}) };
      },
    ],
    [1, () => ({ key: "apply", text: `[${deepJson(rng, depth(rng))}]`, field: "ok", read: "bad" })],
    [2, () => ({ key: "apply", text: rng.pick(["5", "-1", "true", "null", "{}", '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}', "1e400"]), field: "bad" })],
  ])();
}

/** The most levels a request body may nest (the server's default): deeper, the body is refused before any field is read. */
const MAX_DEPTH = 100;

/**
 * The objects a what-if is given, as the List a write of them sends: what the
 * body's parser made of them (a duplicate key is gone, its last value kept),
 * so both are asked the same. None when a number does not survive JSON (1e400)
 * or the body is too deep to be read at all.
 */
function listOf(text: string): string | undefined {
  let finite = true;
  try {
    const value: unknown = JSON.parse(text);
    // The body holds the list one level down.
    if (depthOf(value) + 1 > MAX_DEPTH) return undefined;
    const items = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) finite = false;
      return v;
    });
    return finite ? `{"apiVersion":"v1","kind":"List","items":${items}}` : undefined;
  } catch {
    return undefined;
  }
}

/** How many levels of arrays and objects a value nests, walked without recursion. */
function depthOf(value: unknown): number {
  let most = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    most = Math.max(most, d + 1);
    for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return most;
}

function deleteMember(rng: Rng, ctx: FuzzContext, odd: boolean): Member {
  const n = rng.weighted<() => number>([
    [4, () => 1],
    [3, () => rng.int(2, 3)],
    [1, () => 0],
    [1, () => rng.size(4, 2_000)],
  ])();
  if (odd && rng.bool(0.1)) return { key: "delete", text: rng.pick(['{"kind":"Pod","namespace":"x","name":"a"}', '"x/a"', "5", "null", "true", "{}"]), field: "bad" };
  const refs = Array.from({ length: n }, () => deleteRef(rng, ctx, odd));
  const texts: JsonText[] = [];
  const fields: Verdict[] = [];
  refs.forEach((r) => {
    if (!odd || rng.bool(0.9)) {
      const members = [`"kind":${str(r.kind)}`, `"namespace":${str(r.namespace)}`, `"name":${str(r.name)}`];
      if (rng.bool(0.05)) members.push(`${str(rng.pick(["apiVersion", "uid", "extra", oddText(rng, 6)]))}:${oddJson(rng, 1)}`);
      texts.push(`{${(rng.bool(0.2) ? members.reverse() : members).join(",")}}`);
      fields.push(r.shape);
      return;
    }
    // A field of the wrong type reads as missing: the kind or name is then wanting; a namespace only where the kind has one.
    const which = rng.pick(["kind", "namespace", "name", "entry"] as const);
    const value = rng.pick(["5", "null", "true", "[]", '{"a":1}', '["Pod"]']);
    if (which === "entry") {
      texts.push(rng.pick(["5", "null", '"Pod x/a"', "[]", "{}"]));
      fields.push("bad");
      return;
    }
    const m = { kind: str(r.kind), namespace: str(r.namespace), name: str(r.name), [which]: value };
    texts.push(`{"kind":${m.kind},"namespace":${m.namespace},"name":${m.name}}`);
    const k = which === "kind" ? undefined : kindOf(r.kind);
    const namespaced = k === "Pod" || k === "NetworkPolicy";
    fields.push(which === "kind" || which === "name" || (which === "namespace" && namespaced) ? "bad" : r.shape);
  });
  const one = refs.length === 1 && fields[0] === "ok" && refs[0]!.present === "bad" ? refs[0] : undefined;
  return {
    key: "delete",
    text: `[${texts.join(",")}]`,
    field: fields.includes("bad") ? "bad" : "ok",
    present: refs.map((r) => r.present),
    deletes: refs.length,
    ...(one ? { absent: one } : {}),
    namespaces: refs.filter((r) => kindOf(r.kind) === "Namespace").map((r) => r.name),
  };
}

function portsMember(rng: Rng, odd: boolean): Member {
  return rng.weighted<() => Member>([
    [
      6,
      () => {
        const entries = Array.from({ length: rng.int(0, 6) }, () => {
          if (odd && rng.bool(0.15))
            return rng.pick<[string, Verdict]>([
              ["80", "ok"],
              ["53", "ok"],
              ["0", "bad"],
              ["65536", "bad"],
              ["80.5", "bad"],
              ["-0", "bad"],
              ["1e21", "bad"],
              ["true", "bad"],
              ["null", "bad"],
              ["{}", "bad"],
              ["[80]", "bad"],
            ]);
          const p = portEntry(rng, odd);
          return [str(p.text), p.verdict] as [string, Verdict];
        });
        return {
          key: "ports",
          text: `[${entries.map((e) => e[0]).join(",")}]`,
          field: entries.some((e) => e[1] === "bad") ? "bad" : entries.some((e) => e[1] === "unknown") ? "unknown" : "ok",
        };
      },
    ],
    // Past the 256 ports a what-if may name: refused before anything is read.
    [1, () => ({ key: "ports", text: JSON.stringify(everyPort(rng)), field: "bad" })],
    [odd ? 1 : 0, () => ({ key: "ports", text: rng.pick(['"80"', "80", "null", "{}", '"UDP/53,80"', "true"]), field: "bad" })],
  ])();
}

/** A limit, and the most cells it lets an answer list. */
const LIMITS: readonly (readonly [JsonText, Verdict, number?])[] = [
  ["0", "ok", 0],
  ["1", "ok", 1],
  ["2", "ok", 2],
  ["10000", "ok", 10_000],
  ["1e308", "ok", 10_000],
  ["9007199254740993", "ok", 10_000],
  ["-0", "ok", 0],
  ["1e-400", "ok", 0],
  ["1.0", "ok", 1],
  ["-1", "bad"],
  ["0.5", "bad"],
  ["1e400", "bad"],
  ["-1e400", "bad"],
  ['"5"', "bad"],
  ["null", "bad"],
  ["true", "bad"],
  ["[]", "bad"],
  ["{}", "bad"],
  ['"Infinity"', "bad"],
];

function limitMember(rng: Rng, odd: boolean): Member {
  const [text, field, limit] = rng.pick(LIMITS.filter(([, v]) => (v === "bad") === odd));
  return { key: "limit", text, field, ...(limit !== undefined ? { limit } : {}) };
}

/** The body's members, some of them twice (the last one counts). */
export function members(rng: Rng, ctx: FuzzContext): { list: Member[]; duplicate: boolean } {
  const list: Member[] = [];
  // Manifests are the field with the most ways to be wrong: twice the share.
  const odd = focus(rng, ["apply", "apply", "delete", "ports", "limit"] as const);
  // Manifests alone, or a delete alone, are what a write asks too: those are the most common.
  if (odd("apply") || (!odd("delete") && rng.bool(0.5))) list.push(applyMember(rng, ctx, odd("apply")));
  if (odd("delete") || rng.bool(0.25) || list.length === 0) list.push(deleteMember(rng, ctx, odd("delete")));
  if (odd("ports") || rng.bool(0.3)) list.push(portsMember(rng, odd("ports")));
  if (odd("limit") || rng.bool(0.3)) list.push(limitMember(rng, odd("limit")));
  if (rng.bool(0.1)) list.push({ key: rng.pick(["dryRun", "Apply", "APPLY", "__proto__", "constructor", "deletes", oddText(rng, 8)]), text: oddJson(rng, 1), field: "ok" });
  const duplicate = list.length > 0 && rng.bool(0.08);
  if (duplicate) {
    const again = rng.pick(list).key;
    const makers: Record<string, () => Member> = {
      apply: () => applyMember(rng, ctx, rng.bool()),
      delete: () => deleteMember(rng, ctx, rng.bool()),
      ports: () => portsMember(rng, rng.bool()),
      limit: () => limitMember(rng, rng.bool()),
    };
    if (Object.hasOwn(makers, again)) list.push(makers[again]!());
  }
  if (rng.bool(0.2)) list.reverse();
  return { list, duplicate };
}
