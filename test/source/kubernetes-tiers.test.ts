/**
 * `serve --kubernetes` and the network-policy-api's kinds, against the
 * Kubernetes API server double through the real client library: tier
 * policies listed and watched (added, changed, deleted) decide Check; a
 * cluster without their CRDs (404) or whose RBAC role lacks them (403) is
 * followed without them, said once, and they are picked up once served; a
 * CRD removed takes its objects out of the model; an invalid tier object is
 * left out as an invalid NetworkPolicy is.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { decodeObject } from "../../server/manifests/decode.js";
import { type Running, serve } from "../../server/main.js";
import { PATIENCE, served } from "../helpers/follow.js";
import { CUSTOM_KINDS, type CustomKind, KINDS, type KubeApiServer, type KubeApiServerOptions, type Manifest, startKubeApiServer } from "../helpers/kube-apiserver.js";
import { http } from "../helpers/server.js";
import { eventually } from "../rules/support.js";

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly kind?: string;
  readonly object?: string;
  readonly problem?: string;
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;

type Following = Running & { readonly url: string; readonly logs: LogLine[] };

/** `serve --kubernetes` on the double, with its log kept; ready when `ready` settles. */
async function follow(double: KubeApiServer): Promise<Following> {
  const logs: LogLine[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const running = await serve({ listen: "127.0.0.1:0", grpcListen: "127.0.0.1:0", store: { kind: "kubernetes", kubeconfig: double.kubeconfig() }, logger });
  return { ...running, url: `http://127.0.0.1:${running.restPort}`, logs };
}

/** A double holding the cluster (and `objects`), and a ready server that follows it. */
async function cluster(options: KubeApiServerOptions, objects: readonly Manifest[] = []): Promise<{ double: KubeApiServer; server: Following }> {
  const double = await startKubeApiServer(options);
  for (const o of [...BUILT_IN, ...objects]) double.create(o);
  const server = await follow(double);
  await server.ready;
  return { double, server };
}

const ns = (name: string, team: string): Manifest => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team } } });
const node = (name: string, ip: string): Manifest => ({ apiVersion: "v1", kind: "Node", metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } });
const pod = (namespace: string, name: string, ip: string, nodeName: string): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels: { app: name } },
  spec: { nodeName, containers: [{ name: "main", image: "registry.example/app:1", ports: [{ name: "http", containerPort: 80 }] }] },
  status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
});

/** Namespaces x (team a) and y (team b), pods x/a and y/b on two nodes. */
const BUILT_IN: readonly Manifest[] = [
  ns("x", "a"),
  ns("y", "b"),
  node("node-1", "10.0.0.1"),
  node("node-2", "10.0.0.2"),
  pod("x", "a", "10.1.1.1", "node-1"),
  pod("y", "b", "10.1.2.1", "node-2"),
];

/** Ingress to the pods of namespace x from team b, with this action, at this priority. */
function fromTeamB(kind: "ClusterNetworkPolicy" | "AdminNetworkPolicy", name: string, action: string, priority: number): Manifest {
  const v1alpha2 = kind === "ClusterNetworkPolicy";
  return {
    apiVersion: `policy.networking.k8s.io/${v1alpha2 ? "v1alpha2" : "v1alpha1"}`,
    kind,
    metadata: { name },
    spec: {
      ...(v1alpha2 ? { tier: "Admin" } : {}),
      priority,
      subject: { namespaces: { matchLabels: { "kubernetes.io/metadata.name": "x" } } },
      ingress: [{ name: "team-b", action, from: [{ namespaces: { matchLabels: { team: "b" } } }] }],
    },
  };
}

/** The baseline: ingress to every pod denied from every namespace. */
function baseline(name = "default"): Manifest {
  return {
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "BaselineAdminNetworkPolicy",
    metadata: { name },
    spec: { subject: { namespaces: {} }, ingress: [{ action: "Deny", from: [{ namespaces: {} }] }] },
  };
}

/** The model of the objects the double holds, each as the server decodes it; those it cannot read are left out. */
function expected(double: KubeApiServer): string[] {
  const out: string[] = [];
  for (const kind of KINDS) {
    for (const o of double.objects(kind)) {
      const d = decodeObject(o, { cidr: "legacy" });
      if (d.kind === "object") out.push(JSON.stringify(d.object.manifest));
    }
  }
  return out.sort();
}

