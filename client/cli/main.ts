/**
 * The `podwall` command: serve, check, rules, agent.
 * Exit codes of check follow `kubectl auth can-i`: 0 allowed, 1 denied, 2 error.
 */
import { Command, Option } from "commander";
import { DEFAULT_LIMITS } from "../../server/api/rest/body.js";
import { DEFAULT_ANALYSIS_LIMITS, DEFAULT_MAX_BATCH, DEFAULT_RULES_LIMITS, type Decision, PodwallError, RulesService, SYSTEM, toPodwallError } from "../../server/service/index.js";
import type { StoreSpec } from "../../server/store/index.js";
import { pino } from "pino";
import type { Ruleset } from "../../server/rules/index.js";
import { Agent } from "../agent/agent.js";
import { DryRunner, SystemRunner } from "../agent/runner.js";
import { renderDecision, renderRuleset } from "../render.js";
import { AgentMetrics, serveMetrics } from "../agent/metrics.js";
import { type ClientFlags, serverOption, transportOf, withCredentials } from "./client-flags.js";
import { UsageError, ask, examples, offlineService, packageVersion, parseCount, parseProtoPort, printed } from "./common.js";
import { registerDiff } from "./diff.js";
import { registerMatrix } from "./matrix.js";
import { registerLint } from "./lint.js";

const VERSION = packageVersion();

const program = new Command("podwall")
  .description("Policy decisions and node rulesets for Kubernetes NetworkPolicy")
  .version(`podwall ${VERSION}`, "--version", "print the version")
  .exitOverride()
  .addHelpText(
    "after",
    examples(
      "npm start                                                    # serve the bundled example cluster",
      "podwall check y/b x/a 80 --manifests examples/cluster",
      "podwall rules node-1 --server http://localhost:8080",
      "podwall <command> --help                                     # each command's flags and examples",
    ),
  );

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
  .option("--auth <file>", "require credentials: bearer tokens and client certificates mapped to roles by this YAML file (re-read on SIGHUP and when it changes)")
  .option("--tls-cert <file>", "serve REST and gRPC over TLS with this certificate (PEM; re-read when it changes)")
  .option("--tls-key <file>", "the TLS certificate's private key (PEM)")
  .option("--client-ca <file>", "with TLS: verify client certificates against this CA; their common names name identities of --auth")
  .option("--decision-log <file>", "write one JSON line per decision to this file, or - for standard output")
  .option("--max-batch <n>", "the most questions one batch may ask", parseCount, DEFAULT_MAX_BATCH)
  .option("--max-body-bytes <n>", "the largest request body (REST) or message (gRPC)", parseCount, DEFAULT_LIMITS.bodyBytes)
  .option("--max-watches-per-identity <n>", "long polls and watch streams one identity may hold open at once", parseCount, DEFAULT_RULES_LIMITS.watchesPerIdentity)
  .option("--max-matrix-pods <n>", "the most pods one matrix may have (its rows; as many columns)", parseCount, DEFAULT_ANALYSIS_LIMITS.matrixPods)
  .option("--shutdown-timeout <seconds>", "on SIGTERM, how long requests in flight may finish before they are cut", "5")
  .addHelpText(
    "after",
    examples(
      "podwall serve --manifests examples/cluster                  # keeps the model in ./podwall-data",
      "podwall serve --in-memory --listen 127.0.0.1:8080 --grpc-listen 127.0.0.1:50051",
      "podwall serve --etcd http://etcd-0:2379,http://etcd-1:2379 --auth auth.yaml --tls-cert tls.crt --tls-key tls.key",
      "podwall serve --kubernetes --context my-cluster             # follow a cluster, read-only",
    ),
  )
  .action(async (o: ServeFlags) => {
    const store = storeSpec(o);
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
    if (o.clientCa !== undefined && o.tlsCert === undefined) throw new UsageError("--client-ca needs --tls-cert and --tls-key: client certificates are only seen over TLS");
    const shutdown = Number(o.shutdownTimeout);
    if (!(shutdown >= 0)) throw new UsageError(`--shutdown-timeout: ${JSON.stringify(o.shutdownTimeout)} is not a number of seconds`);
    // The server and its stores (etcd, LMDB, the Kubernetes client) are loaded only to serve: the other commands start faster without them.
    const { serve } = await import("../../server/main.js");
    const running = await serve({
      listen: o.listen,
      grpcListen: o.grpcListen,
      manifests: o.manifests,
      store,
      legacyCidr: o.legacyCidrValidation,
      ...(o.auth !== undefined ? { auth: o.auth } : {}),
      ...(o.tlsCert !== undefined && o.tlsKey !== undefined ? { tls: { cert: o.tlsCert, key: o.tlsKey, ...(o.clientCa !== undefined ? { clientCa: o.clientCa } : {}) } } : {}),
      ...(o.decisionLog !== undefined ? { decisionLog: o.decisionLog } : {}),
      maxBatch: o.maxBatch,
      limits: { bodyBytes: o.maxBodyBytes },
      rulesLimits: { watchesPerIdentity: o.maxWatchesPerIdentity },
      analysisLimits: { matrixPods: o.maxMatrixPods },
      shutdownTimeoutMs: shutdown * 1000,
    });
    const stop = (signal: string) => {
      running.logger.info({ signal }, "shutting down");
      void running.close().then(() => process.exit(0));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", () => running.reload());
    try {
      await running.ready;
    } catch (e) {
      running.logger.fatal({ err: e instanceof Error ? e.message : String(e) }, "cannot start");
      await running.close();
      throw e;
    }
  });

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
  auth?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  decisionLog?: string;
  maxBatch: number;
  maxBodyBytes: number;
  maxWatchesPerIdentity: number;
  maxMatrixPods: number;
  shutdownTimeout: string;
}

