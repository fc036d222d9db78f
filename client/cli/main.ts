/**
 * The `podwall` command: serve, check, rules, agent.
 * Exit codes of check follow `kubectl auth can-i`: 0 allowed, 1 denied, 2 error.
 */
import { Command, Option } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { serve } from "../../server/main.js";
import { type Decision, PodwallService, RulesService, toPodwallError } from "../../server/service/index.js";
import { pino } from "pino";
import type { Ruleset } from "../../server/rules/index.js";
import { Agent } from "../agent/agent.js";
import { DryRunner, SystemRunner } from "../agent/runner.js";
import { renderDecision, renderRuleset } from "../render.js";
import { RestClient } from "../rest-client.js";

const program = new Command("podwall").description("Policy decisions and node rulesets for Kubernetes NetworkPolicy").exitOverride();

program
  .command("serve")
  .description("serve the REST and gRPC APIs")
  .option("--listen <addr>", "REST listen address", ":8080")
  .option("--grpc-listen <addr>", "gRPC listen address", ":50051")
  .option("--manifests <path...>", "manifest files or directories to load", [])
  .action(async (o: { listen: string; grpcListen: string; manifests: string[] }) => {
    const running = await serve({ listen: o.listen, grpcListen: o.grpcListen, manifests: o.manifests });
    const stop = () => {
      running.logger.info("shutting down");
      void running.close().then(() => process.exit(0));
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });

/** "80", "udp/53", "SCTP/81" */
function parseProtoPort(text: string): { protocol: string; port: string } {
  const i = text.indexOf("/");
  return i < 0 ? { protocol: "TCP", port: text } : { protocol: text.slice(0, i), port: text.slice(i + 1) };
}

function offlineService(paths: string[]): PodwallService {
  const s = new PodwallService({ cacheSize: 0 });
  s.applyObjects(readManifestPaths(paths), true);
  return s;
}

program
  .command("check")
  .description("decide one connection: exit 0 allowed, 1 denied, 2 error")
  .argument("<src>", "source: namespace/name or an IP address")
  .argument("<dst>", "destination: namespace/name or an IP address")
  .argument("<port>", "[PROTOCOL/]PORT, e.g. 80 or udp/53")
  .option("--explain", "list every selecting policy and rule", false)
  .option("--server <url>", "ask a running server")
  .option("--manifests <path...>", "decide offline on these manifests")
  .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
  .action(async (src: string, dst: string, port: string, o: { explain: boolean; server?: string; manifests?: string[]; output: string }) => {
    const q = { src, dst, ...parseProtoPort(port), explain: o.explain || o.output === "json" };
    let d: Decision;
    if (o.manifests) d = offlineService(o.manifests).check(q);
    else d = (await new RestClient(o.server ?? "http://localhost:8080").request<Decision>("POST", "/v1/check", q)).body;
    process.stdout.write(o.output === "json" ? `${JSON.stringify(d, null, 2)}\n` : renderDecision(d));
    process.exitCode = d.allowed ? 0 : 1;
  });

const RULE_FORMATS = ["json", "text", "ipset", "iptables", "ip6tables"];

program
  .command("rules")
  .description("print a node's ruleset")
  .argument("<node>", "node name")
  .option("--server <url>", "ask a running server")
  .option("--manifests <path...>", "compile offline from these manifests")
  .addOption(new Option("--format <format>", "what to print").choices(RULE_FORMATS).default("text"))
  .action(async (node: string, o: { server?: string; manifests?: string[]; format: string }) => {
    let r: Ruleset;
    if (o.manifests) r = new RulesService(offlineService(o.manifests)).rules(node);
    else r = (await new RestClient(o.server ?? "http://localhost:8080").request<Ruleset>("GET", `/v1/nodes/${encodeURIComponent(node)}/rules`)).body;
    if (o.format === "json") process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else if (o.format === "text") process.stdout.write(renderRuleset(r));
    else process.stdout.write(r[o.format as "ipset" | "iptables" | "ip6tables"]);
  });

program
  .command("agent")
  .description("long-poll a node's ruleset from the server and apply it with ipset and iptables")
  .requiredOption("--server <url>", "the Podwall server")
  .requiredOption("--node <name>", "this node's name")
  .option("--dry-run", "print the commands instead of running them", false)
  .option("--netns <name>", "apply inside this network namespace (ip netns exec NAME ...)")
  .option("--wait <seconds>", "long-poll duration", "30")
  .option("--once", "exit after the first ruleset is applied", false)
  .action(async (o: { server: string; node: string; dryRun: boolean; netns?: string; wait: string; once: boolean }) => {
    const logger = pino({ name: "podwall-agent" }, pino.destination(2));
    const prefix = o.netns ? ["ip", "netns", "exec", o.netns] : [];
    const runner = o.dryRun ? new DryRunner((t) => process.stdout.write(t), prefix) : new SystemRunner(prefix);
    const agent = new Agent({ server: o.server, node: o.node, runner, logger, waitSeconds: Number(o.wait), report: !o.dryRun, once: o.once || o.dryRun });
    process.once("SIGTERM", () => agent.stop());
    process.once("SIGINT", () => agent.stop());
    await agent.run();
  });

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help") {
      process.exitCode = 0;
      return;
    }
    if (typeof code === "string" && code.startsWith("commander.")) {
      process.exitCode = 2;
      return;
    }
    const err = toPodwallError(e);
    process.stderr.write(`error: ${err.message}\n`);
    for (const fe of err.errors) process.stderr.write(`  ${fe.field}: ${fe.detail}\n`);
    process.exitCode = 2;
  }
}

await main(process.argv);
