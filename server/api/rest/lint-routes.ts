/**
 * REST route of the linter: `GET /v1/lint[?severity=warning]` answers
 * `{"generation","findings":[...]}`, the findings at or above the severity
 * asked (every finding when none is).
 */
import { type Request, Router } from "express";
import { type Finding, type Severity, SEVERITIES, atLeast, lint, parseSeverity } from "../../analysis/lint.js";
import { Path, fieldError } from "../../policy/index.js";
import { type PodwallService, PodwallError, type RequestContext, authorize } from "../../service/index.js";

export function lintRoutes(service: PodwallService, ctx: (req: Request) => RequestContext): Router {
  const r = Router();
  // The findings of the last model linted: a model is linted once, however often it is asked.
  let last: { model: string; generation: number; findings: readonly Finding[] } | undefined;

  r.get("/v1/lint", (req, res) => {
    authorize(ctx(req), "model:read");
    const least = parseLeast(req.query["severity"]);
    service.requireReady();
    const generation = service.generation;
    if (last?.model !== service.modelId || last.generation !== generation) {
      last = { model: service.modelId, generation, findings: lint(service.cluster) };
    }
    res.json({ generation, findings: last.findings.filter((f) => atLeast(f.severity, least)) });
  });

  return r;
}

function parseLeast(v: unknown): Severity {
  if (v === undefined) return "info";
  const s = parseSeverity(v);
  if (s !== undefined) return s;
  throw new PodwallError("bad-request", `severity must be one of ${SEVERITIES.join(", ")}`, [fieldError.notSupported(Path.root("severity"), v, SEVERITIES)]);
}
