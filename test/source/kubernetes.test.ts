/**
 * `serve --kubernetes` against a Kubernetes API server double that speaks the
 * real list/watch protocol, through the real client library: ready only once
 * every first list is in, read-only (409), following creates, updates and
 * deletes, watches that end or expire, errors, bursts coalesced into few
 * versions, objects taken as the API server holds them, and an agent that
 * follows the server as the cluster changes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status as GrpcStatus } from "@grpc/grpc-js";
import fc from "fast-check";
import { pino } from "pino";
import { Agent } from "../../client/agent/agent.js";
import { modelClient } from "../../client/grpc-client.js";
import { COALESCE_MAX_MS } from "../../server/store/kubernetes.js";
import { grpcError } from "../api/support.js";
import { type Following, PATIENCE, converged, follow, served } from "../helpers/follow.js";
import { KINDS, type KubeApiServer, type Kind, type Manifest, startKubeApiServer } from "../helpers/kube-apiserver.js";
import { http, startServer } from "../helpers/server.js";
import { FakeRunner } from "../rules/simulator.js";
import { eventually } from "../rules/support.js";

const ns = (name: string, labels: Record<string, string> = {}): Manifest => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const node = (name: string, ip: string): Manifest => ({ apiVersion: "v1", kind: "Node", metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } });
const pod = (namespace: string, name: string, labels: Record<string, string>, ip: string, nodeName = "node-1"): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels },
  spec: { nodeName, containers: [{ name: "main", image: "registry.example/app:1", ports: [{ name: "http", containerPort: 80 }] }] },
  status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
});
const policy = (namespace: string, name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});

function seed(double: KubeApiServer): void {
  double.create(ns("x", { team: "a" }));
  double.create(ns("y", { team: "b" }));
  double.create(node("node-1", "10.0.0.1"));
  double.create(node("node-2", "10.0.0.2"));
  double.create(pod("x", "a", { app: "a" }, "10.1.1.1"));
  double.create(pod("y", "b", { app: "b" }, "10.1.2.1", "node-2"));
  double.create(policy("x", "a-from-b", { podSelector: { matchLabels: { app: "a" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }] }] }));
}

/** A double holding the seed objects, and a ready server that follows it. */
async function seededFollower(): Promise<{ double: KubeApiServer; server: Following }> {
  const double = await startKubeApiServer();
  seed(double);
  const server = await follow(double);
  await server.ready;
  return { double, server };
}

