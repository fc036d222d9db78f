/**
 * grpc-js service definitions built from the descriptors that protoc-gen-es
 * generates, with @bufbuild/protobuf doing the (de)serialisation.
 */
import { type DescService, type Message, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { file_podwall_v1_podwall } from "../../gen/podwall/v1/podwall_pb.js";

export function serviceDefinition(svc: DescService): ServiceDefinition {
  const def: Record<string, ServiceDefinition[string]> = {};
  for (const m of svc.methods) {
    def[m.localName] = {
      path: `/${svc.typeName}/${m.name}`,
      originalName: m.name,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg: Message) => Buffer.from(toBinary(m.input, msg)),
      requestDeserialize: (buf: Buffer) => fromBinary(m.input, buf),
      responseSerialize: (msg: Message) => serialized(msg, () => Buffer.from(toBinary(m.output, msg))),
      responseDeserialize: (buf: Buffer) => fromBinary(m.output, buf),
    };
  }
  return def as ServiceDefinition;
}

/** A message sent again (a cached decision, a ruleset to many watchers) is serialised once. */
const bytes = new WeakMap<Message, Buffer>();

function serialized(msg: Message, make: () => Buffer): Buffer {
  let b = bytes.get(msg);
  if (!b) bytes.set(msg, (b = make()));
  return b;
}

/** The serialized FileDescriptorSet of our protos, for server reflection. */
export function descriptorSet(): Buffer {
  const set = create(FileDescriptorSetSchema, { file: [file_podwall_v1_podwall.proto] });
  return Buffer.from(toBinary(FileDescriptorSetSchema, set));
}
