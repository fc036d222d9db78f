/**
 * The reachability matrix is Check, cell for cell. On random models (the
 * random models of test/rules: dual-stack and IPv6-first pods, host-network
 * pods on shared nodes, pods without addresses, named ports, ipBlocks with
 * except, namespace selectors, ingress and egress; and the random
 * cluster-scoped policies of tier-model.ts: both tiers, every action,
 * nodes, networks and domain-name peers, named ports of any protocol) with
 * replicated workloads and twins (pods alike but for one thing a class must
 * see, a namespace label and a node label among them), every cell of
 * `allowed(i, j)` and of `row(i)` equals Check's `allowed` for the same pods,
 * on several protocols and ports (the numbers named ports take among them);
 * every pair of distinct pods of two groups has the groups' cell; and
 * replicated workloads fall in fewer classes than there are pods. Handmade
 * models show each thing a class must see on its own. Also the kubectl `-l`
 * selector parser the matrix's `pods=` is read with.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Matrix, type MatrixTraffic, PodClasses } from "../../server/analysis/matrix.js";
import type { Selector } from "../../server/model/types.js";
import { decide } from "../../server/policy/decide.js";
import { parseReference, resolveEndpoints } from "../../server/policy/endpoint.js";
import type { TierDecider } from "../../server/policy/tier-compose.js";
import { parseSelectorText } from "../../server/policy/selector-text.js";
import { matches } from "../../server/policy/selector.js";
import { SYSTEM } from "../../server/service/index.js";
import { NAMESPACES, NODES, PORTS, PROTOCOLS, modelArb } from "../rules/random-model.js";
import { namespace, node, pod, policy } from "../rules/support.js";
import { type Loaded, type Manifest, TWIN_KINDS, checked, checkedMatrix, loaded, matrixRows, replicated, sortedPods, twinned } from "./support.js";
import { tierPoliciesArb, withTiers } from "./tier-model.js";

const TRAFFIC: readonly MatrixTraffic[] = PROTOCOLS.flatMap((protocol) => PORTS.map((port) => ({ protocol, port })));
/** The numbers the random models' named ports take: http (TCP 80, 8080, 9090), dns (UDP 53), assoc (SCTP 8080), metrics (TCP 9100). */
const NAMED_PORT_NUMBERS: readonly MatrixTraffic[] = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 8080 },
  { protocol: "TCP", port: 9090 },
  { protocol: "UDP", port: 53 },
  { protocol: "SCTP", port: 8080 },
  { protocol: "TCP", port: 9100 },
];

/** A ClusterNetworkPolicy of `tier`, priority 10. */
function cnp(name: string, tier: "Admin" | "Baseline", subject: Manifest, rules: Manifest): Manifest {
  return { apiVersion: "policy.networking.k8s.io/v1alpha2", kind: "ClusterNetworkPolicy", metadata: { name }, spec: { tier, priority: 10, subject, ...rules } };
}

/** A manifest with labels. */
function labelled(m: Manifest, labels: Record<string, string>): Manifest {
  return { ...m, metadata: { ...(m["metadata"] as Manifest), labels } };
}

/** The dual-stack pods chosen get their IPv6 address first: the family their connections use. */
function ipv6First(model: readonly Manifest[], flips: readonly boolean[]): Manifest[] {
  let i = 0;
  return model.map((m) => {
    if (m["kind"] !== "Pod") return m;
    const flip = flips[i++ % Math.max(1, flips.length)] ?? false;
    const status = m["status"] as { podIP?: string; podIPs?: { ip: string }[] };
    if (!flip || (status.podIPs ?? []).length < 2) return m;
    const podIPs = [...status.podIPs!].reverse();
    return { ...m, status: { ...status, podIP: podIPs[0]!.ip, podIPs } };
  });
}

/**
 * A random model with each workload one to three pods, some dual-stack pods
 * IPv6-first, twins of some pods (each differing from its pod in one thing),
 * and the traffic asked of it: two of the numbers named ports take, and more.
 */
