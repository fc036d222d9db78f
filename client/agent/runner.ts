/**
 * How the agent runs commands: for real (optionally inside a network
 * namespace, through a command prefix such as `ip netns exec NAME`), or as a
 * dry run that prints what it would change.
 */
import { spawn } from "node:child_process";

export interface Runner {
  /** Runs a command that only reads state and returns its stdout. */
  read(cmd: readonly string[]): Promise<string>;
  /** Runs a command that changes state, with `input` on stdin. */
  write(cmd: readonly string[], input?: string): Promise<void>;
}

export class CommandError extends Error {
  constructor(
    readonly cmd: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${cmd.join(" ")} failed (exit ${code}): ${stderr.trim().split("\n").slice(0, 3).join(" / ")}`);
  }
}

export function exec(cmd: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // In a process group of its own: a signal to the agent's group (Ctrl-C, `kill -- -PGID`, systemd's
    // default stop) reaches the agent, which stops between applies, and never a restore half-way.
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new CommandError(cmd, null, e.message)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new CommandError(cmd, code, Buffer.concat(err).toString()));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

export class SystemRunner implements Runner {
  constructor(private readonly prefix: readonly string[] = []) {}
  read(cmd: readonly string[]): Promise<string> {
    return exec([...this.prefix, ...cmd]);
  }
  async write(cmd: readonly string[], input?: string): Promise<void> {
    await exec([...this.prefix, ...cmd], input);
  }
}

/** Reads what it can (nothing, where it may not), prints every change instead of making it. */
export class DryRunner implements Runner {
  constructor(
    private readonly out: (text: string) => void,
    private readonly prefix: readonly string[] = [],
  ) {}
  async read(cmd: readonly string[]): Promise<string> {
    try {
      return await exec([...this.prefix, ...cmd]);
    } catch {
      return "";
    }
  }
  async write(cmd: readonly string[], input?: string): Promise<void> {
    const line = [...this.prefix, ...cmd].join(" ");
    this.out(input === undefined ? `${line}\n` : `${line} <<'EOF'\n${input}${input.endsWith("\n") || input === "" ? "" : "\n"}EOF\n`);
  }
}
