/**
 * Sends one gRPC request as raw bytes (any bytes, valid message or not) over
 * a grpc-js client with identity (de)serializers, and reports the status.
 * A server stream is closed by the fuzzer after its first message.
 */
import * as grpc from "@grpc/grpc-js";
import type { GrpcRequest } from "./requests.js";

export interface GrpcAnswer {
  readonly code: grpc.status;
  readonly details: string;
  /** The podwall-errors metadata, as sent. */
  readonly errors?: string;
  /** Messages received (the first of a stream ends it). */
  readonly messages: number;
  readonly timedOut: boolean;
  readonly ms: number;
}

const identity = (b: Buffer) => b;

export class RawGrpc {
  private client: grpc.Client;
  private address: string;

  constructor(address: string) {
    this.address = address;
    this.client = this.make();
  }

  private make(): grpc.Client {
    return new grpc.Client(this.address, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    });
  }

  /** A fresh channel (after the server was restarted, say). */
  reset(address?: string): void {
    this.client.close();
    if (address !== undefined) this.address = address;
    this.client = this.make();
  }

  close(): void {
    this.client.close();
  }

  send(r: GrpcRequest, limitMs: number | undefined): Promise<GrpcAnswer> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of r.metadata) {
      try {
        metadata.add(k, v);
      } catch {
        // a key or value grpc-js refuses to send: left out
      }
    }
    const options: grpc.CallOptions = limitMs !== undefined ? { deadline: Date.now() + limitMs } : {};
    const start = performance.now();
    return new Promise((resolve) => {
      let messages = 0;
      let settled = false;
      const finish = (code: grpc.status, details: string, md?: grpc.Metadata) => {
        if (settled) return;
        settled = true;
        const e = md?.get("podwall-errors")[0];
        resolve({
          code,
          details,
          ...(e !== undefined ? { errors: String(e) } : {}),
          messages,
          timedOut: code === grpc.status.DEADLINE_EXCEEDED,
          ms: performance.now() - start,
        });
      };
      if (!r.serverStream) {
        this.client.makeUnaryRequest(r.path, identity, identity, r.bytes, metadata, options, (err, res) => {
          if (res !== undefined) messages++;
          if (err) finish(err.code, err.details, err.metadata);
          else finish(grpc.status.OK, "");
        });
        return;
      }
      const call = this.client.makeServerStreamRequest(r.path, identity, identity, r.bytes, metadata, options);
      call.on("data", () => {
        messages++;
        finish(grpc.status.OK, "");
        call.cancel();
      });
      call.on("error", (err: grpc.ServiceError) => finish(err.code, err.details, err.metadata));
      call.on("status", (s: grpc.StatusObject) => finish(s.code, s.details, s.metadata));
    });
  }
}
