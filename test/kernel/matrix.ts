/**
 * The probed matrix of the kernel test bed: every endpoint to every endpoint
 * (pods and the outside host) on TCP and UDP, ports 80 and 81; what the
 * kernel lets through, and what Check decides.
 */
import { ENDPOINTS } from "./cluster.js";
import { EXTERNAL, type Topology } from "./topology.js";

export interface Cell {
  readonly src: string;
  readonly dst: string;
  readonly protocol: "TCP" | "UDP";
  readonly port: number;
}

const PROBES = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 81 },
  { protocol: "UDP", port: 80 },
  { protocol: "UDP", port: 81 },
] as const;

export const CELLS: readonly Cell[] = PROBES.flatMap((p) =>
  ENDPOINTS.flatMap((src) => ENDPOINTS.filter((dst) => !(src.key === EXTERNAL.key && dst.key === EXTERNAL.key)).map((dst) => ({ src: src.key, dst: dst.key, ...p }))),
);

const ipOf = (key: string) => ENDPOINTS.find((e) => e.key === key)!.ip;
const ref = (key: string) => (key === EXTERNAL.key ? EXTERNAL.ip : key);

/** What the kernel does with each cell: a real connection or datagram exchange. */
export function observe(topo: Topology): Promise<boolean[]> {
  return Promise.all(CELLS.map((c) => topo.probe(c.src, { protocol: c.protocol, host: ipOf(c.dst), port: c.port })));
}

/** What Check decides for each cell. */
export async function decide(url: string): Promise<boolean[]> {
  const res = await fetch(`${url}/v1/check/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ checks: CELLS.map((c) => ({ src: ref(c.src), dst: ref(c.dst), protocol: c.protocol, port: c.port })) }),
  });
  const body = (await res.json()) as { results?: { allowed: boolean }[] };
  if (!res.ok || !body.results) throw new Error(`POST /v1/check/batch: ${res.status} ${JSON.stringify(body)}`);
  return body.results.map((r) => r.allowed);
}

/** The cells where `a` and `b` differ, one line each. */
export function differences(a: readonly boolean[], b: readonly boolean[], aName: string, bName: string): string[] {
  const word = (v: boolean | undefined) => (v ? "allowed" : "blocked");
  return CELLS.flatMap((c, i) => (a[i] === b[i] ? [] : [`  ${c.src} -> ${c.dst} ${c.protocol}/${c.port}: ${aName} ${word(a[i])}, ${bName} ${word(b[i])}`]));
}
