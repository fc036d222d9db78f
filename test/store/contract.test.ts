/**
 * The store contract, one table run against every store: the memory store,
 * LMDB in a temp directory, and a real etcd. Commits are atomic and delivered
 * once each, in order, to the view that follows; the generation grows with
 * every commit; a commit validated against an old generation is refused and
 * changes nothing; and a durable store gives back after a restart exactly
 * what it committed, cluster-scoped tier policies included.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Manifest } from "../../server/model/types.js";
import { type Change, type Commit, EtcdStore, LmdbStore, MemoryStore, type ObjectRef, type Store, StoreConflict } from "../../server/store/index.js";
import { type EtcdProcess, startEtcd } from "../helpers/etcd.js";
import { eventually } from "../rules/support.js";
import { deleteTier, putTier, tierPolicy } from "./tier-objects.js";

interface Subject {
  readonly name: string;
  /** Whether a new instance on the same place sees what an earlier one committed. */
  readonly durable: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A store on a place of its own (`place`), or again on the same place. */
  make(place: string): Store;
}

const tmp = mkdtempSync(join(tmpdir(), "podwall-contract-"));
let etcd: EtcdProcess | undefined;

const SUBJECTS: Subject[] = [
  { name: "memory", durable: false, setUp: async () => {}, tearDown: async () => {}, make: () => new MemoryStore() },
  { name: "lmdb", durable: true, setUp: async () => {}, tearDown: async () => {}, make: (place) => LmdbStore.open(join(tmp, place)) },
  {
    name: "etcd",
    durable: true,
    setUp: async () => {
      etcd = await startEtcd();
    },
    tearDown: async () => {
      await etcd?.destroy();
    },
    make: (place) => new EtcdStore({ endpoints: [etcd!.url], prefix: `/contract/${place}/` }),
  },
];

const ns = (name: string, labels: Record<string, string> = {}): Manifest => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { ...labels, "kubernetes.io/metadata.name": name } },
});
const ref = (name: string): ObjectRef => ({ kind: "Namespace", namespace: "", name });
const put = (m: Manifest): Change => ({ op: "put", ref: ref((m["metadata"] as { name: string }).name), manifest: m });
const del = (name: string): Change => ({ op: "delete", ref: ref(name) });

/** Opens a store and records what it delivers. */
async function follow(store: Store): Promise<{ commits: Commit[]; id: string; generation: number; manifests: readonly Manifest[] }> {
  const commits: Commit[] = [];
  const opened = await store.open((c) => commits.push(c));
  return { commits, id: opened.id, generation: opened.generation, manifests: opened.manifests };
}

const byName = (ms: readonly Manifest[]) => [...ms].sort((a, b) => ((a["metadata"] as { name: string }).name < (b["metadata"] as { name: string }).name ? -1 : 1));

for (const subject of SUBJECTS) {
  describe(`store contract: ${subject.name}`, { timeout: 120_000 }, () => {
    const open: Store[] = [];
    let n = 0;
    const place = () => `${subject.name}-${++n}`;
    const make = (p: string) => {
      const s = subject.make(p);
      open.push(s);
      return s;
    };
    before(() => subject.setUp());
    after(async () => {
      for (const s of open) await s.close();
      await subject.tearDown();
    });

    it("opens empty at generation 0, with an id of its own", async () => {
      const f = await follow(make(place()));
      assert.equal(f.generation, 0);
      assert.deepEqual(f.manifests, []);
      assert.match(f.id, /\S/);
      assert.notEqual((await follow(make(place()))).id, f.id);
    });

    it("commits several objects as one change set, delivered once, in order, with a growing generation", async () => {
      const store = make(place());
      const f = await follow(store);
      const g1 = await store.commit([put(ns("a")), put(ns("b"))], f.generation);
      assert.ok(g1 > f.generation);
      const g2 = await store.commit([put(ns("a", { v: "2" })), del("b")], g1);
      assert.ok(g2 > g1);
      await eventually(() => f.commits.length >= 2, 60_000, "both commits delivered");
      assert.deepEqual(
        f.commits.map((c) => c.generation),
        [g1, g2],
      );
      assert.deepEqual(
        f.commits.map((c) => c.changes.map((ch) => `${ch.op} ${ch.ref.name}`)),
        [
          ["put a", "put b"],
          ["put a", "delete b"],
        ],
      );
      assert.deepEqual(f.commits[1]!.changes[0], put(ns("a", { v: "2" })));
    });

    it("refuses a commit validated against an older generation, and changes nothing", async () => {
      const store = make(place());
      const f = await follow(store);
      const g1 = await store.commit([put(ns("a"))], f.generation);
      await assert.rejects(store.commit([put(ns("stale"))], f.generation), (e) => e instanceof StoreConflict && e.current === g1);
      const g2 = await store.commit([put(ns("c"))], g1);
      await eventually(() => f.commits.length >= 2, 60_000, "the commits delivered");
      assert.deepEqual(
        f.commits.map((c) => c.generation),
        [g1, g2],
        "the refused commit was never delivered",
      );
    });

    it(subject.durable ? "gives back after a restart exactly what it committed, and the generation only grows" : "keeps nothing across a restart", async () => {
      const p = place();
      const first = make(p);
      const f = await follow(first);
      const cnp = tierPolicy("ClusterNetworkPolicy", "deny-c", { subject: "c" });
      const anp = tierPolicy("AdminNetworkPolicy", "pass-a", { subject: "a", action: "Pass" });
      const banp = tierPolicy("BaselineAdminNetworkPolicy", "default");
      let g = await first.commit([put(ns("a")), put(ns("b")), put(ns("c")), putTier(cnp), putTier(anp)], f.generation);
      g = await first.commit([del("b"), put(ns("c", { v: "2" })), deleteTier("AdminNetworkPolicy", "pass-a"), putTier(banp)], g);
      await first.close();
      const again = await follow(make(p));
      if (!subject.durable) {
        assert.deepEqual({ ...again, id: "" }, { commits: [], id: "", generation: 0, manifests: [] });
        assert.notEqual(again.id, f.id, "a new model: its generations do not compare with the old one's");
        return;
      }
      assert.equal(again.id, f.id, "the same stored model");
      assert.equal(again.generation, g);
      assert.deepEqual(byName(again.manifests), [ns("a"), ns("c", { v: "2" }), banp, cnp]);
    });
  });
}

after(() => rmSync(tmp, { recursive: true, force: true }));
