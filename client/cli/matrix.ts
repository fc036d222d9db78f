/**
 * `podwall matrix`: who can reach whom on one protocol and port, as a table
 * ('.' allowed, 'X' denied) or as JSON or YAML, from a server or offline.
 */
import { type Command, Option } from "commander";
import { type MatrixAnswer, type RowCallback, matrixJson, matrixTable, writeAll } from "../../server/analysis/matrix-output.js";
import { AnalysisService, RulesService, SYSTEM } from "../../server/service/index.js";
import { RestClient } from "../rest-client.js";
import { type ClientFlags, DEFAULT_SERVER, serverOption, transportOf, withCredentials } from "./client-flags.js";
import { ask, examples, offlineService, printed } from "./common.js";
import { Progress } from "./progress.js";

interface MatrixFlags extends ClientFlags {
  namespaces?: string;
  pods?: string;
  protocol: string;
  port: string;
  group: boolean;
  manifests?: string[];
  output: string;
}

export function registerMatrix(program: Command): void {
  withCredentials(
    program
      .command("matrix")
      .description("print who can reach whom on one protocol and port: rows are sources, columns destinations")
      .option("--namespaces <x,y>", "only the pods of these namespaces")
      .option("--pods <selector>", "only the pods this label selector selects (as kubectl -l)")
      .option("--protocol <protocol>", "TCP, UDP or SCTP", "TCP")
      .option("--port <port>", "the destination port", "80")
      .option("--group", "rows and columns are groups of pods whose rows and columns are equal", false)
      .addOption(serverOption("ask a running server"))
      .option("--manifests <path...>", "compute offline on these manifests (workloads stand for their pods)")
      .addOption(new Option("-o, --output <format>", "output format").choices(["table", "wide", "json", "yaml"]).default("table")),
  )
    .addHelpText(
      "after",
      examples(
        "podwall matrix --manifests examples/cluster                # TCP/80, every pod",
        "podwall matrix --namespaces x,y --protocol udp --port 53 --server http://podwall:8080",
        "podwall matrix --pods app=web --group -o json              # groups of equivalent pods, as JSON",
        "podwall matrix --namespaces x -o wide                       # the columns' names written downwards",
      ),
    )
    .action(async (o: MatrixFlags) => {
      const query = { protocol: o.protocol, port: o.port, namespaces: o.namespaces, pods: o.pods, group: o.group };
      if (o.manifests) {
        const service = await offlineService(o.manifests);
        const answer = new AnalysisService(service, new RulesService(service)).matrix(SYSTEM, query);
        if (o.output === "yaml") process.stdout.write(printed(JSON.parse(Buffer.concat(Array.from(matrixJson(answer), (piece) => Buffer.from(piece))).toString()), "yaml"));
        else await write(answer, o.output === "json" ? matrixJson : (a, onRow) => matrixTable(a, onRow, o.output === "wide"));
        return;
      }
      const params = new URLSearchParams({
        protocol: o.protocol,
        port: o.port,
        ...(o.namespaces ? { namespaces: o.namespaces } : {}),
        ...(o.pods ? { pods: o.pods } : {}),
        ...(o.group ? { group: "true" } : {}),
      });
      if (o.output === "yaml") {
        process.stdout.write(printed(await ask(o, (c) => c.request("GET", `/v1/matrix?${params}`)), "yaml"));
        return;
      }
      params.set("format", o.output);
      const client = new RestClient(o.server ?? DEFAULT_SERVER, transportOf(o));
      try {
        await client.stream(`/v1/matrix?${params}`, process.stdout);
      } finally {
        await client.close();
      }
    });
}

/** Writes the answer's pieces to standard output as it takes them, with a progress line on a terminal. */
async function write(answer: MatrixAnswer, encode: (a: MatrixAnswer, onRow: RowCallback) => Generator<Buffer>): Promise<void> {
  const progress = Progress.start("matrix rows");
  try {
    await writeAll(
      process.stdout,
      encode(answer, (done, total) => progress.update(done, total)),
    );
  } finally {
    progress.done();
  }
}
