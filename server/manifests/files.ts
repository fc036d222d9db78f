/** Reading manifests from files and directories, as `kubectl apply -f PATH` does. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MANIFEST_LIMITS } from "./limits.js";
import { ManifestSyntaxError, type ParseLimits, parseManifests } from "./parse.js";

const EXTENSIONS = [".yaml", ".yml", ".json"];

/** The operator's own files are read whatever their size, within the limits of depth and aliases. */
const FILE_LIMITS: ParseLimits = { ...DEFAULT_MANIFEST_LIMITS, maxYamlBytes: Number.POSITIVE_INFINITY };

/** How far a read has come: after each file, the files read of all, and the objects found so far. */
export type FileRead = (filesRead: number, files: number, objects: number) => void;

/**
 * Every object in the files named (a directory: its .yaml/.yml/.json files, in name order),
 * Lists flattened into their items. Every path is listed before any file is read, so that
 * `onFile` knows how many there are.
 */
export function readManifestPaths(paths: readonly string[], onFile?: FileRead): unknown[] {
  const files = paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => EXTENSIONS.some((e) => f.endsWith(e)))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
  const out: unknown[] = [];
  files.forEach((f, i) => {
    try {
      for (const o of parseManifests(readFileSync(f, "utf8"), FILE_LIMITS)) out.push(o);
    } catch (e) {
      if (e instanceof ManifestSyntaxError) throw new ManifestSyntaxError(`${f}: ${e.message}`);
      throw e;
    }
    onFile?.(i + 1, files.length, out.length);
  });
  return out;
}
