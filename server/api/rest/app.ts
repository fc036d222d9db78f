/**
 * The REST front door (express): parses requests, calls the service, renders
 * JSON. No semantics here.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { ANONYMOUS, ANONYMOUS_REQUEST, type Decision, type PodwallService, PodwallError, type RequestContext, RulesService, toPodwallError } from "../../service/index.js";
import { rulesRoutes } from "./rules-routes.js";

export interface RestOptions {
  /** Largest request body, e.g. "64mb". */
  readonly bodyLimit?: string;
  /** The rulesets of the same service; made here when not given. */
  readonly rules?: RulesService;
}

export function createRestApp(service: PodwallService, opts: RestOptions = {}): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const limit = opts.bodyLimit ?? "64mb";
  const text = express.text({ type: () => true, limit });
  const json = express.json({ type: () => true, limit, strict: true });

  // Decisions first: the hottest routes are matched before any other.
  app.get("/v1/check", (req, res) => {
    const q = req.query;
    sendDecision(res, service.check(ANONYMOUS_REQUEST, { src: q["src"], dst: q["dst"], protocol: q["protocol"], port: q["port"], explain: q["explain"] }));
  });
  app.post("/v1/check", json, (req, res) => {
    sendDecision(res, service.check(ANONYMOUS_REQUEST, bodyObject(req)));
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    const r = service.readiness();
    res.status(r.ready ? 200 : 503).json(r);
  });
  app.get("/metrics", async (_req, res) => {
    res.type(service.metrics.registry.contentType).send(await service.metrics.registry.metrics());
  });

  app.put("/v1/model", text, async (req, res) => {
    res.json(await service.replace(writing(req, res), bodyText(req)));
  });
  app.post("/v1/apply", text, async (req, res) => {
    res.json(await service.apply(writing(req, res), bodyText(req)));
  });
  app.get("/v1/model", (req, res) => {
    const yaml = req.accepts(["application/json", "application/yaml"]) === "application/yaml";
    const m = service.model(yaml ? "yaml" : "json");
    res.type(yaml ? "application/yaml" : "application/json").send(m.text);
  });
  app.delete("/v1/namespaces/:ns", async (req, res) => {
    res.json(await service.delete(writing(req, res), "Namespace", "", param(req, "ns")));
  });
  app.delete("/v1/namespaces/:ns/pods/:name", async (req, res) => {
    res.json(await service.delete(writing(req, res), "Pod", param(req, "ns"), param(req, "name")));
  });
  app.delete("/v1/namespaces/:ns/networkpolicies/:name", async (req, res) => {
    res.json(await service.delete(writing(req, res), "NetworkPolicy", param(req, "ns"), param(req, "name")));
  });
  app.delete("/v1/nodes/:name", async (req, res) => {
    res.json(await service.delete(writing(req, res), "Node", "", param(req, "name")));
  });

  app.post("/v1/check/batch", json, (req, res) => {
    const checks = bodyObject(req)["checks"];
    if (!Array.isArray(checks)) {
      throw new PodwallError("bad-request", "body must be {\"checks\": [...]}", [
        { field: "checks", type: "FieldValueRequired", detail: "an array of checks" },
      ]);
    }
    res.json(service.batch(ANONYMOUS_REQUEST, checks));
  });

  app.use(rulesRoutes(opts.rules ?? new RulesService(service), json));

  app.use((req, _res, next) => next(new PodwallError("not-found", `no route for ${req.method} ${req.path}`)));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = fromHttpError(err);
    res.status(e.httpStatus).json(e.toJSON());
  });
  return app;
}

/** A decision the cache answered is the same object again: its JSON is made once. */
const decisionJson = new WeakMap<Decision, Buffer>();

function sendDecision(res: Response, d: Decision): void {
  let body = decisionJson.get(d);
  if (body === undefined) decisionJson.set(d, (body = Buffer.from(JSON.stringify(d))));
  // The hottest answer: written as it is, without res.send's content negotiation.
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length }).end(body);
}

/** The context of a write: who asks, and a signal that fires if the caller goes away before it is answered. */
function writing(_req: Request, res: Response): RequestContext {
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  return { principal: ANONYMOUS, signal: gone.signal };
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

function bodyText(req: Request): string {
  return typeof req.body === "string" ? req.body : "";
}

function bodyObject(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) {
    throw new PodwallError("bad-request", "body must be a JSON object");
  }
  return b as Record<string, unknown>;
}

/**
 * body-parser and router errors carry an HTTP status: 413 too large; any other
 * 4xx (malformed body, unsupported charset or content encoding, undecodable
 * path parameter) is a malformed request.
 */
function fromHttpError(err: unknown): PodwallError {
  if (err instanceof PodwallError) return err;
  const e = err as { status?: number; type?: string; message?: string };
  if (e?.type === "entity.too.large") return new PodwallError("too-large", `request body too large: ${e.message}`);
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    return new PodwallError("bad-request", `malformed request${typeof e.type === "string" ? " body" : ""}: ${e.message}`);
  }
  return toPodwallError(err);
}
