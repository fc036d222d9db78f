/**
 * The gRPC front door: DecisionService and ModelService over the same service
 * layer as REST, plus grpc.health.v1 and server reflection.
 */
import * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { create } from "@bufbuild/protobuf";
import {
  type BatchCheckRequest,
  BatchCheckResponseSchema,
  type CheckRequest,
  DecisionService,
  type DeleteRequest,
  type GetModelRequest,
  GetModelResponseSchema,
  ModelService,
  type ApplyRequest,
  type ReplaceRequest,
} from "../../gen/podwall/v1/podwall_pb.js";
import { ANONYMOUS, ANONYMOUS_REQUEST, type PodwallService, PodwallError, type RequestContext, toPodwallError } from "../../service/index.js";
import { parseKind } from "../../model/types.js";
import { decisionToProto, writeToProto } from "./convert.js";
import { descriptorSet, serviceDefinition } from "./definitions.js";

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/**
 * Runs a handler, turning a PodwallError into its gRPC status (field errors in
 * `podwall-errors` metadata). A handler that answers at once is answered in
 * the same turn; one that returns a promise, when it settles.
 */
export function unary<Req, Res>(fn: (req: Req, ctx: RequestContext) => Res | Promise<Res>): Unary<Req, Res> {
  return (call, cb) => {
    const fail = (err: unknown) => cb(toGrpcError(toPodwallError(err)));
    try {
      const r = fn(call.request, contextOf(call));
      if (r instanceof Promise) r.then((v) => cb(null, v), fail);
      else cb(null, r);
    } catch (err) {
      fail(err);
    }
  };
}

/** The call's context: who asks, and its deadline. */
function contextOf(call: grpc.ServerUnaryCall<unknown, unknown>): RequestContext {
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : undefined;
  return deadline === undefined ? ANONYMOUS_REQUEST : { principal: ANONYMOUS, deadline };
}

export function toGrpcError(e: PodwallError): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (e.errors.length > 0) metadata.set("podwall-errors", JSON.stringify(e.toJSON()["errors"]));
  return { code: e.grpcStatus, details: e.message, metadata };
}

/** The extra handlers of DecisionService beyond Check, supplied by the rules layer. */
export type RulesHandlers = Pick<grpc.UntypedServiceImplementation, "getRules" | "watchRules">;

export function createGrpcServer(service: PodwallService, rules?: RulesHandlers): { server: grpc.Server; health: HealthImplementation } {
  const server = new grpc.Server();
  server.addService(serviceDefinition(DecisionService), {
    check: unary((req: CheckRequest, ctx) => decisionToProto(service.check(ctx, checkInput(req)))),
    batchCheck: unary((req: BatchCheckRequest, ctx) => {
      const r = service.batch(ctx, req.checks.map(checkInput));
      return create(BatchCheckResponseSchema, { results: r.results.map(decisionToProto), generation: BigInt(r.generation) });
    }),
    ...rules,
  });
  server.addService(serviceDefinition(ModelService), {
    apply: unary(async (req: ApplyRequest, ctx) => writeToProto(await service.apply(ctx, req.manifests))),
    replace: unary(async (req: ReplaceRequest, ctx) => writeToProto(await service.replace(ctx, req.manifests))),
    delete: unary(async (req: DeleteRequest, ctx) => {
      const kind = parseKind(req.kind);
      if (!kind) throw new PodwallError("bad-request", `kind ${JSON.stringify(req.kind)} is not one of Namespace, Node, Pod, NetworkPolicy`);
      return writeToProto(await service.delete(ctx, kind, req.namespace, req.name));
    }),
    get: unary((req: GetModelRequest) => {
      const format = req.format === "" || req.format === "yaml" ? "yaml" : req.format === "json" ? "json" : undefined;
      if (!format) throw new PodwallError("bad-request", `format ${JSON.stringify(req.format)} is not "yaml" or "json"`);
      const m = service.model(format);
      return create(GetModelResponseSchema, { generation: BigInt(m.generation), manifests: m.text });
    }),
  });
  // Serving only once the model is loaded: a client that asks health first
  // does not send a question that would be answered UNAVAILABLE.
  const status = () => (service.ready ? "SERVING" : "NOT_SERVING");
  const health = new HealthImplementation({ "": status(), "podwall.v1.DecisionService": status(), "podwall.v1.ModelService": status() });
  service.onReady(() => {
    for (const name of ["", "podwall.v1.DecisionService", "podwall.v1.ModelService"]) health.setStatus(name, "SERVING");
  });
  health.addToServer(server);
  new ReflectionService(loadFileDescriptorSetFromBuffer(descriptorSet())).addToServer(server);
  return { server, health };
}

function checkInput(req: CheckRequest) {
  return { src: req.src, dst: req.dst, protocol: req.protocol, port: req.port === 0 ? undefined : req.port, explain: req.explain };
}

export function listen(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}
