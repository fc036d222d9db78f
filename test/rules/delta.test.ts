/**
 * Rulesets as deltas, in the netfilter simulator: applying a version and then
 * the delta to the next leaves exactly the state that applying the next
 * version whole does (the same sets with the same members, the same chains
 * with the same rules, the same hooks), over random change sequences and
 * random dual-stack models; the server answers whole when it must; and a
 * delta whose apply fails is undone.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { allObjects } from "../../bench/generate.js";
import { applyDelta, applyRuleset } from "../../client/agent/apply.js";
import { type RulesetDelta, type SetSpec, isDelta } from "../../server/rules/index.js";
import { changeFrom, changeSet, makeSet } from "../../server/rules/members.js";
import { renderSet } from "../../server/rules/render.js";
import { KEPT_VERSIONS, PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { applyChange, base, change } from "./changes.js";
import { modelArb } from "./random-model.js";
import { Follower } from "./follower.js";
import { FakeRunner, nodeState } from "./simulator.js";
import { load, namespace, node, pod, policy } from "./support.js";

describe("a delta leaves exactly what the whole ruleset does (simulator)", () => {
  it("over random change sequences on the small profile", async () => {
    let deltas = 0;
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
        const service = await PodwallService.start({ cacheSize: 0 });
        await service.applyObjects(SYSTEM, allObjects(base), true);
        const rules = new RulesService(service);
        const followers = new Map<string, Follower>();
        for (const n of service.cluster.nodes.keys()) followers.set(n, await Follower.start(rules.rules(SYSTEM, n)));
        for (const c of changes) {
          await applyChange(service, c);
          steps++;
          for (const [n, f] of followers) {
            const r = rules.rules(SYSTEM, n);
            if (r.version === f.version) continue;
            if (await f.follow(r, rules.since(n, r, f.version))) deltas++;
            f.assertSame(`node ${n} after ${JSON.stringify(c)}`);
          }
        }
      }),
      { numRuns: 25, seed: 20261129 },
    );
    assert.ok(deltas > 100, `only ${deltas} deltas applied in ${steps} steps`);
  });

  it("from one random dual-stack model to another", async () => {
    let deltas = 0;
    await fc.assert(
      fc.asyncProperty(modelArb, modelArb, async (first, second) => {
        const service = await PodwallService.start({ cacheSize: 0 });
        await service.applyObjects(SYSTEM, first, true);
        const rules = new RulesService(service);
        const nodes = [...service.cluster.nodes.keys()];
        const followers = await Promise.all(nodes.map((n) => Follower.start(rules.rules(SYSTEM, n))));
        await service.applyObjects(SYSTEM, second, true);
        for (const [i, n] of nodes.entries()) {
          const r = rules.rules(SYSTEM, n);
          if (await followers[i]!.follow(r, rules.since(n, r, followers[i]!.version))) deltas++;
          followers[i]!.assertSame(`node ${n}`);
        }
      }),
      { numRuns: 150, seed: 1129 },
    );
    assert.ok(deltas > 100, `only ${deltas} deltas applied`);
  });
});

const TWO_PODS = [
  namespace("app"),
  node("node-1", "10.0.0.1"),
  pod("app/a", { node: "node-1", ips: ["10.1.1.1"], labels: { app: "a" } }),
  pod("app/b", { node: "node-1", ips: ["10.1.1.2"], labels: { app: "b" } }),
  policy("app/a-in", { podSelector: { matchLabels: { app: "a" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] }),
];

describe("deltas on the server", () => {
  it("holds only what changed: a member added to a shared set, no chain rewritten", async () => {
    const { service, rules } = await load(TWO_PODS);
    const before = rules.rules(SYSTEM, "node-1");
    await service.applyObjects(SYSTEM, [pod("app/b", { node: "node-1", ips: ["10.1.1.2"], labels: { app: "b", role: "client" } })]);
    const r = rules.rules(SYSTEM, "node-1");
    const d = rules.since("node-1", r, before.version);
    assert.ok(isDelta(d));
    assert.equal(d.base, before.version);
    assert.equal(d.version, r.version);
    assert.match(d.ipset, /^add PODWALL-PODS-\w+ 10\.1\.1\.2 -exist\n$/);
    assert.equal(d.iptables, "");
    assert.equal(d.ip6tables, "");
    assert.deepEqual(d.remove, { chains: [], sets: [] });
    assert.deepEqual(d.hooks, r.hooks);
  });

  it("names the chains and sets to remove", async () => {
    const ports = [80, 443, 8080, 8443, 9090].map((port) => ({ port }));
    const { service, rules } = await load([
      ...TWO_PODS,
      policy("app/b-in", { podSelector: { matchLabels: { app: "b" } }, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports }] }),
    ]);
    const before = rules.rules(SYSTEM, "node-1");
    await service.delete(SYSTEM, "NetworkPolicy", "app", "a-in");
    const r = rules.rules(SYSTEM, "node-1");
    const d = rules.since("node-1", r, before.version);
    assert.ok(isDelta(d));
    const declared = (text: string) => [...text.matchAll(/^:(\S+) /gm)].map((m) => m[1]!);
    assert.deepEqual(
      d.remove.chains,
      declared(before.iptables)
        .filter((c) => !declared(r.iptables).includes(c))
        .sort(),
    );
    assert.ok(
      d.remove.chains.some((c) => c.startsWith("PODWALL-PI-")) && d.remove.chains.some((c) => c.startsWith("PODWALL-IN-")),
      "the policy's chain and the pods' chain that jumped to it",
    );
    assert.deepEqual(
      d.remove.sets,
      [...before.ipset.matchAll(/^create (PODWALL-PODS-\w+) /gm)].map((m) => m[1]),
    );
    assert.ok(declared(d.iptables).length > 0);
    assert.ok(
      declared(d.iptables).every((c) => /^PODWALL-(FORWARD|FWD-\w)$/.test(c)),
      `only the top chain and a's shard are rewritten: ${declared(d.iptables).join(" ")}`,
    );
  });

  it("answers whole for a version it does not know, or no longer keeps", async () => {
    const { service, rules } = await load(TWO_PODS);
    const first = rules.rules(SYSTEM, "node-1");
    assert.equal(rules.since("node-1", first, "0123456789abcdef0123"), first);
    assert.equal(rules.since("node-1", first, undefined), first);
    const same = rules.since("node-1", first, first.version);
    assert.ok(isDelta(same), "from the current version: an empty delta");
    assert.deepEqual([same.ipset, same.iptables, same.ip6tables], ["", "", ""]);
    // Each new client is a new member of a's peer set: a new version.
    for (let i = 0; i < KEPT_VERSIONS; i++) {
      await service.applyObjects(SYSTEM, [pod(`app/c${i}`, { node: "node-1", ips: [`10.1.2.${i + 1}`], labels: { role: "client" } })]);
      const r = rules.rules(SYSTEM, "node-1");
      if (i < KEPT_VERSIONS - 2) assert.ok(isDelta(rules.since("node-1", r, first.version)), `version ${i + 1} back is kept`);
    }
    const r = rules.rules(SYSTEM, "node-1");
    assert.equal(rules.since("node-1", r, first.version), r, `only ${KEPT_VERSIONS} versions are kept`);
  });

  it("answers whole when the delta would be no smaller", async () => {
    const { service, rules } = await load([namespace("app"), node("node-1", "10.0.0.1"), pod("app/a", { node: "node-1", ips: ["10.1.1.1"], labels: { app: "a" } })]);
    const before = rules.rules(SYSTEM, "node-1");
    await service.applyObjects(SYSTEM, [
      policy("app/all", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }], egress: [{ to: [{ podSelector: {} }] }] }),
    ]);
    const r = rules.rules(SYSTEM, "node-1");
    assert.equal(rules.since("node-1", r, before.version), r);
  });

  it("keeps no versions of a deleted node, nor across a bulk write", async () => {
    const { service, rules } = await load([...TWO_PODS, node("node-2", "10.0.0.2"), pod("app/c", { node: "node-2", ips: ["10.1.2.1"], labels: { app: "a" } })]);
    const gone = rules.rules(SYSTEM, "node-2");
    await service.delete(SYSTEM, "Node", "", "node-2");
    await service.delete(SYSTEM, "Pod", "app", "c");
    await service.applyObjects(SYSTEM, [node("node-2", "10.0.0.2")]);
    const back = rules.rules(SYSTEM, "node-2");
    assert.notEqual(back.version, gone.version);
    assert.equal(rules.since("node-2", back, gone.version), back, "a node deleted and made again starts afresh");

    await service.applyObjects(SYSTEM, [namespace("bulk")]);
    const many = Array.from({ length: 2_100 }, (_, i) => pod(`bulk/p${i}`, { node: "node-2", ips: [`10.9.${i >> 8}.${i & 255}`] }));
    await service.applyObjects(SYSTEM, [...many, policy("bulk/deny", { podSelector: {} })]);
    const r = rules.rules(SYSTEM, "node-2");
    assert.notEqual(r.version, back.version);
    assert.equal(rules.since("node-2", r, back.version), r, "a bulk write makes every set and chain again: no delta");
  });
});

describe("a delta whose apply fails is undone (simulator)", () => {
  async function prepared(): Promise<{ run: FakeRunner; before: unknown; delta: RulesetDelta }> {
    const dual = [
      namespace("app"),
      node("node-1", "10.0.0.1", "fd00::1"),
      pod("app/a", { node: "node-1", ips: ["10.1.1.1", "fd10::1"], labels: { app: "a" } }),
      pod("app/b", { node: "node-1", ips: ["10.1.1.2", "fd10::2"], labels: { app: "b" } }),
      policy("app/a-in", { podSelector: { matchLabels: { app: "a" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] }),
    ];
    const { service, rules } = await load(dual);
    const first = rules.rules(SYSTEM, "node-1");
    const run = new FakeRunner();
    await applyRuleset(run, first);
    // b becomes a client (set members), and a policy for b appears (new chains and sets, both families).
    await service.applyObjects(SYSTEM, [
      pod("app/b", { node: "node-1", ips: ["10.1.1.2", "fd10::2"], labels: { app: "b", role: "client" } }),
      policy("app/b-in", { podSelector: { matchLabels: { app: "b" } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "a" } } }] }] }),
    ]);
    const d = rules.since("node-1", rules.rules(SYSTEM, "node-1"), first.version);
    assert.ok(isDelta(d));
    assert.ok(d.iptables !== "" && d.ip6tables !== "" && /^add /m.test(d.ipset) && /^create /m.test(d.ipset), "the delta changes sets, members and both families");
    return { run, before: nodeState(run.node), delta: d };
  }

  for (const failing of ["ipset restore", "iptables-restore", "ip6tables-restore"]) {
    it(`when ${failing} fails, the node holds what it held`, async () => {
      const { run, before, delta } = await prepared();
      run.failing = (cmd) => cmd.join(" ").startsWith(failing);
      let once = false;
      const inner = run.failing;
      // Only the delta's own command fails; the undo's commands run.
      run.failing = (cmd) => !once && inner(cmd) && (once = true);
      await assert.rejects(applyDelta(run, delta), /injected failure/);
      assert.deepEqual(nodeState(run.node), before);
    });
  }

  it("undoes an ipset restore that stopped half-way", async () => {
    const { run, before, delta } = await prepared();
    // The real restore stops at the first line that fails: here, the last one.
    const broken = { ...delta, ipset: `${delta.ipset}add PODWALL-NOSUCH 10.9.9.9 -exist\n` };
    await assert.rejects(applyDelta(run, broken), /PODWALL-NOSUCH/);
    assert.deepEqual(nodeState(run.node), before);
  });
});

describe("a set's content, kept by changes", () => {
  const spec: SetSpec = {
    name: "PODWALL-PODS-0123456789AB",
    family: "ipv4",
    type: "hash:ip",
    about: "pods of namespace x matching app=web",
    source: { kind: "pods", policyNamespace: "x", namespaces: { kind: "same" }, pods: { matchLabels: {}, matchExpressions: [] } as never },
  };
  const address = fc.tuple(fc.nat(3), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`);
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort().map((value) => ({ value, nomatch: false }));

  it("a set changed member by member has the digest, length and members of the same set made whole", () => {
    fc.assert(
      fc.property(fc.uniqueArray(address, { maxLength: 1200 }), fc.array(address, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), (start, adds, dels) => {
        const old = makeSet(spec, sorted(start));
        const removed = [...new Set(dels.filter(() => start.length > 0).map((i) => start[i % start.length]!))];
        const added = sorted(adds.filter((a) => !start.includes(a))).filter((e) => !removed.includes(e.value));
        const changed = changeSet(old, added, removed);
        const whole = makeSet(spec, sorted([...start.filter((v) => !removed.includes(v)), ...added.map((e) => e.value)]));
        assert.deepEqual(changed.entries, whole.entries);
        assert.equal(changed.digest, whole.digest);
        assert.equal(changed.textLength, whole.textLength);
        assert.equal(whole.textLength, renderSet(whole).length);
        assert.deepEqual(changeFrom(old, changed), { from: old.digest, added, removed });
      }),
      { numRuns: 200, seed: 29 },
    );
  });
});
