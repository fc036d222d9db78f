/**
 * The soak: a Podwall server in its own process on a generated profile, its
 * maximum rate of GET /v1/check measured, then a run at 80 % of that rate
 * (paced, open loop, over keep-alive connections) while a long poll is held
 * open for every node and a policy is rewritten every few seconds, so that
 * some polls are answered and re-opened. Reports requests, errors, the
 * checks' latency, the rate achieved, and the server's RSS after warm-up and
 * at the end (read under load, as sampled; the samples of every second are
 * summed up beside them, since where the heap's sawtooth stands at a reading
 * moves it by tens of percent).
 *
 * The questions: half from a hot set of 4,096 (src, dst, port), which the
 * decision cache answers once it holds them, half drawn at random from every
 * pod pair and four ports, which it almost never does; the share the cache
 * answered is read from the server's /metrics and printed. Before anything
 * is measured the cache is filled (more distinct questions than it holds,
 * through POST /v1/check/batch): growing up to its bound is not what the
 * soak's memory figure is to show.
 *
 * Run as a script, this file is one of the soak's processes:
 *   soak-bench.ts server PROFILE
 *   soak-bench.ts load PORT max|paced SECONDS CONNECTIONS [RATE]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { type Socket, connect } from "node:net";
import { createInterface } from "node:readline";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { ServeOptions } from "../server/main.js";
import { PROFILES, allObjects, generate, rng } from "./generate.js";
import { FLAGS, child } from "./processes.js";
import { percentile } from "./stats.js";

/**
 * The server under soak and what every client of it sends with each request
 * (checks, long polls, writes, the model load, /metrics): a credential for
 * the server goes into `options` and its header into `headers`, here only.
 */
const SERVER = {
  profile: "large",
  options: { listen: "127.0.0.1:0", grpcListen: "127.0.0.1:0" } satisfies ServeOptions,
  headers: {} as Readonly<Record<string, string>>,
};

/** Decisions the server's cache holds at most (its default); the fill asks this many and a fifth more. */
const CACHE_SIZE = 100_000;
const FILL_BATCH = 500;
/** The load is this share of the maximum rate. */
const LOAD_SHARE = 0.8;
const HOT_QUESTIONS = 4096;
const HOT_SHARE = 0.5;
const PORTS = [8080, 8000, 9090, 443];
/** Connections of the closed-loop maximum (as the front-door bench) and of the paced run. */
const MAX_CONNECTIONS = 32;
/** Closed-loop load before the maximum is measured (JIT, the decision cache, the heap's first growth). */
const MAX_WARMUP_MS = 3000;
const PACED_CONNECTIONS = 64;
/** The server's heap limit, MiB: about twice what the soak keeps alive on large. */
const SERVER_HEAP_MB = 1024;
/** Long polls ask for this wait, in seconds; a write comes every WRITE_EVERY_MS. */
const POLL_WAIT = 20;
const WRITE_EVERY_MS = 15_000;
/** Policies the writes rewrite in turn (ports changing), so that the model does not grow over the soak. */
const WRITTEN_POLICIES = 4;

export interface Row {
  figure: string;
  value: string;
  target: string;
  met?: boolean;
  raw?: unknown;
}

interface LoadResult {
  mode: "max" | "paced";
  seconds: number;
  /** Requests sent, and answered, within the measured window. */
  sent: number;
  answered: number;
  perSecond: number;
  targetRate?: number;
  statuses: Record<string, number>;
  non2xx: number;
  socketErrors: number;
  /** Requests still due or in flight when the load stopped waiting for them. */
  unanswered: number;
  /** Milliseconds from sending to the whole answer, and from the time the pace scheduled the request. */
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  scheduledMs: { p50: number; p99: number; p999: number; max: number };
  /** The most requests due and not yet sent at once (the server or this process falling behind). */
  maxBacklog: number;
}

type Ready = { rest: number; loadMs: number; objects: number };

