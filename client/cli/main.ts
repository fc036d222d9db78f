/**
 * The `podwall` command: serve, check, rules, agent.
 * Exit codes of check follow `kubectl auth can-i`: 0 allowed, 1 denied, 2 error.
 */
import { Command, Option } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { serve } from "../../server/main.js";
import { type Decision, PodwallService, toPodwallError } from "../../server/service/index.js";
import { renderDecision } from "../render.js";
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
export function parseProtoPort(text: string): { protocol: string; port: string } {
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