const caseArb = fc.record({
  model: modelArb,
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 7 }),
  flips: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
  twins: fc.array(fc.record({ pod: fc.nat(), kind: fc.constantFrom(...TWIN_KINDS) }), { maxLength: 4 }),
  tiers: tierPoliciesArb,
  traffic: fc
    .tuple(fc.subarray([...NAMED_PORT_NUMBERS], { minLength: 2, maxLength: 2 }), fc.subarray([...TRAFFIC], { minLength: 1, maxLength: 2 }))
    .map(([named, more]) => [...named, ...more]),
  order: fc.integer(),
});

/** The case's model with its copies, flips, tier policies and twins. */
const modelOf = (c: { model: Manifest[]; copies: number[]; flips: boolean[]; twins: { pod: number; kind: (typeof TWIN_KINDS)[number] }[]; tiers: Manifest[] }) =>
  twinned(withTiers(ipv6First(replicated(c.model, c.copies), c.flips), c.tiers), c.twins, NODES, NAMESPACES);

/** A deterministic shuffle: the matrix must not depend on the order its pods are given in. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Three workloads of 4 to 6 replicas on two nodes, in two namespaces, with ingress and egress policies, a named port and an ipBlock with except. */
function workloads(): Manifest[] {
  const objects: Manifest[] = [
    ...["front", "back"].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team: name } } })),
    { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }] } },
    { apiVersion: "v1", kind: "Node", metadata: { name: "node-2" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.2" }] } },
  ];
  const apps = [
    { ns: "front", app: "web", replicas: 6 },
    { ns: "back", app: "api", replicas: 5 },
    { ns: "back", app: "db", replicas: 4 },
  ];
  let host = 10;
  for (const w of apps) {
    for (let r = 0; r < w.replicas; r++) {
      const ip = `10.244.${1 + (r % 2)}.${host++}`;
      objects.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `${w.app}-${r}`, namespace: w.ns, labels: { app: w.app } },
        spec: { nodeName: `node-${1 + (r % 2)}`, containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] },
        status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
      });
    }
  }
  const policy = (ns: string, name: string, spec: Manifest) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec });
  objects.push(
    policy("back", "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy("back", "api-from-web", {
      podSelector: { matchLabels: { app: "api" } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "front" } } }], ports: [{ port: "http" }] }],
    }),
    policy("back", "db-from-api", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "api" } } }] }] }),
    policy("back", "api-to-db", { podSelector: { matchLabels: { app: "api" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } } }] }] }),
    policy("back", "db-to-10-244-1", {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.244.0.0/16", except: ["10.244.2.0/24"] } }] }],
    }),
  );
  return objects;
}

const RUNS = 200;
const SEED = 20261127;

/** What the random models held, so that a property over them is known to have met every kind of pod. */
interface Seen {
  models: number;
  cells: number;
  allowed: number;
  denied: number;
  hostNetwork: number;
  noAddress: number;
  ipv6First: number;
  sameNodeHostNetwork: number;
  /** Models with tier policies, and cells whose egress or ingress a tier decided, or whose own node was denied. */
  tiered: number;
  Admin: number;
  Baseline: number;
  ownNodeDenied: number;
}

/** The tiers that decided each direction of Check's answer; undefined without tier policies. */
function decidedBy(service: Loaded["service"], src: string, dst: string, t: MatrixTraffic): readonly TierDecider[] | undefined {
  const s = parseReference(src);
  const d = parseReference(dst);
  if (s.kind === "invalid" || d.kind === "invalid") assert.fail(`${src} or ${dst}`);
  const ends = resolveEndpoints(service.cluster, s, d);
  if ("detail" in ends) assert.fail(ends.detail);
  const tiers = decide(service.cluster, ends.src, ends.dst, t, false).tiers;
  return tiers && [tiers.egress.decidedBy, tiers.ingress.decidedBy];
}