const here = fileURLToPath(import.meta.url);
const url = (port: number) => `http://127.0.0.1:${port}`;

// ---------------------------------------------------------------------------
// The section, run by bench/main.ts.

export async function soakSection(add: (r: Row) => void, opts: { quick: boolean; seconds: number }): Promise<void> {
  const soakSeconds = opts.quick ? 10 : 60;
  const warmupSeconds = soakSeconds / 4;
  console.error(
    `soak: server on ${SERVER.profile} in its own process; maximum GET /v1/check rate, then ${soakSeconds} s at ${LOAD_SHARE * 100} % of it with a long poll per node and a write every ${WRITE_EVERY_MS / 1000} s`,
  );
  // The heap bounded as a container's memory limit would bound it (V8 keeps what it once committed, up to its limit).
  const server = await child<Ready>("soak-bench.ts", ["server", SERVER.profile], [`--max-old-space-size=${SERVER_HEAP_MB}`]);
  const pid = server.proc.pid!;
  const base = url(server.ready.rest);
  const polls = new LongPolls(base);
  const timers: NodeJS.Timeout[] = [];
  const loads: ChildProcess[] = [];
  const every = (period: number, fn: () => void) => {
    const t = setInterval(fn, period);
    timers.push(t);
    return t;
  };
  try {
    const filled = await fillCache(base);
    const c0 = await decisions(base);
    const max = await (await load(loads, ["load", String(server.ready.rest), "max", String(opts.seconds), String(MAX_CONNECTIONS)])).done;
    const c1 = await decisions(base);
    if (max.non2xx || max.socketErrors) throw new Error(`maximum rate run: ${max.non2xx} non-2xx answers, ${max.socketErrors} socket errors`);
    add({
      figure: `soak: GET /v1/check maximum rate, ${SERVER.profile} (${MAX_CONNECTIONS} connections, closed loop, ${opts.seconds} s)`,
      value: `${max.perSecond.toFixed(0)} req/s (p50 ${ms(max.latencyMs.p50)}, p99 ${ms(max.latencyMs.p99)}; the cache answered ${share(c0, c1)}, after ${filled.questions} distinct questions filled it in ${(filled.ms / 1000).toFixed(1)} s)`,
      target: "report",
      raw: max,
    });

    await write(base, -1);
    await polls.start();
    const rate = Math.round(max.perSecond * LOAD_SHARE);
    const rss: { s: number; mb: number }[] = [];
    const d0 = await decisions(base);
    const load0 = loadavg()[0]!;
    const paced = await load(loads, ["load", String(server.ready.rest), "paced", String(soakSeconds), String(PACED_CONNECTIONS), String(rate)]);
    const t0 = performance.now();
    const failed = (into: string[]) => (e: unknown) => into.push(e instanceof Error ? e.message : String(e));
    const writeErrors: string[] = [];
    const sampleErrors: string[] = [];
    const sampler = every(1000, () => {
      const s = (performance.now() - t0) / 1000;
      serverMemory(pid, base).then((m) => rss.push({ s, mb: m.rss }), failed(sampleErrors));
    });
    let writes = 0;
    const writtenAt: number[] = [];
    const writer = every(WRITE_EVERY_MS, () => {
      writtenAt.push(performance.now());
      write(base, writes++).catch(failed(writeErrors));
    });
    await sleep(warmupSeconds * 1000);
    const warm = await collectedMemory(pid, base);
    await sleep(t0 + soakSeconds * 1000 - performance.now());
    const end = await collectedMemory(pid, base);
    clearInterval(writer);
    clearInterval(sampler);
    const r = await paced.done;
    const d1 = await decisions(base);
    const load1 = loadavg()[0]!;
    await polls.stop();

    const polled = polls.counts;
    // From each write until the last long poll answered before the next one.
    const answeredMs = writtenAt
      .map((w, i) => polls.answeredAt.filter((a) => a >= w && a < (writtenAt[i + 1] ?? Infinity)).reduce((m, a) => Math.max(m, a - w), -1))
      .filter((x) => x >= 0)
      .sort((a, b) => a - b);
    const errors = r.non2xx + r.socketErrors + polled.errors + writeErrors.length + sampleErrors.length;
    add({
      figure: `soak: ${soakSeconds} s at ${LOAD_SHARE * 100} % of the maximum, requests`,
      value: `${r.answered} checks (the cache answered ${share(d0, d1)}), ${polled.answered} long polls answered after ${writes} writes (write to the last of its answers: median ${ms(percentile(answeredMs, 0.5))}, max ${ms(answeredMs.at(-1) ?? NaN)}), ${polled.expired} expired (304 at the end of the wait), ${polls.nodes} held open; machine load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${cpus().length} CPUs`,
      target: "report",
      raw: { load: r, polls: polled, writes, answeredMs },
    });
    add({
      figure: "soak: errors (non-2xx but long polls' 304, socket errors)",
      value: `${errors} (checks: ${r.non2xx} non-2xx, ${r.socketErrors} socket; long polls: ${polled.errors}; writes: ${writeErrors.length}; GET /metrics: ${sampleErrors.length})`,
      target: "0",
      met: errors === 0,
      raw: { statuses: r.statuses, pollError: polled.firstError, writeError: writeErrors[0], metricsError: sampleErrors[0] },
    });
    add({
      figure: "soak: check latency p50 / p99",
      value: `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} (from the paced send time: ${ms(r.scheduledMs.p50)} / ${ms(r.scheduledMs.p99)}; max ${ms(r.scheduledMs.max)})`,
      target: "report",
    });
    const achieved = r.perSecond / rate;
    add({
      figure: "soak: achieved ÷ target rate",
      value: `${achieved.toFixed(3)} (${r.perSecond.toFixed(0)} of ${rate} req/s; most requests due at once ${r.maxBacklog}, unanswered at the end ${r.unanswered})`,
      target: "≥ 0.99",
      met: achieved >= 0.99,
    });
    const span = (from: number, to: number) => rss.filter((x) => x.s >= from && x.s <= to).map((x) => x.mb);
    const after = span(warmupSeconds, soakSeconds);
    const third = (soakSeconds - warmupSeconds) / 3;
    const low = (xs: number[]) => Math.min(...xs).toFixed(0);
    add({
      figure: "soak: server RSS after a full collection, after warm-up / at the end",
      value: `${warm.rss.toFixed(0)} MB at ${warmupSeconds} s / ${end.rss.toFixed(0)} MB at ${soakSeconds} s (sampled every second after warm-up: ${low(after)}–${Math.max(...after).toFixed(0)} MB, lowest in its first and last thirds ${low(span(warmupSeconds, warmupSeconds + third))} / ${low(span(soakSeconds - third, soakSeconds))} MB; peak ${end.hwm.toFixed(0)} MB; heap committed ${mb(warm.heap, end.heap)}, used ${mb(warm.heapUsed, end.heapUsed)}, outside it ${mb(warm.external, end.external)})`,
      target: "report",
      raw: { warm, end, sampled: rss },
    });
    const growth = end.rss / warm.rss;
    add({ figure: "soak: server RSS end ÷ after warm-up", value: growth.toFixed(3), target: "≤ 1.10", met: growth <= 1.1 });
  } finally {
    for (const t of timers) clearInterval(t);
    for (const p of loads) if (p.exitCode === null) p.kill("SIGKILL");
    await polls.stop();
    server.stop();
  }
}

