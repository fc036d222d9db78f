/**
 * What the matrix and what-if tests share: offline services holding a model,
 * Check's answer as the oracle, random models with replicated workloads (the
 * random models of test/rules with copies of each pod), and pod keys in
 * matrix order.
 */
import type { Matrix, MatrixTraffic } from "../../server/analysis/matrix.js";
import type { Pod } from "../../server/model/types.js";
import { AnalysisService, PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";

export type Manifest = Record<string, unknown>;

export interface Loaded {
  readonly service: PodwallService;
  readonly rules: RulesService;
  readonly analysis: AnalysisService;
}

/** An offline service without a decision cache holding `objects`, with its rules and analysis services. */
export async function loaded(objects: readonly Manifest[]): Promise<Loaded> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, objects);
  const rules = new RulesService(service);
  return { service, rules, analysis: new AnalysisService(service, rules) };
}

/** Check's answer for one ordered pair of pods. */
export function checked(service: PodwallService, src: string, dst: string, t: MatrixTraffic): boolean {
  return service.check(SYSTEM, { src, dst, protocol: t.protocol, port: t.port }).allowed;
}

/** Every cell of the matrix by Check, row by row. */
export function checkedMatrix(service: PodwallService, keys: readonly string[], t: MatrixTraffic): boolean[][] {
  return keys.map((src) => keys.map((dst) => checked(service, src, dst, t)));
}

/** Every cell of a matrix through `row`. */
export function matrixRows(m: Matrix): boolean[][] {
  const out = new Uint8Array(m.pods.length);
  return m.pods.map((_, i) => {
    m.row(i, out);
    return Array.from(out, (c) => c === 1);
  });
}

/** Pod keys sort by namespace, then name (not as strings: "a/x" comes before "a-b/x"). */
export function compareKeys(a: string, b: string): number {
  const [an, ap] = a.split("/") as [string, string];
  const [bn, bp] = b.split("/") as [string, string];
  return an < bn ? -1 : an > bn ? 1 : ap < bp ? -1 : ap > bp ? 1 : 0;
}

