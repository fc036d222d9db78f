/** DecisionService.GetRules and WatchRules over the rules service. */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type GetRulesRequest, type Ruleset as RulesetMsg, RulesetSchema, type WatchRulesRequest } from "../../gen/podwall/v1/podwall_pb.js";
import { type Ruleset, isDelta } from "../../rules/index.js";
import { PodwallError, type RulesService, toPodwallError } from "../../service/index.js";
import { type GrpcDoor, type RulesHandlers, toGrpcError } from "./server.js";

export function rulesetToProto(r: Ruleset): RulesetMsg {
  return create(RulesetSchema, {
    node: r.node,
    version: r.version,
    ipset: r.ipset,
    iptables: r.iptables,
    ip6tables: r.ip6tables,
    hooks: r.hooks.map((h) => ({ ...h })),
    ...(isDelta(r) ? { base: r.base, remove: { chains: [...r.remove.chains], sets: [...r.remove.sets] } } : {}),
  });
}

export function rulesHandlers(rules: RulesService, door: GrpcDoor): RulesHandlers {
  return {
    getRules: door.unary("GetRules", (req: GetRulesRequest, ctx) => rulesetToProto(rules.since(req.node, rules.rules(ctx, req.node), req.since))),
    watchRules: (call: grpc.ServerWritableStream<WatchRulesRequest, RulesetMsg>) => {
      const started = process.hrtime.bigint();
      let node = "";
      let last = "";
      /** Asking for deltas: the version the caller holds once it has applied what was sent. */
      let since = "";
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
        call.write(rulesetToProto(since ? rules.since(node, r, since) : r));
        if (since) since = r.version;
      };
      door.metrics.watchStreams.inc();
      call.on("cancelled", () => end(grpc.status.CANCELLED));
      call.on("close", () => end(grpc.status.OK));
      try {
        // A request that could not be read (malformed protobuf) throws here and ends the stream INVALID_ARGUMENT.
        ({ node, version: last, since } = call.request);
        last ||= since;
        const ctx = door.context(call);
        stop = rules.subscribe(ctx, node, send);
        send(rules.rules(ctx, node));
      } catch (e) {
        fail(e);
      }
    },
  };
}