const mb = (a: number, b: number) => `${a.toFixed(0)} → ${b.toFixed(0)} MB`;
const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t)));

/**
 * The server's memory, MB: VmRSS and VmHWM from /proc (where there is none,
 * process_resident_memory_bytes and no peak), and its heap (committed, used)
 * and memory outside the heap as its /metrics give them.
 */
async function serverMemory(pid: number, base: string): Promise<{ rss: number; hwm: number; heap: number; heapUsed: number; external: number }> {
  const res = await fetch(`${base}/metrics`, { headers: SERVER.headers });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const text = await res.text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
  const heap = { heap: metric("nodejs_heap_size_total_bytes"), heapUsed: metric("nodejs_heap_size_used_bytes"), external: metric("nodejs_external_memory_bytes") };
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: metric("process_resident_memory_bytes"), hwm: NaN, ...heap };
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, ...heap };
}

/** Major collections the server has run, from its /metrics. */
async function majorCollections(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`, { headers: SERVER.headers });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return Number(/^nodejs_gc_duration_seconds_count\{kind="major"\} (\d+)/m.exec(await res.text())?.[1] ?? 0);
}

/** The server's memory right after a full collection it was asked for (SIGUSR2), once its metrics show the collection. */
async function collectedMemory(pid: number, base: string): Promise<Awaited<ReturnType<typeof serverMemory>>> {
  const before = await majorCollections(base);
  process.kill(pid, "SIGUSR2");
  const end = performance.now() + 30_000;
  while ((await majorCollections(base)) <= before && performance.now() < end) await sleep(50);
  return serverMemory(pid, base);
}

/** Decisions the server made so far: all, and those the cache answered. */
async function decisions(base: string): Promise<{ all: number; cached: number }> {
  const res = await fetch(`${base}/metrics`, { headers: SERVER.headers });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  let all = 0;
  let cached = 0;
  for (const m of (await res.text()).matchAll(/^podwall_decisions_total\{([^}]*)\} (\d+)/gm)) {
    all += Number(m[2]);
    if (m[1]!.includes('cached="true"')) cached += Number(m[2]);
  }
  return { all, cached };
}

const share = (a: { all: number; cached: number }, b: { all: number; cached: number }) => `${((100 * (b.cached - a.cached)) / Math.max(1, b.all - a.all)).toFixed(0)} %`;

/** Pods of the profile as `namespace/name`. */
function podNames(): string[] {
  return generate(PROFILES[SERVER.profile]!).pods.map((p) => {
    const m = p["metadata"] as { name: string; namespace: string };
    return `${m.namespace}/${m.name}`;
  });
}

/** A question about two pods and a port, drawn with `r`. */
function randomQuestion(pods: readonly string[], r: () => number): { src: string; dst: string; port: number } {
  return { src: pods[Math.floor(r() * pods.length)]!, dst: pods[Math.floor(r() * pods.length)]!, port: PORTS[Math.floor(r() * PORTS.length)]! };
}

/** Asks more distinct questions than the decision cache holds, in batches, four at a time. */
async function fillCache(base: string): Promise<{ questions: number; ms: number }> {
  const pods = podNames();
  const rand = rng(31);
  const batches = Math.ceil((CACHE_SIZE * 1.2) / FILL_BATCH);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      next++;
      const checks = Array.from({ length: FILL_BATCH }, () => randomQuestion(pods, rand));
      const res = await fetch(`${base}/v1/check/batch`, { method: "POST", headers: { ...SERVER.headers, "content-type": "application/json" }, body: JSON.stringify({ checks }) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`POST /v1/check/batch: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { questions: batches * FILL_BATCH, ms: performance.now() - t0 };
}