/** Where `serve` keeps (or finds) the model: one of the stores, or the cluster it follows. */
function storeSpec(o: ServeFlags): StoreSpec {
  const named = [o.dataDir !== undefined && "--data-dir", o.inMemory && "--in-memory", o.etcd !== undefined && "--etcd", o.kubernetes && "--kubernetes"].filter(
    (x): x is string => typeof x === "string",
  );
  if (named.length > 1) throw new UsageError(`${named.join(" and ")} name different places for the model: choose one`);
  if ((o.kubeconfig !== undefined || o.context !== undefined) && !o.kubernetes) throw new UsageError("--kubeconfig and --context go with --kubernetes");
  if (o.kubernetes && o.manifests.length > 0) throw new UsageError("--manifests cannot be applied to a model that follows a cluster: apply them to the cluster");
  if (o.kubernetes) return { kind: "kubernetes", ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}), ...(o.context !== undefined ? { context: o.context } : {}) };
  if (o.etcd !== undefined) return { kind: "etcd", endpoints: o.etcd.split(",").filter((u) => u !== ""), prefix: o.etcdPrefix };
  if (o.inMemory) return { kind: "memory" };
  return { kind: "lmdb", dir: o.dataDir ?? "./podwall-data" };
}

withCredentials(
  program
    .command("check")
    .description("decide one connection: exit 0 allowed, 1 denied, 2 error")
    .argument("<src>", "source: namespace/name or an IP address")
    .argument("<dst>", "destination: namespace/name or an IP address")
    .argument("<port>", "[PROTOCOL/]PORT, e.g. 80 or udp/53")
    .option("--explain", "list every selecting policy and rule", false)
    .addOption(serverOption("ask a running server"))
    .option("--manifests <path...>", "decide offline on these manifests")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json", "yaml"]).default("text")),
)
  .addHelpText(
    "after",
    examples(
      "podwall check y/b x/a 80 --manifests examples/cluster     # offline, on manifests",
      "podwall check y/b x/a tcp/80 --explain --server http://podwall:8080",
      "podwall check 10.1.1.5 x/a udp/53 -o yaml                  # an address for the source; PODWALL_SERVER names the server",
    ),
  )
  .action(async (src: string, dst: string, port: string, o: ClientFlags & { explain: boolean; manifests?: string[]; output: string }) => {
    const q = { src, dst, ...parseProtoPort(port), explain: o.explain || o.output !== "text" };
    let d: Decision;
    if (o.manifests) d = (await offlineService(o.manifests)).check(SYSTEM, q);
    else d = await ask(o, (c) => c.request<Decision>("POST", "/v1/check", q));
    process.stdout.write(o.output === "text" ? renderDecision(d) : printed(d, o.output));
    process.exitCode = d.allowed ? 0 : 1;
  });

const RULE_FORMATS = ["text", "json", "yaml", "ipset", "iptables", "ip6tables"];

