/**
 * Typed gRPC clients of DecisionService and ModelService over grpc-js, with
 * the same credentials as the REST transport: TLS with `--ca` and a client
 * certificate (read at start), and the bearer token as call credentials on
 * every call (re-read when its file changes).
 */
import * as grpc from "@grpc/grpc-js";
import { type DescMessage, type MessageInitShape, type MessageShape, create } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { DecisionService, ModelService } from "../server/gen/podwall/v1/podwall_pb.js";
import { serviceDefinition } from "../server/api/grpc/definitions.js";
import { type ClientOptions, ClientTlsFiles, CredentialsError, TokenFile, clientOptionsProblem } from "./credentials.js";

type Methods<S> = S extends GenService<infer M> ? M : never;
type In<S, K extends keyof Methods<S>> = Methods<S>[K] extends { input: infer I extends DescMessage } ? I : never;
type Out<S, K extends keyof Methods<S>> = Methods<S>[K] extends { output: infer O extends DescMessage } ? O : never;

type Dynamic = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export class GrpcClient<S extends GenService<GenServiceMethods>> {
  readonly client: Dynamic;

  constructor(
    private readonly svc: S,
    address: string,
    options: GrpcClientOptions = {},
  ) {
    const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(svc), svc.name);
    const { channel, interceptors } = grpcCredentials(options);
    this.client = new Ctor(address, channel, { interceptors }) as Dynamic;
  }

  /** Calls a unary method; the request is given as its init shape (plain object). */
  unary<K extends keyof Methods<S> & string>(name: K, req: MessageInitShape<In<S, K>>, deadlineMs = 30_000): Promise<MessageShape<Out<S, K>>> {
    const method = this.svc.method[name]!;
    const msg = create(method.input, req as never);
    return new Promise((resolve, reject) => {
      this.client[name]!(msg, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: MessageShape<Out<S, K>>) => (err ? reject(err) : resolve(res)));
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

export interface GrpcClientOptions extends ClientOptions {
  /** Speak TLS (trusting `ca`, or the system's CAs without it); by default when a CA or a client certificate is given. */
  readonly tls?: boolean;
}

/**
 * The channel's credentials, and an interceptor that gives every call the
 * token as call credentials: on a plaintext channel too, where grpc-js
 * refuses to compose call credentials into the channel's.
 */
export function grpcCredentials(o: GrpcClientOptions): { channel: grpc.ChannelCredentials; interceptors: grpc.Interceptor[] } {
  const problem = clientOptionsProblem(o);
  if (problem !== undefined) throw new CredentialsError(problem);
  const tls = o.tls ?? (o.ca !== undefined || o.cert !== undefined);
  const files = new ClientTlsFiles(o).initial();
  const channel = tls ? grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null) : grpc.credentials.createInsecure();
  if (o.tokenFile === undefined) return { channel, interceptors: [] };
  const token = new TokenFile(o.tokenFile);
  const call = grpc.credentials.createFromMetadataGenerator((_params, done) => {
    token.authorization().then(
      (value) => {
        const md = new grpc.Metadata();
        md.set("authorization", value);
        done(null, md);
      },
      (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
    );
  });
  const withToken: grpc.Interceptor = (options, next) => new grpc.InterceptingCall(next({ ...options, credentials: call }));
  return { channel, interceptors: [withToken] };
}

export const decisionClient = (address: string, options: GrpcClientOptions = {}) => new GrpcClient(DecisionService, address, options);
export const modelClient = (address: string, options: GrpcClientOptions = {}) => new GrpcClient(ModelService, address, options);
