/**
 * The model in etcd v3, shared by every replica that names the same endpoints
 * and prefix.
 *
 * Layout: PREFIX + "objects/" + refKey(ref) holds one object's manifest as
 * JSON; PREFIX + "meta/generation" is written by every commit, so its
 * mod_revision is the model's generation: the etcd revision of the last
 * commit, the same number on every replica, and only ever growing.
 * PREFIX + "meta/id" is the model's identity, made by the first store that
 * opens the prefix.
 *
 * Following is one watch on the prefix, delivered one Commit per etcd
 * revision. When the watch cannot continue right after the last delivered
 * revision (history compacted away), the store reads everything again and
 * delivers the difference as one commit.
 */
import { randomUUID } from "node:crypto";
import { Etcd3, type IKeyValue, type IRequestOp, type ITxnResponse, type IWatchResponse, type Watcher } from "etcd3";
import { KINDS, type Kind, type Manifest } from "../model/types.js";
import { PodwallError } from "../service/errors.js";
import {
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  errorText,
  isCompacted,
  isTooLarge,
  isUnreachable,
  oncePerEndpoint,
  passThrough,
  prefixEnd,
  watchBackoff,
  withTimeout,
} from "./etcd-client.js";
import type { Change, Commit, ObjectRef, Store, StoreHealth, StoredModel } from "./types.js";
import { StoreConflict, StoreOpenError, refKey } from "./types.js";

export interface EtcdStoreOptions {
  readonly endpoints: readonly string[];
  /** Every key the store writes starts with it; default "/podwall/". A "/" is added if it does not end with one, so that "/a" does not take in "/ab/". */
  readonly prefix?: string;
}

/** Keys per read: a page stays far below gRPC's message limits whatever the model's size. */
const PAGE_KEYS = 1000;
/** How long one call may take before etcd counts as unreachable. */
const CALL_TIMEOUT_MS = 5000;
/** A large commit takes longer to send and apply: this much more per MB. */
const COMMIT_MS_PER_MB = 1000;
const PROBE_MS = 1000;

interface Snapshot {
  /** The revision the whole read was made at. */
  readonly revision: number;
  /** mod_revision of the meta key, 0 if absent. */
  readonly generation: number;
  /** The model's identity, if it has been made. */
  readonly id: string | undefined;
  readonly objects: Map<string, { readonly ref: ObjectRef; readonly modRevision: number; readonly manifest: Manifest }>;
  /** Keys under objects/ that are no object Podwall can read. */
  readonly unreadable: string[];
}

export class EtcdStore implements Store {
  readonly kind = "etcd";
  readonly location: string;
  private readonly endpoints: readonly string[];
  private readonly prefix: string;
  private readonly objectsPrefix: string;
  private readonly metaKey: string;
  private readonly idKey: string;
  private readonly client: Etcd3;

