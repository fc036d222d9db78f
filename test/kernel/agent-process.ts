/**
 * `podwall agent` as a real process applying into one node's network
 * namespace: its JSON log records kept in order, so that a test can wait for
 * what the agent says it did, and its exit (code and signal).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI, ROOT } from "../helpers/process.js";

export interface LogRecord {
  readonly msg?: string;
  readonly version?: string;
  readonly applied?: string;
  readonly [key: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AgentOptions {
  readonly server: string;
  readonly node: string;
  readonly netns: string;
  readonly env?: NodeJS.ProcessEnv;
  /** In a process group of its own (so that the group can be signalled). */
  readonly detached?: boolean;
}

export class AgentProcess {
  readonly proc: ChildProcess;
  readonly records: LogRecord[] = [];
  readonly tail: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly o: AgentOptions) {
    this.proc = spawn(process.execPath, ["--import", "tsx", CLI, "agent", "--server", o.server, "--node", o.node, "--netns", o.netns, "--wait", "20"], {
      cwd: ROOT,
      env: o.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: o.detached ?? false,
    });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        this.tail.push(line);
        if (this.tail.length > 60) this.tail.shift();
        if (line.startsWith("{")) {
          try {
            this.records.push(JSON.parse(line) as LogRecord);
          } catch {
            // not a log record
          }
        }
        this.wake();
      });
    }
    this.exited = new Promise((resolve) =>
      this.proc.once("close", (code, signal) => {
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** How many records it has written so far: a mark to wait for later ones. */
  mark(): number {
    return this.records.length;
  }

  /** The first record from index `from` on that `match` accepts, once the agent writes it; rejects if the agent exits first. */
  async logged(match: (r: LogRecord) => boolean, from: number, what: string): Promise<LogRecord> {
    for (;;) {
      const found = this.records.slice(from).find(match);
      if (found) return found;
      if (this.exit) throw new Error(`the agent of ${this.o.node} exited (${this.exit.code ?? this.exit.signal}) before ${what}:\n${this.tail.join("\n")}`);
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** Waits until it logs that it applied `version` (after record `from`). */
  applied(version: string, from = 0): Promise<LogRecord> {
    return this.logged((r) => r.msg === "ruleset applied" && r.version === version, from, `it applied ${version}`);
  }

  /** SIGKILL, then waits for the exit. */
  async kill(): Promise<Exit> {
    if (this.running) this.proc.kill("SIGKILL");
    return this.exited;
  }

  private wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
  }
}
