/** Benchmark child processes: started with the same Node flags, read through one JSON line. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The same Node flags for every benchmark process, the baselines included. */
export const FLAGS = ["--expose-gc", "--max-old-space-size=8192"];

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export interface Child<T> {
  readonly proc: ChildProcess;
  readonly ready: T;
  stop(): void;
}

/** Runs a bench script in a child Node process and resolves with the first JSON line it prints. */
export function child<T>(script: string, args: string[], nodeFlags: readonly string[] = []): Promise<Child<T>> {
  const proc = spawn(process.execPath, [...FLAGS, ...nodeFlags, "--import", "tsx", here(script), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (line) => {
      resolve({ proc, ready: JSON.parse(line) as T, stop: () => proc.kill("SIGKILL") });
    });
    proc.once("exit", (code) => reject(new Error(`${script} ${args.join(" ")} exited with ${code}`)));
  });
}

/** Runs a bench script to completion and returns its JSON line. */
export async function run<T>(script: string, args: string[], nodeFlags: readonly string[] = []): Promise<T> {
  const c = await child<T>(script, args, nodeFlags);
  await new Promise((r) => c.proc.once("exit", r));
  return c.ready;
}

/** What a load generator (http-load.ts, grpc-load.ts) prints. */
export type Load = { perSecond: number; non2xx?: number; errors: number };

/** One run of a load generator process against an address for `seconds`; throws when any answer was not a success. */
export async function load<T extends Load>(tool: "http-load.ts" | "grpc-load.ts", target: string, seconds: number, concurrency: number, work: unknown): Promise<T> {
  const r = await run<T>(tool, [target, String(seconds), String(concurrency), JSON.stringify(work)]);
  if (r.errors || r.non2xx) throw new Error(`${tool} against ${target}: ${r.non2xx ?? 0} non-2xx answers, ${r.errors} errors`);
  return r;
}
