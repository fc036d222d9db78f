/**
 * A small cluster on the real kernel, out of network namespaces this test
 * creates: two nodes linked by a veth pair, pod namespaces attached to their
 * node by veth pairs with routed /32 addresses (as Calico does), and one host
 * outside the cluster behind node-2. Names are unique per run, and destroy()
 * removes everything, also after a failure. Traffic never leaves these
 * namespaces.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface PodSpec {
  readonly key: string;
  readonly node: "node-1" | "node-2";
  readonly ip: string;
}

export interface Probe {
  readonly protocol: "TCP" | "UDP";
  readonly host: string;
  readonly port: number;
}

/**
 * How a probe ended: through, or blocked with the error the socket saw. A
 * REJECT shows as `ECONNREFUSED` (a TCP reset, or an ICMP port unreachable
 * when the kernel's ICMP rate limit lets one out); a DROP, or a rate-limited
 * REJECT of a datagram, only as `timeout`. Both are blocked.
 */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly error?: string;
}

export const NODES = { "node-1": { ip: "172.30.0.1", podCidr: "10.244.1.0/24" }, "node-2": { ip: "172.30.0.2", podCidr: "10.244.2.0/24" } } as const;
export const EXTERNAL = { key: "ext", ip: "192.0.2.10", gateway: "192.0.2.1" };
const GATEWAY = "169.254.1.1";
/**
 * How long a probe waits for the connection or the echo. A dropped probe
 * takes this long; the matrix probes every cell at once, so a step of a
 * scenario with DROPs takes it about once.
 */
const PROBE_TIMEOUT_MS = 1500;
const PROBER = fileURLToPath(new URL("./prober.mjs", import.meta.url));

function sh(...cmd: string[]): string {
  return execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A prober process in one namespace: serves the ports and probes on request. */
class Prober {
  private next = 0;
  private readonly pending = new Map<number, (outcome: ProbeOutcome) => void>();
  readonly ready: Promise<void>;

  constructor(readonly proc: ChildProcess) {
    let onReady!: () => void;
    this.ready = new Promise((resolve) => (onReady = resolve));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as { ready?: boolean; id?: number; ok?: boolean; error?: string };
      if (msg.ready) onReady();
      else if (msg.id !== undefined) {
        this.pending.get(msg.id)?.(msg.ok === true ? { ok: true } : { ok: false, error: msg.error ?? "unknown" });
        this.pending.delete(msg.id);
      }
    });
  }

  probe(p: Probe, timeoutMs: number): Promise<ProbeOutcome> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.proc.stdin!.write(`${JSON.stringify({ id, ...p, timeoutMs })}\n`);
    });
  }
}

export class Topology {
  readonly id = randomBytes(3).toString("hex");
  private readonly created: string[] = [];
  private readonly probers = new Map<string, Prober>();
  readonly netns = new Map<string, string>();

  /** The namespace of a node, a pod ("x/a") or the outside host ("ext"). */
  ns(key: string): string {
    const n = this.netns.get(key);
    if (!n) throw new Error(`no namespace for ${key}`);
    return n;
  }

  private add(key: string): string {
    const name = `pw-${this.id}-${key.replace("/", "-")}`;
    sh("ip", "netns", "add", name);
    this.created.push(name);
    this.netns.set(key, name);
    sh("ip", "-n", name, "link", "set", "lo", "up");
    return name;
  }

  private sysctl(ns: string, ...settings: string[]): void {
    sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", ...settings);
  }

