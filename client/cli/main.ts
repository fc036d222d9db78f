/**
 * The `podwall` command: serve, check, rules, agent.
 * Exit codes of check follow `kubectl auth can-i`: 0 allowed, 1 denied, 2 error.
 */
import { Command, Option } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { serve } from "../../server/main.js";
import { type Decision, PodwallService, RulesService, SYSTEM, toPodwallError } from "../../server/service/index.js";
import type { StoreSpec } from "../../server/store/index.js";
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
  .option("--manifests <path...>", "manifest files or directories to apply at every start, on top of the store", [])
  .option("--data-dir <dir>", "keep the model in an embedded database in this directory (default ./podwall-data)")
  .option("--in-memory", "keep the model in memory only: nothing survives a restart", false)
  .option("--etcd <urls>", "keep the model in etcd v3, shared by every replica (comma-separated endpoints)")
  .option("--etcd-prefix <prefix>", "the key prefix of the model in etcd", "/podwall/")
  .option("--kubernetes", "follow a Kubernetes cluster through list/watch (read-only; in a pod: its service account)", false)
  .option("--kubeconfig <path>", "with --kubernetes: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
  .option("--context <name>", "with --kubernetes: the kubeconfig context")
  .option("--legacy-cidr-validation", "accept IPs and CIDRs with host bits set or leading zeros in written manifests, as API servers before StrictIPCIDRValidation did", false)
  .action(async (o: ServeFlags) => {
    const store = storeSpec(o);
    const running = await serve({ listen: o.listen, grpcListen: o.grpcListen, manifests: o.manifests, store, legacyCidr: o.legacyCidrValidation });
    const stop = () => {
      running.logger.info("shutting down");
      void running.close().then(() => process.exit(0));
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    try {
      await running.ready;
    } catch (e) {
      running.logger.fatal({ err: e instanceof Error ? e.message : String(e) }, "cannot start");
      await running.close();
      throw e;
    }
  });

/** "80", "udp/53", "SCTP/81" */
function parseProtoPort(text: string): { protocol: string; port: string } {
  const i = text.indexOf("/");
  return i < 0 ? { protocol: "TCP", port: text } : { protocol: text.slice(0, i), port: text.slice(i + 1) };
}

async function offlineService(paths: string[]): Promise<PodwallService> {
  const s = await PodwallService.start({ cacheSize: 0 });
  await s.applyObjects(SYSTEM, readManifestPaths(paths), true);
  return s;
}

/** A command line that names what cannot be done: exit 2 like any error. */
class UsageError extends Error {}

interface ServeFlags {
  listen: string;
  grpcListen: string;
  manifests: string[];
  dataDir?: string;
  inMemory: boolean;
  etcd?: string;
  etcdPrefix: string;
  kubernetes: boolean;
  kubeconfig?: string;
  context?: string;
  legacyCidrValidation: boolean;
}

/** Where `serve` keeps (or finds) the model: one of the stores, or the cluster it follows. */
function storeSpec(o: ServeFlags): StoreSpec {
  const named = [o.dataDir !== undefined && "--data-dir", o.inMemory && "--in-memory", o.etcd !== undefined && "--etcd", o.kubernetes && "--kubernetes"].filter((x): x is string => typeof x === "string");
  if (named.length > 1) throw new UsageError(`${named.join(" and ")} name different places for the model: choose one`);
  if ((o.kubeconfig !== undefined || o.context !== undefined) && !o.kubernetes) throw new UsageError("--kubeconfig and --context go with --kubernetes");
  if (o.kubernetes && o.manifests.length > 0) throw new UsageError("--manifests cannot be applied to a model that follows a cluster: apply them to the cluster");
  if (o.kubernetes) return { kind: "kubernetes", ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}), ...(o.context !== undefined ? { context: o.context } : {}) };
  if (o.etcd !== undefined) return { kind: "etcd", endpoints: o.etcd.split(",").filter((u) => u !== ""), prefix: o.etcdPrefix };
  if (o.inMemory) return { kind: "memory" };
  return { kind: "lmdb", dir: o.dataDir ?? "./podwall-data" };
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
    if (o.manifests) d = (await offlineService(o.manifests)).check(SYSTEM, q);
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
    if (o.manifests) r = new RulesService(await offlineService(o.manifests)).rules(node);
    else r = (await new RestClient(o.server ?? "http://localhost:8080").request<Ruleset>("GET", `/v1/nodes/${encodeURIComponent(node)}/rules`)).body;
    if (o.format === "json") process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else if (o.format === "text") process.stdout.write(renderRuleset(r));
    else process.stdout.write(r[o.format as "ipset" | "iptables" | "ip6tables"]);
  });

program
  .command("agent")
  .description("long-poll a node's ruleset from the server and apply it with ipset and iptables")
  .requiredOption("--server <urls>", "the Podwall server, or replicas of one model to move between: URL1,URL2,...")
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