withCredentials(
  program
    .command("rules")
    .description("print a node's ruleset")
    .argument("<node>", "node name")
    .addOption(serverOption("ask a running server"))
    .option("--manifests <path...>", "compile offline from these manifests")
    .addOption(new Option("--format <format>", "what to print: the whole ruleset, or one of its texts as it is applied").choices(RULE_FORMATS).default("text"))
    .addOption(new Option("-o, --output <format>", "print the ruleset as an object: the same as --format json or yaml").choices(["json", "yaml"]).conflicts("format"))
    .addOption(new Option("--since <version>", "the delta from this version, when the server still keeps it (the whole ruleset otherwise)").conflicts("manifests")),
)
  .addHelpText(
    "after",
    examples(
      "podwall rules node-1 --manifests examples/cluster          # offline, on manifests",
      "podwall rules node-1 --format iptables --server http://podwall:8080",
      "podwall rules node-1 --since 3f0c9e1a2b4c5d6e7f80 -o yaml  # what changed since a version an agent holds",
    ),
  )
  .action(async (node: string, flags: ClientFlags & { manifests?: string[]; format: string; output?: string; since?: string }) => {
    const o = { ...flags, format: flags.output ?? flags.format };
    let r: Ruleset;
    if (o.manifests) r = new RulesService(await offlineService(o.manifests)).rules(SYSTEM, node);
    else {
      const query = o.since === undefined ? "" : `?since=${encodeURIComponent(o.since)}`;
      if (o.since !== undefined && !["json", "yaml", "text"].includes(o.format))
        throw new PodwallError("bad-request", "--since prints a delta, which only --format text, json or yaml shows");
      r = await ask(o, (c) => c.request<Ruleset>("GET", `/v1/nodes/${encodeURIComponent(node)}/rules${query}`));
    }
    if (o.format === "json" || o.format === "yaml") process.stdout.write(printed({ ...r }, o.format));
    else if (o.format === "text") process.stdout.write(renderRuleset(r));
    else process.stdout.write(r[o.format as "ipset" | "iptables" | "ip6tables"]);
  });

withCredentials(
  program
    .command("agent")
    .description("long-poll a node's ruleset from the server and apply it with ipset and iptables")
    .addOption(serverOption("the Podwall server, or replicas of one model to move between: URL1,URL2,...", "--server <urls>").makeOptionMandatory())
    .requiredOption("--node <name>", "this node's name")
    .option("--dry-run", "print the commands instead of running them", false)
    .option("--netns <name>", "apply inside this network namespace (ip netns exec NAME ...)")
    .option("--wait <seconds>", "long-poll duration", "30")
    .option("--once", "exit after the first ruleset is applied", false)
    .option("--metrics-listen <addr>", "serve Prometheus metrics at /metrics on HOST:PORT"),
)
  .addHelpText(
    "after",
    examples(
      "podwall agent --server http://podwall:8080 --node $(hostname)          # on a node, as root",
      "podwall agent --server https://a:8080,https://b:8080 --node node-1 --ca ca.pem --token-file /var/run/podwall/token",
      "podwall agent --server http://podwall:8080 --node node-1 --dry-run --once  # print what it would change",
    ),
  )
  .action(async (o: ClientFlags & { server: string; node: string; dryRun: boolean; netns?: string; wait: string; once: boolean; metricsListen?: string }) => {
    const logger = pino({ name: "podwall-agent" }, pino.destination(2));
    const prefix = o.netns ? ["ip", "netns", "exec", o.netns] : [];
    const runner = o.dryRun ? new DryRunner((t) => process.stdout.write(t), prefix) : new SystemRunner(prefix);
    const transport = transportOf(o);
    const metrics = new AgentMetrics({ defaultMetrics: true });
    const agent = new Agent({ server: o.server, node: o.node, runner, logger, waitSeconds: Number(o.wait), report: !o.dryRun, once: o.once || o.dryRun, transport, metrics });
    const metricsServer = o.metricsListen !== undefined ? await serveMetrics(metrics, o.metricsListen) : undefined;
    if (metricsServer) logger.info({ metrics: metricsServer.address }, "metrics listening");
    // Every signal only asks to stop: a second one must not cut an apply short either.
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping once the apply in progress, if any, is done");
      agent.stop();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    try {
      await agent.run();
    } finally {
      await metricsServer?.close();
      await transport.close();
    }
  });

registerMatrix(program);
registerDiff(program);
registerLint(program);

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
