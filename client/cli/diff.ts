/**
 * `podwall diff FILE...`: what applying the manifests (and deleting objects)
 * would change, as `kubectl diff` shows a change before it is made: the cells
 * whose answer changes and the node rulesets whose version changes. Exit 0 no
 * change, 1 changes, 2 error, as kubectl diff.
 */
import { isDeepStrictEqual } from "node:util";
import { type Command, Option } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { flatten } from "../../server/manifests/parse.js";
import { AnalysisService, RulesService, SYSTEM, type WhatIfAnswer, type WhatIfInput } from "../../server/service/index.js";
import { type ClientFlags, serverOption, withCredentials } from "./client-flags.js";
import { UsageError, ask, examples, offlineModel, printed, withWorkloadPods } from "./common.js";

interface DiffFlags extends ClientFlags {
  delete: string[];
  ports?: string;
  limit?: string;
  manifests?: string[];
  output: string;
}

export function registerDiff(program: Command): void {
  withCredentials(
    program
      .command("diff")
      .description("show what applying the manifests would change: the cells whose answer changes and the node rulesets that change (exit 0 none, 1 some, 2 error)")
      .argument("[files...]", "manifest files or directories to apply")
      .option("--delete <kind/namespace/name>", "also delete this object (Pod, NetworkPolicy: kind/namespace/name; Namespace, Node: kind/name); repeatable", collect, [])
      .option("--ports <list>", "the ports to compare, e.g. 80,UDP/53 (default: every port and protocol a policy names)")
      .option("--limit <n>", "list at most this many cells (all are counted)")
      .addOption(serverOption("ask a running server"))
      .option("--manifests <path...>", "compare offline against these manifests (workloads stand for their pods, in them and in FILE)")
      .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json", "yaml"]).default("text")),
  )
    .addHelpText(
      "after",
      examples(
        "podwall diff deny-all.yaml --server http://podwall:8080",
        "podwall diff new-policies/ --manifests deploy/ --ports 80,443   # offline, before anything runs",
        "podwall diff --delete networkpolicy/x/allow-web -o json",
      ),
    )
    .action(async (files: string[], o: DiffFlags) => {
      if (files.length === 0 && o.delete.length === 0) throw new UsageError("nothing to compare: give manifest files to apply, or --delete");
      const deletes = o.delete.map(parseRef);
      const base: WhatIfInput = {
        ...(o.ports !== undefined ? { ports: o.ports.split(",").map((p) => p.trim()) } : {}),
        ...(o.limit !== undefined ? { limit: Number(o.limit) } : {}),
      };
      const given = files.length > 0 ? readManifestPaths(files) : [];
      let answer: WhatIfAnswer;
      if (o.manifests) {
        const { service, read, raws } = await offlineModel(o.manifests);
        answer = await new AnalysisService(service, new RulesService(service)).whatIf(SYSTEM, { ...base, ...offlineChange(read, raws, given, deletes) });
      } else {
        answer = await ask(o, (c) => c.request<WhatIfAnswer>("POST", "/v1/whatif", { ...base, apply: given, delete: deletes }));
      }
      process.stdout.write(o.output === "text" ? renderWhatIf(answer) : printed(answer, o.output));
      process.exitCode = answer.cellsChanged > 0 || answer.nodes.length > 0 ? 1 : 0;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "pod/x/a", "networkpolicy/x/p", "namespace/x", "node/n1" */
function parseRef(text: string): { kind: string; namespace: string; name: string } {
  const parts = text.split("/");
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  if (parts.length === 2) return { kind: parts[0]!, namespace: "", name: parts[1]! };
  throw new UsageError(`--delete ${JSON.stringify(text)}: give kind/namespace/name (Pod, NetworkPolicy) or kind/name (Namespace, Node)`);
}

/**
 * Offline, the change is made on the manifests as read (`read`), then the
 * result has its workloads stand for pods as the model's manifests (`before`)
 * had: what differs between the two is applied, what the change leaves out
 * is deleted. A changed Deployment is then its pod changed.
 */
function offlineChange(
  read: readonly unknown[],
  before: readonly unknown[],
  given: readonly unknown[],
  deletes: readonly { kind: string; namespace: string; name: string }[],
): WhatIfInput {
  const merged = new Map<string, unknown>();
  for (const raw of flat(read)) merged.set(refOf(raw), raw);
  for (const raw of flat(given)) merged.set(refOf(raw), raw);
  const after = withWorkloadPods([...merged.values()], { write: () => true });
  const was = new Map(before.map((raw) => [refOf(raw), raw]));
  const apply = after.filter((raw) => !isDeepStrictEqual(was.get(refOf(raw)), raw));
  const kept = new Set(after.map(refOf));
  const gone = before.filter((raw) => !kept.has(refOf(raw))).map(refParts);
  return { apply, delete: [...gone, ...deletes] };
}

function flat(raws: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const raw of raws) flatten(raw, out);
  return out;
}

function refParts(raw: unknown): { kind: string; namespace: string; name: string } {
  const o = raw as { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } };
  return { kind: String(o.kind ?? ""), namespace: String(o.metadata?.namespace ?? ""), name: String(o.metadata?.name ?? "") };
}

function refOf(raw: unknown): string {
  const r = refParts(raw);
  return `${r.kind.toLowerCase()}/${r.namespace}/${r.name}`;
}

/** The cells by port, then the nodes, then a count: what a person reads before merging a change. */
export function renderWhatIf(a: WhatIfAnswer): string {
  const lines: string[] = [];
  let port = "";
  for (const c of a.cells) {
    const at = `${c.protocol}/${c.port}`;
    if (at !== port) {
      port = at;
      lines.push(`${at}:`);
    }
    lines.push(`  ${c.src} -> ${c.dst}: ${answer(c.before)} -> ${answer(c.after)}`);
  }
  if (a.truncated) lines.push(`  ... and ${a.cellsChanged - a.cells.length} more cells (--limit)`);
  if (a.nodes.length > 0) {
    lines.push("node rulesets:");
    for (const n of a.nodes) lines.push(`  ${n.node}: ${n.before ?? "(no node)"} -> ${n.after ?? "(no node)"}`);
  }
  const ports = a.ports.join(", ");
  lines.push(
    a.cellsChanged === 0 && a.nodes.length === 0
      ? `no change (ports ${ports}; generation ${a.generation})`
      : `${a.cellsChanged} cells and ${a.nodes.length} node rulesets would change (ports ${ports}; generation ${a.generation})`,
  );
  for (const w of a.warnings ?? []) lines.push(`warning: ${w}`);
  return `${lines.join("\n")}\n`;
}

function answer(v: boolean | null): string {
  return v === null ? "(no pod)" : v ? "allowed" : "denied";
}
