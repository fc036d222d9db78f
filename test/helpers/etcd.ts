/**
 * A real etcd for tests: one member on free loopback ports with its data in a
 * fresh temp dir. It can be stopped and started again on the same ports and
 * data (an outage), compacted, and destroyed; whatever is left running when
 * the test process exits is killed.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type Socket, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface EtcdProcess {
  /** The client URL, http://127.0.0.1:PORT. */
  readonly url: string;
  readonly dataDir: string;
  /** SIGTERM and wait for the exit; the data dir stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir, and waits until it is healthy. */
  start(): Promise<void>;
  /** Kills it and removes its temp dir. */
  destroy(): Promise<void>;
  /** Compacts away all history before the current revision; resolves with that revision. */
  compact(): Promise<number>;
  /** The current revision of the store. */
  revision(): Promise<number>;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
function cleanUp(): void {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // left in the temp dir: nothing more can be done on the way out
    }
  }
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    cleanUp();
    // Die of the signal as if no handler were there.
    process.kill(process.pid, signal);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startEtcd(): Promise<EtcdProcess> {
  const dir = mkdtempSync(join(tmpdir(), "podwall-etcd-"));
  dirs.add(dir);
  const dataDir = join(dir, "data");
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = `podwall-test-${process.pid}-${clientPort}`;
  const args = [
    "--name",
    name,
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    peerUrl,
    "--initial-advertise-peer-urls",
    peerUrl,
    "--initial-cluster",
    `${name}=${peerUrl}`,
    "--initial-cluster-state",
    "new",
    "--max-txn-ops",
    "100000",
    "--max-request-bytes",
    "33554432",
    "--log-level",
    "warn",
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    if (child) throw new Error("etcd is already running");
    const proc = spawn("etcd", args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    running.add(proc);
    // The tail of its log, to say why it did not come up.
    let log = "";
    const stderr = proc.stderr as Socket | null;
    stderr?.setEncoding("utf8").on("data", (text: string) => {
      log = (log + text).slice(-4000);
    });
    // An etcd a failed test left behind must not keep the test process alive:
    // its exit is what kills it.
    proc.unref();
    stderr?.unref();
    let gone = false;
    exited = new Promise((resolve) => {
      proc.once("exit", () => {
        gone = true;
        running.delete(proc);
        if (child === proc) child = undefined;
        resolve();
      });
      proc.once("error", () => {
        gone = true;
        running.delete(proc);
        if (child === proc) child = undefined;
        resolve();
      });
    });
    // A bound on start-up, so that an etcd that cannot start fails the test instead of hanging it.
    const giveUp = Date.now() + 60_000;
    for (;;) {
      if (gone) throw new Error(`etcd exited while starting:\n${log}`);
      try {
        const res = await fetch(`${url}/health`);
        const body = (await res.json()) as { health?: string };
        if (res.ok && body.health === "true") return;
      } catch {
        // not listening yet
      }
      if (Date.now() > giveUp) {
        proc.kill("SIGKILL");
        await exited;
        throw new Error(`etcd did not become healthy at ${url}:\n${log}`);
      }
      await delay(50);
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    // Keeps the process alive until etcd is seen to exit.
    proc.ref();
    (proc.stderr as Socket | null)?.ref();
    proc.kill("SIGTERM");
    await exited;
  }

  async function destroy(): Promise<void> {
    child?.ref();
    (child?.stderr as Socket | null | undefined)?.ref();
    child?.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }

  async function revision(): Promise<number> {
    const { stdout } = await run("etcdctl", ["--endpoints", url, "endpoint", "status", "-w", "json"], {
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    const status = JSON.parse(stdout) as { Status: { header: { revision: number } } }[];
    const rev = status[0]?.Status.header.revision;
    if (typeof rev !== "number") throw new Error(`no revision in etcdctl's answer: ${stdout}`);
    return rev;
  }

  async function compact(): Promise<number> {
    const rev = await revision();
    await run("etcdctl", ["--endpoints", url, "compact", String(rev), "--physical"], {
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    return rev;
  }

  try {
    await start();
  } catch (e) {
    await destroy();
    throw e;
  }
  return { url, dataDir, stop, start, destroy, compact, revision };
}

/**
 * A TCP proxy to etcd that a test can cut, to put one client on the far side
 * of a partition while the others keep working.
 */
export interface EtcdProxy {
  readonly url: string;
  /** Drops every connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<EtcdProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const proxyPort = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    async close() {
      open = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
