/**
 * The cluster model and its indexes: transactions undo every change when the
 * body throws; a namespace takes its pods and policies with it; the address,
 * label, node and port-name indexes follow every write.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decodeObject } from "../../server/manifests/decode.js";
import { parseManifests } from "../../server/manifests/parse.js";
import { Cluster } from "../../server/model/cluster.js";
import type { ModelObject, Pod } from "../../server/model/types.js";

type Obj = Record<string, unknown>;

function obj(raw: unknown): ModelObject {
  const d = decodeObject(raw);
  assert.equal(d.kind, "object", JSON.stringify(d));
  return (d as { object: ModelObject }).object;
}
const pod = (namespace: string, name: string, labels: Obj, status: Obj, spec: Obj = {}): ModelObject =>
  obj({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels }, spec: { containers: [{ name: "c" }], ...spec }, status });
const ns = (name: string, labels: Obj = {}): ModelObject => obj({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const node = (name: string, ...addresses: string[]): ModelObject =>
  obj({ apiVersion: "v1", kind: "Node", metadata: { name }, status: { addresses: addresses.map((address) => ({ type: "InternalIP", address })) } });
const policy = (namespace: string, name: string, spec: Obj = { podSelector: {} }): ModelObject =>
  obj({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec });

const FIXTURE = parseManifests(readFileSync(new URL("../fixtures/cluster.yaml", import.meta.url), "utf8"))
  .map((raw) => decodeObject(raw))
  .flatMap((d) => (d.kind === "object" ? [d.object] : []));

function loaded(): Cluster {
  const c = new Cluster();
  c.transaction(() => {
    for (const o of FIXTURE) c.put(o);
    c.put(policy("prod", "deny-all"));
    c.put(policy("dev", "allow-dns", { podSelector: { matchLabels: { app: "client" } }, egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] }));
  });
  return c;
}

const keys = (xs: Iterable<{ key?: string; name: string }>): string[] => [...xs].map((x) => x.key ?? x.name).sort();
const ADDRESSES = ["10.1.1.10", "10.1.1.99", "10.1.2.20", "10.1.2.40", "10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1", "fd00:10::70", "fd00:20::71"];
const NAMESPACES = ["prod", "dev", "other", "staging"];

/** Everything the model answers, as plain data. */
function snapshot(c: Cluster): Obj {
  return {
    generation: c.generation,
    namespaces: [...c.namespaces.keys()].sort(),
    nodes: [...c.nodes.keys()].sort(),
    pods: [...c.pods.keys()].sort(),
    policyCount: c.policyCount,
    perNamespace: NAMESPACES.map((n) => ({
      n,
      pods: keys(c.podsIn(n)),
      policies: keys(c.policiesIn(n)),
      byApp: keys(c.podLabels(n)?.withValues("app", ["web", "db", "client", "tool", "dual", "x", "api"]) ?? []),
      withApp: keys(c.podLabels(n)?.withKey("app") ?? []),
    })),
    namespaceLabels: {
      team: ["a", "b", "c"].map((v) => keys(c.namespaceLabels.withValues("team", [v]))),
      name: keys(c.namespaceLabels.withKey("kubernetes.io/metadata.name")),
    },
    addresses: ADDRESSES.map((a) => ({ a, pods: keys(c.podsAt(a)), node: c.nodeAt(a)?.name })),
    onNode: ["node-1", "node-2", "node-3"].map((n) => keys(c.podsOnNode(n))),
    portNames: [
      ["TCP", "http"],
      ["TCP", "pg"],
      ["UDP", "dns"],
      ["TCP", "api"],
    ].map(([p, n]) => keys(c.podsWithPortName(p!, n!))),
  };
}

class Boom extends Error {}