describe("Matrix equals Check, cell for cell", () => {
  it("on random models with replicated workloads: allowed(i, j) and row(i) for several protocols and ports", async () => {
    const seen: Seen = {
      models: 0,
      cells: 0,
      allowed: 0,
      denied: 0,
      hostNetwork: 0,
      noAddress: 0,
      ipv6First: 0,
      sameNodeHostNetwork: 0,
      tiered: 0,
      Admin: 0,
      Baseline: 0,
      ownNodeDenied: 0,
    };
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { service } = await loaded(modelOf(c));
        const pods = shuffled([...service.cluster.pods.values()], c.order);
        const keys = pods.map((p) => p.key);
        seen.models++;
        seen.hostNetwork += pods.filter((p) => p.hostNetwork).length;
        seen.noAddress += pods.filter((p) => p.ips.length === 0).length;
        seen.ipv6First += pods.filter((p) => p.ips[0]?.family === "ipv6").length;
        seen.sameNodeHostNetwork += pods.filter((p) => !p.hostNetwork && pods.some((h) => h.hostNetwork && h.nodeName === p.nodeName)).length;
        if (service.cluster.tierPolicies.size > 0) seen.tiered++;
        for (const t of c.traffic) {
          const want = checkedMatrix(service, keys, t);
          const byCell = Matrix.of(service.cluster, pods, t);
          // Cells asked one by one in an order of their own, before any row is read.
          const cells = keys.map(() => keys.map(() => false));
          for (const j of shuffled([...keys.keys()], c.order + 1)) for (let i = 0; i < keys.length; i++) cells[i]![j] = byCell.allowed(i, j);
          assert.deepEqual(cells, want, `allowed(i, j) on ${t.protocol}/${t.port} over ${keys.join(" ")}`);
          assert.deepEqual(matrixRows(Matrix.of(service.cluster, pods, t)), want, `row(i) on ${t.protocol}/${t.port} over ${keys.join(" ")}`);
          for (const row of want) for (const v of row) v ? seen.allowed++ : seen.denied++;
          seen.cells += keys.length ** 2;
          if (service.cluster.tierPolicies.size === 0) continue;
          pods.forEach((a, i) =>
            pods.forEach((b, j) => {
              const by = decidedBy(service, a.key, b.key, t) ?? [];
              if (by.includes("Admin")) seen.Admin++;
              if (by.includes("Baseline")) seen.Baseline++;
              const ownNode = i !== j && a.nodeName === b.nodeName && (a.hostNetwork || b.hostNetwork);
              if (ownNode && !want[i]![j]) seen.ownNodeDenied++;
            }),
          );
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    assert.ok(seen.denied > 100 && seen.allowed > 100, `too few of one answer: ${JSON.stringify(seen)}`);
    for (const k of ["hostNetwork", "noAddress", "ipv6First", "sameNodeHostNetwork", "tiered", "Admin", "Baseline", "ownNodeDenied"] as const) {
      assert.ok(seen[k] > 0, `no model had a pod or cell of kind ${k}: ${JSON.stringify(seen)}`);
    }
  });

  it("one PodClasses serves every port: a matrix made of it per port equals Check on that port", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { service } = await loaded(modelOf(c));
        const pods = sortedPods(service.cluster.pods.values());
        const keys = pods.map((p) => p.key);
        const classes = new PodClasses(service.cluster, pods);
        for (const t of c.traffic) assert.deepEqual(matrixRows(new Matrix(classes, t)), checkedMatrix(service, keys, t), `${t.protocol}/${t.port}`);
      }),
      { numRuns: 10, seed: SEED + 1 },
    );
  });

  it("a matrix of some of the pods (one namespace, or every other pod) equals Check on those pods", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom("ns-a", "ns-b", "ns-c", "every other"), async (c, which) => {
        const { service } = await loaded(modelOf(c));
        const all = sortedPods(service.cluster.pods.values());
        const pods = which === "every other" ? all.filter((_, i) => i % 2 === 0) : all.filter((p) => p.namespace === which);
        const keys = pods.map((p) => p.key);
        for (const t of c.traffic) assert.deepEqual(matrixRows(Matrix.of(service.cluster, pods, t)), checkedMatrix(service, keys, t), `${which} ${t.protocol}/${t.port}`);
      }),
      { numRuns: 10, seed: SEED + 2 },
    );
  });

  it("groups: every pair of distinct pods of groups g and h has the cell groupAllowed(g, h); the groups partition the pods in matrix order", async () => {
    let grouped = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { service } = await loaded(modelOf(c));
        const pods = sortedPods(service.cluster.pods.values());
        const keys = pods.map((p) => p.key);
        for (const t of c.traffic) {
          const want = checkedMatrix(service, keys, t);
          const m = Matrix.of(service.cluster, pods, t);
          const groups = m.groups();
          // Each pod in exactly one group; each group's pods in matrix order; groups by their first pod.
          assert.deepEqual(
            groups.flat().sort((a, b) => a - b),
            [...keys.keys()],
          );
          for (const g of groups)
            assert.deepEqual(
              g,
              [...g].sort((a, b) => a - b),
            );
          assert.deepEqual(
            groups.map((g) => g[0]),
            groups.map((g) => g[0]!).sort((a, b) => a - b),
          );
          for (const g of groups) {
            for (const h of groups) {
              const cell = m.groupAllowed(g, h);
              for (const i of g)
                for (const j of h)
                  if (i !== j) assert.equal(want[i]![j], cell, `${keys[i]} -> ${keys[j]} in groups of ${keys[g[0]!]} and ${keys[h[0]!]} on ${t.protocol}/${t.port}`);
            }
          }
          grouped += pods.length - groups.length;
        }
      }),
      { numRuns: RUNS, seed: SEED + 3 },
    );
    assert.ok(grouped > 0, "no two pods were ever grouped");
  });

  /** Pods alike but for one thing that some verdict reads: each model gives both answers across the pair it is about. */
  const HANDMADE: { name: string; objects: Manifest[]; pair: [string, string][]; traffic: MatrixTraffic }[] = [
    {
      name: "an IPv6-first source reaches a dual-stack pod at its IPv6 address, and a pod with no IPv6 address not at all",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1", "fd00::1"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["fd10::1", "10.1.0.1"] }),
        pod("n/dual", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2", "fd10::2"] }),
        pod("n/single", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"] }),
        policy("n/src-out", { podSelector: { matchLabels: { role: "src" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "::/0" } }] }] }),
      ],
      pair: [
        ["n/src", "n/dual"],
        ["n/src", "n/single"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a pod selector selects a pod, not a host-network pod with the same labels",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        node("node-2", "10.0.0.2"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/pod", { labels: { role: "dst" }, node: "node-2", ips: ["10.1.0.2"] }),
        pod("n/host", { labels: { role: "dst" }, node: "node-2", ips: ["10.0.0.2"], hostNetwork: true }),
        policy("n/src-out", { podSelector: { matchLabels: { role: "src" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { role: "dst" } } }] }] }),
      ],
      pair: [
        ["n/src", "n/pod"],
        ["n/src", "n/host"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a named port is the destination's own number",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/on-80", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"], ports: [{ name: "http", containerPort: 80 }] }),
        pod("n/on-8080", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"], ports: [{ name: "http", containerPort: 8080 }] }),
        policy("n/dst-in", { podSelector: { matchLabels: { role: "dst" } }, ingress: [{ ports: [{ port: "http" }] }] }),
      ],
      pair: [
        ["n/src", "n/on-80"],
        ["n/src", "n/on-8080"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "an egress named port is resolved on the destination too",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/on-80", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"], ports: [{ name: "http", containerPort: 80 }] }),
        pod("n/on-8080", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"], ports: [{ name: "http", containerPort: 8080 }] }),
        policy("n/src-out", { podSelector: { matchLabels: { role: "src" } }, policyTypes: ["Egress"], egress: [{ ports: [{ port: "http" }] }] }),
      ],
      pair: [
        ["n/src", "n/on-80"],
        ["n/src", "n/on-8080"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a host-network pod reaches the pods of its own node, whatever their policies, and not those of another",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        node("node-2", "10.0.0.2"),
        pod("n/host", { node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
        pod("n/near", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.1.2"] }),
        pod("n/far", { labels: { role: "dst" }, node: "node-2", ips: ["10.1.2.2"] }),
        policy("n/deny-in", { podSelector: { matchLabels: { role: "dst" } }, policyTypes: ["Ingress"] }),
      ],
      pair: [
        ["n/host", "n/near"],
        ["n/host", "n/far"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "an ipBlock holds a pod's address, and never a pod without one",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/addressed", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("n/pending", { labels: { role: "dst" }, node: "node-1", phase: "Pending" }),
        policy("n/src-out", {
          podSelector: { matchLabels: { role: "src" } },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.2.0.0/16"] } }] }],
        }),
      ],
      pair: [
        ["n/src", "n/addressed"],
        ["n/src", "n/pending"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a namespace label an Admin-tier subject reads: only the pod of the namespace it selects is denied",
      objects: [
        namespace("s"),
        namespace("prod", { env: "prod" }),
        namespace("dev", { env: "dev" }),
        node("node-1", "10.0.0.1"),
        pod("s/src", { node: "node-1", ips: ["10.1.0.1"] }),
        pod("dev/dst", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("prod/dst", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"] }),
        cnp("deny-prod-in", "Admin", { namespaces: { matchLabels: { env: "prod" } } }, { ingress: [{ action: "Deny", from: [{ namespaces: {} }] }] }),
      ],
      pair: [
        ["s/src", "dev/dst"],
        ["s/src", "prod/dst"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a namespace label a tier peer reads: an egress Deny to namespaces env=prod",
      objects: [
        namespace("s"),
        namespace("prod", { env: "prod" }),
        namespace("dev", { env: "dev" }),
        node("node-1", "10.0.0.1"),
        pod("s/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("dev/dst", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("prod/dst", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"] }),
        cnp(
          "no-prod",
          "Baseline",
          { pods: { podSelector: { matchLabels: { role: "src" } } } },
          { egress: [{ action: "Deny", to: [{ namespaces: { matchLabels: { env: "prod" } } }] }] },
        ),
      ],
      pair: [
        ["s/src", "dev/dst"],
        ["s/src", "prod/dst"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a pod label only a tier peer's pod selector reads",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/plain", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("n/marked", { labels: { role: "dst", quarantine: "yes" }, node: "node-1", ips: ["10.1.0.3"] }),
        cnp(
          "quarantine",
          "Admin",
          { pods: { podSelector: { matchLabels: { role: "src" } } } },
          { egress: [{ action: "Deny", to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { quarantine: "yes" } } } }] }] },
        ),
      ],
      pair: [
        ["n/src", "n/plain"],
        ["n/src", "n/marked"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a node label a nodes peer reads: host-network pods alike but for their node's zone",
      objects: [
        namespace("n"),
        labelled(node("node-1", "10.0.0.1"), { zone: "a" }),
        labelled(node("node-2", "10.0.0.2"), { zone: "b" }),
        labelled(node("node-3", "10.0.0.3"), { zone: "c" }),
        pod("n/src", { labels: { role: "src" }, node: "node-3", ips: ["10.1.3.1"] }),
        pod("n/host-a", { labels: { role: "agent" }, node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
        pod("n/host-b", { labels: { role: "agent" }, node: "node-2", ips: ["10.0.0.2"], hostNetwork: true }),
        cnp("no-zone-a", "Admin", { pods: { podSelector: { matchLabels: { role: "src" } } } }, { egress: [{ action: "Deny", to: [{ nodes: { matchLabels: { zone: "a" } } }] }] }),
      ],
      pair: [
        ["n/src", "n/host-b"],
        ["n/src", "n/host-a"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "an address inside a networks CIDR, and one outside it",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { labels: { role: "src" }, node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/outside", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("n/inside", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.1.2"] }),
        cnp("no-net", "Admin", { namespaces: {} }, { egress: [{ action: "Deny", to: [{ networks: ["10.1.1.0/24"] }] }] }),
      ],
      pair: [
        ["n/src", "n/outside"],
        ["n/src", "n/inside"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "an Admin Deny of the node stands over the own-node exception a NetworkPolicy isolation keeps",
      objects: [
        namespace("n"),
        labelled(node("node-1", "10.0.0.1"), { zone: "a" }),
        pod("n/host", { labels: { role: "agent" }, node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
        pod("n/free", { labels: { role: "app" }, node: "node-1", ips: ["10.1.1.1"] }),
        pod("n/fenced", { labels: { role: "app", fenced: "yes" }, node: "node-1", ips: ["10.1.1.2"] }),
        policy("n/deny-out", { podSelector: {}, policyTypes: ["Egress"] }),
        cnp("fence", "Admin", { pods: { podSelector: { matchLabels: { fenced: "yes" } } } }, { egress: [{ action: "Deny", to: [{ nodes: {} }] }] }),
      ],
      pair: [
        ["n/free", "n/host"],
        ["n/fenced", "n/host"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a Baseline Deny of the node applies where no NetworkPolicy isolates the pod, and the own-node exception where one does",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/host", { labels: { role: "agent" }, node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
        pod("n/isolated", { labels: { role: "app", np: "yes" }, node: "node-1", ips: ["10.1.1.1"] }),
        pod("n/open", { labels: { role: "app" }, node: "node-1", ips: ["10.1.1.2"] }),
        policy("n/deny-out", { podSelector: { matchLabels: { np: "yes" } }, policyTypes: ["Egress"] }),
        cnp("no-nodes", "Baseline", { namespaces: {} }, { egress: [{ action: "Deny", to: [{ networks: ["10.0.0.0/24"] }] }] }),
      ],
      pair: [
        ["n/isolated", "n/host"],
        ["n/open", "n/host"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
    {
      name: "a tier's named port is of any protocol: the container port's",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/dns-tcp", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.2"], ports: [{ name: "dns", containerPort: 53, protocol: "TCP" }] }),
        pod("n/dns-udp", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"], ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }] }),
        cnp("no-dns", "Admin", { namespaces: {} }, { ingress: [{ action: "Deny", from: [{ namespaces: {} }], protocols: [{ destinationNamedPort: "dns" }] }] }),
      ],
      pair: [
        ["n/src", "n/dns-tcp"],
        ["n/src", "n/dns-udp"],
      ],
      traffic: { protocol: "UDP", port: 53 },
    },
    {
      name: "an Admin Accept comes before NetworkPolicies that allow no rule on the port",
      objects: [
        namespace("n"),
        node("node-1", "10.0.0.1"),
        pod("n/src", { node: "node-1", ips: ["10.1.0.1"] }),
        pod("n/accepted", { labels: { role: "dst", admin: "yes" }, node: "node-1", ips: ["10.1.0.2"] }),
        pod("n/fenced", { labels: { role: "dst" }, node: "node-1", ips: ["10.1.0.3"] }),
        policy("n/https-only", { podSelector: { matchLabels: { role: "dst" } }, ingress: [{ ports: [{ port: 443 }] }] }),
        cnp("web", "Admin", { pods: { podSelector: { matchLabels: { admin: "yes" } } } }, { ingress: [{ action: "Accept", from: [{ namespaces: {} }] }] }),
      ],
      pair: [
        ["n/src", "n/accepted"],
        ["n/src", "n/fenced"],
      ],
      traffic: { protocol: "TCP", port: 80 },
    },
  ];

  for (const h of HANDMADE) {
    it(`${h.name}: the matrix, its rows and its groups say so, as Check does`, async () => {
      const { service } = await loaded(h.objects);
      const pods = sortedPods(service.cluster.pods.values());
      const keys = pods.map((p) => p.key);
      const want = checkedMatrix(service, keys, h.traffic);
      assert.deepEqual(
        h.pair.map(([s, d]) => checked(service, s, d, h.traffic)),
        [true, false],
        "the pair's answers",
      );
      const m = Matrix.of(service.cluster, pods, h.traffic);
      assert.deepEqual(matrixRows(m), want);
      assert.deepEqual(
        keys.map((_, i) => keys.map((_, j) => Matrix.of(service.cluster, pods, h.traffic).allowed(i, j))),
        want,
      );
      const groups = m.groups();
      for (const g of groups)
        for (const g2 of groups) for (const i of g) for (const j of g2) if (i !== j) assert.equal(m.groupAllowed(g, g2), want[i]![j], `${keys[i]} -> ${keys[j]}`);
    });
  }

  it("replicated workloads fall in fewer classes than there are pods, and the matrix still equals Check", async () => {
    const { service } = await loaded(workloads());
    const pods = sortedPods(service.cluster.pods.values());
    const keys = pods.map((p) => p.key);
    for (const t of [
      { protocol: "TCP", port: 8080 },
      { protocol: "TCP", port: 80 },
      { protocol: "UDP", port: 8080 },
    ] as const) {
      const m = Matrix.of(service.cluster, pods, t);
      const size = m.size;
      assert.equal(size.pods, 15);
      // Each workload's pods on 10.244.1.0/24 and on 10.244.2.0/24 (the ipBlock with except tells them apart).
      assert.equal(size.classes, 6, JSON.stringify(size));
      assert.ok(size.egressKeys <= 2 && size.ingressKeys <= 2, JSON.stringify(size));
      assert.deepEqual(matrixRows(m), checkedMatrix(service, keys, t), `${t.protocol}/${t.port}`);
      assert.equal(m.groups().length, 6);
    }
    assert.equal(checked(service, "front/web-0", "back/api-1", { protocol: "TCP", port: 8080 }), true);
    assert.equal(checked(service, "back/db-0", "back/api-0", { protocol: "TCP", port: 8080 }), false);
  });

  it("on the random models with copies, the classes are fewer than the pods", async () => {
    let pods = 0;
    let classes = 0;
    for (const model of fc.sample(modelArb, { numRuns: 8, seed: SEED + 4 })) {
      const { service } = await loaded(replicated(model, [3]));
      const all = [...service.cluster.pods.values()];
      const size = Matrix.of(service.cluster, all, { protocol: "TCP", port: 80 }).size;
      pods += size.pods;
      classes += size.classes;
    }
    assert.ok(classes < pods, `${classes} classes for ${pods} pods`);
    assert.ok(classes * 2 < pods, `${classes} classes for ${pods} pods: each workload of three should mostly be one class`);
  });

  it("prepare() asks every verdict: the rows read afterwards are the model's at the time, whatever is written since", async () => {
    const { service } = await loaded(workloads());
    const pods = sortedPods(service.cluster.pods.values());
    const keys = pods.map((p) => p.key);
    const t = { protocol: "TCP", port: 80 } as const;
    const want = checkedMatrix(service, keys, t);
    const m = Matrix.of(service.cluster, pods, t).prepare();
    await service.applyObjects(
      SYSTEM,
      ["front", "back"].map((ns) => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny-all", namespace: ns },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      })),
    );
    assert.notDeepEqual(checkedMatrix(service, keys, t), want, "the write changes some cell");
    assert.deepEqual(matrixRows(m), want);
  });

  it("prepare() asks the own-node cells the tiers decide too: they stay the model's at the time", async () => {
    const h = HANDMADE.find((x) => x.name.startsWith("an Admin Deny of the node"))!;
    const { service } = await loaded(h.objects);
    const pods = sortedPods(service.cluster.pods.values());
    const keys = pods.map((p) => p.key);
    const want = checkedMatrix(service, keys, h.traffic);
    const m = Matrix.of(service.cluster, pods, h.traffic).prepare();
    await service.delete(SYSTEM, "ClusterNetworkPolicy", "", "fence");
    assert.notDeepEqual(checkedMatrix(service, keys, h.traffic), want, "the delete changes the own-node cell");
    assert.deepEqual(matrixRows(m), want);
  });
});

const sel = (...requirements: { key: string; operator: string; values: string[] }[]): Selector => ({ kind: "match", requirements }) as Selector;
const QUALIFIED =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("parseSelectorText: label selectors as kubectl -l writes them", () => {
  const good: [string, Selector][] = [
    ["", { kind: "everything" }],
    ["   ", { kind: "everything" }],
    ["app=web", sel({ key: "app", operator: "In", values: ["web"] })],
    ["app==web", sel({ key: "app", operator: "In", values: ["web"] })],
    ["app = web", sel({ key: "app", operator: "In", values: ["web"] })],
    ["tier!=db", sel({ key: "tier", operator: "NotIn", values: ["db"] })],
    ["app=", sel({ key: "app", operator: "In", values: [""] })],
    ["env in (a,b)", sel({ key: "env", operator: "In", values: ["a", "b"] })],
    ["env in ( a , b )", sel({ key: "env", operator: "In", values: ["a", "b"] })],
    ["env in(a)", sel({ key: "env", operator: "In", values: ["a"] })],
    ["env notin (a)", sel({ key: "env", operator: "NotIn", values: ["a"] })],
    ["gpu", sel({ key: "gpu", operator: "Exists", values: [] })],
    ["!legacy", sel({ key: "legacy", operator: "DoesNotExist", values: [] })],
    ["example.com/app=web", sel({ key: "example.com/app", operator: "In", values: ["web"] })],
    [
      "app=web, env in (a,b),tier!=db,gpu,!legacy",
      sel(
        { key: "app", operator: "In", values: ["web"] },
        { key: "env", operator: "In", values: ["a", "b"] },
        { key: "tier", operator: "NotIn", values: ["db"] },
        { key: "gpu", operator: "Exists", values: [] },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ),
    ],
  ];
  for (const [text, want] of good) {
    it(`${JSON.stringify(text)} parses`, () => {
      assert.deepEqual(parseSelectorText(text), want);
    });
  }

  it("each parsed form selects what its words say", () => {
    const labels: Record<string, string>[] = [{}, { app: "web" }, { app: "db", env: "a" }, { env: "b", gpu: "" }, { legacy: "yes", app: "web", env: "c" }];
    const picks = (text: string) => {
      const s = parseSelectorText(text);
      assert.ok(!("error" in s), text);
      return labels.map((l) => matches(s, l));
    };
    assert.deepEqual(picks("app=web"), [false, true, false, false, true]);
    assert.deepEqual(picks("app!=web"), [true, false, true, true, false]);
    assert.deepEqual(picks("env in (a,b)"), [false, false, true, true, false]);
    assert.deepEqual(picks("env notin (a)"), [true, true, false, true, true]);
    assert.deepEqual(picks("gpu"), [false, false, false, true, false]);
    assert.deepEqual(picks("!legacy"), [true, true, true, true, false]);
    assert.deepEqual(picks("app=web,!legacy"), [false, true, false, false, false]);
    assert.deepEqual(picks(""), [true, true, true, true, true]);
  });

  const bad: [string, string][] = [
    ["env in ()", '"env in ()": a set needs at least one value'],
    ["env notin ( )", '"env notin ( )": a set needs at least one value'],
    ["app=web,", "an empty requirement between commas"],
    ["app=web,,tier=db", "an empty requirement between commas"],
    [",app=web", "an empty requirement between commas"],
    ["app=web=db", `"app=web=db": ${LABEL_VALUE}`],
    ["app=web db", `"app=web db": ${QUALIFIED}`],
    ["env in (a b)", `"env in (a b)": ${LABEL_VALUE}`],
    ["env in (a", `"env in (a": ${QUALIFIED}`],
    ["!app=web", `"!app=web": ${QUALIFIED}`],
    ["x>1", `"x>1": ${QUALIFIED}`],
    ["bad key!", `"bad key!": ${QUALIFIED}`],
    ["-app", `"-app": ${QUALIFIED}`],
    ["/app", '"/app": prefix part must be non-empty'],
  ];
  for (const [text, error] of bad) {
    it(`${JSON.stringify(text)} is rejected with its reason`, () => {
      assert.deepEqual(parseSelectorText(text), { error });
    });
  }
});
