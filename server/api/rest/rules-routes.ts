/**
 * REST routes of node rulesets: GET with ETag / If-None-Match / long poll,
 * agents' status reports, and the nodes overview.
 */
import { gzipSync } from "node:zlib";
import { type Request, type RequestHandler, type Response, Router } from "express";
import type { Ruleset } from "../../rules/index.js";
import { PodwallError, type RequestContext, type RulesService } from "../../service/index.js";

/** The generation a ruleset is current at, and the stored model it counts in (the agent reads them under these names). */
const GENERATION_HEADER = "Podwall-Generation";
const MODEL_HEADER = "Podwall-Model";

const FORMATS = ["json", "ipset", "iptables", "ip6tables"] as const;
type Format = (typeof FORMATS)[number];
/** The longest long poll a request may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 300;

/** How a route reads its request context: answered at once, or waiting (with a signal for a caller that goes away). */
export interface Contexts {
  readonly answered: (req: Request) => RequestContext;
  readonly waiting: (req: Request, res: Response) => RequestContext;
}

export function rulesRoutes(rules: RulesService, json: RequestHandler, ctx: Contexts): Router {
  const r = Router();

  r.get("/v1/nodes", (req, res) => {
    res.json(rules.nodes(ctx.answered(req)));
  });

  r.get("/v1/nodes/:node/rules", async (req, res) => {
    const node = String(req.params["node"]);
    const format = parseFormat(req.query["format"]);
    const wait = parseWait(req.query["wait"]);
    const held = etagValue(req.get("if-none-match"));
    const since = parseSince(req.query["since"], format);
    let ruleset: Ruleset | undefined = rules.rules(ctx.answered(req), node);
    if (held !== undefined && held === ruleset.version) {
      if (wait > 0) {
        ruleset = await rules.waitForChange(ctx.waiting(req, res), node, held, wait * 1000);
      } else {
        ruleset = undefined;
      }
    }
    // A stopping server's answers close their connections: the agent's next poll goes to another replica.
    if (rules.draining) res.set("Connection", "close");
    if (!ruleset) {
      res.status(304).set("ETag", `"${held}"`).end();
      return;
    }
    ruleset = rules.since(node, ruleset, since);
    // The generation the ruleset is current at: an agent that moves between
    // replicas never applies a version older than the one in force.
    const at = rules.generation;
    res.set("ETag", `"${ruleset.version}"`).set("Cache-Control", "no-cache").set("Vary", "Accept-Encoding");
    res.set(GENERATION_HEADER, String(at.generation)).set(MODEL_HEADER, at.model);
    res.type(format === "json" ? "application/json" : "text/plain");
    const plain = body(ruleset, format, false);
    // A delta is often a few hundred bytes: compressing it costs more than sending it.
    if (plain.length >= GZIP_FROM && req.acceptsEncodings("gzip", "identity") === "gzip") res.set("Content-Encoding", "gzip").send(body(ruleset, format, true));
    else res.send(plain);
  });

  r.put("/v1/nodes/:node/status", json, (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new PodwallError("bad-request", "body must be a JSON object");
    res.json(rules.report(ctx.answered(req), String(req.params["node"]), body as Record<string, unknown>));
  });

  return r;
}

/** Bodies shorter than this are sent as they are. */
const GZIP_FROM = 1024;

/**
 * The agents of one node (and their retries) get the same body: it is made
 * once per version and format, and compressed once for those that take gzip
 * (a big node's ruleset is megabytes of very repetitive text).
 */
const bodies = new WeakMap<Ruleset, Map<string, string | Buffer>>();

function body(r: Ruleset, format: Format, gzip: boolean): string | Buffer {
  let known = bodies.get(r);
  if (!known) bodies.set(r, (known = new Map()));
  const key = `${format}${gzip ? "+gzip" : ""}`;
  let b = known.get(key);
  if (b === undefined) {
    const text = format === "json" ? JSON.stringify(r) : r[format];
    b = gzip ? gzipSync(text, { level: 3 }) : text;
    known.set(key, b);
  }
  return b;
}

function parseFormat(v: unknown): Format {
  if (v === undefined) return "json";
  if (typeof v === "string" && (FORMATS as readonly string[]).includes(v)) return v as Format;
  throw new PodwallError("bad-request", `format must be one of ${FORMATS.join(", ")}`, [
    { field: "format", type: "FieldValueNotSupported", value: v, detail: `supported values: ${FORMATS.map((f) => `"${f}"`).join(", ")}` },
  ]);
}

/** `since`: the version the caller has applied; it asks for a delta, which only the JSON form can carry. */
function parseSince(v: unknown, format: Format): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") {
    throw new PodwallError("bad-request", "since must be a ruleset version", [{ field: "since", type: "FieldValueInvalid", value: v, detail: "must be a version" }]);
  }
  if (format !== "json") {
    throw new PodwallError("bad-request", "since asks for a delta, which only the JSON ruleset carries", [
      { field: "since", type: "FieldValueForbidden", detail: `may not be used with format=${format}` },
    ]);
  }
  return v;
}

function parseWait(v: unknown): number {
  if (v === undefined || v === "") return 0;
  const n = typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= MAX_WAIT_SECONDS)) {
    throw new PodwallError("bad-request", `wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`, [
      { field: "wait", type: "FieldValueInvalid", value: v, detail: `must be from 0 to ${MAX_WAIT_SECONDS}` },
    ]);
  }
  return n;
}

/** `"abc"`, `W/"abc"` or `abc` → `abc`. */
function etagValue(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const m = /^(?:W\/)?"?([^"]*)"?$/.exec(h.trim());
  return m?.[1] || undefined;
}