const writes: readonly { name: string; body: (c: Cluster) => void }[] = [
  {
    name: "a new pod",
    body: (c) =>
      c.put(pod("prod", "api", { app: "api" }, { podIP: "10.1.1.99" }, { nodeName: "node-1", containers: [{ name: "c", ports: [{ name: "api", containerPort: 80 }] }] })),
  },
  {
    name: "a pod replaced with other labels, address, node and ports",
    body: (c) =>
      c.put(pod("prod", "web", { app: "api" }, { podIP: "10.1.1.99" }, { nodeName: "node-2", containers: [{ name: "c", ports: [{ name: "api", containerPort: 80 }] }] })),
  },
  { name: "a pod removed", body: (c) => assert.equal(c.remove("Pod", "prod", "web"), true) },
  { name: "a namespace removed with its pods and policies", body: (c) => assert.equal(c.remove("Namespace", "", "prod"), true) },
  {
    name: "a new namespace with a pod and a policy",
    body: (c) => [ns("staging", { team: "c" }), pod("staging", "api", { app: "api" }, { podIP: "10.1.1.99" }), policy("staging", "p")].forEach((o) => c.put(o)),
  },
  { name: "a namespace relabelled", body: (c) => c.put(ns("prod", { team: "c" })) },
  {
    name: "a policy replaced and another removed",
    body: (c) => (c.put(policy("prod", "deny-all", { podSelector: { matchLabels: { app: "db" } } })), c.remove("NetworkPolicy", "dev", "allow-dns")),
  },
  { name: "a node removed", body: (c) => c.remove("Node", "", "node-1") },
  { name: "a node replaced with other addresses", body: (c) => c.put(node("node-2", "10.0.0.3")) },
  { name: "a new node", body: (c) => c.put(node("node-3", "10.0.0.3")) },
  {
    name: "a pod taking a terminated pod's place at an address",
    body: (c) => (c.put(pod("prod", "web", { app: "web" }, { podIP: "10.1.1.10", phase: "Succeeded" })), c.put(pod("dev", "new", {}, { podIP: "10.1.1.10" }))),
  },
  { name: "clear()", body: (c) => c.clear() },
  {
    name: "everything at once, including the same object written twice",
    body: (c) => {
      c.put(pod("prod", "api", { app: "api" }, { podIP: "10.1.1.99" }));
      c.put(pod("prod", "api", { app: "web" }, { podIP: "10.1.1.98" }));
      c.remove("Namespace", "", "dev");
      c.put(node("node-1", "10.0.0.3"));
      c.remove("NetworkPolicy", "prod", "deny-all");
      c.clear();
      c.put(ns("prod"));
    },
  },
];

describe("Cluster.transaction rolls back when the body throws", () => {
  for (const w of writes) {
    it(w.name, () => {
      const c = loaded();
      const before = snapshot(c);
      const boom = new Boom("boom");
      assert.throws(
        () =>
          c.transaction(() => {
            w.body(c);
            assert.notDeepEqual(snapshot(c), before, "the write changed something before it was undone");
            throw boom;
          }),
        (e) => e === boom,
      );
      assert.deepEqual(snapshot(c), before);
    });
  }
  it("the same writes, committed, move the generation by one each", () => {
    const c = loaded();
    const g = c.generation;
    for (const w of writes) c.transaction(() => w.body(c));
    assert.equal(c.generation, g + writes.length);
  });
});

describe("Cluster.transaction", () => {
  it("returns the body's value and counts one generation", () => {
    const c = new Cluster();
    assert.equal(
      c.transaction(() => 42),
      42,
    );
    assert.equal(c.generation, 1);
  });
  it("refuses writes outside a transaction", () => {
    const c = new Cluster();
    assert.throws(() => c.put(ns("prod")), { message: "model writes must run inside a transaction" });
  });
  it("refuses a nested transaction, and the outer one is undone", () => {
    const c = loaded();
    const before = snapshot(c);
    assert.throws(() => c.transaction(() => (c.remove("Namespace", "", "prod"), c.transaction(() => 1))), { message: "nested transaction" });
    assert.deepEqual(snapshot(c), before);
    c.transaction(() => c.put(ns("staging")));
    assert.ok(c.namespaces.has("staging"), "the cluster takes writes again");
  });
});

describe("deleting a namespace", () => {
  const c = loaded();
  c.transaction(() => c.remove("Namespace", "", "prod"));
  const cases: readonly [string, () => unknown, unknown][] = [
    ["its pods are gone", () => [...c.pods.keys()].filter((k) => k.startsWith("prod/")), []],
    ["podsIn is empty", () => keys(c.podsIn("prod")), []],
    ["its label index is gone", () => c.podLabels("prod"), undefined],
    ["its policies are gone", () => keys(c.policiesIn("prod")), []],
    ["policyCount counts the rest", () => c.policyCount, 1],
    ["its pods' addresses are free", () => ["10.1.1.10", "10.1.2.20", "fd00:10::70"].flatMap((a) => keys(c.podsAt(a))), []],
    ["namespace labels no longer find it", () => keys(c.namespaceLabels.withValues("team", ["a", "b"])), ["dev"]],
    ["nodes no longer list its pods", () => keys(c.podsOnNode("node-1")), ["other/x"]],
    ["port names no longer list its pods", () => keys(c.podsWithPortName("TCP", "http")), []],
    ["other namespaces keep theirs", () => keys(c.podsIn("dev")), ["dev/client", "dev/dual", "dev/tool"]],
    ["get finds nothing", () => [c.get("Namespace", "", "prod"), c.get("Pod", "prod", "web"), c.get("NetworkPolicy", "prod", "deny-all")], [undefined, undefined, undefined]],
    ["removing it again reports absence", () => c.transaction(() => c.remove("Namespace", "", "prod")), false],
  ];
  for (const [name, actual, want] of cases) {
    it(name, () => {
      assert.deepEqual(actual(), want);
    });
  }
});

