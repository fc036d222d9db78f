/**
 * The embedded durable store: one LMDB environment in a data directory,
 * locked to one podwall process.
 *
 * Layout, one key each:
 *   obj/<Kind>/<namespace>/<name>  JSON of the object's manifest
 *   meta/generation                generation of the last commit (absent: 0)
 *   meta/format                    layout version, FORMAT
 *   meta/id                        the stored model's identity, made with the format
 *
 * Writes use transactionSync only: with overlappingSync off it returns once
 * the commit is on disk, and the generation check, the changes and the new
 * generation commit together. lmdb-js's asynchronous transactions need
 * threadsafe callbacks that do not run in every setup, and are not used.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type RootDatabase, open as openLmdb } from "lmdb";
import { isNamespaced } from "../model/kinds.js";
import { KINDS, type Manifest } from "../model/types.js";
import { PodwallError } from "../service/errors.js";
import { DirLock } from "./dir-lock.js";
import { type Change, type Commit, type ObjectRef, type Store, type StoreHealth, type StoredModel, StoreConflict, StoreOpenError, refKey } from "./types.js";

/** The layout version this podwall reads and writes. */
export const FORMAT = 1;

export const DATA_FILE = "data.mdb";
const LOCK_MDB = "lock.mdb";
const OBJ = "obj/";
const GENERATION_KEY = "meta/generation";
const FORMAT_KEY = "meta/format";
const ID_KEY = "meta/id";

export function objectKey(ref: ObjectRef): string {
  return OBJ + refKey(ref);
}

/** The options every open of a podwall environment uses; tests open one raw with the same. */
export function lmdbOptions(dir: string) {
  return {
    path: dir,
    // lmdb-js takes a path with a dot in its last part for a file, not a directory.
    noSubdir: false,
    compression: false,
    overlappingSync: false,
    encoding: "string",
  } as const;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What an obj/ key names, or why it names nothing podwall writes. */
function parseObjectKey(key: string): ObjectRef | string {
  const parts = key.slice(OBJ.length).split("/");
  if (parts.length !== 3) return "not obj/<Kind>/<namespace>/<name>";
  const [kind, namespace, name] = parts as [string, string, string];
  const k = KINDS.find((x) => x === kind);
  if (!k) return `unknown kind ${JSON.stringify(kind)}`;
  if (name === "") return "empty name";
  if (isNamespaced(k) !== (namespace !== "")) return isNamespaced(k) ? `a ${k} without a namespace` : `a ${k} with a namespace`;
  return { kind: k, namespace, name };
}

/**
 * Checks the header of data.mdb before LMDB opens it. lmdb-js 3.5 frees memory
 * twice when the native open fails, which kills the process (SIGSEGV) instead
 * of throwing, and reading past the end of a truncated file kills it with
 * SIGBUS; what LMDB would reject is therefore rejected here first. The offsets
 * are those of the bundled LMDB (64-bit): a 24-byte page header, then MDB_meta.
 */
function checkDataFile(dir: string): void {
  for (const name of [DATA_FILE, LOCK_MDB]) {
    const file = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new StoreOpenError(`cannot open ${file}: ${errorText(e)}`);
    }
    if (!st.isFile()) throw new StoreOpenError(`cannot open ${file}: not a regular file`);
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    } catch (e) {
      throw new StoreOpenError(`cannot open ${file}: ${errorText(e)}`);
    }
  }
  const file = path.join(dir, DATA_FILE);
  const MAX_PAGE = 0x10000;
  let buf: Buffer;
  let size: number;
  try {
    const fd = fs.openSync(file, "r");
    try {
      size = fs.fstatSync(fd).size;
      buf = Buffer.alloc(Math.min(size, 2 * MAX_PAGE));
      buf = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new StoreOpenError(`cannot open ${file}: ${errorText(e)}`);
  }
  // LMDB initialises an empty file as a new environment.
  if (size === 0) return;
  const invalid = (why: string) => new StoreOpenError(`${file} is not an LMDB database (MDB_INVALID: File is not an LMDB file): ${why}`);
  const P_META = 0x08;
  const META = 24;
  if (buf.length < 2 * 512) throw invalid(`${size} bytes, shorter than its two meta pages`);
  if ((buf.readUInt16LE(18) & P_META) === 0) throw invalid("its first page is not a meta page");
  if (buf.readUInt32LE(META) !== 0xbeefc0de) throw invalid("no LMDB magic number in its meta page");
  const version = buf.readUInt32LE(META + 4) & 0xffff;
  if (version !== 2) throw new StoreOpenError(`${file} is LMDB data version ${version}, this LMDB reads version 2 (MDB_VERSION_MISMATCH)`);
  const pageSize = buf.readUInt32LE(META + 24);
  if (pageSize < 512 || pageSize > MAX_PAGE || (pageSize & (pageSize - 1)) !== 0) throw invalid(`page size ${pageSize}`);
  if (buf.length < 2 * pageSize) throw invalid(`${size} bytes, shorter than its two meta pages of ${pageSize} bytes`);
  // LMDB reads the meta page with the later transaction; the roots of its two
  // trees are pages that were written, so they must lie inside the file.
  const txnid = (page: number) => buf.readBigUInt64LE(page * pageSize + META + 128);
  const latest = txnid(1) > txnid(0) ? 1 : 0;
  const pages = BigInt(Math.floor(size / pageSize));
  for (const [tree, offset] of [
    ["free-page", 64],
    ["main", 112],
  ] as const) {
    const root = buf.readBigUInt64LE(latest * pageSize + META + offset);
    if (root !== 0xffffffffffffffffn && root >= pages) {
      throw new StoreOpenError(`${file} is truncated: its ${tree} tree's root is page ${root}, the file has ${pages} pages (MDB_CORRUPTED)`);
    }
  }
}

