/** DecisionService.GetRules and WatchRules over the rules service. */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type GetRulesRequest, type Ruleset as RulesetMsg, RulesetSchema, type WatchRulesRequest } from "../../gen/podwall/v1/podwall_pb.js";
import type { Ruleset } from "../../rules/index.js";
import { PodwallError, type RulesService, toPodwallError } from "../../service/index.js";
import { type GrpcDoor, type RulesHandlers, toGrpcError } from "./server.js";

export function rulesetToProto(r: Ruleset): RulesetMsg {
  return create(RulesetSchema, { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks.map((h) => ({ ...h })) });
}

export function rulesHandlers(rules: RulesService, door: GrpcDoor): RulesHandlers {
  return {
    getRules: door.unary("GetRules", (req: GetRulesRequest, ctx) => rulesetToProto(rules.rules(ctx, req.node))),
    watchRules: (call: grpc.ServerWritableStream<WatchRulesRequest, RulesetMsg>) => {
      const started = process.hrtime.bigint();
      let node = "";
      let last = "";
      let open = true;
      let stop = () => {};
      const end = (code: grpc.status) => {
        if (!open) return;
        open = false;
        stop();
        door.metrics.watchStreams.dec();
        door.ended("WatchRules", code, started);
      };
      const fail = (e: unknown) => {
        const err = toGrpcError(toPodwallError(e));
        end(err.code ?? grpc.status.UNKNOWN);
        call.emit("error", err);
      };
      const send = (r: Ruleset | PodwallError) => {
        if (r instanceof PodwallError) return fail(r);
        if (r.version === last) return;
        last = r.version;
        call.write(rulesetToProto(r));
      };
      door.metrics.watchStreams.inc();
      call.on("cancelled", () => end(grpc.status.CANCELLED));
      call.on("close", () => end(grpc.status.OK));
      try {
        // A request that could not be read (malformed protobuf) throws here and ends the stream INVALID_ARGUMENT.
        ({ node, version: last } = call.request);
        const ctx = door.context(call);
        stop = rules.subscribe(ctx, node, send);
        send(rules.rules(ctx, node));
      } catch (e) {
        fail(e);
      }
    },
  };
}