export function sortedPods(pods: Iterable<Pod>): Pod[] {
  return [...pods].sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * The model with `copies[i]` pods in all of the i-th pod's workload (the pod
 * itself and copies named `<name>-r<k>`), each copy with the pod's labels,
 * node, state and ports, and addresses of its own (a host-network copy has
 * its node's, as the pod has).
 */
export function replicated(model: readonly Manifest[], copies: readonly number[]): Manifest[] {
  const out: Manifest[] = [];
  let i = 0;
  for (const m of model) {
    out.push(m);
    if (m["kind"] !== "Pod") continue;
    const n = copies[i++ % Math.max(1, copies.length)] ?? 1;
    for (let k = 1; k < n; k++) out.push(podCopy(m, k));
  }
  return out;
}

function podCopy(m: Manifest, k: number): Manifest {
  const copy = structuredClone(m);
  const meta = copy["metadata"] as { name: string };
  meta.name = `${meta.name}-r${k}`;
  const spec = copy["spec"] as { hostNetwork?: boolean };
  const status = copy["status"] as { podIP?: string; podIPs?: { ip: string }[] };
  if (spec.hostNetwork || status.podIP === undefined) return copy;
  // 10.1.N.H becomes 10.1.N.(H+50k); fd10::N:H becomes fd10::N:(H+50k), both unique in the model.
  const moved = (ip: string) => ip.replace(/(\d+)$/, (h) => String(Number(h) + 50 * k));
  status.podIP = moved(status.podIP);
  status.podIPs = (status.podIPs ?? []).map((a) => ({ ip: moved(a.ip) }));
  return copy;
}

/** How a twin differs from its pod: in one thing only, each a thing some class or key of the matrix must tell apart. */
export const TWIN_KINDS = ["host-network", "node", "http-port", "other-family", "ipv6-first", "no-address", "tier", "namespace", "namespace-label", "node-label"] as const;
export type TwinKind = (typeof TWIN_KINDS)[number];

/**
 * The model with a twin of some pods (`<name>-t<k>`): a copy that differs
 * from the pod in one way, with addresses of its own. Pods with equal
 * everything but one thing are where the matrix's classes and keys must
 * tell pods apart. A namespace-label twin is in a copy of its pod's
 * namespace (`<ns>-l`, holding the namespace's NetworkPolicies too) whose
 * label `env` differs; a node-label twin on a copy of its pod's node
 * (`<node>-l<k>`, at addresses in every block its node's are in) whose label
 * `zone` differs.
 */
export function twinned(
  model: readonly Manifest[],
  twins: readonly { pod: number; kind: TwinKind }[],
  nodes: readonly { name: string; v4: string; v6: string }[],
  namespaces: readonly string[],
): Manifest[] {
  const pods = model.filter((m) => m["kind"] === "Pod");
  if (pods.length === 0) return [...model];
  const out = [...model];
  const copied = new Set<string>();
  /** The namespace's copy with `env` flipped, and its policies, made once. */
  const namespaceCopy = (ns: string): string => {
    const name = `${ns}-l`;
    if (copied.has(name)) return name;
    copied.add(name);
    for (const m of model) {
      const meta = m["metadata"] as { name: string; namespace?: string; labels?: Record<string, string> };
      if (m["kind"] === "Namespace" && meta.name === ns) {
        const env = meta.labels?.["env"] === "prod" ? "dev" : "prod";
        out.push({ ...m, metadata: { ...meta, name, labels: { ...meta.labels, env } } });
      }
      if (m["kind"] === "NetworkPolicy" && meta.namespace === ns) out.push({ ...m, metadata: { ...meta, namespace: name } });
    }
    return name;
  };
  twins.forEach((t, k) => {
    const twin = structuredClone(pods[t.pod % pods.length]!);
    const meta = twin["metadata"] as { name: string; namespace: string; labels?: Record<string, string> };
    const spec = twin["spec"] as { nodeName: string; hostNetwork?: boolean; containers: { ports?: { name?: string; containerPort: number }[] }[] };
    const status = twin["status"] as { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
    meta.name = `${meta.name}-t${k}`;
    const node = nodes.findIndex((n) => n.name === spec.nodeName);
    const own = (n: number) => [`10.1.${n + 1}.${200 + k}`, `fd10::${n + 1}:${200 + k}`] as const;
    const address = (ips: readonly string[]) => {
      status.phase = "Running";
      status.podIP = ips[0];
      status.podIPs = ips.map((ip) => ({ ip }));
    };
    const family = (status.podIPs ?? []).length;
    const host = spec.hostNetwork === true;
    switch (t.kind) {
      case "host-network":
        if (host) delete spec.hostNetwork;
        else spec.hostNetwork = true;
        address(host ? own(node).slice(0, Math.max(1, family)) : [nodes[node]!.v4, nodes[node]!.v6].slice(0, Math.max(1, family)));
        break;
      case "node": {
        const other = (node + 1) % nodes.length;
        spec.nodeName = nodes[other]!.name;
        if (family > 0) address(host ? [nodes[other]!.v4, nodes[other]!.v6].slice(0, family) : own(other).slice(0, family));
        break;
      }
      case "http-port": {
        const ports = spec.containers[0]?.ports ?? [];
        const http = ports.find((p) => p.name === "http");
        spec.containers = [{ ...spec.containers[0], ports: [...ports.filter((p) => p.name !== "http"), { name: "http", containerPort: http?.containerPort === 80 ? 8080 : 80 }] }];
        if (family > 0) address(host ? [nodes[node]!.v4, nodes[node]!.v6].slice(0, family) : own(node).slice(0, family));
        break;
      }
      case "other-family":
        address(host ? (family === 2 ? [nodes[node]!.v4] : [nodes[node]!.v4, nodes[node]!.v6]) : family === 2 ? [own(node)[0]] : [...own(node)]);
        break;
      case "ipv6-first":
        address(host ? [nodes[node]!.v6, nodes[node]!.v4] : [own(node)[1], own(node)[0]]);
        break;
      case "no-address":
        status.phase = "Pending";
        delete status.podIP;
        delete status.podIPs;
        break;
      case "tier":
        meta.labels = { ...meta.labels, tier: meta.labels?.["tier"] === "fe" ? "be" : "fe" };
        if (family > 0) address(host ? [nodes[node]!.v4, nodes[node]!.v6].slice(0, family) : own(node).slice(0, family));
        break;
      case "namespace":
        meta.namespace = namespaces[(namespaces.indexOf(meta.namespace) + 1) % namespaces.length]!;
        if (family > 0) address(host ? [nodes[node]!.v4, nodes[node]!.v6].slice(0, family) : own(node).slice(0, family));
        break;
      case "namespace-label":
        meta.namespace = namespaceCopy(meta.namespace);
        if (family > 0) address(host ? [nodes[node]!.v4, nodes[node]!.v6].slice(0, family) : own(node).slice(0, family));
        break;
      case "node-label": {
        const original = model.find((m) => m["kind"] === "Node" && (m["metadata"] as { name: string }).name === spec.nodeName);
        if (!original) break;
        const nodeMeta = original["metadata"] as { name: string; labels?: Record<string, string> };
        const name = `${nodeMeta.name}-l${k}`;
        // In every ipBlock and network its node's addresses are in: only the label tells them apart.
        const v4 = `10.0.0.${101 + k}`;
        const v6 = `fd00::a${k}`;
        const zone = nodeMeta.labels?.["zone"] === "a" ? "b" : "a";
        out.push({
          ...original,
          metadata: { ...nodeMeta, name, labels: { ...nodeMeta.labels, zone } },
          status: { addresses: [v4, v6].map((address) => ({ type: "InternalIP", address })) },
        });
        spec.nodeName = name;
        if (family > 0) address(host ? [v4, v6].slice(0, family) : own(node).slice(0, family));
        break;
      }
    }
    out.push(twin);
  });
  return out;
}

/** `ns/name` of a manifest. */
export function keyOf(m: Manifest): string {
  const meta = m["metadata"] as { namespace?: string; name: string };
  return `${meta.namespace ?? ""}/${meta.name}`;
}
