/**
 * From the credentials a request came with to the principal it acts as: a
 * bearer token (compared by its SHA-256, in constant time, against every
 * known digest) or a client certificate that the TLS handshake verified
 * against `--client-ca` (by subject common name). Both front doors ask the
 * same authenticator. The auth file is re-read on `reload()` (SIGHUP) and
 * when it changes; a file that cannot be read leaves the previous table in
 * force. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Stats, unwatchFile, watchFile } from "node:fs";
import type { Logger } from "pino";
import { OPEN, type Principal, UNAUTHENTICATED } from "../service/context.js";
import type { Metrics } from "../service/metrics.js";
import { toPodwallError } from "../service/errors.js";
import { type AuthTable, readAuthFile } from "./auth-file.js";

export interface Credentials {
  /** The `Authorization` header (REST) or metadata value (gRPC). */
  readonly authorization?: string | undefined;
  /** The subject common name of a client certificate the TLS handshake verified. */
  readonly certificateName?: string | undefined;
}

/** How often the auth file is looked at for a change. */
const WATCH_INTERVAL_MS = 1_000;

export class Authenticator {
  private table: AuthTable;
  private watching: ((now: Stats, before: Stats) => void) | undefined;

  private constructor(
    /** Undefined: an open server, where every caller may do everything. */
    readonly path: string | undefined,
    table: AuthTable,
    private readonly deps: { logger?: Logger; metrics?: Metrics } = {},
  ) {
    this.table = table;
  }

  /** Every caller is OPEN. */
  static open(): Authenticator {
    return new Authenticator(undefined, { tokens: [], certificates: new Map() });
  }

  /** The identities of an auth file, watched for changes. Throws when the file cannot be read or is invalid. */
  static fromFile(path: string, deps: { logger?: Logger; metrics?: Metrics } = {}): Authenticator {
    const a = new Authenticator(path, readAuthFile(path), deps);
    a.watching = (now, before) => {
      if (changed(now, before)) a.reload();
    };
    watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, a.watching);
    return a;
  }

  /** True when requests need credentials. */
  get required(): boolean {
    return this.path !== undefined;
  }

  /** Identities known, for the start-up log: counts only. */
  get size(): { tokens: number; certificates: number } {
    return { tokens: this.table.tokens.length, certificates: this.table.certificates.size };
  }

  /** Reads the auth file again; keeps the table in force when it cannot. True when the new file is in force. */
  reload(): boolean {
    if (this.path === undefined) return true;
    try {
      this.table = readAuthFile(this.path);
      this.deps.metrics?.authReloads.inc({ file: "auth", outcome: "ok" });
      this.deps.logger?.info({ file: this.path, ...this.size }, "auth file re-read");
      return true;
    } catch (e) {
      this.deps.metrics?.authReloads.inc({ file: "auth", outcome: "error" });
      this.deps.logger?.error({ file: this.path, err: toPodwallError(e).message }, "auth file cannot be read; the identities read before stay in force");
      return false;
    }
  }

  /** The principal a request acts as: UNAUTHENTICATED when no credentials given are known. */
  principal(c: Credentials): Principal {
    if (this.path === undefined) return OPEN;
    const token = bearer(c.authorization);
    if (token !== undefined) {
      const found = this.byToken(token);
      if (found) return found;
    }
    if (c.certificateName !== undefined) return this.table.certificates.get(c.certificateName) ?? UNAUTHENTICATED;
    return UNAUTHENTICATED;
  }

  /** Compares the token's digest with every known digest, without stopping at a match. */
  private byToken(token: string): Principal | undefined {
    const digest = createHash("sha256").update(token).digest();
    let found: Principal | undefined;
    for (const t of this.table.tokens) {
      if (timingSafeEqual(digest, t.digest)) found = t.identity;
    }
    return found;
  }

  close(): void {
    if (this.watching && this.path !== undefined) unwatchFile(this.path, this.watching);
    this.watching = undefined;
  }
}

/** A file replaced (a Kubernetes secret swaps a symlink), rewritten or resized. */
export function changed(now: Stats, before: Stats): boolean {
  return now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size;
}

/** `Bearer T` (any case of the scheme) → T. */
function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