  async create(pods: readonly PodSpec[], ports: readonly number[]): Promise<void> {
    const n1 = this.add("node-1");
    const n2 = this.add("node-2");
    for (const n of [n1, n2]) this.sysctl(n, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
    sh("ip", "link", "add", `p${this.id}a`, "netns", n1, "type", "veth", "peer", "name", `p${this.id}b`, "netns", n2);
    this.up(n1, `p${this.id}a`, `${NODES["node-1"].ip}/24`);
    this.up(n2, `p${this.id}b`, `${NODES["node-2"].ip}/24`);
    sh("ip", "-n", n1, "route", "add", NODES["node-2"].podCidr, "via", NODES["node-2"].ip);
    sh("ip", "-n", n2, "route", "add", NODES["node-1"].podCidr, "via", NODES["node-1"].ip);

    const ext = this.add(EXTERNAL.key);
    sh("ip", "link", "add", "eth0", "netns", ext, "type", "veth", "peer", "name", `p${this.id}e`, "netns", n2);
    this.up(ext, "eth0", `${EXTERNAL.ip}/24`);
    this.up(n2, `p${this.id}e`, `${EXTERNAL.gateway}/24`);
    sh("ip", "-n", ext, "route", "add", "default", "via", EXTERNAL.gateway);
    sh("ip", "-n", n1, "route", "add", "192.0.2.0/24", "via", NODES["node-2"].ip);

    pods.forEach((pod, i) => {
      const ns = this.add(pod.key);
      const node = this.ns(pod.node);
      const hostSide = `p${this.id}k${i}`;
      sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", hostSide, "netns", node);
      this.up(ns, "eth0", `${pod.ip}/32`);
      sh("ip", "-n", ns, "route", "add", GATEWAY, "dev", "eth0", "scope", "link");
      sh("ip", "-n", ns, "route", "add", "default", "via", GATEWAY, "dev", "eth0");
      this.up(node, hostSide, `${GATEWAY}/32`);
      sh("ip", "-n", node, "route", "add", `${pod.ip}/32`, "dev", hostSide);
    });

    // The nodes serve too, on their InternalIP, as the destinations of `nodes` peers; they never probe.
    const servers: { key: string; args: string[] }[] = [...pods.map((p) => ({ key: p.key, args: [] })), { key: EXTERNAL.key, args: [] }];
    for (const [key, n] of Object.entries(NODES)) servers.push({ key, args: [`--address=${n.ip}`] });
    for (const { key, args } of servers) {
      const proc = spawn("ip", ["netns", "exec", this.ns(key), process.execPath, PROBER, ...ports.map(String), ...args], { stdio: ["pipe", "pipe", "inherit"] });
      this.probers.set(key, new Prober(proc));
    }
    await Promise.all([...this.probers.values()].map((p) => p.ready));
  }

  private up(ns: string, dev: string, cidr: string): void {
    sh("ip", "-n", ns, "addr", "add", cidr, "dev", dev);
    sh("ip", "-n", ns, "link", "set", dev, "up");
  }

  /** Whether a real connection (TCP) or datagram exchange (UDP) from one endpoint's namespace gets through. */
  async probe(from: string, p: Probe, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    return (await this.attempt(from, p, timeoutMs)).ok;
  }

  /** The same probe, with how it was blocked. */
  attempt(from: string, p: Probe, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeOutcome> {
    const prober = this.probers.get(from);
    if (!prober) throw new Error(`no prober for ${from}`);
    return prober.probe(p, timeoutMs);
  }

  /** Runs a command inside a namespace (for inspection in failure messages). */
  exec(key: string, ...cmd: string[]): string {
    return sh("ip", "netns", "exec", this.ns(key), ...cmd);
  }

  destroy(): void {
    for (const p of this.probers.values()) p.proc.kill("SIGKILL");
    for (const name of this.created.reverse()) {
      try {
        for (const pid of sh("ip", "netns", "pids", name).split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
      } catch {
        // the namespace may have no processes left, or be gone already
      }
      try {
        sh("ip", "netns", "del", name);
      } catch {
        // already removed
      }
    }
    this.created.length = 0;
  }
}

/** Whether this machine can run the test: root, with ip, iptables and ipset. */
export function kernelTestAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root for network namespaces";
  for (const tool of ["ip", "iptables-restore", "ipset"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}
