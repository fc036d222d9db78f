/** DecisionService.Matrix (streamed rows) and WhatIf over the analysis service. */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type MatrixRequest, type MatrixResponse, MatrixResponseSchema, type WhatIfRequest, WhatIfResponseSchema } from "../../gen/podwall/v1/podwall_pb.js";
import { rows } from "../../analysis/matrix-output.js";
import { type AnalysisService, toPodwallError } from "../../service/index.js";
import { type GrpcDoor, toGrpcError } from "./server.js";

/** Rows per message: about a megabyte of cells (one byte each, packed). */
const CELLS_PER_MESSAGE = 1 << 20;

export type AnalysisHandlers = Pick<grpc.UntypedServiceImplementation, "matrix" | "whatIf">;

export function analysisHandlers(analysis: AnalysisService, door: GrpcDoor): AnalysisHandlers {
  return {
    matrix: async (call: grpc.ServerWritableStream<MatrixRequest, MatrixResponse>) => {
      const started = process.hrtime.bigint();
      let gone = false;
      // One promise for the whole call: each wait for "drain" races it, and adds no listener of its own but drain's.
      const cancelled = new Promise<void>((resolve) =>
        call.once("cancelled", () => {
          gone = true;
          resolve();
        }),
      );
      try {
        const req = call.request;
        const a = analysis.matrix(door.context(call), {
          protocol: req.protocol,
          port: req.port === 0 ? undefined : req.port,
          namespaces: req.namespaces,
          pods: req.pods,
          group: req.group,
        });
        const pods = a.matrix.pods;
        call.write(
          create(MatrixResponseSchema, {
            generation: BigInt(a.generation),
            protocol: a.protocol,
            port: a.port,
            ...(a.groups ? { groups: a.groups.map((g) => ({ pods: g.map((i) => pods[i]!.key) })) } : { pods: pods.map((p) => p.key) }),
          }),
        );
        const width = a.groups ? a.groups.length : pods.length;
        const perMessage = Math.max(1, Math.floor(CELLS_PER_MESSAGE / Math.max(1, width)));
        let batch: { allowed: boolean[] }[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          const ok = call.write(create(MatrixResponseSchema, { rows: batch }));
          batch = [];
          if (!ok && !gone) await Promise.race([new Promise((resolve) => call.once("drain", resolve)), cancelled]);
        };
        for (const row of rows(a)) {
          if (gone) break;
          batch.push({ allowed: Array.from(row.cells, (c) => c === 1) });
          if (batch.length >= perMessage) await flush();
        }
        await flush();
        call.end();
        door.ended("Matrix", gone ? grpc.status.CANCELLED : grpc.status.OK, started);
      } catch (e) {
        const err = toGrpcError(toPodwallError(e));
        door.ended("Matrix", err.code ?? grpc.status.UNKNOWN, started);
        call.emit("error", err);
      }
    },
    whatIf: door.unary("WhatIf", async (req: WhatIfRequest, ctx) => {
      const a = await analysis.whatIf(ctx, {
        ...(req.apply !== "" ? { apply: req.apply } : {}),
        ...(req.delete.length > 0 ? { delete: req.delete.map((d) => ({ kind: d.kind, namespace: d.namespace, name: d.name })) } : {}),
        ...(req.ports.length > 0 ? { ports: req.ports } : {}),
        ...(req.limit > 0 ? { limit: req.limit } : {}),
      });
      return create(WhatIfResponseSchema, {
        generation: BigInt(a.generation),
        ports: [...a.ports],
        cells: a.cells.map((c) => ({
          src: c.src,
          dst: c.dst,
          protocol: c.protocol,
          port: c.port,
          ...(c.before !== null ? { before: c.before } : {}),
          ...(c.after !== null ? { after: c.after } : {}),
        })),
        cellsChanged: BigInt(a.cellsChanged),
        truncated: a.truncated,
        nodes: a.nodes.map((n) => ({ node: n.node, ...(n.before !== null ? { before: n.before } : {}), ...(n.after !== null ? { after: n.after } : {}) })),
        applied: [...a.applied],
        deleted: [...a.deleted],
        skipped: [...a.skipped],
        warnings: [...(a.warnings ?? [])],
      });
    }),
  };
}
