/**
 * What Check keeps between decisions (each pod's policies in name order, and
 * their port entries in one flat array) follows every write: a policy added,
 * updated or deleted, a pod relabelled or given other ports. At each step the
 * answer without explain agrees with the explained one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Decision, PodwallService, SYSTEM } from "../../server/service/index.js";

type Obj = Record<string, unknown>;

const NS: Obj = { apiVersion: "v1", kind: "Namespace", metadata: { name: "a", labels: { team: "x" } } };

const pod = (name: string, labels: Record<string, string>, ip: string, http = 8080): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "a", labels },
  spec: { nodeName: "node-1", containers: [{ name: "main", ports: [{ name: "http", containerPort: http, protocol: "TCP" }] }] },
  status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
});

const np = (name: string, spec: Obj): Obj => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: "a" }, spec });

const fromApp = (name: string, from: string, port: number | string): Obj =>
  np(name, { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: from } } }], ports: [{ port }] }] });

/** The decision without explain, checked against the explained one. */
function check(s: PodwallService, port: number, dst = "a/web"): Decision {
  const q = { src: "a/client", dst, port };
  const quick = s.check(SYSTEM, q);
  const full = s.check(SYSTEM, { ...q, explain: true });
  for (const d of ["egress", "ingress"] as const) {
    const { verdicts: _, ...rest } = full[d];
    assert.deepEqual(quick[d], rest, d);
  }
  assert.equal(quick.allowed, full.allowed);
  return quick;
}

describe("Check follows writes", () => {
  it("policies added, updated and deleted; pods relabelled and given other ports", async () => {
    const s = await PodwallService.start({ cacheSize: 0 });
    await s.applyObjects(SYSTEM, [NS, pod("web", { app: "web" }, "10.1.1.10"), pod("client", { app: "client" }, "10.1.1.11")]);
    assert.equal(check(s, 8080).ingress.reason, "not-isolated");

    await s.applyObjects(SYSTEM, [fromApp("p1", "other", 8080)]);
    let d = check(s, 8080);
    assert.equal(d.allowed, false);
    assert.deepEqual(d.ingress.policies, ["a/p1"]);

    // A policy that sorts first, and allows.
    await s.applyObjects(SYSTEM, [fromApp("p0", "client", 8080)]);
    d = check(s, 8080);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.ingress.policies, ["a/p0", "a/p1"]);

    // Updated to another port: a new object under the same name.
    await s.applyObjects(SYSTEM, [fromApp("p0", "client", 9090)]);
    assert.equal(check(s, 8080).allowed, false);
    assert.equal(check(s, 9090).allowed, true);

    // The pod relabelled out of every policy, and back.
    await s.applyObjects(SYSTEM, [pod("web", { app: "web2" }, "10.1.1.10")]);
    d = check(s, 8080);
    assert.equal(d.ingress.reason, "not-isolated");
    assert.deepEqual(d.ingress.policies, []);
    await s.applyObjects(SYSTEM, [pod("web", { app: "web" }, "10.1.1.10")]);
    assert.deepEqual(check(s, 8080).ingress.policies, ["a/p0", "a/p1"]);

    await s.delete(SYSTEM, "NetworkPolicy", "a", "p0");
    d = check(s, 9090);
    assert.equal(d.allowed, false);
    assert.deepEqual(d.ingress.policies, ["a/p1"]);

    // A named port follows the destination's container ports.
    await s.applyObjects(SYSTEM, [fromApp("p2", "client", "http")]);
    assert.equal(check(s, 8080).allowed, true);
    await s.applyObjects(SYSTEM, [pod("web", { app: "web" }, "10.1.1.10", 9090)]);
    assert.equal(check(s, 8080).allowed, false);
    assert.equal(check(s, 9090).allowed, true);
    assert.deepEqual(check(s, 9090).ingress.policies, ["a/p1", "a/p2"]);

    // Egress of the client: isolated, then allowed to web on its named port only.
    await s.applyObjects(SYSTEM, [
      np("out", {
        podSelector: { matchLabels: { app: "client" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }] }],
      }),
    ]);
    d = check(s, 9090);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.egress.policies, ["a/out"]);
    assert.equal(check(s, 8080).egress.allowed, false);
    await s.close();
  });

  it("pods with the same policies share what is kept, and part when one changes", async () => {
    const s = await PodwallService.start({ cacheSize: 0 });
    await s.applyObjects(SYSTEM, [
      NS,
      pod("web", { app: "web" }, "10.1.1.10"),
      pod("web-2", { app: "web" }, "10.1.1.12", 9090),
      pod("client", { app: "client" }, "10.1.1.11"),
      fromApp("p1", "client", "http"),
    ]);
    assert.equal(check(s, 8080).allowed, true);
    assert.equal(check(s, 8080, "a/web-2").allowed, false);
    assert.equal(check(s, 9090, "a/web-2").allowed, true);

    // One of them leaves the policy, then a second policy selects the other.
    await s.applyObjects(SYSTEM, [pod("web-2", { app: "other" }, "10.1.1.12", 9090)]);
    assert.equal(check(s, 8080, "a/web-2").ingress.reason, "not-isolated");
    assert.deepEqual(check(s, 8080).ingress.policies, ["a/p1"]);
    await s.applyObjects(SYSTEM, [np("p2", { podSelector: { matchLabels: { app: "other" } }, ingress: [] })]);
    assert.deepEqual(check(s, 8080, "a/web-2").ingress.policies, ["a/p2"]);
    assert.equal(check(s, 8080, "a/web-2").allowed, false);
    assert.deepEqual(check(s, 8080).ingress.policies, ["a/p1"]);
    assert.equal(check(s, 8080).allowed, true);

    // Back together: the same policies again, and both follow an update of p1.
    await s.applyObjects(SYSTEM, [pod("web-2", { app: "web" }, "10.1.1.12", 9090)]);
    await s.applyObjects(SYSTEM, [fromApp("p1", "client", 9090)]);
    assert.equal(check(s, 8080).allowed, false);
    assert.equal(check(s, 9090).allowed, true);
    assert.equal(check(s, 9090, "a/web-2").allowed, true);
    assert.deepEqual(check(s, 9090, "a/web-2").ingress.policies, ["a/p1"]);
    await s.close();
  });
});
