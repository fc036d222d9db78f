/** Typed gRPC clients of DecisionService and ModelService over grpc-js. */
import * as grpc from "@grpc/grpc-js";
import { type DescMessage, type MessageInitShape, type MessageShape, create } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { DecisionService, ModelService } from "../server/gen/podwall/v1/podwall_pb.js";
import { serviceDefinition } from "../server/api/grpc/definitions.js";

type Methods<S> = S extends GenService<infer M> ? M : never;
type In<S, K extends keyof Methods<S>> = Methods<S>[K] extends { input: infer I extends DescMessage } ? I : never;
type Out<S, K extends keyof Methods<S>> = Methods<S>[K] extends { output: infer O extends DescMessage } ? O : never;

type Dynamic = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export class GrpcClient<S extends GenService<GenServiceMethods>> {
  readonly client: Dynamic;

  constructor(
    private readonly svc: S,
    address: string,
  ) {
    const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(svc), svc.name);
    this.client = new Ctor(address, grpc.credentials.createInsecure()) as Dynamic;
  }

  /** Calls a unary method; the request is given as its init shape (plain object). */
  unary<K extends keyof Methods<S> & string>(name: K, req: MessageInitShape<In<S, K>>, deadlineMs = 30_000): Promise<MessageShape<Out<S, K>>> {
    const method = this.svc.method[name]!;
    const msg = create(method.input, req as never);
    return new Promise((resolve, reject) => {
      this.client[name]!(msg, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: MessageShape<Out<S, K>>) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  /** Opens a server stream. */
  stream<K extends keyof Methods<S> & string>(name: K, req: MessageInitShape<In<S, K>>): grpc.ClientReadableStream<MessageShape<Out<S, K>>> {
    const method = this.svc.method[name]!;
    return this.client[name]!(create(method.input, req as never)) as grpc.ClientReadableStream<MessageShape<Out<S, K>>>;
  }

  close(): void {
    this.client.close();
  }
}

export const decisionClient = (address: string) => new GrpcClient(DecisionService, address);
export const modelClient = (address: string) => new GrpcClient(ModelService, address);
