/**
 * Random sequences of changes on the `small` profile, made through the
 * service's public writes as kubectl would: what the incremental rulesets and
 * the deltas are proven over.
 */
import fc from "fast-check";
import { PROFILES, generate, type Manifest } from "../../bench/generate.js";
import { type PodwallService, SYSTEM } from "../../server/service/index.js";

export const base = generate(PROFILES["small"]!);
const clone = <T>(x: T): T => structuredClone(x);
const meta = (m: Manifest) => m["metadata"] as { name: string; namespace?: string; labels?: Record<string, string> };

export type Change =
  | { kind: "relabel-pod"; pod: number; app: number; tier: number }
  | { kind: "relabel-namespace"; ns: number; team: number }
  | { kind: "add-policy"; from: number; ns: number }
  | { kind: "delete-policy"; policy: number }
  | { kind: "move-pod"; pod: number; node: number }
  | { kind: "readdress-pod"; pod: number; host: number }
  | { kind: "terminate-pod"; pod: number }
  | { kind: "delete-pod"; pod: number }
  | { kind: "rename-port"; pod: number; port: number }
  | { kind: "readdress-node"; node: number; host: number };

export const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant("relabel-pod" as const), pod: fc.nat(), app: fc.nat(12), tier: fc.nat(2) }),
  fc.record({ kind: fc.constant("relabel-namespace" as const), ns: fc.nat(), team: fc.nat(7) }),
  fc.record({ kind: fc.constant("add-policy" as const), from: fc.nat(), ns: fc.nat() }),
  fc.record({ kind: fc.constant("delete-policy" as const), policy: fc.nat() }),
  fc.record({ kind: fc.constant("move-pod" as const), pod: fc.nat(), node: fc.nat() }),
  fc.record({ kind: fc.constant("readdress-pod" as const), pod: fc.nat(), host: fc.integer({ min: 1, max: 250 }) }),
  fc.record({ kind: fc.constant("terminate-pod" as const), pod: fc.nat() }),
  fc.record({ kind: fc.constant("delete-pod" as const), pod: fc.nat() }),
  fc.record({ kind: fc.constant("rename-port" as const), pod: fc.nat(), port: fc.integer({ min: 8000, max: 8003 }) }),
  fc.record({ kind: fc.constant("readdress-node" as const), node: fc.nat(), host: fc.integer({ min: 1, max: 250 }) }),
);

const TEAMS = ["payments", "search", "identity", "checkout", "platform", "data", "ml", "web"];

/** Applies one change to the service through its public writes. Changes that the model rejects are skipped. */
export async function applyChange(s: PodwallService, c: Change): Promise<void> {
  const model = JSON.parse(s.model(SYSTEM, "json").text) as { items: Manifest[] };
  const of = (kind: string) => model.items.filter((m) => m["kind"] === kind);
  const pods = of("Pod");
  const at = <T>(xs: T[], i: number): T | undefined => xs[i % Math.max(1, xs.length)];
  const apply = async (m: Manifest) => {
    try {
      await s.applyObjects(SYSTEM, [m]);
    } catch {
      // an address already taken, say: nothing changed, as a failed write must
    }
  };
  switch (c.kind) {
    case "relabel-pod": {
      const p = at(pods, c.pod);
      if (p)
        await apply({ ...p, metadata: { ...meta(p), labels: { ...meta(p).labels, app: `app-${String(c.app).padStart(3, "0")}`, tier: ["frontend", "backend", "db"][c.tier]! } } });
      return;
    }
    case "relabel-namespace": {
      const n = at(of("Namespace"), c.ns);
      if (n) await apply({ ...n, metadata: { ...meta(n), labels: { ...meta(n).labels, team: TEAMS[c.team]! } } });
      return;
    }
    case "add-policy": {
      const p = clone(at(base.policies, c.from)!);
      const ns = at(of("Namespace"), c.ns)!;
      await apply({ ...p, metadata: { name: `added-${c.from}`, namespace: meta(ns).name } });
      return;
    }
    case "delete-policy": {
      const p = at(of("NetworkPolicy"), c.policy);
      if (p) await s.delete(SYSTEM, "NetworkPolicy", meta(p).namespace!, meta(p).name);
      return;
    }
    case "move-pod": {
      const p = at(pods, c.pod);
      const node = at(of("Node"), c.node)!;
      if (p) await apply({ ...p, spec: { ...(p["spec"] as object), nodeName: meta(node).name } });
      return;
    }
    case "readdress-pod": {
      const p = at(pods, c.pod);
      if (p) await apply({ ...p, status: { phase: "Running", podIP: `10.99.0.${c.host}` } });
      return;
    }
    case "terminate-pod": {
      const p = at(pods, c.pod);
      if (p) await apply({ ...p, status: { ...(p["status"] as object), phase: "Succeeded" } });
      return;
    }
    case "delete-pod": {
      const p = at(pods, c.pod);
      if (p) await s.delete(SYSTEM, "Pod", meta(p).namespace!, meta(p).name);
      return;
    }
    case "rename-port": {
      const p = at(pods, c.pod);
      if (p)
        await apply({
          ...p,
          spec: {
            ...(p["spec"] as object),
            containers: [
              {
                name: "main",
                ports: [
                  { name: "http", containerPort: c.port },
                  { name: "metrics", containerPort: 9090 },
                ],
              },
            ],
          },
        });
      return;
    }
    case "readdress-node": {
      const n = at(of("Node"), c.node);
      if (n) await apply({ ...n, status: { addresses: [{ type: "InternalIP", address: `172.31.0.${c.host}` }] } });
      return;
    }
  }
}
