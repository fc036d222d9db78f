/**
 * `podwall lint`: the linter's findings, of manifests offline or of a
 * server's model. Exit codes: 0 no finding at or above `--fail-on`, 1 some,
 * 2 an error (main() maps thrown errors to 2).
 */
import { type Command, Option } from "commander";
import { type Finding, type Severity, SEVERITIES, atLeast, lint } from "../../server/analysis/lint.js";
import { type ClientFlags, serverOption, withCredentials } from "./client-flags.js";
import { ask, examples, offlineService, printed } from "./common.js";

/** What `GET /v1/lint` answers. */
interface LintReport {
  readonly generation: number;
  readonly findings: readonly Finding[];
}

type LintFlags = ClientFlags & { manifests?: string[]; failOn: Severity; output: string };

export function registerLint(program: Command): void {
  withCredentials(
    program
      .command("lint")
      .description("find what in the policies does not do what it says: exit 0 no finding at or above --fail-on, 1 some, 2 error")
      .addOption(serverOption("lint a running server's model"))
      .option("--manifests <path...>", "lint these manifests offline")
      .addOption(new Option("--fail-on <severity>", "exit 1 when a finding is at least this severe").choices(SEVERITIES).default("error"))
      .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json", "yaml"]).default("text")),
  )
    .addHelpText(
      "after",
      examples(
        "podwall lint --manifests examples/cluster                  # offline, on manifests",
        "podwall lint --manifests deploy/ --fail-on warning         # in CI: fail on warnings too",
        "podwall lint --server http://podwall:8080 -o json",
      ),
    )
    .action(async (o: LintFlags) => {
      let report: LintReport;
      if (o.manifests) {
        const service = await offlineService(o.manifests);
        report = { generation: service.generation, findings: lint(service.cluster) };
      } else {
        report = await ask(o, (c) => c.request<LintReport>("GET", "/v1/lint"));
      }
      process.stdout.write(o.output === "text" ? renderFindings(report.findings) : printed(report, o.output));
      process.exitCode = report.findings.some((f) => atLeast(f.severity, o.failOn)) ? 1 : 0;
    });
}

const COLUMNS = ["SEVERITY", "CODE", "OBJECT", "FIELD", "MESSAGE"] as const;

/** kubectl's table: columns three spaces apart, the message last; then a count of each severity. */
export function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return "no findings\n";
  const rows = findings.map((f) => [f.severity, f.code, f.object, f.field === "" ? "<none>" : f.field, f.message]);
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("")}\n`;
  const counts = SEVERITIES.map((s) => {
    const n = findings.filter((f) => f.severity === s).length;
    return `${n} ${s}${n === 1 || s === "info" ? "" : "s"}`;
  });
  const total = `${findings.length} finding${findings.length === 1 ? "" : "s"}: ${counts.join(", ")}\n`;
  return `${line(COLUMNS)}${rows.map(line).join("")}${total}`;
}
