/**
 * What every `podwall` command shares: how objects print, how `--help` ends,
 * how a port is read, the offline model of `--manifests`, and asking a server.
 * Each command lives in a file of its own and registers itself on the program.
 */
import { InvalidArgumentError } from "commander";
import { readManifestPaths } from "../../server/manifests/files.js";
import { stringifyManifests } from "../../server/manifests/yaml-out.js";
import { PodwallService, SYSTEM } from "../../server/service/index.js";
import { RestClient } from "../rest-client.js";
import { type ClientFlags, DEFAULT_SERVER, transportOf } from "./client-flags.js";

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

/** The model of `--manifests`, in memory, for a command that answers offline. */
export async function offlineService(paths: string[]): Promise<PodwallService> {
  const s = await PodwallService.start({ cacheSize: 0 });
  await s.applyObjects(SYSTEM, readManifestPaths(paths), true, { allowEmpty: true });
  return s;
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
