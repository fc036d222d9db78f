/**
 * The REST front door (express): parses requests, calls the service, renders
 * JSON. No semantics here.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { Authenticator } from "../../auth/authenticator.js";
import { KIND_INFO } from "../../model/kinds.js";
import { TIER_KINDS } from "../../model/tier-types.js";
import { AnalysisService, type Decision, type PodwallService, decisionOf, PodwallError, RulesService, toPodwallError } from "../../service/index.js";
import { analysisRoutes } from "./analysis-routes.js";
import { DEFAULT_LIMITS, type Limits, bodyParsers, queryFlag, warningHeaders } from "./body.js";
import { requireCredentials, restContext, waitingContext } from "./context.js";
import { lintRoutes } from "./lint-routes.js";
import { rulesRoutes } from "./rules-routes.js";
import { uiRoutes } from "./ui-routes.js";

export interface RestOptions {
  /** Largest request body, e.g. "64mb"; stands for `limits.bodyBytes`. */
  readonly bodyLimit?: string;
  /** The limits of what a request may ask (body size and depth, manifests, status reports), where they differ from DEFAULT_LIMITS. */
  readonly limits?: Partial<Limits>;
  /** The rulesets of the same service; made here when not given. */
  readonly rules?: RulesService;
  /** The matrix and what-if of the same service (with its rulesets); made here when not given. */
  readonly analysis?: AnalysisService;
  /** Who may ask what; an open server when not given. */
  readonly auth?: Authenticator;
  /** True once the server is stopping: answers close their connections, so clients reconnect elsewhere. */
  readonly draining?: () => boolean;
}

export function createRestApp(service: PodwallService, opts: RestOptions = {}): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const auth = opts.auth ?? Authenticator.open();
  const ctx = (req: Request) => restContext(auth, req);
  const writing = (req: Request, res: Response) => waitingContext(auth, req, res);
  app.use(requestMetrics(service, opts.draining));
  if (auth.required) app.use(requireCredentials(auth));
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const body = bodyParsers(limits, opts.bodyLimit ?? limits.bodyBytes);
  const json = body.object;

  // Decisions first: the hottest routes are matched before any other.
  app.get("/v1/check", (req, res) => {
    const q = req.query;
    sendDecision(res, service.check(ctx(req), { src: q["src"], dst: q["dst"], protocol: q["protocol"], port: q["port"], explain: q["explain"] }));
  });
  app.post("/v1/check", json, (req, res) => {
    sendDecision(res, service.check(ctx(req), bodyObject(req)));
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    const r = service.readiness();
    res.status(r.ready ? 200 : 503).json(r);
  });
  app.get("/metrics", async (req, res) => {
    const m = await service.metricsText(ctx(req));
    res.type(m.contentType).send(m.text);
  });

  app.put("/v1/model", body.manifests, async (req, res) => {
    sendWrite(res, await service.replace(writing(req, res), bodyText(req), { allowEmpty: queryFlag(req, "allowEmpty"), limits }));
  });
  app.post("/v1/apply", body.manifests, async (req, res) => {
    sendWrite(res, await service.apply(writing(req, res), bodyText(req), { limits }));
  });
  app.get("/v1/model", (req, res) => {
    const yaml = req.accepts(["application/json", "application/yaml"]) === "application/yaml";
    const m = service.model(ctx(req), yaml ? "yaml" : "json");
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
  // The cluster-scoped policies, by their resource: /v1/clusternetworkpolicies/{name}, ...
  for (const kind of TIER_KINDS) {
    app.delete(`/v1/${KIND_INFO[kind].plural}/:name`, async (req, res) => {
      res.json(await service.delete(writing(req, res), kind, "", param(req, "name")));
    });
  }

  app.post("/v1/check/batch", json, (req, res) => {
    const checks = bodyObject(req)["checks"];
    if (!Array.isArray(checks)) {
      throw new PodwallError("bad-request", 'body must be {"checks": [...]}', [{ field: "checks", type: "FieldValueRequired", detail: "an array of checks" }]);
    }
    sendBatch(res, service.batch(ctx(req), checks));
  });

  const rules = opts.rules ?? new RulesService(service);
  app.use(rulesRoutes(rules, body.statusReport, { answered: ctx, waiting: writing }));
  app.use(analysisRoutes(opts.analysis ?? new AnalysisService(service, rules), json, { answered: ctx, waiting: writing }));
  app.use(uiRoutes());
  app.use(lintRoutes(service, ctx));

  app.use((req, _res, next) => next(new PodwallError("not-found", `no route for ${req.method} ${req.path}`)));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = fromHttpError(err);
    if (e.code === "unauthenticated") res.set("WWW-Authenticate", 'Bearer realm="podwall"');
    if (e.code === "too-many-requests") res.set("Retry-After", "1");
    res.status(e.httpStatus).json(e.toJSON());
  });
  return app;
}

const DECISION_ID_HEADER = "X-Podwall-Decision-Id";

/** A decision the cache answered is the same object again: its JSON is made once, and each answer's id put in front of it. */
const decisionJson = new WeakMap<Decision, Buffer>();

function sendDecision(res: Response, d: Decision): void {
  const base = decisionOf(d);
  let json = decisionJson.get(base);
  if (json === undefined) decisionJson.set(base, (json = Buffer.from(JSON.stringify(base))));
  const id = d.decisionId ?? "";
  // `{"decisionId":"…",` and the rest of the cached object after its `{`.
  const body = id === "" ? json : Buffer.concat([Buffer.from(`{"decisionId":${JSON.stringify(id)},`), json.subarray(1)]);
  // The hottest answer: written as it is, without res.send's content negotiation.
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length, [DECISION_ID_HEADER]: id }).end(body);
}

/** A batch's answers each carry their own id; the header names the first. */
function sendBatch(res: Response, r: { results: Decision[]; generation: number }): void {
  const first = r.results[0]?.decisionId;
  if (first !== undefined) res.set(DECISION_ID_HEADER, first);
  res.json(r);
}

/**
 * Requests by route, method and status code, with their durations; while the
 * server stops, every answer also closes its connection.
 */
function requestMetrics(service: PodwallService, draining?: () => boolean): express.RequestHandler {
  const m = service.metrics;
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    if (draining?.()) res.set("Connection", "close");
    res.once("finish", () => {
      const route = req.route ? `${req.method} ${req.baseUrl}${String(req.route.path)}` : `${req.method} unmatched`;
      m.answered("rest", route, String(res.statusCode), Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

/** A write's answer; the fields the API server would drop are also named in `Warning` headers, which kubectl prints. */
function sendWrite(res: Response, r: { readonly warnings?: readonly string[] }): void {
  if (r.warnings && r.warnings.length > 0) res.set("Warning", warningHeaders(r.warnings));
  res.json(r);
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
 * body-parser and router errors carry an HTTP status: 413 too large; 415 a
 * charset or content encoding the server does not read; any other 4xx
 * (malformed body, undecodable path parameter) is a malformed request.
 */
function fromHttpError(err: unknown): PodwallError {
  if (err instanceof PodwallError) return err;
  const e = err as { status?: number; type?: string; message?: string };
  if (e?.type === "entity.too.large") return new PodwallError("too-large", `request body too large: ${e.message}`);
  if (e?.type === "charset.unsupported" || e?.type === "encoding.unsupported") return new PodwallError("unsupported-media-type", String(e.message));
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    return new PodwallError("bad-request", `malformed request${typeof e.type === "string" ? " body" : ""}: ${e.message}`);
  }
  return toPodwallError(err);
}