/** Waits until the server's model (GET /v1/model, tier policies included) is the double's objects that the server can read. */
async function converged(s: Following, double: KubeApiServer, what: string): Promise<void> {
  let last: string[] | undefined;
  try {
    await eventually(
      async () => {
        last = (await served(s.url)).items;
        return JSON.stringify(last) === JSON.stringify(expected(double)) ? true : undefined;
      },
      PATIENCE,
      what,
    );
  } catch (e) {
    assert.deepEqual(last, expected(double), `${what}: the model is not the cluster's`);
    throw e;
  }
}

/** Whether y/b may reach x/a on TCP 80, as Check answers. */
async function bToA(s: Following): Promise<boolean> {
  const r = await http(s, "GET", "/v1/check?src=y/b&dst=x/a&port=80");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.allowed as boolean;
}

const said = (s: Following, level: number, msg: RegExp, kind?: string) => s.logs.filter((l) => l.level === level && msg.test(l.msg) && (kind === undefined || l.kind === kind));
const NOT_SERVED = /^the kind is not served by the API server/;
const SERVED_NOW = /^the kind is served now/;
const FORBIDDEN = /^the kind may not be listed \(forbidden/;

/** Lists of the kind the double answered with this status. */
const lists = (double: KubeApiServer, kind: CustomKind, status: number) => double.requests.filter((r) => r.kind === kind && r.verb === "list" && r.status === status).length;

describe("serve --kubernetes with the network-policy-api's CRDs installed", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following;
  before(async () => {
    ({ double, server } = await cluster({}, [baseline()]));
  });
  after(async () => {
    await server?.close();
    await double?.close();
  });

  it("decides with the tier policies it listed, and follows each kind's creates, updates and deletes", async () => {
    await converged(server, double, "the first lists");
    assert.deepEqual([...server.service.cluster.tierPolicies.keys()], ["BaselineAdminNetworkPolicy/default"]);
    assert.equal(await bToA(server), false, "the baseline denies ingress from every namespace");
    assert.equal((await http(server, "GET", "/v1/check?src=x/a&dst=x/a&port=80")).body.allowed, true, "a pod reaching itself");

    double.create(fromTeamB("AdminNetworkPolicy", "allow-b", "Allow", 10));
    await converged(server, double, "an AdminNetworkPolicy created");
    assert.equal(await bToA(server), true, "the Admin tier allows before the baseline denies");

    double.create(fromTeamB("ClusterNetworkPolicy", "deny-b", "Deny", 1));
    await converged(server, double, "a ClusterNetworkPolicy created");
    assert.equal(await bToA(server), false, "priority 1 comes before priority 10");

    double.update(fromTeamB("ClusterNetworkPolicy", "deny-b", "Deny", 20));
    await converged(server, double, "the ClusterNetworkPolicy's priority changed");
    assert.equal(await bToA(server), true, "priority 10 comes before priority 20 now");

    double.update({ ...baseline(), spec: { subject: { namespaces: {} }, ingress: [{ action: "Allow", from: [{ namespaces: {} }] }] } });
    double.delete("AdminNetworkPolicy", undefined, "allow-b");
    await converged(server, double, "the baseline changed and the AdminNetworkPolicy deleted");
    assert.equal(await bToA(server), false, "the ClusterNetworkPolicy denies");

    double.delete("ClusterNetworkPolicy", undefined, "deny-b");
    double.delete("BaselineAdminNetworkPolicy", undefined, "default");
    await converged(server, double, "every tier policy deleted");
    assert.equal(server.service.cluster.tierPolicies.size, 0);
    assert.equal(await bToA(server), true, "no policy: allowed");
    const metrics = (await http(server, "GET", "/metrics")).body as string;
    for (const kind of CUSTOM_KINDS) assert.match(metrics, new RegExp(`^podwall_kubernetes_synced\\{kind="${kind}"\\} 1$`, "m"));
    assert.match(metrics, /^podwall_kubernetes_events_total\{kind="ClusterNetworkPolicy",type="MODIFIED"\} 1$/m);
    assert.deepEqual(said(server, INFO, NOT_SERVED), []);
  });

  it("leaves an invalid tier object out of the model, says so and counts it, as it does an invalid NetworkPolicy", async () => {
    const unreadable = async () => Number(/^podwall_store_unreadable_objects_total (\d+)$/m.exec((await http(server, "GET", "/metrics")).body as string)?.[1]);
    const before = await unreadable();
    const policy = (port: number): Manifest => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "np", namespace: "x" },
      spec: { podSelector: {}, ingress: [{ ports: [{ port }] }] },
    });
    // The API server holds what an older CRD or API let in: Podwall reads it as today's server would.
    double.create(baseline("other"));
    double.create(fromTeamB("ClusterNetworkPolicy", "too-late", "Deny", 1001));
    double.create(policy(0));
    double.create(fromTeamB("AdminNetworkPolicy", "valid", "Deny", 3));
    await converged(server, double, "the valid object in, the invalid ones left out");
    const c = server.service.cluster;
    assert.ok(c.get("AdminNetworkPolicy", "", "valid"));
    assert.deepEqual(
      [c.get("BaselineAdminNetworkPolicy", "", "other"), c.get("ClusterNetworkPolicy", "", "too-late"), c.get("NetworkPolicy", "x", "np")],
      [undefined, undefined, undefined],
    );
    await eventually(async () => ((await unreadable()) === before + 3 ? true : undefined), PATIENCE, "three unreadable objects counted");
    const errors = said(server, ERROR, /^an object of the store cannot be read; it is left out of the model$/);
    assert.deepEqual(
      errors.map((l) => l.object),
      ['BaselineAdminNetworkPolicy.policy.networking.k8s.io "other"', 'ClusterNetworkPolicy.policy.networking.k8s.io "too-late"', 'NetworkPolicy.networking.k8s.io "np"'],
    );
    assert.deepEqual(
      errors.map((l) => l.problem),
      errors.map((l) => `${l.object} is invalid`),
    );
    // Invalid for the reasons meant: the CEL rule on BaselineAdminNetworkPolicy's name, the bound of ClusterNetworkPolicy's priority.
    const why = (kind: CustomKind, name: string) => {
      const d = decodeObject(double.objects(kind).find((o) => o.metadata.name === name)!, { cidr: "legacy" });
      return d.kind === "invalid" ? d.errors.map((e) => `${e.field}: ${e.detail}`) : [];
    };
    assert.deepEqual(why("BaselineAdminNetworkPolicy", "other"), ['<nil>: Only one baseline admin network policy with metadata.name="default" can be created in the cluster']);
    assert.deepEqual(why("ClusterNetworkPolicy", "too-late"), ["spec.priority: spec.priority in body should be less than or equal to 1000"]);

    // A valid object made invalid: the model keeps what it last read of it, whatever its kind.
    double.create(fromTeamB("ClusterNetworkPolicy", "later", "Deny", 5));
    double.update(policy(80));
    await converged(server, double, "two valid objects");
    const held = () => [c.get("ClusterNetworkPolicy", "", "later")?.manifest, c.get("NetworkPolicy", "x", "np")?.manifest];
    const valid = held();
    double.update(fromTeamB("ClusterNetworkPolicy", "later", "Drop", 5));
    double.update(policy(70_000));
    await eventually(async () => ((await unreadable()) === before + 5 ? true : undefined), PATIENCE, "both updates counted unreadable");
    assert.deepEqual(held(), valid);
    assert.equal(await bToA(server), false, "the AdminNetworkPolicy denies");
  });
});