describe("address index", () => {
  const c = loaded();
  const podsAt = (a: string) => keys(c.podsAt(a));
  const rows: readonly [string, () => unknown, unknown][] = [
    ["a pod's address", () => podsAt("10.1.1.10"), ["prod/web"]],
    ["a dual-stack pod at both addresses", () => [podsAt("10.1.1.70"), podsAt("fd00:10::70")], [["prod/dual"], ["prod/dual"]]],
    ["a host-network pod holds no address", () => podsAt("10.0.0.2"), []],
    ["a node at each InternalIP, IPv6 canonical", () => [c.nodeAt("10.0.0.1")?.name, c.nodeAt("fd00::1")?.name, c.nodeAt("10.0.0.2")?.name], ["node-1", "node-1", "node-2"]],
    ["no node at a pod's address", () => c.nodeAt("10.1.1.10"), undefined],
    ["an unknown address", () => [podsAt("192.0.2.1"), c.nodeAt("192.0.2.1")], [[], undefined]],
  ];
  for (const [name, actual, want] of rows) {
    it(name, () => {
      assert.deepEqual(actual(), want);
    });
  }
  it("a terminated pod releases its address", () => {
    const m = loaded();
    for (const phase of ["Succeeded", "Failed"]) {
      m.transaction(() => m.put(pod("prod", "web", { app: "web" }, { podIP: "10.1.1.10", phase })));
      assert.deepEqual(keys(m.podsAt("10.1.1.10")), [], phase);
      assert.ok(m.pods.has("prod/web"), "the pod itself stays in the model");
    }
  });
  it("a replaced pod's old address is freed and its new one indexed", () => {
    const m = loaded();
    m.transaction(() => m.put(pod("prod", "web", { app: "web" }, { podIP: "10.1.1.99" })));
    assert.deepEqual([keys(m.podsAt("10.1.1.10")), keys(m.podsAt("10.1.1.99"))], [[], ["prod/web"]]);
  });
  it("a removed node's addresses are freed", () => {
    const m = loaded();
    m.transaction(() => m.remove("Node", "", "node-1"));
    assert.deepEqual([m.nodeAt("10.0.0.1"), m.nodeAt("fd00::1")], [undefined, undefined]);
  });
  it("addresses are looked up in canonical form", () => {
    const m = loaded();
    const dual = m.pods.get("prod/dual") as Pod;
    assert.deepEqual(
      dual.ips.map((a) => a.text),
      ["10.1.1.70", "fd00:10::70"],
    );
    assert.deepEqual(keys(m.podsAt("fd00:10:0:0::70")), [], "lookups take the canonical text; the service canonicalises first");
  });
});

describe("label index of pods, per namespace", () => {
  const c = loaded();
  const rows: readonly [string, () => string[], string[]][] = [
    ["withValues app=client in prod", () => keys(c.podLabels("prod")?.withValues("app", ["client"]) ?? []), ["prod/client", "prod/pending"]],
    ["withValues app in (client, tool) in dev", () => keys(c.podLabels("dev")?.withValues("app", ["client", "tool"]) ?? []), ["dev/client", "dev/tool"]],
    ["withKey app in other", () => keys(c.podLabels("other")?.withKey("app") ?? []), ["other/x"]],
    ["a namespace without pods has no index", () => (c.podLabels("staging") === undefined ? [] : ["index"]), []],
  ];
  for (const [name, actual, want] of rows) {
    it(name, () => {
      assert.deepEqual(actual(), want);
    });
  }
  it("a relabelled pod moves in the index", () => {
    const m = loaded();
    m.transaction(() => m.put(pod("prod", "client", { app: "web" }, { podIP: "10.1.1.30" })));
    assert.deepEqual(keys(m.podLabels("prod")?.withValues("app", ["client"]) ?? []), ["prod/pending"]);
    assert.deepEqual(keys(m.podLabels("prod")?.withValues("app", ["web"]) ?? []), ["prod/client", "prod/web"]);
  });
});
