/**
 * REST routes of whole-cluster answers: the reachability matrix, streamed
 * (JSON or a text table), and what-if.
 */
import { type RequestHandler, type Response, Router } from "express";
import { type MatrixAnswer, matrixJson, matrixTable, writeAll } from "../../analysis/matrix-output.js";
import { type AnalysisService, PodwallError } from "../../service/index.js";
import type { Contexts } from "./rules-routes.js";

export function analysisRoutes(analysis: AnalysisService, json: RequestHandler, ctx: Contexts): Router {
  const r = Router();

  r.get("/v1/matrix", async (req, res) => {
    const q = req.query;
    const format = q["format"] ?? "json";
    if (format !== "json" && format !== "table" && format !== "wide") {
      throw new PodwallError("bad-request", 'format must be "json", "table" or "wide"', [
        { field: "format", type: "FieldValueNotSupported", detail: 'supported values: "json", "table", "wide"' },
      ]);
    }
    const answer = analysis.matrix(ctx.answered(req), { protocol: q["protocol"], port: q["port"], namespaces: q["namespaces"], pods: q["pods"], group: q["group"] });
    res.type(format === "json" ? "application/json" : "text/plain");
    await stream(res, answer, format === "json" ? matrixJson : format === "wide" ? (a) => matrixTable(a, undefined, true) : matrixTable);
  });

  r.post("/v1/whatif", json, async (req, res) => {
    res.json(await analysis.whatIf(ctx.waiting(req, res), req.body as unknown));
  });

  return r;
}

/** Writes the pieces as the client takes them; stops when it goes away. */
async function stream(res: Response, answer: MatrixAnswer, encode: (a: MatrixAnswer) => Generator<Buffer>): Promise<void> {
  let gone = false;
  res.once("close", () => {
    gone = true;
  });
  await writeAll(res, encode(answer), () => gone);
  if (!gone) res.end();
}
