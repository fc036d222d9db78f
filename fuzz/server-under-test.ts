/** `podwall serve --in-memory` in its own process, its state, and connections to it. */
import http from "node:http";
import { type ServeProcess, spawnServe, untilReady } from "../test/helpers/process.js";
import { RawGrpc } from "./grpc-send.js";
import { ServerState } from "./state.js";

/**
 * The server under test. After its first crash a spare is kept started
 * beside it, so the run goes on at once after the next one (a run without
 * crashes shares the machine with no other server).
 */
export class ServerUnderTest {
  proc!: ServeProcess;
  state!: ServerState;
  grpc!: RawGrpc;
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private spare: Promise<ServeProcess> | undefined;

  constructor(
    private readonly args: readonly string[],
    private readonly token?: string,
    private readonly limitMs?: number,
  ) {}

  private launch(): Promise<ServeProcess> {
    const p = spawnServe(this.args).then(async (proc) => {
      await untilReady(proc);
      return proc;
    });
    p.catch(() => undefined);
    return p;
  }

  async start(): Promise<void> {
    this.use(await this.launch());
  }

  private use(proc: ServeProcess): void {
    this.proc = proc;
    if (this.state) this.state.moveTo(proc.url);
    else this.state = new ServerState(proc.url, this.token, this.limitMs);
    if (this.grpc) this.grpc.reset(proc.grpc);
    else this.grpc = new RawGrpc(proc.grpc);
    this.fresh();
  }

  /** New connections: after a dropped or hung request, the next one starts clean. */
  fresh(): void {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.grpc.reset();
  }

  async restart(): Promise<void> {
    await this.proc.kill();
    const next = this.spare ?? this.launch();
    this.spare = this.launch();
    this.use(await next);
  }

  alive(): boolean {
    return this.proc.proc.exitCode === null && this.proc.proc.signalCode === null;
  }

  /** What the process wrote last before it died: the error and where it was thrown. */
  lastWords(): string {
    const lines = this.proc.tail.filter((l) => l.trim() !== "" && !l.startsWith("{"));
    const at = lines.findLastIndex((l) => /^\w*Error\b|Error:|^Uncaught|^node:/.test(l));
    return (at >= 0 ? lines.slice(at, at + 4) : lines.slice(-4))
      .map((l) => l.trim())
      .join(" | ")
      .slice(0, 500);
  }

  async stop(): Promise<void> {
    this.grpc.close();
    this.state.close();
    this.agent.destroy();
    await this.proc.kill();
    const spare = this.spare;
    this.spare = undefined;
    await spare?.then(
      (p) => p.kill(),
      () => undefined,
    );
  }
}
