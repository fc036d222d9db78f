/**
 * The incremental path with the policy tiers: on the small profile with
 * cluster-scoped policies, random sequences of changes (policies of every
 * kind added, changed and deleted; namespaces, pods and nodes relabelled,
 * readdressed, moved, deleted) must leave byte-identical rulesets and
 * identical decisions to a rebuild from scratch after each change, and a node
 * that follows by deltas must hold what one applying every version whole does.
 * Also each kind of change, one at a time, against the nodes it must reach.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { applyTierChange, tierChange, tieredBase } from "./changes.js";
import { plain } from "./differential-support.js";
import { Follower } from "./follower.js";
import { namespace, node, pod } from "./support.js";

async function rebuilt(s: PodwallService): Promise<{ service: PodwallService; rules: RulesService }> {
  const fresh = await PodwallService.start({ cacheSize: 0 });
  await fresh.applyObjects(SYSTEM, (JSON.parse(s.model(SYSTEM, "json").text) as { items: unknown[] }).items, true);
  return { service: fresh, rules: new RulesService(fresh) };
}

describe("incremental rulesets with policy tiers equal a rebuild from scratch", () => {
  it("over random sequences of changes on the small profile with cluster-scoped policies", async () => {
    let compared = 0;
    let deltas = 0;
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(tierChange, { minLength: 1, maxLength: 8 }), async (changes) => {
        const service = await PodwallService.start({ cacheSize: 0 });
        await service.applyObjects(SYSTEM, tieredBase, true);
        const rules = new RulesService(service);
        const followers = new Map<string, Follower>();
        for (const n of service.cluster.nodes.keys()) followers.set(n, await Follower.start(rules.rules(SYSTEM, n)));
        for (const c of changes) {
          await applyTierChange(service, c);
          steps++;
          const fresh = await rebuilt(service);
          for (const n of service.cluster.nodes.keys()) {
            const r = rules.rules(SYSTEM, n);
            assert.deepEqual(plain(r), plain(fresh.rules.rules(SYSTEM, n)), `node ${n} after ${JSON.stringify(c)}`);
            compared++;
            const f = followers.get(n)!;
            if (r.version === f.version) continue;
            if (await f.follow(r, rules.since(n, r, f.version))) deltas++;
            f.assertSame(`node ${n} by deltas after ${JSON.stringify(c)}`);
          }
          const pods = [...service.cluster.pods.keys()];
          for (let i = 0; i < 20; i++) {
            const q = { src: pods[(i * 37 + steps) % pods.length]!, dst: pods[(i * 101 + 7) % pods.length]!, port: [8080, 8000, 9090, 53][i % 4]!, explain: true };
            assert.deepEqual({ ...service.check(SYSTEM, q), generation: 0, decisionId: "" }, { ...fresh.service.check(SYSTEM, q), generation: 0, decisionId: "" });
          }
        }
      }),
      { numRuns: 15, seed: 20261130 },
    );
    assert.ok(compared > 100, `only ${compared} rulesets compared`);
    assert.ok(deltas > 50, `only ${deltas} deltas applied in ${steps} steps`);
  });
});

describe("which nodes a change of the tiers reaches", () => {
  const guard = (subject: Record<string, unknown>, egress: unknown[]) => ({
    apiVersion: "policy.networking.k8s.io/v1alpha2",
    kind: "ClusterNetworkPolicy",
    metadata: { name: "guard" },
    spec: { tier: "Admin", priority: 1, subject, egress },
  });
  const objects = [
    namespace("a", { team: "x" }),
    namespace("b", { team: "y" }),
    node("node-1", "10.0.0.1"),
    node("node-2", "10.0.0.2"),
    node("node-3", "10.0.0.3"),
    pod("a/p", { node: "node-1", ips: ["10.1.1.1"] }),
    pod("b/q", { node: "node-2", ips: ["10.1.2.1"] }),
    guard({ namespaces: { matchLabels: { team: "x" } } }, [{ action: "Deny", to: [{ nodes: { matchLabels: { zone: "z" } } }] }]),
  ];

  /** Each node's version before and after `write`, and which changed; the incremental rulesets equal a rebuild. */
  async function changedBy(write: (s: PodwallService) => Promise<unknown>): Promise<string[]> {
    const service = await PodwallService.start({ cacheSize: 0 });
    await service.applyObjects(SYSTEM, objects, true);
    const rules = new RulesService(service);
    const names = [...service.cluster.nodes.keys()].sort();
    const before = new Map(names.map((n) => [n, rules.rules(SYSTEM, n).version]));
    await write(service);
    const fresh = await rebuilt(service);
    const out: string[] = [];
    for (const n of names) {
      const r = rules.rules(SYSTEM, n);
      assert.deepEqual(plain(r), plain(fresh.rules.rules(SYSTEM, n)), n);
      if (r.version !== before.get(n)) out.push(n);
    }
    return out;
  }

  const cases: { what: string; write: (s: PodwallService) => Promise<unknown>; nodes: string[] }[] = [
    {
      what: "a policy's subject moves from one namespace to the other: the nodes of the pods it selected and selects",
      write: (s) => s.applyObjects(SYSTEM, [guard({ namespaces: { matchLabels: { team: "y" } } }, [{ action: "Deny", to: [{ nodes: { matchLabels: { zone: "z" } } }] }])]),
      nodes: ["node-1", "node-2"],
    },
    { what: "a policy is deleted", write: (s) => s.delete(SYSTEM, "ClusterNetworkPolicy", "", "guard"), nodes: ["node-1"] },
    {
      what: "a namespace is relabelled into the subject",
      write: (s) => s.applyObjects(SYSTEM, [namespace("b", { team: "x" })]),
      nodes: ["node-2"],
    },
    {
      what: "a node is labelled into a nodes peer: the set's members change on the nodes that hold it",
      write: (s) => s.applyObjects(SYSTEM, [{ ...node("node-3", "10.0.0.3"), metadata: { name: "node-3", labels: { zone: "z" } } }]),
      nodes: ["node-1"],
    },
    {
      what: "a node of the peer is readdressed: its members change, and the node's own rules",
      write: async (s) => {
        await s.applyObjects(SYSTEM, [{ ...node("node-3", "10.0.0.3"), metadata: { name: "node-3", labels: { zone: "z" } } }]);
        await s.applyObjects(SYSTEM, [{ ...node("node-3", "10.0.0.33"), metadata: { name: "node-3", labels: { zone: "z" } } }]);
      },
      nodes: ["node-1", "node-3"],
    },
    {
      what: "in one write, a namespace leaves the subject and the subject moves: the namespace's old labels meet the old policy",
      write: (s) =>
        s.applyObjects(SYSTEM, [
          namespace("a", { team: "z" }),
          guard({ namespaces: { matchLabels: { team: "y" } } }, [{ action: "Deny", to: [{ nodes: { matchLabels: { zone: "z" } } }] }]),
        ]),
      nodes: ["node-1", "node-2"],
    },
    {
      what: "a node outside every peer is relabelled",
      write: (s) => s.applyObjects(SYSTEM, [{ ...node("node-2", "10.0.0.2"), metadata: { name: "node-2", labels: { zone: "w" } } }]),
      nodes: [],
    },
  ];

  for (const c of cases) {
    it(c.what, async () => {
      assert.deepEqual(await changedBy(c.write), c.nodes);
    });
  }
});
