/**
 * One podwall process per data directory. LMDB itself lets several processes
 * share an environment, but a second server would neither see the first one's
 * commits in its view nor be seen by it, so the directory is locked by a file.
 * Node has no flock, so the file names its owner (pid and process start time)
 * and an owner that is gone, killed with SIGKILL or replaced by another process
 * under the same pid, is recognised and its file taken over.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StoreOpenError } from "./types.js";

export const LOCK_FILE = "podwall.lock";

/** Who holds a lock: `start` is field 22 of /proc/PID/stat, null where there is no /proc. */
export interface LockOwner {
  readonly pid: number;
  readonly start: string | null;
}

/** The start time of a live process, undefined if there is no such process (or only its zombie); null without /proc. */
export function processStartTime(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (e) {
    if (!fs.existsSync("/proc/self/stat")) return null;
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ESRCH") return undefined;
    throw e;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  // A zombie has exited and will never release its lock; it only waits to be reaped.
  if (state === "Z" || state === "X") return undefined;
  return fields[19] ?? null;
}

function isAlive(owner: LockOwner): boolean {
  const start = processStartTime(owner.pid);
  if (start === undefined) return false;
  if (start !== null && owner.start !== null) return start === owner.start;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null) return undefined;
    const { pid, start } = v as Record<string, unknown>;
    if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
    if (start !== null && typeof start !== "string") return undefined;
    return { pid, start };
  } catch {
    return undefined;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class DirLock {
  private released = false;

  private constructor(
    readonly file: string,
    private readonly content: string,
  ) {}

  /** Takes the lock of `dir` (which must exist) or throws StoreOpenError naming the live owner. */
  static acquire(dir: string): DirLock {
    const file = path.join(dir, LOCK_FILE);
    const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid) ?? null };
    const content = `${JSON.stringify(me)}\n`;
    const unique = () => `${file}.${process.pid}.${randomBytes(6).toString("hex")}`;
    // The lock file appears by link() from a complete temporary file, so nobody
    // ever reads a half-written one; a file that cannot be parsed is left over
    // from a crash of the machine and is stale.
    const tmp = `${unique()}.tmp`;
    try {
      fs.writeFileSync(tmp, content, { flag: "wx" });
    } catch (e) {
      throw new StoreOpenError(`cannot create the lock file in data directory ${dir}: ${errorText(e)}`);
    }
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          fs.linkSync(tmp, file);
          return new DirLock(file, content);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
            throw new StoreOpenError(`cannot create the lock file ${file}: ${errorText(e)}`);
          }
        }
        const seen = readIfExists(file);
        if (seen === undefined) continue;
        const owner = parseOwner(seen);
        if (owner && isAlive(owner)) {
          throw new StoreOpenError(
            owner.pid === process.pid
              ? `data directory ${dir} is already open in this process (pid ${owner.pid})`
              : `data directory ${dir} is locked by another podwall process (pid ${owner.pid})`,
          );
        }
        // Deleting the stale file outright could delete a fresh one that another
        // starting process put there since it was read; moving it aside and
        // checking that what moved is what was judged stale cannot.
        const aside = `${unique()}.stale`;
        try {
          fs.renameSync(file, aside);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw new StoreOpenError(`cannot take over the stale lock file ${file}: ${errorText(e)}`);
        }
        if (readIfExists(aside) !== seen) {
          try {
            fs.linkSync(aside, file);
          } catch {
            // Someone else holds the lock file now; the next round reports them.
          }
        }
        fs.rmSync(aside, { force: true });
      }
      throw new StoreOpenError(`cannot take the lock file ${file}: it keeps changing (several podwall processes starting on data directory ${dir}?)`);
    } catch (e) {
      throw e instanceof StoreOpenError ? e : new StoreOpenError(`cannot lock data directory ${dir}: ${errorText(e)}`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Removes the lock file if it is still this lock's; releasing twice does nothing. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readIfExists(this.file) === this.content) fs.unlinkSync(this.file);
    } catch {
      // A lock file left behind names a process that has gone and is taken over.
    }
  }
}