describe("serve --kubernetes without the network-policy-api's CRDs", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following;
  before(async () => {
    ({ double, server } = await cluster({ crds: [] }, [
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "from-b", namespace: "x" },
        spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }] }] },
      },
    ]));
  });
  after(async () => {
    await server?.close();
    await double?.close();
  });

  it("is ready without them, follows the built-in kinds, and says once per kind that it is not served", async () => {
    const ready = await http(server, "GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.match(ready.body.status, /^ready, read-only: the model follows the Kubernetes cluster at http:\/\/127\.0\.0\.1:\d+: change the cluster, not Podwall$/);
    await converged(server, double, "the built-in kinds");
    assert.equal(await bToA(server), true);
    double.create(pod("y", "c", "10.1.2.2", "node-2"));
    await converged(server, double, "a pod created");
    assert.equal((await http(server, "GET", "/v1/check?src=y/c&dst=x/a&port=80")).body.allowed, true);
    // Looked for again, and not said again.
    for (const kind of CUSTOM_KINDS) await eventually(() => (lists(double, kind, 404) >= 3 ? true : undefined), PATIENCE, `${kind} looked for three times`);
    for (const kind of CUSTOM_KINDS) assert.equal(said(server, INFO, NOT_SERVED, kind).length, 1, kind);
    assert.deepEqual(
      server.logs.filter((l) => l.level >= WARN && l.kind !== undefined),
      [],
      "an absent CRD is no failure",
    );
    const metrics = (await http(server, "GET", "/metrics")).body as string;
    assert.match(metrics, /^podwall_kubernetes_synced\{kind="ClusterNetworkPolicy"\} 0$/m);
    assert.match(metrics, /^podwall_kubernetes_synced\{kind="Pod"\} 1$/m);
  });

  it("picks up a CRD installed later, and drops a kind's objects when its CRD is removed", async () => {
    double.installCrd("ClusterNetworkPolicy");
    double.create(fromTeamB("ClusterNetworkPolicy", "deny-b", "Deny", 1));
    await converged(server, double, "the ClusterNetworkPolicy of a CRD installed later");
    assert.equal(await bToA(server), false);
    assert.equal(said(server, INFO, SERVED_NOW, "ClusterNetworkPolicy").length, 1);

    double.removeCrd("ClusterNetworkPolicy");
    await converged(server, double, "the CRD removed with its objects");
    assert.equal(await bToA(server), true);
    await eventually(() => (said(server, INFO, NOT_SERVED, "ClusterNetworkPolicy").length === 2 ? true : undefined), PATIENCE, "the kind said not served again");

    double.installCrd("ClusterNetworkPolicy");
    double.create(fromTeamB("ClusterNetworkPolicy", "again", "Deny", 2));
    await converged(server, double, "the CRD installed again");
    assert.deepEqual([...server.service.cluster.tierPolicies.keys()], ["ClusterNetworkPolicy/again"]);
    assert.equal(await bToA(server), false);
  });

  it("drops what it held of a kind whose CRD was removed while it could not watch it", async () => {
    // The account loses the kind (403: what it holds is kept), the CRD goes meanwhile, unseen; once readable, the kind is not served (404).
    double.forbid("ClusterNetworkPolicy");
    double.closeWatches("reset");
    await eventually(() => (said(server, WARN, FORBIDDEN, "ClusterNetworkPolicy").length === 1 ? true : undefined), PATIENCE, "the kind said forbidden");
    assert.deepEqual([...server.service.cluster.tierPolicies.keys()], ["ClusterNetworkPolicy/again"], "a kind it may not read is kept as it was");
    assert.match((await http(server, "GET", "/readyz")).body.status, /; not followed, the account may not list them \(retrying\): ClusterNetworkPolicy$/);
    double.removeCrd("ClusterNetworkPolicy");
    double.forbid("ClusterNetworkPolicy", false);
    await converged(server, double, "the removed CRD's objects dropped");
    assert.equal(server.service.cluster.tierPolicies.size, 0);
    assert.equal(await bToA(server), true);
    assert.equal((await http(server, "GET", "/readyz")).status, 200);
  });
});

