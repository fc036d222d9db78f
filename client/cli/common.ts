/**
 * What every `podwall` command shares: how objects print, how `--help` ends,
 * how a port is read, the offline model of `--manifests`, and asking a server.
 * Each command lives in a file of its own and registers itself on the program.
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { expandWorkloads } from "../../server/manifests/workloads.js";
import { stringifyManifests } from "../../server/manifests/yaml-out.js";
import { PodwallError, PodwallService, SYSTEM } from "../../server/service/index.js";
import { RestClient } from "../rest-client.js";
import { type ClientFlags, DEFAULT_SERVER, transportOf } from "./client-flags.js";
import { Progress, type ProgressStream } from "./progress.js";

/**
 * The package's version: from client/cli/ in a checkout, or from
 * dist/client/cli/ in the image, whose package.json is one folder further up.
 */
export function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      return (JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      // Not in this layout: the next one.
    }
  }
  return "unknown";
}

/** Objects print as text for people, or as JSON or YAML (-o) for programs. */
export function printed(value: unknown, output: string): string {
  if (output === "json") return `${JSON.stringify(value, null, 2)}\n`;
  return stringifyManifests(value);
}

/** A command's `--help` ends with examples. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}

/** "80", "udp/53", "SCTP/81" */
export function parseProtoPort(text: string): { protocol: string; port: string } {
  const i = text.indexOf("/");
  return i < 0 ? { protocol: "TCP", port: text } : { protocol: text.slice(0, i), port: text.slice(i + 1) };
}

export interface OfflineOptions {
  /** Where notes (`note: ...` lines) and, on a terminal, the progress line go: standard error by default. */
  readonly stderr?: ProgressStream;
}

/**
 * The model of `--manifests`, in memory, for a command that answers offline.
 * A repository of manifests holds workloads rather than pods, and seldom its
 * Namespaces: each workload stands for its pods and the namespaces named are
 * made (expandWorkloads), with a note on standard error for what was made.
 */
export async function offlineService(paths: string[], opts: OfflineOptions = {}): Promise<PodwallService> {
  return (await offlineModel(paths, opts)).service;
}

/** offlineService, with the objects it was loaded with (workloads expanded): what `diff` compares a change with. */
export async function offlineModel(paths: string[], opts: OfflineOptions = {}): Promise<{ service: PodwallService; read: readonly unknown[]; raws: readonly unknown[] }> {
  const stderr = opts.stderr ?? process.stderr;
  const reading = Progress.start("reading manifests", { stream: stderr });
  let raws: unknown[];
  try {
    raws = readManifestPaths(paths, (files, of, objects) => reading.update(files, of, `${objects} objects`));
  } finally {
    reading.done();
  }
  const expanded = withWorkloadPods(raws, stderr);
  const s = await PodwallService.start({ cacheSize: 0 });
  const loading = Progress.start(`loading ${expanded.length} objects`, { stream: stderr });
  try {
    await s.applyObjects(SYSTEM, expanded, true, { allowEmpty: true });
  } finally {
    loading.done();
  }
  return { service: s, read: raws, raws: expanded };
}

/** Objects with each workload standing for its pods, and the namespaces they name made; the notes on `stderr`. */
export function withWorkloadPods(raws: readonly unknown[], stderr: ProgressStream = process.stderr): unknown[] {
  const expanded = expandWorkloads(raws);
  const r = expanded.refusal;
  if (r) throw new PodwallError(r.strict ? "bad-request" : "invalid", r.message, r.errors, r.omitted);
  for (const note of expanded.notes) stderr.write(`note: ${note}\n`);
  return expanded.raws;
}

/** A command line that names what cannot be done: exit 2 like any error. */
export class UsageError extends Error {}

/** A positive whole number of a flag. */
export function parseCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new InvalidArgumentError("must be a whole number from 1");
  return n;
}

/** Asks the server the flags name, with their credentials. */
export async function ask<T>(o: ClientFlags, call: (c: RestClient) => Promise<{ body: T }>): Promise<T> {
  const client = new RestClient(o.server ?? DEFAULT_SERVER, transportOf(o));
  try {
    return (await call(client)).body;
  } finally {
    await client.close();
  }
}
