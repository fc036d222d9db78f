/** The cluster the kernel test builds: x, y, z × a, b, c over two nodes, and its manifests. */
import { EXTERNAL, NODES, type PodSpec } from "./topology.js";

export const PORTS = [80, 81];
const NAMESPACES = ["x", "y", "z"];
const NAMES = ["a", "b", "c"];

export const PODS: PodSpec[] = NAMESPACES.flatMap((ns, i) =>
  NAMES.map((name, j): PodSpec => {
    const k = i * 3 + j;
    const node = k % 2 === 0 ? "node-1" : "node-2";
    return { key: `${ns}/${name}`, node, ip: `10.244.${node === "node-1" ? 1 : 2}.${10 + k}` };
  }),
);

/** Every endpoint of the matrix: the pods and the host outside the cluster. */
export const ENDPOINTS = [...PODS.map((p) => ({ key: p.key, ip: p.ip })), { key: EXTERNAL.key, ip: EXTERNAL.ip }];

/** The nodes' InternalIPs, probed as destinations where a scenario asks (egress `nodes` peers). */
export const NODE_ENDPOINTS = Object.entries(NODES).map(([key, n]) => ({ key, ip: n.ip }));

/** A namespace with the label `ns: <name>` the scenarios select by, and any others. */
export function namespaceManifest(ns: string, extra: Record<string, string> = {}): string {
  const labels = Object.entries({ ns, ...extra })
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join("\n");
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "${ns}"\n  labels:\n${labels}\n`;
}

export function podManifest(pod: PodSpec, labels: Record<string, string> = { pod: pod.key.split("/")[1]! }): string {
  const [ns, name] = pod.key.split("/");
  const ports = PORTS.flatMap((port) =>
    ["TCP", "UDP"].map((proto) => `        - name: serve-${port}-${proto.toLowerCase()}\n          containerPort: ${port}\n          protocol: ${proto}`),
  ).join("\n");
  const labelLines = Object.entries(labels)
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join("\n");
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: "${ns}"
  labels:
${labelLines}
spec:
  nodeName: ${pod.node}
  containers:
    - name: prober
      ports:
${ports}
status:
  phase: Running
  podIP: ${pod.ip}
`;
}

export function baseManifests(): string {
  const docs: string[] = [];
  for (const ns of NAMESPACES) docs.push(namespaceManifest(ns));
  // Labelled as the kubelet labels its node, for the `nodes` peers of cluster-scoped policies.
  for (const [name, n] of Object.entries(NODES)) {
    docs.push(
      `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\n  labels:\n    kubernetes.io/hostname: ${name}\nstatus:\n  addresses:\n    - type: InternalIP\n      address: ${n.ip}\n`,
    );
  }
  for (const pod of PODS) docs.push(podManifest(pod));
  return docs.join("---\n");
}
