/**
 * Request bodies of the REST door: which media types a body may have, how
 * large and how deep it may be, and what a write asks besides its body.
 *
 * Only JSON and YAML are read (415 otherwise), as the API server reads them:
 * a body a web page of another site can send without asking first (a form,
 * text/plain) is never taken for a write.
 */
import express, { type Request, type RequestHandler } from "express";
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from "../../manifests/limits.js";
import { ManifestSyntaxError, ManifestTooLargeError, parseDocument } from "../../manifests/parse.js";
import type { FieldError } from "../../policy/field.js";
import { PodwallError, parseFlag } from "../../service/index.js";

/** Every limit of the server's front doors, one object: `serve` takes overrides of any. */
export interface Limits extends ManifestLimits {
  /** The largest request body, in bytes. */
  readonly bodyBytes: number;
  /** The longest `version` of a node's status report, in bytes. */
  readonly statusVersionBytes: number;
  /** The longest `error` of a node's status report, in bytes. */
  readonly statusErrorBytes: number;
  /**
   * How long a request may take to arrive, headers and body, in milliseconds
   * (a body that stops arriving is answered 408 and its connection closed).
   * Answers that wait, such as long polls, are not counted.
   */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  ...DEFAULT_MANIFEST_LIMITS,
  bodyBytes: 64 * 1024 * 1024,
  statusVersionBytes: 256,
  statusErrorBytes: 4096,
  requestTimeoutMs: 60_000,
};

/** The media types a body may have, with any parameters (a charset, UTF-8). */
export const BODY_TYPES = ["application/json", "application/yaml", "application/x-yaml", "text/yaml"] as const;

export interface BodyParsers {
  /** The manifests of a write, as text (`req.body`). */
  readonly manifests: RequestHandler;
  /** A JSON (or YAML) value, an object unless the route says otherwise: a check, a batch of checks. */
  readonly object: RequestHandler;
  /** A node's status report: an object whose fields are bounded. */
  readonly statusReport: RequestHandler;
}

/** The parsers of the bodies of the routes; `limit` ("64mb") stands for `limits.bodyBytes` when given. */
export function bodyParsers(limits: Limits = DEFAULT_LIMITS, limit: string | number = limits.bodyBytes): BodyParsers {
  const text = express.text({ type: () => true, limit, defaultCharset: "utf-8" });
  const object: RequestHandler = (req, _res, next) => {
    try {
      req.body = parseObjectBody(req, limits);
      next();
    } catch (e) {
      next(e);
    }
  };
  const status: RequestHandler = (req, _res, next) => {
    try {
      checkStatusReport(req.body, limits);
      next();
    } catch (e) {
      next(e);
    }
  };
  return { manifests: chain(mediaType, text), object: chain(mediaType, text, object), statusReport: chain(mediaType, text, object, status) };
}

/** The handlers one after another, as one; the first error ends the chain. */
function chain(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        next(err);
        return;
      }
      const h = handlers[i++];
      if (!h) {
        next();
        return;
      }
      try {
        void h(req, res, step);
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}

/** 415 unless a body is JSON or YAML in UTF-8. A request without a body needs no type. */
const mediaType: RequestHandler = (req, _res, next) => {
  const length = req.headers["content-length"];
  if (req.headers["transfer-encoding"] === undefined && (length === undefined || Number(length) === 0)) {
    next();
    return;
  }
  const [type = "", ...params] = (req.headers["content-type"] ?? "").split(";").map((s) => s.trim());
  if (!(BODY_TYPES as readonly string[]).includes(type.toLowerCase())) {
    return next(
      new PodwallError(
        "unsupported-media-type",
        `the body of the request was in an unknown format (${JSON.stringify(type.slice(0, 100))}) - accepted media types include: ${BODY_TYPES.join(", ")}`,
      ),
    );
  }
  const charset = params.map((p) => /^charset\s*=\s*"?([^"]*)"?$/i.exec(p)?.[1]).find((c) => c !== undefined);
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    return next(new PodwallError("unsupported-media-type", `unsupported charset ${JSON.stringify(charset.slice(0, 40).toUpperCase())}`));
  }
  next();
};

function isYaml(req: Request): boolean {
  return /yaml/i.test(req.headers["content-type"] ?? "");
}

/**
 * The body as a value: JSON (or YAML, as the content type says), no deeper
 * than the limit. An empty body is `{}`; no body at all, undefined.
 */
function parseObjectBody(req: Request, limits: Limits): unknown {
  const text: unknown = req.body;
  if (typeof text !== "string") return undefined;
  if (text.trim() === "") return {};
  if (isYaml(req)) {
    try {
      return parseDocument(text, limits);
    } catch (e) {
      if (e instanceof ManifestSyntaxError) throw new PodwallError("bad-request", `malformed request body: ${e.message}`);
      if (e instanceof ManifestTooLargeError) throw new PodwallError("too-large", `request body too large: ${e.message}`);
      throw e;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PodwallError("bad-request", `malformed request body: ${(e as Error).message}`);
  }
  if (tooDeep(value, limits.maxDepth)) throw new PodwallError("bad-request", `malformed request body: exceeded max depth of ${limits.maxDepth}`);
  return value;
}

/** True when the value nests deeper than `max` levels; walked without recursion. */
function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const x of Object.values(v)) if (typeof x === "object" && x !== null) stack.push([x, depth + 1]);
  }
  return false;
}

/** A status report's strings are bounded: an agent says which version it applied and, briefly, why it failed. */
function checkStatusReport(body: unknown, limits: Limits): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  const b = body as Record<string, unknown>;
  const errors = [];
  for (const [field, max] of [
    ["version", limits.statusVersionBytes],
    ["error", limits.statusErrorBytes],
    ["appliedAt", 64],
  ] as const) {
    const v = b[field];
    if (typeof v === "string" && Buffer.byteLength(v) > max) {
      errors.push({ field, type: "FieldValueInvalid" as const, detail: `may not be more than ${max} bytes` });
    }
  }
  if (errors.length > 0) throw new PodwallError("bad-request", "invalid status report", errors);
}

/**
 * A boolean flag of the query, read as the API server reads one
 * (strconv.ParseBool); absent is false. Anything else is a 400.
 */
export function queryFlag(req: Request, name: string): boolean {
  const errs: FieldError[] = [];
  const flag = parseFlag(req.query[name], name, errs);
  if (errs.length > 0) throw new PodwallError("bad-request", `${name} must be true or false`, errs);
  return flag;
}

/** Warnings past this many characters in all are each cut to WARNING_ITEM_CHARS, as the API server cuts them. */
const WARNING_TOTAL_CHARS = 4 * 1024;
const WARNING_ITEM_CHARS = 256;

/**
 * `Warning` header values for the warnings of an answer, as the API server
 * sends them: `299 - "unknown field \"spec.foo\""`, kubectl prints each.
 * Non-ASCII text goes as UTF-8, control characters escaped.
 */
export function warningHeaders(warnings: readonly string[]): string[] {
  const total = warnings.reduce((n, w) => n + [...w].length, 0);
  return warnings.map((w) => {
    const text = total > WARNING_TOTAL_CHARS ? [...w].slice(0, WARNING_ITEM_CHARS).join("") : w;
    const quoted = text.replace(/["\\]/g, "\\$&").replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    return `299 - "${Buffer.from(quoted, "utf8").toString("latin1")}"`;
  });
}
