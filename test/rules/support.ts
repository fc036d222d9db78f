/**
 * Manifest builders and small helpers shared by the ruleset, distribution and
 * agent tests.
 */
import { stringifyManifests } from "../../server/manifests/yaml-out.js";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";

export type Manifest = Record<string, unknown>;

export function namespace(name: string, labels: Record<string, string> = {}): Manifest {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

export function node(name: string, ...addresses: string[]): Manifest {
  return { apiVersion: "v1", kind: "Node", metadata: { name }, status: { addresses: addresses.map((address) => ({ type: "InternalIP", address })) } };
}

export interface PodOptions {
  readonly labels?: Record<string, string>;
  readonly node?: string;
  readonly ips?: readonly string[];
  readonly phase?: string;
  readonly hostNetwork?: boolean;
  readonly ports?: readonly { name?: string; containerPort: number; protocol?: string }[];
}

/** `ns/name` with its options. */
export function pod(key: string, o: PodOptions = {}): Manifest {
  const [ns, name] = key.split("/");
  const ips = o.ips ?? [];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: o.labels ?? {} },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: "c", ...(o.ports ? { ports: o.ports } : {}) }],
    },
    status: { phase: o.phase ?? "Running", ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) },
  };
}

/** `ns/name` with its spec. */
export function policy(key: string, spec: Record<string, unknown>): Manifest {
  const [ns, name] = key.split("/");
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec };
}

export function yaml(objects: readonly Manifest[]): string {
  return objects.map((o) => `---\n${stringifyManifests(o)}`).join("");
}

/** An offline service holding `objects`, and its rules. */
export async function load(objects: readonly Manifest[]): Promise<{ service: PodwallService; rules: RulesService }> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, objects);
  return { service, rules: new RulesService(service) };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `f` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(f: () => T | Promise<T>, ms = 3000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The two-node model the distribution and agent tests share: app/a (dual-stack)
 * on node-1 accepts app/b on node-2.
 */
export const TWO_NODES = yaml([
  namespace("app"),
  node("node-1", "10.0.0.1", "fd00::1"),
  node("node-2", "10.0.0.2"),
  pod("app/a", { labels: { app: "a" }, node: "node-1", ips: ["10.1.1.1", "fd10::1:1"] }),
  pod("app/b", { labels: { app: "b" }, node: "node-2", ips: ["10.1.2.1"] }),
  policy("app/a-in", { podSelector: { matchLabels: { app: "a" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "b" } } }] }] }),
]);

/** A policy that selects app/b, on node-2 only, and names no peer set node-1 uses. */
export const ONLY_NODE_2 = yaml([policy("app/b-in", { podSelector: { matchLabels: { app: "b" } }, ingress: [{ ports: [{ port: 443 }] }] })]);
