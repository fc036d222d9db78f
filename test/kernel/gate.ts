/**
 * Holding a real agent at a chosen point of an apply. The agent runs its
 * commands through `ip netns exec NAME TOOL`, which finds TOOL on the PATH it
 * inherits: a directory of stand-ins put first on that PATH runs the real
 * `ipset` / `iptables-restore`, and once armed, keeps the agent waiting
 * after the real command has finished (the kernel holds its effect) until the
 * test releases it. Each stand-in is one-shot: it holds the first matching
 * call after `arm` and lets every other call straight through.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../rules/support.js";

export type GatedTool = "ipset" | "iptables-restore";

const TOOLS: readonly GatedTool[] = ["ipset", "iptables-restore"];

/** Only `ipset restore` is held, never the `ipset list` / `ipset destroy` of the clean-up. */
const MATCHES: Record<GatedTool, string> = { ipset: '[ "$1" = restore ]', "iptables-restore": "true" };

function realPath(tool: string): string {
  return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
}

function standIn(tool: GatedTool, real: string): string {
  return `#!/bin/sh
gate="$PODWALL_TEST_GATE"
if [ -n "$gate" ] && ${MATCHES[tool]} && mv "$gate/arm-${tool}" "$gate/taken-${tool}" 2>/dev/null; then
  ${real} "$@"
  rc=$?
  echo "$$ $rc" > "$gate/held-${tool}.tmp"
  mv "$gate/held-${tool}.tmp" "$gate/held-${tool}"
  while [ -d "$gate" ] && [ ! -e "$gate/release-${tool}" ]; do sleep 0.02; done
  exit $rc
fi
exec ${real} "$@"
`;
}

export class Gate {
  private readonly root = mkdtempSync(join(tmpdir(), "podwall-gate-"));
  private readonly bin = join(this.root, "bin");
  private readonly dir = join(this.root, "gate");

  constructor() {
    mkdirSync(this.bin);
    mkdirSync(this.dir);
    for (const tool of TOOLS) {
      const path = join(this.bin, tool);
      writeFileSync(path, standIn(tool, realPath(tool)));
      chmodSync(path, 0o755);
    }
  }

  /** The environment of an agent whose commands pass through this gate. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.bin}:${process.env["PATH"] ?? ""}`, PODWALL_TEST_GATE: this.dir };
  }

  /** Holds the next call of `tool` once the real command is done. */
  arm(tool: GatedTool): void {
    for (const f of [`held-${tool}`, `release-${tool}`, `taken-${tool}`]) rmSync(join(this.dir, f), { force: true });
    writeFileSync(join(this.dir, `arm-${tool}`), "");
  }

  /**
   * Resolves once the armed call has run the real command and waits: its pid
   * and the real command's exit code; or undefined once `gaveUp` says it never
   * will be (the agent is gone).
   */
  async held(tool: GatedTool, gaveUp: () => boolean = () => false): Promise<{ pid: number; rc: number } | undefined> {
    const file = join(this.dir, `held-${tool}`);
    await eventually(() => existsSync(file) || gaveUp(), 120_000, `the agent's ${tool} to be held`);
    if (!existsSync(file)) return undefined;
    const [pid, rc] = readFileSync(file, "utf8").trim().split(" ").map(Number);
    return { pid: pid!, rc: rc! };
  }

  release(tool: GatedTool): void {
    writeFileSync(join(this.dir, `release-${tool}`), "");
  }

  /** Lets every held call go, and removes the stand-ins. */
  dispose(): void {
    for (const tool of TOOLS) rmSync(join(this.dir, `arm-${tool}`), { force: true });
    rmSync(this.root, { recursive: true, force: true });
  }
}
