/** LmdbStore: layout, durability across reopen, atomic commits, format and corruption checks, the directory lock. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { createInterface } from "node:readline";
import { open as openLmdb } from "lmdb";
import type { Manifest } from "../../server/model/types.js";
import { PodwallError } from "../../server/service/errors.js";
import { LOCK_FILE, processStartTime } from "../../server/store/dir-lock.js";
import { DATA_FILE, LmdbStore, lmdbOptions } from "../../server/store/lmdb.js";
import { type Change, type Commit, type ObjectRef, StoreConflict, StoreOpenError, type StoredModel } from "../../server/store/types.js";
import { deleteTier, putTier, tierPolicy } from "./tier-objects.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const LMDB_TS = new URL("../../server/store/lmdb.ts", import.meta.url).href;

/** Runs `fn` with a fresh temporary directory and a way to open stores in it; closes them and removes the directory afterwards. */
async function withDir(fn: (dir: string, open: (d?: string) => LmdbStore) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podwall-lmdb-"));
  const stores: LmdbStore[] = [];
  try {
    await fn(dir, (d = dir) => {
      const s = LmdbStore.open(d);
      stores.push(s);
      return s;
    });
  } finally {
    for (const s of stores) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes raw key/values into the environment of `dir`, as a damaged or foreign database would hold them. */
async function writeRaw(dir: string, entries: Record<string, string>): Promise<void> {
  const db = openLmdb<string, string>(lmdbOptions(dir));
  try {
    db.transactionSync(() => {
      for (const [k, v] of Object.entries(entries)) db.putSync(k, v);
    });
  } finally {
    await db.close();
  }
}

const nsRef = (name: string): ObjectRef => ({ kind: "Namespace", namespace: "", name });
const podRef = (namespace: string, name: string): ObjectRef => ({ kind: "Pod", namespace, name });
const nsManifest = (name: string): Manifest => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team: name } } });
const podManifest = (namespace: string, name: string, ip: string): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels: { app: name } },
  spec: { nodeName: "node-1" },
  status: { podIP: ip, podIPs: [{ ip }] },
});
const put = (ref: ObjectRef, manifest: Manifest): Change => ({ op: "put", ref, manifest });
const del = (ref: ObjectRef): Change => ({ op: "delete", ref });

async function rejectsWith<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected a ${type.name}`);
}

function throwsOpenError(fn: () => unknown): StoreOpenError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreOpenError, `expected StoreOpenError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a StoreOpenError");
}

/** What a store gives back on open, without its id (checked on its own: stable across reopens). */
async function held(store: LmdbStore): Promise<Omit<StoredModel, "id">> {
  const { id, ...rest } = await store.open(() => {});
  assert.match(id, /^[0-9a-f-]{36}$/);
  return rest;
}