export class LmdbStore implements Store {
  readonly kind = "lmdb";
  private follow: ((c: Commit) => void) | undefined;
  private closed = false;

  private constructor(
    readonly location: string,
    private readonly db: RootDatabase<string, string>,
    private readonly lock: DirLock,
  ) {}

  /** Creates the directory if missing, locks it, opens the environment and checks its format; throws StoreOpenError. */
  static open(dir: string): LmdbStore {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StoreOpenError(`cannot create data directory ${dir}: ${errorText(e)}`);
    }
    const lock = DirLock.acquire(dir);
    let db: RootDatabase<string, string> | undefined;
    try {
      checkDataFile(dir);
      try {
        db = openLmdb<string, string>(lmdbOptions(dir));
      } catch (e) {
        throw new StoreOpenError(`cannot open ${path.join(dir, DATA_FILE)}: ${errorText(e)}`);
      }
      checkFormat(dir, db);
      return new LmdbStore(dir, db, lock);
    } catch (e) {
      db?.close().catch(() => {});
      lock.release();
      throw e instanceof StoreOpenError ? e : new StoreOpenError(`cannot open data directory ${dir}: ${errorText(e)}`);
    }
  }

  async open(follow: (c: Commit) => void): Promise<StoredModel> {
    if (this.closed) throw new PodwallError("unavailable", `data directory ${this.location} is closed`);
    let generation = 0;
    let id = "";
    const manifests: Manifest[] = [];
    const corrupt = (key: unknown, why: string) =>
      new StoreOpenError(`data directory ${this.location} is corrupt: key ${typeof key === "string" ? key : JSON.stringify(key)}: ${why}`);
    let entries: { key: string; value: string }[];
    try {
      entries = [...this.db.getRange({ snapshot: true })];
    } catch (e) {
      throw new StoreOpenError(`cannot read data directory ${this.location}: ${errorText(e)}`);
    }
    for (const { key, value } of entries) {
      if (typeof key !== "string") throw corrupt(key, "not a key podwall writes");
      if (key === FORMAT_KEY) continue;
      if (key === ID_KEY) {
        id = value;
        continue;
      }
      if (key === GENERATION_KEY) {
        const g = parseGeneration(value);
        if (typeof g === "string") throw corrupt(key, g);
        generation = g;
        continue;
      }
      if (!key.startsWith(OBJ)) throw corrupt(key, "not a key podwall writes");
      const ref = parseObjectKey(key);
      if (typeof ref === "string") throw corrupt(key, ref);
      let manifest: unknown;
      try {
        manifest = JSON.parse(value);
      } catch (e) {
        throw corrupt(key, `not JSON: ${errorText(e)}`);
      }
      if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw corrupt(key, "not a JSON object");
      manifests.push(manifest as Manifest);
    }
    if (id === "") throw corrupt(ID_KEY, "missing");
    this.follow = follow;
    return { id, generation, manifests };
  }

  async commit(changes: readonly Change[], base: number): Promise<number> {
    if (this.closed) throw new PodwallError("unavailable", `data directory ${this.location} is closed`);
    let generation: number;
    try {
      generation = this.db.transactionSync(() => {
        const stored = parseGeneration(this.db.get(GENERATION_KEY));
        if (typeof stored === "string") throw new Error(`key ${GENERATION_KEY}: ${stored}`);
        if (stored !== base) throw new StoreConflict(stored);
        for (const c of changes) {
          if (c.op === "put") this.db.putSync(objectKey(c.ref), JSON.stringify(c.manifest));
          else this.db.removeSync(objectKey(c.ref));
        }
        this.db.putSync(GENERATION_KEY, String(base + 1));
        return base + 1;
      });
    } catch (e) {
      // A manifest that is not JSON (a BigInt, a cycle) is the caller's bug, not the store's.
      if (e instanceof StoreConflict || e instanceof TypeError) throw e;
      throw new PodwallError("unavailable", `cannot write to data directory ${this.location}: ${errorText(e)}`);
    }
    this.follow?.({ generation, changes });
    return generation;
  }

  health(): StoreHealth {
    return this.closed ? { writable: false, reason: "closed" } : { writable: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.follow = undefined;
    try {
      await this.db.close();
    } finally {
      this.lock.release();
    }
  }
}

/** The generation stored under meta/generation (0 when absent), or why the value is not one. */
function parseGeneration(value: string | undefined): number | string {
  if (value === undefined) return 0;
  if (!/^(0|[1-9][0-9]*)$/.test(value)) return `not a generation: ${JSON.stringify(value.slice(0, 40))}`;
  const g = Number(value);
  return Number.isSafeInteger(g) ? g : `generation ${value} out of range`;
}

/** Writes FORMAT into a fresh environment; refuses one from a newer podwall or without a format. */
function checkFormat(dir: string, db: RootDatabase<string, string>): void {
  const raw = db.get(FORMAT_KEY);
  if (raw === undefined) {
    if ([...db.getKeys({ limit: 1 })].length > 0) {
      throw new StoreOpenError(`data directory ${dir} is corrupt: key ${FORMAT_KEY}: missing while the database holds other keys`);
    }
    db.transactionSync(() => {
      db.putSync(FORMAT_KEY, String(FORMAT));
      db.putSync(ID_KEY, randomUUID());
    });
    return;
  }
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) {
    throw new StoreOpenError(`data directory ${dir} is corrupt: key ${FORMAT_KEY}: not a format version: ${JSON.stringify(raw.slice(0, 40))}`);
  }
  const format = Number(raw);
  if (format > FORMAT) {
    throw new StoreOpenError(`data directory ${dir} holds format ${format}, written by a newer podwall; this one reads format ${FORMAT}`);
  }
}
