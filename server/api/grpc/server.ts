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
import { type PodwallService, PodwallError, toPodwallError } from "../../service/index.js";
import { parseKind } from "../../model/types.js";
import { decisionToProto, writeToProto } from "./convert.js";
import { descriptorSet, serviceDefinition } from "./definitions.js";

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/** Runs a handler, turning a PodwallError into its gRPC status (field errors in `podwall-errors` metadata). */
export function unary<Req, Res>(fn: (req: Req) => Res): Unary<Req, Res> {
  return (call, cb) => {
    try {
      cb(null, fn(call.request));
    } catch (err) {
      cb(toGrpcError(toPodwallError(err)));
    }
  };
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
    check: unary((req: CheckRequest) => decisionToProto(service.check(checkInput(req)))),
    batchCheck: unary((req: BatchCheckRequest) => {
      const r = service.batch(req.checks.map(checkInput));
      return create(BatchCheckResponseSchema, { results: r.results.map(decisionToProto), generation: BigInt(r.generation) });
    }),
    ...rules,
  });
  server.addService(serviceDefinition(ModelService), {
    apply: unary((req: ApplyRequest) => writeToProto(service.apply(req.manifests))),
    replace: unary((req: ReplaceRequest) => writeToProto(service.replace(req.manifests))),
    delete: unary((req: DeleteRequest) => {
      const kind = parseKind(req.kind);
      if (!kind) throw new PodwallError("bad-request", `kind ${JSON.stringify(req.kind)} is not one of Namespace, Node, Pod, NetworkPolicy`);
      return writeToProto(service.delete(kind, req.namespace, req.name));
    }),
    get: unary((req: GetModelRequest) => {
      const format = req.format === "" || req.format === "yaml" ? "yaml" : req.format === "json" ? "json" : undefined;
      if (!format) throw new PodwallError("bad-request", `format ${JSON.stringify(req.format)} is not "yaml" or "json"`);
      const m = service.model(format);
      return create(GetModelResponseSchema, { generation: BigInt(m.generation), manifests: m.text });
    }),
  });
  const health = new HealthImplementation({ "": "SERVING", "podwall.v1.DecisionService": "SERVING", "podwall.v1.ModelService": "SERVING" });
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