describe("LmdbStore", () => {
  it("opens a directory it creates (even one named like a file) with generation 0, no objects and format 1", async () => {
    await withDir(async (tmp, open) => {
      const dir = path.join(tmp, "cluster.data");
      const store = open(dir);
      assert.equal(store.kind, "lmdb");
      assert.equal(store.location, dir);
      assert.deepEqual(store.health(), { writable: true });
      assert.deepEqual(await held(store), { generation: 0, manifests: [] });
      assert.ok(fs.statSync(path.join(dir, DATA_FILE)).isFile());
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")), { pid: process.pid, start: processStartTime(process.pid) });
      await store.close();
      assert.deepEqual(store.health(), { writable: false, reason: "closed" });
      assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
      await store.close();
      const e = await rejectsWith(store.commit([put(nsRef("a"), nsManifest("a"))], 0), PodwallError);
      assert.equal(e.code, "unavailable");

      const raw = openLmdb<string, string>(lmdbOptions(dir));
      try {
        const keys = [...raw.getRange()].map(({ key, value }) => [key, value] as [string, string]);
        assert.deepEqual(
          keys.map(([k]) => k),
          ["meta/format", "meta/id"],
        );
        assert.equal(keys[0]![1], "1");
        assert.match(keys[1]![1], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      } finally {
        await raw.close();
      }
    });
  });

  it("keeps commits across close and reopen: the manifests in key order and the generation", async () => {
    await withDir(async (_dir, open) => {
      const store = open();
      const followed: Commit[] = [];
      await store.open((c) => followed.push(c));
      const cnp = tierPolicy("ClusterNetworkPolicy", "deny-prod", { subject: "prod", from: "dev" });
      const banp = tierPolicy("BaselineAdminNetworkPolicy", "default", { action: "Accept" });
      const first = [
        put(nsRef("prod"), nsManifest("prod")),
        put(podRef("prod", "web"), podManifest("prod", "web", "10.0.0.1")),
        put(nsRef("dev"), nsManifest("dev")),
        putTier(cnp),
        putTier(tierPolicy("AdminNetworkPolicy", "pass-dev", { subject: "dev", action: "Pass" })),
      ];
      assert.equal(await store.commit(first, 0), 1);
      assert.deepEqual(followed, [{ generation: 1, changes: first }]);
      assert.equal(followed[0]!.changes, first);
      const second = [
        del(nsRef("dev")),
        del(podRef("prod", "never-was")),
        put(podRef("prod", "db"), podManifest("prod", "db", "10.0.0.2")),
        put(podRef("prod", "db"), podManifest("prod", "db", "10.0.0.3")),
        put(podRef("prod", "tmp"), podManifest("prod", "tmp", "10.0.0.4")),
        del(podRef("prod", "tmp")),
        deleteTier("AdminNetworkPolicy", "pass-dev"),
        putTier(banp),
      ];
      assert.equal(await store.commit(second, 1), 2);
      assert.deepEqual(followed, [
        { generation: 1, changes: first },
        { generation: 2, changes: second },
      ]);
      await store.close();

      const again = open();
      assert.deepEqual(await held(again), {
        generation: 2,
        manifests: [banp, cnp, nsManifest("prod"), podManifest("prod", "db", "10.0.0.3"), podManifest("prod", "web", "10.0.0.1")],
      });
      assert.equal(await again.commit([del(podRef("prod", "db")), deleteTier("BaselineAdminNetworkPolicy", "default")], 2), 3);
      await again.close();

      const third = open();
      assert.deepEqual(await held(third), { generation: 3, manifests: [cnp, nsManifest("prod"), podManifest("prod", "web", "10.0.0.1")] });
    });
  });

  it("refuses a commit on a stale base with StoreConflict and changes nothing", async () => {
    await withDir(async (_dir, open) => {
      const store = open();
      const followed: Commit[] = [];
      await store.open((c) => followed.push(c));
      await store.commit([put(nsRef("a"), nsManifest("a"))], 0);
      const e = await rejectsWith(store.commit([del(nsRef("a")), put(nsRef("b"), nsManifest("b"))], 0), StoreConflict);
      assert.equal(e.current, 1);
      const ahead = await rejectsWith(store.commit([put(nsRef("c"), nsManifest("c"))], 5), StoreConflict);
      assert.equal(ahead.current, 1);
      assert.equal(followed.length, 1);
      await store.close();
      assert.deepEqual(await held(open()), { generation: 1, manifests: [nsManifest("a")] });
    });
  });

  it("commits all of a change set or nothing of it", async () => {
    await withDir(async (_dir, open) => {
      const store = open();
      const followed: Commit[] = [];
      await store.open((c) => followed.push(c));
      await store.commit([put(nsRef("a"), nsManifest("a"))], 0);
      const unstorable = { ...podManifest("a", "bad", "10.0.0.9"), size: 1n };
      await rejectsWith(store.commit([put(nsRef("b"), nsManifest("b")), del(nsRef("a")), put(podRef("a", "bad"), unstorable)], 1), TypeError);
      assert.equal(followed.length, 1);
      assert.equal(await store.commit([put(nsRef("c"), nsManifest("c"))], 1), 2);
      await store.close();
      assert.deepEqual(await held(open()), { generation: 2, manifests: [nsManifest("a"), nsManifest("c")] });
    });
  });

  it("refuses a directory written by a newer podwall", async () => {
    await withDir(async (dir, open) => {
      await open().close();
      await writeRaw(dir, { "meta/format": "2" });
      const e = throwsOpenError(() => open());
      assert.equal(e.message, `data directory ${dir} holds format 2, written by a newer podwall; this one reads format 1`);
      assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
    });
  });

  it("refuses a data.mdb that is not an LMDB database, or is truncated, without crashing", async () => {
    await withDir(async (dir, open) => {
      const store = open();
      await store.open(() => {});
      for (let g = 0; g < 20; g++) await store.commit([put(nsRef(`ns-${g}`), nsManifest(`ns-${g}`.repeat(50)))], g);
      await store.close();
      const file = path.join(dir, DATA_FILE);
      const good = fs.readFileSync(file);

      fs.writeFileSync(file, Buffer.alloc(good.length, "garbage!"));
      const e = throwsOpenError(() => open());
      assert.equal(e.message, `${file} is not an LMDB database (MDB_INVALID: File is not an LMDB file): its first page is not a meta page`);
      assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);

      fs.writeFileSync(file, "garbage");
      assert.match(throwsOpenError(() => open()).message, /^\S+data\.mdb is not an LMDB database \(MDB_INVALID: File is not an LMDB file\): 7 bytes/);

      const pageSize = good.readUInt32LE(48);
      fs.writeFileSync(file, good.subarray(0, 2 * pageSize));
      assert.match(
        throwsOpenError(() => open()).message,
        new RegExp(`^${file.replace(/[.]/g, "\\.")} is truncated: its (main|free-page) tree's root is page \\d+, the file has 2 pages`),
      );

      fs.writeFileSync(file, good);
      assert.equal((await open().open(() => {})).generation, 20);
    });
  });

  it("rejects open() of a directory holding a value or key podwall does not write", async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ "obj/Pod/default/web": "{not json" }, "obj/Pod/default/web", /^not JSON: /],
      [{ "obj/Namespace//default": "[1, 2]" }, "obj/Namespace//default", /^not a JSON object$/],
      [{ "obj/Namespace//default": "null" }, "obj/Namespace//default", /^not a JSON object$/],
      [{ "obj/Pod//web": "{}" }, "obj/Pod//web", /^a Pod without a namespace$/],
      [{ "obj/Service/default/web": "{}" }, "obj/Service/default/web", /^unknown kind "Service"$/],
      [{ "obj/Pod/default/web/x": "{}" }, "obj/Pod/default/web/x", /^not obj\/<Kind>\/<namespace>\/<name>$/],
      [{ junk: "1" }, "junk", /^not a key podwall writes$/],
      [{ "meta/generation": "-1" }, "meta/generation", /^not a generation: "-1"$/],
    ];
    for (const [entries, key, why] of cases) {
      await withDir(async (dir, open) => {
        await open().close();
        await writeRaw(dir, entries);
        const store = open();
        const e = await rejectsWith(
          store.open(() => {}),
          StoreOpenError,
        );
        const prefix = `data directory ${dir} is corrupt: key ${key}: `;
        assert.ok(e.message.startsWith(prefix), e.message);
        assert.match(e.message.slice(prefix.length), why);
      });
    }
  });

  it("refuses a directory whose meta/format is missing while it holds objects", async () => {
    await withDir(async (dir, open) => {
      await writeRaw(dir, { "obj/Namespace//a": "{}" });
      assert.equal(throwsOpenError(() => open()).message, `data directory ${dir} is corrupt: key meta/format: missing while the database holds other keys`);
    });
  });
});

