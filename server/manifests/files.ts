/** Reading manifests from files and directories, as `kubectl apply -f PATH` does. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MANIFEST_LIMITS } from "./limits.js";
import { ManifestSyntaxError, type ParseLimits, parseManifests } from "./parse.js";

const EXTENSIONS = [".yaml", ".yml", ".json"];

/** The operator's own files are read whatever their size, within the limits of depth and aliases. */
const FILE_LIMITS: ParseLimits = { ...DEFAULT_MANIFEST_LIMITS, maxYamlBytes: Number.POSITIVE_INFINITY };

/** Every object in the files named (a directory: its .yaml/.yml/.json files, in name order). */
export function readManifestPaths(paths: readonly string[]): unknown[] {
  const out: unknown[] = [];
  for (const p of paths) {
    const files = statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => EXTENSIONS.some((e) => f.endsWith(e)))
          .sort()
          .map((f) => join(p, f))
      : [p];
    for (const f of files) {
      try {
        for (const o of parseManifests(readFileSync(f, "utf8"), FILE_LIMITS)) out.push(o);
      } catch (e) {
        if (e instanceof ManifestSyntaxError) throw new ManifestSyntaxError(`${f}: ${e.message}`);
        throw e;
      }
    }
  }
  return out;
}
