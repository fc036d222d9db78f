/**
 * The `--auth FILE` of the contract: identities (bearer tokens by their
 * SHA-256, client certificates by subject common name) and their roles.
 * Read strictly: an unknown field, a bad digest or an agent without its node
 * is an error with its field path, and the file is not used.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type FieldError, Path, fieldError } from "../policy/field.js";
import type { Role } from "../service/context.js";
import { PodwallError, invalidMessage } from "../service/errors.js";

export interface Identity {
  readonly name: string;
  readonly role: Role;
  readonly node?: string;
}

export interface AuthTable {
  /** Each token's SHA-256 digest (32 bytes) with its identity. */
  readonly tokens: readonly { readonly digest: Buffer; readonly identity: Identity }[];
  /** Client certificates' subject common names. */
  readonly certificates: ReadonlyMap<string, Identity>;
}

const ROLES: readonly Role[] = ["admin", "reader", "agent"];

export function readAuthFile(path: string): AuthTable {
  let raw: unknown;
  try {
    // Every value is text: a digest of digits alone is still a digest, not a number.
    raw = parse(readFileSync(path, "utf8"), { schema: "failsafe", maxAliasCount: 0 });
  } catch (e) {
    throw new PodwallError("bad-request", `auth file ${path}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  const errors: FieldError[] = [];
  const table = parseAuthTable(raw, errors);
  if (errors.length > 0) throw new PodwallError("invalid", invalidMessage(`auth file ${path}`, errors), errors);
  return table;
}

export function parseAuthTable(raw: unknown, errors: FieldError[]): AuthTable {
  const root = Path.root("");
  const doc = record(raw, root, errors, ["tokens", "certificates"]) ?? {};
  const names = new Set<string>();
  const tokens: { digest: Buffer; identity: Identity }[] = [];
  const digests = new Set<string>();
  for (const [item, at] of list(doc["tokens"], Path.root("tokens"), errors)) {
    const t = record(item, at, errors, ["name", "sha256", "role", "node"]);
    if (!t) continue;
    const identity = parseIdentity(t, at, "name", errors, names);
    const sha = t["sha256"];
    if (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha)) {
      errors.push(
        sha === undefined
          ? fieldError.required(at.child("sha256"), "the hex SHA-256 of the token")
          : fieldError.invalid(at.child("sha256"), sha, "must be 64 hex digits: the SHA-256 of the token"),
      );
    } else if (digests.has(sha.toLowerCase())) {
      errors.push(fieldError.duplicate(at.child("sha256"), sha));
    } else {
      digests.add(sha.toLowerCase());
      if (identity) tokens.push({ digest: Buffer.from(sha, "hex"), identity });
    }
  }
  const certificates = new Map<string, Identity>();
  for (const [item, at] of list(doc["certificates"], Path.root("certificates"), errors)) {
    const c = record(item, at, errors, ["commonName", "role", "node"]);
    if (!c) continue;
    const identity = parseIdentity(c, at, "commonName", errors, names);
    if (!identity) continue;
    if (certificates.has(identity.name)) errors.push(fieldError.duplicate(at.child("commonName"), identity.name));
    else certificates.set(identity.name, identity);
  }
  return { tokens, certificates };
}

function parseIdentity(o: Record<string, unknown>, at: Path, nameField: string, errors: FieldError[], names: Set<string>): Identity | undefined {
  const before = errors.length;
  const name = o[nameField];
  if (typeof name !== "string" || name === "") errors.push(fieldError.required(at.child(nameField), "the identity's name"));
  else if (nameField === "name" && names.has(name)) errors.push(fieldError.duplicate(at.child(nameField), name));
  else names.add(name);
  const role = o["role"];
  if (!ROLES.includes(role as Role))
    errors.push(role === undefined ? fieldError.required(at.child("role"), `one of ${ROLES.join(", ")}`) : fieldError.notSupported(at.child("role"), role, ROLES));
  const node = o["node"];
  if (role === "agent" && (typeof node !== "string" || node === "")) errors.push(fieldError.required(at.child("node"), "the node an agent identity acts for"));
  else if (role !== "agent" && node !== undefined) errors.push(fieldError.forbidden(at.child("node"), "only an agent identity acts for a node"));
  if (errors.length > before) return undefined;
  return { name: name as string, role: role as Role, ...(role === "agent" ? { node: node as string } : {}) };
}

function record(v: unknown, at: Path, errors: FieldError[], fields: readonly string[]): Record<string, unknown> | undefined {
  if (v === null || v === undefined) {
    if (at.toString() === "") return {};
    errors.push(fieldError.required(at, "an object"));
    return undefined;
  }
  if (typeof v !== "object" || Array.isArray(v)) {
    errors.push(fieldError.typeInvalid(at, v, "object"));
    return undefined;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) errors.push(fieldError.forbidden(at.child(k), `unknown field; known fields: ${fields.join(", ")}`));
  return o;
}

function* list(v: unknown, at: Path, errors: FieldError[]): Generator<[unknown, Path]> {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) {
    errors.push(fieldError.typeInvalid(at, v, "array"));
    return;
  }
  for (const [i, item] of v.entries()) yield [item, at.index(i)];
}
