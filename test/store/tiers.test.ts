/**
 * Tier policies through the service on every store: written with the other
 * kinds and deleted by kind and name (cluster-scoped: namespace ""); after a
 * restart a durable store (LMDB, etcd) gives back the same tier policies, the
 * same generation and the same decisions, and the memory store keeps nothing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SYSTEM } from "../../server/service/context.js";
import { PodwallService } from "../../server/service/index.js";
import { EtcdStore, LmdbStore, MemoryStore, type Store } from "../../server/store/index.js";
import { type EtcdProcess, startEtcd } from "../helpers/etcd.js";
import { tierPolicy } from "./tier-objects.js";

interface Subject {
  readonly name: string;
  readonly durable: boolean;
  /** A store on `place`, the same place again after a restart. */
  make(place: string): Promise<Store>;
}

const tmp = mkdtempSync(join(tmpdir(), "podwall-tiers-"));
let etcd: EtcdProcess | undefined;

const SUBJECTS: Subject[] = [
  { name: "memory", durable: false, make: async () => new MemoryStore() },
  { name: "lmdb", durable: true, make: async (place) => LmdbStore.open(join(tmp, place)) },
  {
    name: "etcd",
    durable: true,
    make: async (place) => {
      etcd ??= await startEtcd();
      return new EtcdStore({ endpoints: [etcd.url], prefix: `/tiers/${place}/` });
    },
  },
];

const CLUSTER = [
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}",
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}",
  "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.1}]}",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {nodeName: node-1}\nstatus: {phase: Running, podIP: 10.1.1.1}",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: z}\nspec: {nodeName: node-1}\nstatus: {phase: Running, podIP: 10.1.2.1}",
].join("\n---\n");

/** The pairs asked, both ways: z/b to x/a is what the policies decide. */
const PAIRS = [
  ["z/b", "x/a"],
  ["x/a", "z/b"],
  ["x/a", "x/a"],
] as const;

/** What the service holds of the tiers, and decides from it. */
function state(s: PodwallService) {
  return {
    generation: s.generation,
    tiers: [...s.cluster.tierPolicies.values()].map((p) => p.manifest).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    allowed: PAIRS.map(([src, dst]) => s.check(SYSTEM, { src, dst, protocol: "TCP", port: 80 }).allowed),
  };
}

for (const subject of SUBJECTS) {
  describe(`tier policies on the ${subject.name} store`, { timeout: 120_000 }, () => {
    const open: PodwallService[] = [];
    const start = async (place: string) => {
      const s = await PodwallService.start({ store: await subject.make(place), cacheSize: 0 });
      open.push(s);
      return s;
    };
    after(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it(subject.durable ? "are written, deleted by kind and name, and the same after a restart" : "are written and deleted by kind and name, and gone after a restart", async () => {
      const first = await start("restart");
      await first.apply(SYSTEM, CLUSTER);
      const allowB = tierPolicy("AdminNetworkPolicy", "allow-b", { subject: "x", from: "z", action: "Accept", priority: 20 });
      const denyB = tierPolicy("ClusterNetworkPolicy", "deny-b", { subject: "x", from: "z", priority: 30 });
      const baseline = tierPolicy("BaselineAdminNetworkPolicy", "default", { from: "x" });
      await first.applyObjects(SYSTEM, [allowB, denyB, baseline]);
      assert.deepEqual(state(first).allowed, [true, false, true], "the AdminNetworkPolicy (20) before the ClusterNetworkPolicy (30); the baseline denies from x");

      const { generation } = await first.delete(SYSTEM, "AdminNetworkPolicy", "", "allow-b");
      assert.equal(first.generation, generation);
      assert.equal(first.cluster.get("AdminNetworkPolicy", "", "allow-b"), undefined);
      await assert.rejects(first.delete(SYSTEM, "AdminNetworkPolicy", "", "allow-b"), {
        code: "not-found",
        message: 'adminnetworkpolicies.policy.networking.k8s.io "allow-b" not found',
      });
      const before = state(first);
      assert.deepEqual(before.tiers, [baseline, denyB]);
      assert.deepEqual(before.allowed, [false, false, true], "the ClusterNetworkPolicy denies now");
      await first.close();

      const again = await start("restart");
      if (!subject.durable) {
        assert.equal(again.generation, 0);
        assert.equal(again.cluster.tierPolicies.size, 0, "a new, empty model");
        assert.throws(() => again.check(SYSTEM, { src: "z/b", dst: "x/a", protocol: "TCP", port: 80 }), { code: "not-found" });
        return;
      }
      assert.deepEqual(state(again), before);
    });
  });
}

after(async () => {
  await etcd?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});
