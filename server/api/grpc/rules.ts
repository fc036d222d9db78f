/** DecisionService.GetRules and WatchRules over the rules service. */
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { type GetRulesRequest, type Ruleset as RulesetMsg, RulesetSchema, type WatchRulesRequest } from "../../gen/podwall/v1/podwall_pb.js";
import type { Ruleset } from "../../rules/index.js";
import { PodwallError, type RulesService, toPodwallError } from "../../service/index.js";
import { type RulesHandlers, toGrpcError, unary } from "./server.js";

export function rulesetToProto(r: Ruleset): RulesetMsg {
  return create(RulesetSchema, { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks.map((h) => ({ ...h })) });
}

export function rulesHandlers(rules: RulesService): RulesHandlers {
  return {
    getRules: unary((req: GetRulesRequest) => rulesetToProto(rules.rules(req.node))),
    watchRules: (call: grpc.ServerWritableStream<WatchRulesRequest, RulesetMsg>) => {
      const node = call.request.node;
      let last = call.request.version;
      const fail = (e: unknown) => {
        stop();
        call.emit("error", toGrpcError(toPodwallError(e)));
      };
      const send = (r: Ruleset | PodwallError) => {
        if (r instanceof PodwallError) return fail(r);
        if (r.version === last) return;
        last = r.version;
        call.write(rulesetToProto(r));
      };
      const stop = rules.subscribe(node, send);
      call.on("cancelled", stop);
      call.on("close", stop);
      try {
        send(rules.rules(node));
      } catch (e) {
        fail(e);
      }
    },
  };
}