/** A policy rewritten in turn: the same few names, a different port each time; `round` -1 writes them all once. */
async function write(base: string, round: number): Promise<void> {
  const policy = (k: number, port: number) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `soak-${k}`, namespace: `ns-${String(k * 7).padStart(4, "0")}` },
    spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "web" } } }], ports: [{ protocol: "TCP", port }] }] },
  });
  const items = round < 0 ? Array.from({ length: WRITTEN_POLICIES }, (_, k) => policy(k, 7000)) : [policy(round % WRITTEN_POLICIES, 7001 + (round % 500))];
  const res = await fetch(`${base}/v1/apply`, {
    method: "POST",
    headers: { ...SERVER.headers, "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`POST /v1/apply: ${res.status}`);
}

/** A load process: resolves once it has started its measured run; `done` with its figures. */
async function load(started: ChildProcess[], args: string[]): Promise<{ done: Promise<LoadResult> }> {
  const proc: ChildProcess = spawn(process.execPath, [...FLAGS, "--import", "tsx", here, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  started.push(proc);
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => proc.once("exit", (code) => reject(new Error(`load ${args.join(" ")} exited with ${code}`))));
  exited.catch(() => undefined);
  const line = async () => {
    const l = await Promise.race([lines.next(), exited]);
    if (l.done) throw new Error(`load ${args.join(" ")} ended without figures`);
    return JSON.parse(l.value as string) as LoadResult & { started?: boolean };
  };
  await line();
  const done = line();
  done.catch(() => undefined);
  return { done };
}

/** A long poll held open for every node, re-opened when answered (200, new version) or expired (304). */
class LongPolls {
  readonly counts = { answered: 0, expired: 0, errors: 0, firstError: undefined as string | undefined };
  nodes = 0;
  /** When each answer with a new version came (performance.now()). */
  readonly answeredAt: number[] = [];
  private stopped = false;
  private readonly pool = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly controllers = new Set<AbortController>();
  private loops: Promise<void>[] = [];

  constructor(private readonly base: string) {}

  /** Resolves once every node's poll holds a version and waits on it. */
  async start(): Promise<void> {
    const res = await fetch(`${this.base}/v1/nodes`, { headers: SERVER.headers });
    if (!res.ok) throw new Error(`GET /v1/nodes: ${res.status}`);
    const nodes = ((await res.json()) as { nodes: { node: string }[] }).nodes.map((n) => n.node);
    this.nodes = nodes.length;
    const held = await Promise.all(nodes.map((n) => this.poll(n, undefined, 0)));
    this.loops = nodes.map((n, i) => this.loop(n, held[i]!.etag));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.controllers) c.abort();
    await Promise.allSettled(this.loops);
    this.pool.destroy();
  }

  private async loop(node: string, etag: string | undefined): Promise<void> {
    while (!this.stopped) {
      try {
        const r = await this.poll(node, etag, POLL_WAIT);
        if (this.stopped) return;
        if (r.status === 200) {
          this.counts.answered++;
          this.answeredAt.push(performance.now());
          etag = r.etag;
        } else if (r.status === 304) {
          this.counts.expired++;
        } else {
          this.error(`${node}: ${r.status}`);
        }
      } catch (e) {
        if (this.stopped) return;
        this.error(`${node}: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(100);
      }
    }
  }

  private error(text: string): void {
    this.counts.errors++;
    this.counts.firstError ??= text;
  }

  /** One GET of a node's rules as an agent makes it (gzip, every byte read). */
  private poll(node: string, etag: string | undefined, wait: number): Promise<{ status: number; etag: string | undefined }> {
    const c = new AbortController();
    this.controllers.add(c);
    return new Promise<{ status: number; etag: string | undefined }>((resolve, reject) => {
      const headers = { ...SERVER.headers, "accept-encoding": "gzip", ...(etag ? { "if-none-match": etag } : {}) };
      const req = http.get(`${this.base}/v1/nodes/${node}/rules${wait ? `?wait=${wait}` : ""}`, { agent: this.pool, signal: c.signal, headers }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: typeof res.headers.etag === "string" ? res.headers.etag : etag }));
        res.on("error", reject);
        res.on("close", () => {
          if (!res.complete) reject(new Error("answer cut short"));
        });
      });
      req.on("error", reject);
    }).finally(() => this.controllers.delete(c));
  }
}

// ---------------------------------------------------------------------------
// The server process.

async function serverProcess(profileName: string): Promise<void> {
  const { serve } = await import("../server/main.js");
  const { pino } = await import("pino");
  const running = await serve({ ...SERVER.options, logger: pino({ level: "silent" }) });
  await running.ready;
  const items = allObjects(generate(PROFILES[profileName]!));
  const t0 = performance.now();
  const res = await fetch(`${url(running.restPort)}/v1/model`, {
    method: "PUT",
    body: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    headers: { ...SERVER.headers, "content-type": "application/json" },
  });
  if (!res.ok) throw new Error(`PUT /v1/model: ${res.status} ${await res.text()}`);
  const loadMs = performance.now() - t0;
  const ready: Ready = { rest: running.restPort, loadMs, objects: items.length };
  globalThis.gc?.();
  // The bench asks for a full collection before it reads the memory it compares: the heap's lazy growth is not a leak.
  process.on("SIGUSR2", () => globalThis.gc?.());
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

// ---------------------------------------------------------------------------
// The load process: HTTP/1.1 keep-alive connections, one request in flight on each.

/** One keep-alive connection; calls back with the status of each whole answer, or with a failure. */
class Connection {
  busy = false;
  sentAt = 0;
  dueAt = 0;
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of the answer being read (head and body), once its head is read; -1 before. */
  private need = -1;
  private status = 0;
  private failed = false;

  constructor(
    private readonly port: number,
    private readonly head: string,
    private readonly on: { answer(c: Connection, status: number): void; error(c: Connection, busy: boolean): void; open(c: Connection): void },
  ) {}

  open(): void {
    const s = (this.socket = connect({ host: "127.0.0.1", port: this.port, noDelay: true }));
    this.buf = Buffer.alloc(0);
    this.need = -1;
    this.failed = false;
    s.on("connect", () => this.on.open(this));
    s.on("data", (chunk: Buffer) => this.data(chunk));
    s.on("error", () => {
      this.failed = true;
      this.on.error(this, this.busy);
      this.busy = false;
    });
    s.on("close", () => {
      if (!this.failed && this.busy) this.on.error(this, true);
      this.busy = false;
      if (!closing) setTimeout(() => this.open(), 10);
    });
  }

  send(path: string, dueAt: number): void {
    this.busy = true;
    this.dueAt = dueAt;
    this.sentAt = performance.now();
    this.socket!.write(`GET ${path} HTTP/1.1\r\n${this.head}\r\n`);
  }

  close(): void {
    this.socket?.destroy();
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length) {
      if (this.need < 0) {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = this.buf.toString("latin1", 0, end);
        this.status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (!length) {
          this.socket!.destroy(new Error(`an answer without content-length: ${head.split("\r\n")[0]}`));
          return;
        }
        this.need = end + 4 + Number(length[1]);
      }
      if (this.buf.length < this.need) return;
      this.buf = this.buf.subarray(this.need);
      this.need = -1;
      this.busy = false;
      this.on.answer(this, this.status);
    }
  }
}

let closing = false;

async function loadProcess(port: number, mode: "max" | "paced", seconds: number, connections: number, rate: number): Promise<LoadResult> {
  const pods = podNames();
  const rand = rng(mode === "max" ? 21 : 22);
  const question = (r: () => number) => {
    const q = randomQuestion(pods, r);
    return `/v1/check?src=${q.src}&dst=${q.dst}&port=${q.port}`;
  };
  const hotRand = rng(11);
  const hot = Array.from({ length: HOT_QUESTIONS }, () => question(hotRand));
  const next = () => (rand() < HOT_SHARE ? hot[Math.floor(rand() * hot.length)]! : question(rand));
  const head = `host: 127.0.0.1:${port}\r\n${Object.entries(SERVER.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}`;

  const statuses = new Map<number, number>();
  let socketErrors = 0;
  let measuring = false;
  let sent = 0;
  let answered = 0;
  const latency: number[] = [];
  const scheduled: number[] = [];
  const idle: Connection[] = [];
  let onIdle: (c: Connection) => void = (c) => idle.push(c);
  const conns = Array.from(
    { length: connections },
    () =>
      new Connection(port, head, {
        open: (c) => onIdle(c),
        answer: (c, status) => {
          const now = performance.now();
          if (measuring && c.sentAt >= t0) {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (now <= end) answered++;
            latency.push(now - c.sentAt);
            scheduled.push(now - c.dueAt);
          }
          onIdle(c);
        },
        error: (_c, busy) => {
          if (measuring) socketErrors++;
          if (busy && measuring) statuses.set(0, (statuses.get(0) ?? 0) + 1);
        },
      }),
  );
  const opened = new Promise<void>((resolve) => {
    onIdle = (c) => {
      idle.push(c);
      if (idle.length === connections) resolve();
    };
  });
  for (const c of conns) c.open();
  await opened;
  let t0 = 0;
  let end = 0;
  let maxBacklog = 0;
  let unanswered = 0;

  if (mode === "max") {
    // Every connection sends its next request as soon as the previous is answered: warm-up, then measured.
    onIdle = (c) => {
      if (performance.now() < end) {
        if (measuring) sent++;
        c.send(next(), performance.now());
      } else idle.push(c);
    };
    t0 = Infinity;
    end = Infinity;
    for (const c of idle.splice(0)) onIdle(c);
    await sleep(MAX_WARMUP_MS);
    t0 = performance.now();
    end = t0 + seconds * 1000;
    measuring = true;
    process.stdout.write(`${JSON.stringify({ started: true })}\n`);
    await sleep(seconds * 1000 + 50);
    await drain(() => conns.every((c) => !c.busy));
    unanswered = conns.filter((c) => c.busy).length;
  } else {
    // Request i is due at t0 + i / rate; due requests go out on idle connections, and wait for one when none is.
    const interval = 1000 / rate;
    const total = Math.round(rate * seconds);
    let due = 0;
    const pump = () => {
      while (sent < due && idle.length) {
        idle.pop()!.send(next(), t0 + sent * interval);
        sent++;
      }
    };
    onIdle = (c) => {
      idle.push(c);
      pump();
    };
    t0 = performance.now();
    end = t0 + seconds * 1000;
    measuring = true;
    process.stdout.write(`${JSON.stringify({ started: true })}\n`);
    await new Promise<void>((resolve) => {
      const tick = () => {
        due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
        maxBacklog = Math.max(maxBacklog, due - sent);
        pump();
        if (due < total) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    await drain(() => sent === total && conns.every((c) => !c.busy));
    unanswered = total - sent + conns.filter((c) => c.busy).length;
  }
  measuring = false;
  closing = true;
  for (const c of conns) c.close();

  const summary = (xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), p999: percentile(s, 0.999), max: s.length ? s[s.length - 1]! : NaN };
  };
  const non2xx = [...statuses].filter(([s]) => s !== 0 && (s < 200 || s > 299)).reduce((n, [, k]) => n + k, 0);
  return {
    mode,
    seconds,
    sent,
    answered,
    perSecond: answered / seconds,
    ...(mode === "paced" ? { targetRate: rate } : {}),
    statuses: Object.fromEntries(statuses),
    non2xx,
    socketErrors,
    unanswered,
    latencyMs: summary(latency),
    scheduledMs: summary(scheduled),
    maxBacklog,
  };
}

/** Waits until the condition holds, at most 10 s. */
async function drain(done: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!done() && performance.now() < deadline) await sleep(5);
}

if (process.argv[1] === here) {
  const [role, ...args] = process.argv.slice(2);
  if (role === "server") await serverProcess(args[0] ?? SERVER.profile);
  else if (role === "load") {
    const [port, mode, seconds, connections, rate] = args;
    const result = await loadProcess(Number(port), mode === "paced" ? "paced" : "max", Number(seconds), Number(connections), Number(rate ?? 0));
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
  } else throw new Error(`unknown role ${role}: want server or load`);
}