describe("serve --kubernetes with a tier kind its RBAC role lacks", { timeout: 600_000 }, () => {
  let double: KubeApiServer;
  let server: Following | undefined;
  after(async () => {
    await server?.close();
    await double?.close();
  });

  it("is ready without it, warns once, says why in /readyz, and follows it once allowed", async () => {
    double = await startKubeApiServer();
    for (const o of BUILT_IN) double.create(o);
    double.create(fromTeamB("AdminNetworkPolicy", "deny-b", "Deny", 1));
    double.forbid("AdminNetworkPolicy");
    server = await follow(double);
    await server.ready;
    const ready = await http(server, "GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.match(ready.body.status, /; not followed, the account may not list them \(retrying\): AdminNetworkPolicy$/);
    assert.equal(await bToA(server), true, "the forbidden kind's policy is not known");
    await eventually(() => (lists(double, "AdminNetworkPolicy", 403) >= 3 ? true : undefined), PATIENCE, "the kind looked for three times");
    assert.equal(said(server, WARN, FORBIDDEN, "AdminNetworkPolicy").length, 1);
    assert.deepEqual(said(server, WARN, /^list\/watch failing/), [], "said as forbidden, not as a failing list");

    double.forbid("AdminNetworkPolicy", false);
    await converged(server, double, "the kind allowed");
    assert.equal(await bToA(server), false);
    assert.equal((await http(server, "GET", "/readyz")).body.status.includes("not followed"), false);
  });
});