describe("serve --kubernetes", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following | undefined;
  before(async () => {
    double = await startKubeApiServer();
    seed(double);
  });
  after(async () => {
    await server?.close();
    await double.close();
  });

  it("serves nothing until every first list is in, then the cluster's objects", async () => {
    const release = double.holdLists();
    server = await follow(double);
    const z = await http(server, "GET", "/readyz");
    assert.equal(z.status, 503);
    assert.match(z.body.status, /^loading the model from kubernetes \(kubernetes http:\/\/127\.0\.0\.1:\d+\)$/);
    assert.equal((await http(server, "GET", "/v1/check?src=y/b&dst=x/a&port=80")).status, 503);
    assert.equal((await http(server, "GET", "/v1/nodes/node-1/rules")).status, 503);
    release();
    await server.ready;
    const ready = await http(server, "GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.body.store.kind, "kubernetes");
    assert.equal(ready.body.store.writable, false);
    await converged(server.url, double, "the first lists");
    const d = await http(server, "GET", "/v1/check?src=y/b&dst=x/a&port=80");
    assert.equal(d.body.allowed, true);
    assert.equal((await http(server, "GET", "/v1/check?src=x/a&dst=x/a&port=80")).body.allowed, true);
  });

  it("refuses writes through the API with 409 (gRPC FAILED_PRECONDITION): the cluster is the source", async () => {
    const s = server!;
    for (const [method, path, body] of [
      ["POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n"],
      ["PUT", "/v1/model", "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n"],
      ["DELETE", "/v1/namespaces/x", undefined],
    ] as const) {
      const r = await http(s, method, path, body);
      assert.equal(r.status, 409, `${method} ${path}`);
      assert.equal(r.body.reason, "Conflict");
      assert.match(r.body.message, /^the model follows the Kubernetes cluster at http:\/\/127\.0\.0\.1:\d+: change the cluster, not Podwall$/);
    }
    const client = modelClient(`127.0.0.1:${s.grpcPort}`);
    try {
      const e = await grpcError(client.unary("apply", { manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n" }));
      assert.equal(e.code, GrpcStatus.FAILED_PRECONDITION);
    } finally {
      client.close();
    }
    await converged(s.url, double, "nothing written");
  });

  it("follows creates, updates and deletes of every kind", async () => {
    const s = server!;
    double.create(ns("z", { team: "b" }));
    double.create(pod("z", "c", { app: "c" }, "10.1.3.1"));
    await converged(s.url, double, "a namespace and a pod created");
    assert.equal((await http(s, "GET", "/v1/check?src=z/c&dst=x/a&port=80")).body.allowed, true, "z is team b");
    double.update({ ...ns("z", { team: "c" }) });
    await converged(s.url, double, "a namespace relabelled");
    assert.equal((await http(s, "GET", "/v1/check?src=z/c&dst=x/a&port=80")).body.allowed, false, "z is no longer team b");
    double.update(policy("x", "a-from-b", { podSelector: { matchLabels: { app: "a" } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }));
    double.update(node("node-2", "10.0.0.22"));
    await converged(s.url, double, "a policy and a node changed");
    assert.equal((await http(s, "GET", "/v1/check?src=z/c&dst=x/a&port=80")).body.allowed, true);
    double.delete("Pod", "z", "c");
    double.delete("Namespace", undefined, "z");
    await converged(s.url, double, "a pod and its namespace deleted");
    assert.equal((await http(s, "GET", "/v1/check?src=z/c&dst=x/a&port=80")).status, 404);
  });

  it("resumes a watch that ends mid-stream, relists one that expired, and deletes what went away meanwhile", async () => {
    const s = server!;
    const lists = () => double.requests.filter((r) => r.verb === "list").length;
    const before = lists();
    double.closeWatches("end");
    double.create(pod("x", "resumed", { app: "r" }, "10.1.1.9"));
    await converged(s.url, double, "after watches ended");
    assert.equal(lists(), before, "a watch that ends is resumed from its resourceVersion, not relisted");

    await eventually(() => KINDS.every((k) => double.watchers(k) > 0), PATIENCE, "every watch open again");
    double.compact();
    double.closeWatches("reset");
    double.delete("Pod", "x", "resumed");
    double.create(pod("y", "after-expiry", { app: "e" }, "10.1.2.9", "node-2"));
    double.compact();
    await converged(s.url, double, "after the history was compacted away");
    assert.ok(lists() > before, "an expired watch is followed by a relist");
    const metrics = (await http(s, "GET", "/metrics")).body as string;
    assert.match(metrics, /^podwall_kubernetes_relists_total\{kind="Pod"\} [1-9]/m);
    assert.match(metrics, /^podwall_kubernetes_events_total\{kind="Pod",type="ADDED"\} [1-9]/m);
    assert.match(metrics, /^podwall_kubernetes_synced\{kind="Pod"\} 1$/m);
    assert.match(metrics, /^podwall_kubernetes_seconds_since_last_event \d/m);
  });

  it("recovers from list and watch errors with backoff, and says so in /readyz meanwhile", async () => {
    const s = server!;
    double.failNext("Pod", 500, "watch");
    double.failNext("Pod", 503, "list");
    double.closeWatches("reset");
    double.create(pod("x", "after-errors", { app: "z" }, "10.1.1.10"));
    await converged(s.url, double, "after a failed watch and a failed list");
    assert.equal((await http(s, "GET", "/readyz")).status, 200);
    // A relist that fails twice while the informer is being restarted: one restart, one watch.
    double.failNext("Pod", 503, "list");
    double.failNext("Pod", 500, "list");
    double.compact();
    double.closeWatches("reset");
    double.create(pod("x", "after-failed-relists", { app: "z" }, "10.1.1.11"));
    await converged(s.url, double, "after two failed relists");
    await eventually(() => double.watchers("Pod") === 1, PATIENCE, "the pod watch open again");
    double.create(pod("x", "one-more", { app: "z" }, "10.1.1.12"));
    await converged(s.url, double, "one more event");
    assert.equal(double.watchers("Pod"), 1, "one watch of pods, not one per restart");
  });

  it("takes objects as the API server holds them: a pod before its namespace, an address not yet released", async () => {
    const s = server!;
    double.create(pod("early", "p", { app: "p" }, "10.1.5.1"));
    double.create(pod("x", "reuses", { app: "q" }, "10.1.1.1"));
    await converged(s.url, double, "a pod of a namespace not yet seen, and an address two pods claim");
    double.create(ns("early"));
    await converged(s.url, double, "its namespace");
    double.delete("Pod", "early", "p");
    double.delete("Pod", "x", "reuses");
    double.delete("Namespace", undefined, "early");
    await converged(s.url, double, "cleaned up");
  });

  it("decides exactly as a server loaded with the same objects from manifests", async () => {
    const s = server!;
    await converged(s.url, double, "the cluster as it is");
    const manifests = KINDS.flatMap((k) => double.objects(k));
    const loaded = await startServer();
    try {
      const put = await http(loaded, "PUT", "/v1/model", JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }), { "content-type": "application/json" });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const pods = double.objects("Pod").map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      const checks = pods.flatMap((src) => pods.flatMap((dst) => [80, 81].map((port) => ({ src, dst, port, explain: true }))));
      const decide = async (url: string) =>
        ((await http({ url }, "POST", "/v1/check/batch", { checks })).body.results as Record<string, unknown>[]).map((d) => ({ ...d, generation: 0, decisionId: "" }));
      assert.deepEqual(await decide(s.url), await decide(loaded.url));
    } finally {
      await loaded.close();
    }
  });

  it("commits a burst of events as few versions", async (t) => {
    const s = server!;
    const g0 = (await served(s.url)).generation;
    for (let i = 0; i < 500; i++) double.create(pod("y", `burst-${i}`, { app: "burst" }, `10.2.${i >> 8}.${i & 255}`, i % 2 ? "node-1" : "node-2"));
    const g1 = await converged(s.url, double, "500 pods created at once");
    assert.ok(g1 - g0 <= 50, `500 events became ${g1 - g0} commits (a commit waits for a pause of events, ${COALESCE_MAX_MS} ms at most)`);
    t.diagnostic(`500 pod creations became ${g1 - g0} commits`);
    for (let i = 0; i < 500; i++) double.delete("Pod", "y", `burst-${i}`);
    await converged(s.url, double, "500 pods deleted at once");
  });
});

describe("serve --kubernetes: random event sequences with dropped watches and expired versions", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following | undefined;
  before(async () => {
    ({ double, server } = await seededFollower());
  });
  after(async () => {
    await server?.close();
    await double.close();
  });

  type Op =
    | { op: "pod"; ns: number; name: number; app: number; ip: number }
    | { op: "delete-pod"; ns: number; name: number }
    | { op: "label-ns"; ns: number; team: number }
    | { op: "policy"; ns: number; name: number; team: number }
    | { op: "delete-policy"; ns: number; name: number }
    | { op: "drop-watches"; reset: boolean }
    | { op: "expire" };
  const NAMESPACES = ["x", "y"];
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("pod" as const), ns: fc.nat(1), name: fc.nat(5), app: fc.nat(2), ip: fc.nat(200) }),
    fc.record({ op: fc.constant("delete-pod" as const), ns: fc.nat(1), name: fc.nat(5) }),
    fc.record({ op: fc.constant("label-ns" as const), ns: fc.nat(1), team: fc.nat(2) }),
    fc.record({ op: fc.constant("policy" as const), ns: fc.nat(1), name: fc.nat(2), team: fc.nat(2) }),
    fc.record({ op: fc.constant("delete-policy" as const), ns: fc.nat(1), name: fc.nat(2) }),
    fc.record({ op: fc.constant("drop-watches" as const), reset: fc.boolean() }),
    fc.record({ op: fc.constant("expire" as const) }),
  );

  function run(o: Op): void {
    const has = (kind: Kind, namespace: string | undefined, name: string) => double.objects(kind).some((x) => x.metadata.name === name && x.metadata.namespace === namespace);
    const upsert = (m: Manifest) => (has(m.kind as Kind, m.metadata.namespace, m.metadata.name) ? double.update(m) : double.create(m));
    switch (o.op) {
      case "pod": {
        const space = NAMESPACES[o.ns]!;
        // Addresses are per name, so that no two pods of one sequence claim one.
        upsert(pod(space, `p${o.name}`, { app: `app-${o.app}` }, `10.9.${o.ns}.${o.name + 1}`, o.ip % 2 ? "node-1" : "node-2"));
        return;
      }
      case "delete-pod":
        if (has("Pod", NAMESPACES[o.ns], `p${o.name}`)) double.delete("Pod", NAMESPACES[o.ns], `p${o.name}`);
        return;
      case "label-ns":
        double.update(ns(NAMESPACES[o.ns]!, { team: ["a", "b", "c"][o.team]! }));
        return;
      case "policy":
        upsert(policy(NAMESPACES[o.ns]!, `pol-${o.name}`, { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: ["a", "b", "c"][o.team]! } } }] }] }));
        return;
      case "delete-policy":
        if (has("NetworkPolicy", NAMESPACES[o.ns], `pol-${o.name}`)) double.delete("NetworkPolicy", NAMESPACES[o.ns], `pol-${o.name}`);
        return;
      case "drop-watches":
        double.closeWatches(o.reset ? "reset" : "end");
        return;
      case "expire":
        double.compact();
        double.closeWatches("reset");
        return;
    }
  }

  it("ends with the model built from the cluster's final state, whatever was dropped on the way", async () => {
    let sequences = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.boolean()), { minLength: 1, maxLength: 25 }), async (ops) => {
        for (const [o, pause] of ops) {
          run(o);
          // Some events land in one burst, others one by one.
          if (pause) await new Promise((r) => setImmediate(r));
        }
        await converged(server!.url, double, `after ${JSON.stringify(ops.map(([o]) => o))}`);
        sequences++;
      }),
      { numRuns: 15, seed: 20261129 },
    );
    assert.equal(sequences, 15);
  });
});

