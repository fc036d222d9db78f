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
import { DEFAULT_LIMITS, type Limits } from "../rest/body.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { type Metrics, OPEN, OPEN_REQUEST, type PodwallService, PodwallError, type RequestContext, toPodwallError } from "../../service/index.js";
import { parseKind } from "../../model/types.js";
import { decisionToProto, writeToProto } from "./convert.js";
import { descriptorSet, errorsMetadata, serviceDefinition, statusDetails } from "./definitions.js";

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * What every gRPC handler shares: the request context made from the call's
 * credentials (`authorization: Bearer T` metadata, or a client certificate the
 * TLS handshake verified), and calls counted by method and status code.
 */
export class GrpcDoor {
  constructor(
    readonly auth: Authenticator,
    readonly metrics: Metrics,
  ) {}

  /** The call's context: who asks, from where, and its deadline. */
  context(call: AnyCall): RequestContext {
    const d = call.getDeadline();
    const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : undefined;
    if (!this.auth.required && deadline === undefined) return OPEN_REQUEST;
    const authorization = call.metadata.get("authorization")[0];
    const principal = this.auth.required
      ? this.auth.principal({ authorization: typeof authorization === "string" ? authorization : undefined, certificateName: certificateName(call) })
      : OPEN;
    return { principal, peer: call.getPeer(), ...(deadline !== undefined ? { deadline } : {}) };
  }

  /** A call ended with `code`: counted and timed. */
  ended(method: string, code: grpc.status, startedNs: bigint): void {
    this.metrics.answered("grpc", method, grpc.status[code] ?? String(code), Number(process.hrtime.bigint() - startedNs) / 1e9);
  }

  /**
   * Runs a handler, turning a PodwallError into its gRPC status (field errors
   * in `podwall-errors` metadata). A handler that answers at once is answered
   * in the same turn; one that returns a promise, when it settles.
   */
  unary<Req, Res>(method: string, fn: (req: Req, ctx: RequestContext) => Res | Promise<Res>): Unary<Req, Res> {
    return (call, cb) => {
      const started = process.hrtime.bigint();
      const fail = (err: unknown) => {
        const e = toGrpcError(toPodwallError(err));
        this.ended(method, e.code ?? grpc.status.UNKNOWN, started);
        cb(e);
      };
      const ok = (v: Res) => {
        this.ended(method, grpc.status.OK, started);
        cb(null, v);
      };
      try {
        const r = fn(call.request, this.context(call));
        if (r instanceof Promise) r.then(ok, fail);
        else ok(r);
      } catch (err) {
        fail(err);
      }
    };
  }
}

/** The subject common name of a client certificate the TLS handshake verified. */
function certificateName(call: AnyCall): string | undefined {
  const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  return typeof cn === "string" ? cn : undefined;
}

/**
 * The status of a failed call: the message as its details, the field errors as
 * JSON in `podwall-errors` metadata, and `podwall-errors-omitted`, the count
 * of those left out. Both are sent in HTTP/2 trailers, made safe and small
 * enough for any client (definitions.ts).
 */
export function toGrpcError(e: PodwallError): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  const errors = e.toJSON()["errors"] as unknown[];
  let omitted = e.omittedErrors;
  if (errors.length > 0) {
    const m = errorsMetadata(errors);
    metadata.set("podwall-errors", m.value);
    omitted += m.left;
  }
  if (omitted > 0) metadata.set("podwall-errors-omitted", String(omitted));
  return { code: e.grpcStatus, details: statusDetails(e.message), metadata };
}

/** What grpc.health.v1 answers for: the server as a whole and each of its services. */
export const HEALTH_NAMES = ["", "podwall.v1.DecisionService", "podwall.v1.ModelService"] as const;

/** The extra handlers of DecisionService beyond Check, supplied by the rules layer and the analysis layer. */
export type RulesHandlers = Pick<grpc.UntypedServiceImplementation, "getRules" | "watchRules">;
export type MoreHandlers = Partial<Pick<grpc.UntypedServiceImplementation, "getRules" | "watchRules" | "matrix" | "whatIf">>;

export function createGrpcServer(
  service: PodwallService,
  door: GrpcDoor,
  rules?: MoreHandlers,
  limits: Limits = DEFAULT_LIMITS,
): { server: grpc.Server; health: HealthImplementation } {
  // A message as large as a REST body may be, and no larger.
  const server = new grpc.Server({ "grpc.max_receive_message_length": limits.bodyBytes });
  const manifestLimits = { limits };
  server.addService(serviceDefinition(DecisionService), {
    check: door.unary("Check", (req: CheckRequest, ctx) => decisionToProto(service.check(ctx, checkInput(req)))),
    batchCheck: door.unary("BatchCheck", (req: BatchCheckRequest, ctx) => {
      const r = service.batch(ctx, req.checks.map(checkInput));
      return create(BatchCheckResponseSchema, { results: r.results.map(decisionToProto), generation: BigInt(r.generation) });
    }),
    ...rules,
  });
  server.addService(serviceDefinition(ModelService), {
    apply: door.unary("Apply", async (req: ApplyRequest, ctx) => writeToProto(await service.apply(ctx, req.manifests, manifestLimits))),
    replace: door.unary("Replace", async (req: ReplaceRequest, ctx) => writeToProto(await service.replace(ctx, req.manifests, { ...manifestLimits, allowEmpty: req.allowEmpty }))),
    delete: door.unary("Delete", async (req: DeleteRequest, ctx) => {
      const kind = parseKind(req.kind);
      if (!kind) throw new PodwallError("bad-request", `kind ${JSON.stringify(req.kind)} is not one of Namespace, Node, Pod, NetworkPolicy`);
      return writeToProto(await service.delete(ctx, kind, req.namespace, req.name));
    }),
    get: door.unary("Get", (req: GetModelRequest, ctx) => {
      const format = req.format === "" || req.format === "yaml" ? "yaml" : req.format === "json" ? "json" : undefined;
      if (!format) throw new PodwallError("bad-request", `format ${JSON.stringify(req.format)} is not "yaml" or "json"`);
      const m = service.model(ctx, format);
      return create(GetModelResponseSchema, { generation: BigInt(m.generation), manifests: m.text });
    }),
  });
  // Serving only once the model is loaded: a client that asks health first
  // does not send a question that would be answered UNAVAILABLE.
  const status = service.ready ? "SERVING" : "NOT_SERVING";
  const health = new HealthImplementation(Object.fromEntries(HEALTH_NAMES.map((n) => [n, status])));
  service.onReady(() => {
    for (const name of HEALTH_NAMES) health.setStatus(name, "SERVING");
  });
  health.addToServer(server);
  new ReflectionService(loadFileDescriptorSetFromBuffer(descriptorSet())).addToServer(server);
  return { server, health };
}

function checkInput(req: CheckRequest) {
  return { src: req.src, dst: req.dst, protocol: req.protocol, port: req.port === 0 ? undefined : req.port, explain: req.explain };
}

export function listen(server: grpc.Server, address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
