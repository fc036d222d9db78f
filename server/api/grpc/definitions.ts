/**
 * grpc-js service definitions built from the descriptors that protoc-gen-es
 * generates, with @bufbuild/protobuf doing the (de)serialisation.
 */
import { type DescMessage, type DescService, type Message, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { file_podwall_v1_podwall } from "../../gen/podwall/v1/podwall_pb.js";
import { PodwallError } from "../../service/errors.js";

export function serviceDefinition(svc: DescService): ServiceDefinition {
  const def: Record<string, ServiceDefinition[string]> = {};
  for (const m of svc.methods) {
    def[m.localName] = {
      path: `/${svc.typeName}/${m.name}`,
      originalName: m.name,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg: Message) => Buffer.from(toBinary(m.input, msg)),
      requestDeserialize: (buf: Buffer) => readRequest(m.input, buf),
      responseSerialize: (msg: Message) => serialized(msg, () => Buffer.from(toBinary(m.output, msg))),
      responseDeserialize: (buf: Buffer) => fromBinary(m.output, buf),
    };
  }
  return def as ServiceDefinition;
}

/**
 * A request that is not a valid message of its type is the caller's error
 * (INVALID_ARGUMENT), not the server's: grpc-js answers INTERNAL for a
 * deserializer that throws, so the deserializer returns a stand-in instead,
 * whose first field read throws the bad-request error in the handler, where
 * it becomes the call's status.
 */
function readRequest(schema: DescMessage, buf: Buffer): Message {
  try {
    return fromBinary(schema, buf);
  } catch (e) {
    const error = new PodwallError("bad-request", `malformed request: not a ${schema.typeName} message: ${e instanceof Error ? e.message : String(e)}`);
    return new Proxy({} as Message, {
      get(_target, prop) {
        // Not a thenable, and nothing to print: only a field read fails.
        if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return undefined;
        throw error;
      },
    });
  }
}

/** A message sent again (a cached decision, a ruleset to many watchers) is serialised once. */
const bytes = new WeakMap<Message, Buffer>();

function serialized(msg: Message, make: () => Buffer): Buffer {
  let b = bytes.get(msg);
  if (!b) bytes.set(msg, (b = make()));
  return b;
}

/**
 * A status is sent in HTTP/2 trailers: metadata values must be printable
 * ASCII, details are URI-encoded (a lone surrogate cannot be), and a client
 * takes a header list of some 64 KiB at most (past it, it drops the
 * connection and the call gets no status at all). These are the most of the
 * errors' JSON and of the details as sent.
 */
const MAX_ERRORS_METADATA = 16 * 1024;
const MAX_DETAILS = 8 * 1024;

/** Field errors as a JSON array of ASCII (escaped, it parses to the same), as many as fit; `left` is the count of the rest. */
export function errorsMetadata(errors: readonly unknown[]): { value: string; left: number } {
  const kept: string[] = [];
  let size = 2;
  for (const err of errors) {
    const json = JSON.stringify(err).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    if (size + json.length + 1 > MAX_ERRORS_METADATA && kept.length > 0) break;
    kept.push(json);
    size += json.length + 1;
  }
  return { value: `[${kept.join(",")}]`, left: errors.length - kept.length };
}

/** A message as status details: lone surrogates replaced, cut (and marked) to fit MAX_DETAILS once encoded. */
export function statusDetails(message: string): string {
  const text = message.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
  if (encodeURI(text).length <= MAX_DETAILS) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodeURI(cut(text, mid)).length <= MAX_DETAILS - 32) lo = mid;
    else hi = mid - 1;
  }
  return `${cut(text, lo)}...(truncated)`;
}

/** The first `n` characters, not ending inside a surrogate pair. */
function cut(text: string, n: number): string {
  const c = text.charCodeAt(n - 1);
  return text.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/** The serialized FileDescriptorSet of our protos, for server reflection. */
export function descriptorSet(): Buffer {
  const set = create(FileDescriptorSetSchema, { file: [file_podwall_v1_podwall.proto] });
  return Buffer.from(toBinary(FileDescriptorSetSchema, set));
}