describe("an agent that follows a server that follows a cluster", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following | undefined;
  let agent: Agent | undefined;
  let done: Promise<void> | undefined;
  before(async () => {
    ({ double, server } = await seededFollower());
  });
  after(async () => {
    agent?.stop();
    await done;
    await server?.close();
    await double.close();
  });

  it("holds the ruleset of the cluster's state after every change", async () => {
    const run = new FakeRunner();
    agent = new Agent({ server: server!.url, node: "node-1", runner: run, logger: pino({ level: "silent" }), waitSeconds: 2, minBackoffMs: 20, maxBackoffMs: 300 });
    done = agent.run();
    const changes: (() => void)[] = [
      () => double.create(pod("y", "client", { app: "client" }, "10.1.2.50", "node-2")),
      () => double.create(policy("x", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })),
      () => double.update(ns("y", { team: "c" })),
      () => double.delete("NetworkPolicy", "x", "deny-all"),
      () => double.update(pod("x", "a", { app: "moved" }, "10.1.1.1")),
    ];
    const versions = new Set<string>();
    for (const change of changes) {
      change();
      await converged(server!.url, double, "the change");
      const current = (await http(server!, "GET", "/v1/nodes/node-1/rules")).body.version as string;
      versions.add(current);
      await eventually(() => agent!.applied === current, PATIENCE, "the agent to apply the current ruleset");
    }
    assert.ok(versions.size >= 3, `the changes gave ${versions.size} versions of node-1's ruleset`);
  });
});