  private follow: ((c: Commit) => void) | undefined;
  private closed = false;
  /** Every revision up to this one has been delivered (or read). */
  private seen = 0;
  /** The generation of the last commit delivered. */
  private delivered = 0;
  /** Live objects as delivered: key → mod_revision. */
  private live = new Map<string, number>();
  private watcher: Watcher | undefined;
  /** Why the watch is down, while it is. */
  private watchDown: string | undefined;
  /** Why the last call failed for unreachability, until a call succeeds again. */
  private callDown: string | undefined;
  private probing = false;
  /** Resyncs since the watch last delivered anything: a watch etcd keeps cancelling is retried ever more slowly. */
  private resyncs = 0;
  private readonly wakers = new Set<() => void>();

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error("etcd store: no endpoints");
    this.endpoints = options.endpoints;
    const prefix = options.prefix ?? "/podwall/";
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.objectsPrefix = `${this.prefix}objects/`;
    this.metaKey = `${this.prefix}meta/generation`;
    this.idKey = `${this.prefix}meta/id`;
    this.location = `etcd ${this.endpoints.join(",")} ${this.prefix}`;
    this.client = new Etcd3({
      hosts: [...this.endpoints],
      grpcOptions: {
        // A watch response holds a whole commit, or many: as large as etcd lets one transaction be.
        "grpc.max_receive_message_length": -1,
        "grpc.max_send_message_length": -1,
        // Notices an etcd that went away without closing the connection.
        "grpc.keepalive_time_ms": 10_000,
        "grpc.keepalive_timeout_ms": 5_000,
      },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: {
        host: () => passThrough,
        global: oncePerEndpoint(this.endpoints.length),
        watchBackoff: { duration: 0, next: () => watchBackoff() },
      },
    });
  }

  async open(follow: (commit: Commit) => void): Promise<StoredModel> {
    if (this.follow) throw new Error("etcd store: opened twice");
    this.follow = follow;
    const { snapshot, id } = await this.untilRead(async () => {
      const snapshot = await this.readAll();
      return { snapshot, id: snapshot.id ?? (await this.makeId()) };
    });
    if (snapshot.unreadable.length > 0) {
      throw new StoreOpenError(
        `${this.location}: ${snapshot.unreadable.length} key(s) under ${this.objectsPrefix} hold no object Podwall can read, e.g. ${snapshot.unreadable[0]}`,
      );
    }
    this.live = new Map([...snapshot.objects].map(([key, o]) => [key, o.modRevision]));
    this.seen = snapshot.revision;
    this.delivered = snapshot.generation;
    this.watch();
    return { id, generation: snapshot.generation, manifests: [...snapshot.objects.values()].map((o) => o.manifest) };
  }

  async commit(changes: readonly Change[], base: number): Promise<number> {
    if (this.closed) throw new PodwallError("unavailable", `etcd unreachable: the store at ${this.location} is closed`);
    // etcd rejects a transaction that names a key twice; the last change of a key is the one that counts.
    const byKey = new Map<string, Change>();
    for (const c of changes) {
      const key = this.objectsPrefix + refKey(c.ref);
      byKey.delete(key);
      byKey.set(key, c);
    }
    const ops: IRequestOp[] = [];
    let bytes = 0;
    for (const [key, c] of byKey) {
      const k = Buffer.from(key);
      if (c.op === "put") {
        const value = Buffer.from(JSON.stringify(c.manifest));
        bytes += k.length + value.length;
        ops.push({ request_put: { key: k, value } });
      } else {
        bytes += k.length;
        ops.push({ request_delete_range: { key: k } });
      }
    }
    // The key's mod_revision is the generation; its value records the one the commit was based on.
    ops.push({ request_put: { key: Buffer.from(this.metaKey), value: Buffer.from(String(base)) } });
    const ms = CALL_TIMEOUT_MS + Math.ceil(bytes / 1e6) * COMMIT_MS_PER_MB;
    const txn = this.client
      .if(this.metaKey, "Mod", "==", base)
      .then(...ops)
      .else(this.client.get(this.metaKey))
      .options({ deadline: Date.now() + ms });
    let res: ITxnResponse;
    try {
      res = await withTimeout(txn.commit(), ms + 1000);
    } catch (e) {
      if (e instanceof Error && isTooLarge(e)) {
        throw new PodwallError(
          "too-large",
          /too many operations/i.test(e.message)
            ? `the write holds ${byKey.size} changes, more than etcd takes in one transaction (etcd --max-txn-ops)`
            : `the write is ${bytes} bytes, more than etcd takes in one request (etcd --max-request-bytes)`,
        );
      }
      if (!isUnreachable(e)) throw new PodwallError("unavailable", `etcd refused the write: ${errorText(e)}`);
      this.unreachable(e);
      throw new PodwallError("unavailable", `etcd unreachable: ${errorText(e)}`);
    }
    this.reachable();
    if (!res.succeeded) {
      const kv = res.responses[0]?.response_range?.kvs[0];
      throw new StoreConflict(kv ? Number(kv.mod_revision) : 0);
    }
    return Number(res.header.revision);
  }

  health(): StoreHealth {
    const reason = this.watchDown ?? this.callDown;
    if (reason === undefined) return { writable: true };
    return { writable: false, reason: `etcd unreachable at ${this.endpoints.join(",")}: ${reason}` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.wakers) wake();
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) {
      // A cancel waits for etcd's answer, which an unreachable etcd never gives.
      await withTimeout(watcher.cancel(), 1000).catch(() => undefined);
    }
    this.client.close();
    this.follow = undefined;
  }

  /** Runs a read, retrying with backoff while etcd cannot be read; rejects only once closed. */
  private async untilRead<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new PodwallError("unavailable", `etcd unreachable: the store at ${this.location} was closed before it was read`);
      try {
        const result = await read();
        this.reachable();
        return result;
      } catch (e) {
        if (this.closed) continue;
        // A compaction between two pages only means reading again at a newer revision.
        if (!isCompacted(e)) this.unreachable(e);
        await this.sleep(Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS));
      }
    }
  }

  /** Everything under the prefix at one revision, read in pages. */
  private async readAll(): Promise<Snapshot> {
    const objects: Snapshot["objects"] = new Map();
    const unreadable: string[] = [];
    let generation = 0;
    let id: string | undefined;
    let revision: number | undefined;
    let start = Buffer.from(this.prefix);
    const end = prefixEnd(Buffer.from(this.prefix));
    for (;;) {
      const range = this.client.getAll().inRange({ start, end }).limit(PAGE_KEYS);
      if (revision !== undefined) range.revision(revision);
      const res = await withTimeout(range.exec(), CALL_TIMEOUT_MS + 1000);
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) {
        const key = kv.key.toString("utf8");
        if (key === this.metaKey) {
          generation = Number(kv.mod_revision);
          continue;
        }
        if (key === this.idKey) {
          id = kv.value.toString("utf8");
          continue;
        }
        const object = this.decode(key, kv);
        if (object === undefined) continue;
        if (object === "unreadable") unreadable.push(key);
        else objects.set(key, object);
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { revision, generation, id, objects, unreadable };
  }

  /** Makes the model's identity, unless another store made it first: then that one is it. */
  private async makeId(): Promise<string> {
    const id = randomUUID();
    const res = await withTimeout(
      this.client.if(this.idKey, "Create", "==", 0).then(this.client.put(this.idKey).value(id)).else(this.client.get(this.idKey)).commit(),
      CALL_TIMEOUT_MS + 1000,
    );
    if (res.succeeded) return id;
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (!kv) throw new Error(`${this.idKey} vanished while it was being made`);
    return kv.value.toString("utf8");
  }

  /** The object a key holds; undefined for keys that are not objects, "unreadable" for a value that is none. */
  private decode(key: string, kv: IKeyValue): { ref: ObjectRef; modRevision: number; manifest: Manifest } | "unreadable" | undefined {
    const ref = this.refOf(key);
    if (!ref) return key.startsWith(this.objectsPrefix) ? "unreadable" : undefined;
    let manifest: unknown;
    try {
      manifest = JSON.parse(kv.value.toString("utf8"));
    } catch {
      return "unreadable";
    }
    if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) return "unreadable";
    return { ref, modRevision: Number(kv.mod_revision), manifest: manifest as Manifest };
  }

  private refOf(key: string): ObjectRef | undefined {
    if (!key.startsWith(this.objectsPrefix)) return undefined;
    const parts = key.slice(this.objectsPrefix.length).split("/");
    if (parts.length !== 3) return undefined;
    const [kind, namespace, name] = parts as [string, string, string];
    if (!(KINDS as readonly string[]).includes(kind) || name === "") return undefined;
    return { kind: kind as Kind, namespace, name };
  }

  /** Watches the prefix from the revision after the last one seen. */
  private watch(): void {
    if (this.closed) return;
    const watcher = this.client
      .watch()
      .prefix(this.prefix)
      .startRevision(String(this.seen + 1))
      .watcher();
    this.watcher = watcher;
    watcher.on("connected", () => {
      if (this.watcher !== watcher) return;
      this.watchDown = undefined;
    });
    watcher.on("disconnected", (err) => {
      if (this.watcher !== watcher) return;
      this.watchDown = errorText(err);
      // The client resumes from the revision after the last response's header,
      // which can be past events it has not sent yet; resume after what was delivered.
      watcher.request.start_revision = String(this.seen + 1);
    });
    watcher.on("data", (res) => {
      if (this.watcher !== watcher) return;
      this.resyncs = 0;
      this.onEvents(res);
    });
    watcher.on("error", () => {
      // Cancelled by etcd, which it does when the revision to resume from is compacted away.
      if (this.watcher !== watcher) return;
      this.watcher = undefined;
      void this.resync();
    });
  }

  private onEvents(res: IWatchResponse): void {
    // Events come in revision order, one revision's events within one response.
    let i = 0;
    const events = res.events;
    while (i < events.length) {
      const revision = Number(events[i]!.kv.mod_revision);
      const changes: Change[] = [];
      let commit = false;
      for (; i < events.length && Number(events[i]!.kv.mod_revision) === revision; i++) {
        const ev = events[i]!;
        if (revision <= this.seen) continue;
        const key = ev.kv.key.toString("utf8");
        if (key === this.metaKey) {
          commit = true;
          continue;
        }
        if (key.startsWith(this.objectsPrefix)) commit = true;
        const change = this.changeOf(key, ev.type === "Put" ? ev.kv : undefined);
        if (change) changes.push(change);
      }
      if (revision <= this.seen) continue;
      this.seen = revision;
      // Other keys under the prefix are no part of the model and make no generation.
      if (!commit) continue;
      this.delivered = revision;
      this.follow?.({ generation: revision, changes });
    }
  }

  /** The change a key's new value (undefined: deleted) makes, updating the live map; none for keys that are not objects. */
  private changeOf(key: string, kv: IKeyValue | undefined): Change | undefined {
    const object = kv ? this.decode(key, kv) : undefined;
    if (object !== undefined && object !== "unreadable") {
      this.live.set(key, object.modRevision);
      return { op: "put", ref: object.ref, manifest: object.manifest };
    }
    // A value no object can be read from is as good as gone.
    const ref = this.refOf(key);
    if (!ref || !this.live.has(key)) return undefined;
    this.live.delete(key);
    return { op: "delete", ref };
  }

  /** Reads everything again and delivers what changed since the last delivery as one commit, then watches on. */
  private async resync(): Promise<void> {
    if (this.resyncs > 0) await this.sleep(Math.min(RETRY_MIN_MS * 2 ** this.resyncs, RETRY_MAX_MS));
    this.resyncs++;
    let snapshot: Snapshot;
    try {
      snapshot = await this.untilRead(() => this.readAll());
    } catch {
      return; // closed
    }
    if (this.closed) return;
    const changes: Change[] = [];
    for (const [key, o] of snapshot.objects) {
      if (this.live.get(key) === o.modRevision) continue;
      this.live.set(key, o.modRevision);
      changes.push({ op: "put", ref: o.ref, manifest: o.manifest });
    }
    for (const key of [...this.live.keys()]) {
      if (snapshot.objects.has(key)) continue;
      const ref = this.refOf(key);
      this.live.delete(key);
      if (ref) changes.push({ op: "delete", ref });
    }
    // Objects changed without the meta key (written by something else than Podwall)
    // still make a new generation: the read's revision.
    const generation = snapshot.generation > this.delivered ? snapshot.generation : changes.length > 0 ? snapshot.revision : undefined;
    this.seen = Math.max(this.seen, snapshot.revision);
    if (generation !== undefined && generation > this.delivered) {
      this.delivered = generation;
      this.follow?.({ generation, changes });
    }
    this.watch();
  }

  private unreachable(e: unknown): void {
    this.callDown = errorText(e);
    if (this.probing || this.closed) return;
    this.probing = true;
    void this.probe();
  }

  private reachable(): void {
    this.callDown = undefined;
  }

  /** Clears a failed call's verdict once etcd answers again, whether or not anyone writes. */
  private async probe(): Promise<void> {
    try {
      while (this.callDown !== undefined && !this.closed) {
        await this.sleep(PROBE_MS);
        if (this.closed) return;
        try {
          await withTimeout(this.client.get(this.metaKey).exec(), CALL_TIMEOUT_MS + 1000);
          this.reachable();
        } catch (e) {
          this.callDown = errorText(e);
        }
      }
    } finally {
      this.probing = false;
    }
  }

  /** Waits, or less if the store is closed meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
