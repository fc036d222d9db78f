/**
 * The etcd store against a real etcd: replicas share one model and one
 * generation, commits are atomic and guarded, large models are read in pages,
 * a follower cut off while history is compacted catches up with the
 * difference, and an outage is reported and recovered from.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import type { Manifest } from "../../server/model/types.js";
import { PodwallError } from "../../server/service/errors.js";
import { EtcdStore } from "../../server/store/etcd.js";
import { type Change, type Commit, type ObjectRef, StoreConflict, refKey } from "../../server/store/types.js";
import { type EtcdProcess, type EtcdProxy, startEtcd, startProxy } from "../helpers/etcd.js";
import { tierPolicy } from "./tier-objects.js";

const namespace = (name: string, labels: Record<string, string> = {}): Manifest => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});
const pod = (ns: string, name: string, ip: string, pad = ""): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, labels: { app: name }, annotations: pad ? { pad } : {} },
  spec: { containers: [{ name: "c" }] },
  status: { phase: "Running", podIP: ip },
});

function refOf(m: Manifest): ObjectRef {
  const meta = m.metadata as { name: string; namespace?: string };
  return { kind: m.kind as ObjectRef["kind"], namespace: meta.namespace ?? "", name: meta.name };
}
const put = (m: Manifest): Change => ({ op: "put", ref: refOf(m), manifest: m });
const del = (m: Manifest): Change => ({ op: "delete", ref: refOf(m) });

/** Changes in a fixed order, so that commits compare whatever order etcd reports a transaction's keys in. */
function sorted(changes: readonly Change[]): Change[] {
  const key = (c: Change) => `${refKey(c.ref)} ${c.op}`;
  return [...changes].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
const normal = (commits: readonly Commit[]) => commits.map((c) => ({ generation: c.generation, changes: sorted(c.changes) }));
const byName = (ms: readonly Manifest[]) => [...ms].sort((a, b) => (refKey(refOf(a)) < refKey(refOf(b)) ? -1 : 1));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Records what a store delivers to follow. */
class Follower {
  readonly commits: Commit[] = [];
  readonly follow = (c: Commit): void => {
    this.commits.push(c);
  };
  last(): number {
    return this.commits[this.commits.length - 1]?.generation ?? 0;
  }
  reached(generation: number): Promise<void> {
    return until(() => this.last() >= generation);
  }
}

let prefixes = 0;
const freshPrefix = () => `/podwall-test-${process.pid}-${++prefixes}/`;

describe("EtcdStore on a real etcd", () => {
  let etcd: EtcdProcess;
  const stores: EtcdStore[] = [];
  const proxies: EtcdProxy[] = [];
  const extraEtcds: EtcdProcess[] = [];

  function store(endpoint: string, prefix: string): EtcdStore {
    const s = new EtcdStore({ endpoints: [endpoint], prefix });
    stores.push(s);
    return s;
  }
  async function opened(endpoint: string, prefix: string) {
    const s = store(endpoint, prefix);
    const follower = new Follower();
    const model = await s.open(follower.follow);
    return { store: s, follower, model };
  }
  /** Its own etcd, and two stores on one fresh prefix: `a` direct, `b` through a proxy a test can cut. */
  async function cutOffPair() {
    const own = await startEtcd();
    extraEtcds.push(own);
    const proxy = await startProxy(own.url);
    proxies.push(proxy);
    const prefix = freshPrefix();
    const a = await opened(own.url, prefix);
    const b = await opened(proxy.url, prefix);
    return { own, proxy, prefix, a, b };
  }

  before(async () => {
    etcd = await startEtcd();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(extraEtcds.splice(0).map((e) => e.destroy()));
  });
  after(async () => {
    await etcd?.destroy();
  });

  it("delivers a commit made through one store to both stores, at the etcd revision, and keeps it across reopening", async () => {
    const prefix = freshPrefix();
    const a = await opened(etcd.url, prefix);
    const b = await opened(etcd.url, prefix);
    assert.match(a.model.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(a.model, { id: a.model.id, generation: 0, manifests: [] });
    assert.deepEqual(b.model, { id: a.model.id, generation: 0, manifests: [] });
    assert.equal(a.store.kind, "etcd");
    assert.equal(a.store.location, `etcd ${etcd.url} ${prefix}`);

    const cnp = tierPolicy("ClusterNetworkPolicy", "deny-x", { subject: "x" });
    const anp = tierPolicy("AdminNetworkPolicy", "allow-x", { subject: "x", action: "Accept" });
    const first = [put(namespace("x")), put(pod("x", "a", "10.0.0.1")), put(cnp)];
    const g1 = await a.store.commit(first, 0);
    assert.equal(g1, await etcd.revision());
    const raw = new Etcd3({ hosts: etcd.url });
    try {
      const meta = await raw.get(`${prefix}meta/generation`).exec();
      assert.equal(Number(meta.kvs[0]?.mod_revision), g1);
      assert.deepEqual(JSON.parse((await raw.get(`${prefix}objects/Pod/x/a`).string()) ?? "null"), pod("x", "a", "10.0.0.1"));
      assert.deepEqual(JSON.parse((await raw.get(`${prefix}objects/ClusterNetworkPolicy//deny-x`).string()) ?? "null"), cnp, "a cluster-scoped kind: no namespace");
    } finally {
      raw.close();
    }
    await b.follower.reached(g1);
    await a.follower.reached(g1);
    assert.deepEqual(normal(b.follower.commits), [{ generation: g1, changes: sorted(first) }]);
    assert.deepEqual(normal(a.follower.commits), [{ generation: g1, changes: sorted(first) }]);

    const second = [put(namespace("x", { team: "blue" })), del(pod("x", "a", "10.0.0.1")), put(pod("x", "b", "10.0.0.2")), del(cnp), put(anp)];
    const g2 = await b.store.commit(second, g1);
    assert.ok(g2 > g1);
    await a.follower.reached(g2);
    await b.follower.reached(g2);
    assert.deepEqual(normal(a.follower.commits), [
      { generation: g1, changes: sorted(first) },
      { generation: g2, changes: sorted(second) },
    ]);
    assert.deepEqual(normal(b.follower.commits), normal(a.follower.commits));

    await a.store.close();
    await b.store.close();
    const c = await opened(etcd.url, prefix);
    assert.equal(c.model.id, a.model.id);
    assert.equal(c.model.generation, g2);
    assert.deepEqual(byName(c.model.manifests), byName([namespace("x", { team: "blue" }), pod("x", "b", "10.0.0.2"), anp]));
    assert.deepEqual(c.store.health(), { writable: true });
    const elsewhere = await opened(etcd.url, freshPrefix());
    assert.notEqual(elsewhere.model.id, a.model.id);
  });

  it("refuses a commit on a stale base with StoreConflict at the current generation, and writes nothing", async () => {
    const prefix = freshPrefix();
    const a = await opened(etcd.url, prefix);
    const b = await opened(etcd.url, prefix);
    const g1 = await a.store.commit([put(namespace("x"))], 0);
    await assert.rejects(b.store.commit([put(namespace("y"))], 0), (e: unknown) => {
      assert.ok(e instanceof StoreConflict);
      assert.equal(e.current, g1);
      return true;
    });
    assert.equal(await etcd.revision(), g1);
    const c = await opened(etcd.url, prefix);
    assert.deepEqual(c.model, { id: a.model.id, generation: g1, manifests: [namespace("x")] });
    // On the current base it goes through.
    const g2 = await b.store.commit([put(namespace("y"))], g1);
    await a.follower.reached(g2);
    assert.deepEqual(normal(a.follower.commits), [
      { generation: g1, changes: [put(namespace("x"))] },
      { generation: g2, changes: [put(namespace("y"))] },
    ]);
  });

  it("delivers a commit of many objects to another store as one Commit, and keeps the last change of a key named twice", async () => {
    const prefix = freshPrefix();
    const a = await opened(etcd.url, prefix);
    const b = await opened(etcd.url, prefix);
    const pods = Array.from({ length: 200 }, (_, i) => pod("x", `p${i}`, `10.0.${i >> 8}.${i & 255}`));
    const changes = [put(namespace("x")), put(namespace("twice")), ...pods.map(put), put(namespace("twice", { second: "yes" }))];
    const g = await a.store.commit(changes, 0);
    await b.follower.reached(g);
    assert.equal(b.follower.commits.length, 1);
    assert.deepEqual(normal(b.follower.commits), [{ generation: g, changes: sorted([put(namespace("x")), ...pods.map(put), put(namespace("twice", { second: "yes" }))]) }]);

    const g2 = await a.store.commit([put(namespace("gone")), del(namespace("gone"))], g);
    await b.follower.reached(g2);
    assert.deepEqual(normal(b.follower.commits.slice(1)), [{ generation: g2, changes: [] }]);
  });

  it("opens a model larger than a gRPC message, and follows a commit of that size", async () => {
    const prefix = freshPrefix();
    const a = await opened(etcd.url, prefix);
    const b = await opened(etcd.url, prefix);
    const pad = "p".repeat(900);
    const pods = Array.from({ length: 6000 }, (_, i) => pod(`ns${i % 10}`, `pod-${i}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, pad));
    assert.ok(JSON.stringify(pods).length > 6_000_000);
    const g = await a.store.commit(pods.map(put), 0);
    await b.follower.reached(g);
    assert.equal(b.follower.commits.length, 1);
    assert.equal(b.follower.commits[0]?.changes.length, 6000);

    const c = await opened(etcd.url, prefix);
    assert.equal(c.model.generation, g);
    assert.equal(c.model.manifests.length, 6000);
    assert.deepEqual(byName(c.model.manifests), byName(pods));
  });

  it("refuses a write larger than etcd takes with too-large, and stays writable", async () => {
    const prefix = freshPrefix();
    const a = await opened(etcd.url, prefix);
    const many = Array.from({ length: 100_001 }, (_, i) => put(namespace(`n${i}`)));
    await assert.rejects(a.store.commit(many, 0), (e: unknown) => {
      assert.ok(e instanceof PodwallError);
      assert.equal(e.code, "too-large");
      assert.equal(e.message, "the write holds 100001 changes, more than etcd takes in one transaction (etcd --max-txn-ops)");
      return true;
    });
    const huge = [put(pod("x", "huge", "10.0.0.1", "h".repeat(40_000_000)))];
    await assert.rejects(a.store.commit(huge, 0), (e: unknown) => {
      assert.ok(e instanceof PodwallError);
      assert.equal(e.code, "too-large");
      assert.match(e.message, /^the write is \d+ bytes, more than etcd takes in one request \(etcd --max-request-bytes\)$/);
      return true;
    });
    assert.deepEqual(a.store.health(), { writable: true });
    const g = await a.store.commit([put(namespace("x"))], 0);
    await a.follower.reached(g);
    assert.deepEqual(normal(a.follower.commits), [{ generation: g, changes: [put(namespace("x"))] }]);
  });

  it("brings a store that was cut off while history was compacted up to date with one commit of the difference", async () => {
    const { own, proxy, prefix, a, b } = await cutOffPair();

    const [x, kept, changed, removed] = [namespace("x"), pod("x", "kept", "10.0.0.1"), pod("x", "changed", "10.0.0.2"), pod("x", "removed", "10.0.0.3")];
    const g1 = await a.store.commit([put(x), put(kept), put(changed), put(removed)], 0);
    await b.follower.reached(g1);

    proxy.cut();
    await until(() => !b.store.health().writable);
    assert.match(b.store.health().reason ?? "", new RegExp(`^etcd unreachable at ${proxy.url}: `));

    const changedAgain = pod("x", "changed", "10.0.0.22");
    const added = pod("x", "added", "10.0.0.4");
    const transient = pod("x", "transient", "10.0.0.5");
    let g = await a.store.commit([put(changedAgain)], g1);
    g = await a.store.commit([del(removed), put(transient)], g);
    g = await a.store.commit([put(added), del(transient)], g);
    const compactedAt = await own.compact();
    assert.equal(compactedAt, g);

    proxy.restore();
    await b.follower.reached(g);
    assert.deepEqual(normal(b.follower.commits), [
      { generation: g1, changes: sorted([put(x), put(kept), put(changed), put(removed)]) },
      { generation: g, changes: sorted([put(changedAgain), del(removed), put(added)]) },
    ]);
    await until(() => b.store.health().writable);

    // Following goes on after the catch-up.
    const gNext = await a.store.commit([del(kept)], g);
    await b.follower.reached(gNext);
    assert.deepEqual(normal(b.follower.commits.slice(2)), [{ generation: gNext, changes: [del(kept)] }]);

    const c = await opened(own.url, prefix);
    assert.equal(c.model.generation, gNext);
    assert.deepEqual(byName(c.model.manifests), byName([x, changedAgain, added]));
  });

  it("reports an outage, refuses writes meanwhile, and recovers when etcd is back; a store cut off catches up commit by commit", async () => {
    const { own, proxy, prefix, a, b } = await cutOffPair();
    const g1 = await a.store.commit([put(namespace("x"))], 0);
    await b.follower.reached(g1);

    await own.stop();
    await until(() => !a.store.health().writable && !b.store.health().writable);
    assert.match(a.store.health().reason ?? "", new RegExp(`^etcd unreachable at ${own.url}: .+`));
    await assert.rejects(a.store.commit([put(namespace("y"))], g1), (e: unknown) => {
      assert.ok(e instanceof PodwallError);
      assert.equal(e.code, "unavailable");
      assert.match(e.message, /^etcd unreachable: /);
      return true;
    });

    // A store opened during the outage waits for etcd instead of failing.
    const late = store(own.url, prefix);
    const lateFollower = new Follower();
    let lateSettled = false;
    const lateOpen = late.open(lateFollower.follow).finally(() => {
      lateSettled = true;
    });
    await until(() => !late.health().writable);
    assert.equal(lateSettled, false);

    proxy.cut();
    await own.start();
    await until(() => a.store.health().writable);
    assert.deepEqual(await lateOpen, { id: a.model.id, generation: g1, manifests: [namespace("x")] });
    const g2 = await a.store.commit([put(namespace("y"))], g1);
    const g3 = await a.store.commit([del(namespace("x"))], g2);
    await a.follower.reached(g3);
    await lateFollower.reached(g3);
    assert.equal(b.follower.last(), g1);

    proxy.restore();
    await b.follower.reached(g3);
    await until(() => b.store.health().writable);
    assert.deepEqual(normal(b.follower.commits), [
      { generation: g1, changes: [put(namespace("x"))] },
      { generation: g2, changes: [put(namespace("y"))] },
      { generation: g3, changes: [del(namespace("x"))] },
    ]);
    assert.deepEqual(normal(lateFollower.commits), normal(b.follower.commits.slice(1)));
  });

  it("rejects an open that is waiting for etcd when the store is closed", async () => {
    const own = await startEtcd();
    extraEtcds.push(own);
    await own.stop();
    const s = store(own.url, freshPrefix());
    const opening = s.open(() => undefined);
    await until(() => !s.health().writable);
    await s.close();
    await assert.rejects(opening, (e: unknown) => e instanceof PodwallError && e.code === "unavailable");
  });
});
