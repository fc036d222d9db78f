/**
 * `podwall serve` as a real process: started on free loopback ports, its
 * addresses read from its "listening" log line, killed or stopped by the test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export const CLI = new URL("../../client/cli/main.ts", import.meta.url).pathname;
export const ROOT = new URL("../..", import.meta.url).pathname;

export interface ServeProcess {
  readonly proc: ChildProcess;
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** "127.0.0.1:PORT" */
  readonly grpc: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The last lines it wrote, for failure messages. */
  readonly tail: string[];
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `podwall serve ARGS --listen 127.0.0.1:0 --grpc-listen 127.0.0.1:0`; resolves once it listens (not once it is ready). */
export async function spawnServe(args: readonly string[], opts: { cwd?: string } = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, "serve", "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", ...args], {
    cwd: opts.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const addresses = new Promise<{ rest: string; grpc: string }>((resolve, reject) => {
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        tail.push(line);
        if (tail.length > 100) tail.shift();
        if (!line.startsWith("{")) return;
        const log = JSON.parse(line) as { msg?: string; rest?: string; grpc?: string };
        if (log.msg === "listening" && log.rest && log.grpc) resolve({ rest: log.rest, grpc: log.grpc });
      });
    }
    void exited.then((code) => reject(new Error(`podwall serve exited (${code}) before listening:\n${tail.join("\n")}`)));
  });
  const { rest, grpc } = await addresses;
  return {
    proc,
    url: `http://${rest}`,
    grpc,
    exited,
    tail,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Resolves once GET /readyz answers 200, polling; rejects if the process exits first. */
export async function untilReady(p: ServeProcess): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`podwall serve exited before it was ready:\n${p.tail.join("\n")}`);
    try {
      const res = await fetch(`${p.url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet, or going away
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
