/**
 * The truth-table cluster, as upstream's e2e network policy tests and cyclonus
 * build it: namespaces x, y, z, each with pods a, b, c, every pod serving 80
 * and 81 over TCP, UDP and SCTP under the named ports `serve-PORT-PROTO`.
 * Pods alternate between two nodes; every address here is data only.
 */
import { stringifyManifests } from "../../server/manifests/yaml-out.js";

export const NAMESPACES = ["x", "y", "z"] as const;
export const POD_NAMES = ["a", "b", "c"] as const;
/** "x/a", "x/b", ..., "z/c": the rows and columns of every truth table. */
export const ALL_PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

export const NODES = [
  { name: "node-1", ip: "10.0.0.1" },
  { name: "node-2", ip: "10.0.0.2" },
] as const;

type Manifest = Record<string, unknown>;

/** Node index (1 or 2) of the i-th pod of ALL_PODS: they alternate. */
function nodeIndex(key: string): 1 | 2 {
  return ALL_PODS.indexOf(key) % 2 === 0 ? 1 : 2;
}

/**
 * Pod addresses: 10.244.<node>.<10*namespace + pod>, so x/a is 10.244.1.11,
 * x/b 10.244.2.12, y/b 10.244.1.22, z/c 10.244.1.33.
 */
export const POD_IPS: Readonly<Record<string, string>> = Object.fromEntries(
  ALL_PODS.map((key) => {
    const [ns, pod] = key.split("/") as [string, string];
    const host = 10 * (NAMESPACES.indexOf(ns as "x") + 1) + POD_NAMES.indexOf(pod as "a") + 1;
    return [key, `10.244.${nodeIndex(key)}.${host}`];
  }),
);

export const NODE_OF: Readonly<Record<string, string>> = Object.fromEntries(ALL_PODS.map((key) => [key, `node-${nodeIndex(key)}`]));

export function ipOf(key: string): string {
  const ip = POD_IPS[key];
  if (!ip) throw new Error(`no pod ${key} in the truth-table cluster`);
  return ip;
}

export function namespace(name: string, labels: Record<string, string> = { ns: name }): Manifest {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

export function node(name: string, ip: string): Manifest {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    status: {
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ],
    },
  };
}

export interface ContainerPortSpec {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: "TCP" | "UDP" | "SCTP";
}

/** serve-80-tcp, serve-80-udp, serve-80-sctp, serve-81-tcp, ... */
export const SERVE_PORTS: readonly ContainerPortSpec[] = [80, 81].flatMap((port) =>
  (["TCP", "UDP", "SCTP"] as const).map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, containerPort: port, protocol })),
);

export interface PodOptions {
  readonly labels?: Record<string, string>;
  readonly ip?: string;
  readonly nodeName?: string;
  readonly ports?: readonly ContainerPortSpec[];
}

/** A running pod of the cluster; by default with its label pod=<name>, address, node and the serve ports. */
export function pod(key: string, opts: PodOptions = {}): Manifest {
  const [ns, name] = key.split("/") as [string, string];
  const ip = opts.ip ?? ipOf(key);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: opts.labels ?? { pod: name } },
    spec: {
      nodeName: opts.nodeName ?? NODE_OF[key],
      containers: [{ name: `cont-${name}`, image: "registry.k8s.io/e2e-test-images/agnhost:2.47", ports: opts.ports ?? SERVE_PORTS }],
    },
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
  };
}

export function networkPolicy(ns: string, name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec };
}

/** Manifests as kubectl takes them: YAML documents separated by `---`. */
export function toYaml(objects: readonly Manifest[]): string {
  return objects.map((o) => `---\n${stringifyManifests(o)}`).join("");
}

/** The whole base cluster, without policies: what every scenario starts from. */
export function baseCluster(): Manifest[] {
  return [...NAMESPACES.map((ns) => namespace(ns)), ...NODES.map((n) => node(n.name, n.ip)), ...ALL_PODS.map((key) => pod(key))];
}

export const BASE_CLUSTER_YAML = toYaml(baseCluster());