describe("LmdbStore: the directory lock", () => {
  const lockFile = (dir: string) => path.join(dir, LOCK_FILE);

  it("refuses a second open while the first is open, in this process or another live one", async () => {
    await withDir(async (dir, open) => {
      const store = open();
      assert.equal(throwsOpenError(() => open()).message, `data directory ${dir} is already open in this process (pid ${process.pid})`);
      await store.close();
      await open().close();

      const init = JSON.stringify({ pid: 1, start: processStartTime(1) });
      fs.writeFileSync(lockFile(dir), init);
      assert.equal(throwsOpenError(() => open()).message, `data directory ${dir} is locked by another podwall process (pid 1)`);
      assert.equal(fs.readFileSync(lockFile(dir), "utf8"), init);
    });
  });

  it("takes over a lock file left by a process that is gone, or whose pid now names another process", async () => {
    const pidMax = Number(fs.readFileSync("/proc/sys/kernel/pid_max", "utf8"));
    const myStart = processStartTime(process.pid);
    assert.equal(typeof myStart, "string");
    const stale = [
      JSON.stringify({ pid: pidMax + 1, start: "12345" }),
      JSON.stringify({ pid: process.pid, start: String(BigInt(myStart!) + 1n) }),
      JSON.stringify({ pid: 1, start: String(BigInt(processStartTime(1)!) + 1n) }),
      "",
      "{half a lock",
    ];
    for (const content of stale) {
      await withDir(async (dir, open) => {
        fs.writeFileSync(lockFile(dir), content);
        const store = open();
        assert.deepEqual(JSON.parse(fs.readFileSync(lockFile(dir), "utf8")), { pid: process.pid, start: myStart });
        await store.close();
        assert.equal(fs.existsSync(lockFile(dir)), false);
        assert.deepEqual(fs.readdirSync(dir).sort(), ["data.mdb", "lock.mdb"]);
      });
    }
  });

  it("takes over the lock of a process killed with SIGKILL, and finds what it committed", async () => {
    await withDir(async (dir, open) => {
      const code = `
        const { LmdbStore } = await import(${JSON.stringify(LMDB_TS)});
        const store = LmdbStore.open(${JSON.stringify(dir)});
        const { generation } = await store.open(() => {});
        await store.commit([{ op: "put", ref: { kind: "Namespace", namespace: "", name: "left" }, manifest: { kind: "Namespace", metadata: { name: "left" } } }], generation);
        console.log("ready");
        setInterval(() => {}, 1 << 30);
      `;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      const exited = once(child, "exit");
      try {
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        await new Promise<void>((resolve, reject) => {
          createInterface({ input: child.stdout }).on("line", (line) => line === "ready" && resolve());
          child.once("exit", (status) => reject(new Error(`the child exited (${status}) before it was ready: ${stderr}`)));
        });
        assert.equal(throwsOpenError(() => open()).message, `data directory ${dir} is locked by another podwall process (pid ${child.pid})`);
      } finally {
        child.kill("SIGKILL");
        await exited;
      }
      assert.equal(child.signalCode, "SIGKILL");
      assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), "utf8")).pid, child.pid);
      const store = open();
      assert.deepEqual(await held(store), { generation: 1, manifests: [{ kind: "Namespace", metadata: { name: "left" } }] });
      assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), "utf8")).pid, process.pid);
    });
  });
});
