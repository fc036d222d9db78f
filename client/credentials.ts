/**
 * What a client proves itself with, read from files: a bearer token
 * (`--token-file`) and the TLS files (`--ca`, `--cert`, `--key`). Each file
 * is read at start, so a missing one fails at once, and again whenever it
 * changes (inode, size or times), so a rotated token or certificate is used
 * from the next request on, as a projected service-account token or a
 * cert-manager secret is rotated in place. A token is never put into an error
 * message or a log line.
 */
import { type Stats, readFileSync, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";

/** What a client needs to reach a server that asks for credentials or speaks TLS. */
export interface ClientOptions {
  /** PEM file of the CA(s) to trust for the server's certificate, instead of the system's. */
  readonly ca?: string;
  /** PEM file of the client certificate, with `key`. */
  readonly cert?: string;
  readonly key?: string;
  /** File holding the bearer token. */
  readonly tokenFile?: string;
}

/** Why options cannot be used, or undefined when they can. */
export function clientOptionsProblem(o: ClientOptions): string | undefined {
  if ((o.cert === undefined) !== (o.key === undefined)) return "--cert and --key go together: give both or neither";
  return undefined;
}

/** A credentials file that cannot be read or used: names the file, never holds what is in it. */
export class CredentialsError extends Error {}

/** A file, re-read when it changes. */
export class WatchedFile {
  private seen: string;
  private content: Buffer;

  constructor(
    readonly path: string,
    private readonly what: string,
  ) {
    try {
      this.seen = identity(statSync(path));
      this.content = readFileSync(path);
    } catch (e) {
      throw new CredentialsError(this.failure(e));
    }
  }

  /** The content as last read. */
  get latest(): Buffer {
    return this.content;
  }

  /** The content now, and whether the file changed since it was last read. */
  async read(): Promise<{ readonly content: Buffer; readonly changed: boolean }> {
    try {
      const now = identity(await stat(this.path));
      if (now === this.seen) return { content: this.content, changed: false };
      const content = await readFile(this.path);
      this.seen = now;
      this.content = content;
      return { content, changed: true };
    } catch (e) {
      throw new CredentialsError(this.failure(e));
    }
  }

  /** Names the file and the system's reason, never the content. */
  private failure(e: unknown): string {
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read the ${this.what} ${this.path}: ${code ?? (e instanceof Error ? e.message : String(e))}`;
  }
}

function identity(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/**
 * RFC 6750's b64token, which is what an `Authorization: Bearer` value may
 * hold: letters, digits, `-._~+/`, then `=` padding.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A bearer token from a file: trimmed, checked, re-read when the file changes. */
export class TokenFile {
  private readonly file: WatchedFile;
  private current: string;

  constructor(path: string) {
    this.file = new WatchedFile(path, "token file");
    this.current = this.parse(this.file.latest);
  }

  /** The token now in the file. */
  async token(): Promise<string> {
    const { content, changed } = await this.file.read();
    if (changed) this.current = this.parse(content);
    return this.current;
  }

  /** The `Authorization` header value. */
  async authorization(): Promise<string> {
    return `Bearer ${await this.token()}`;
  }

  private parse(content: Buffer): string {
    const path = this.file.path;
    const token = content.toString("utf8").trim();
    if (token === "") throw new CredentialsError(`the token file ${path} is empty`);
    if (!B64TOKEN.test(token)) throw new CredentialsError(`the token file ${path} holds characters a bearer token cannot have (or more than one line)`);
    return token;
  }
}

/** The PEM material for a TLS client connection. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The TLS files of a client, re-read when one changes. */
export class ClientTlsFiles {
  private readonly files: { readonly ca?: WatchedFile; readonly cert?: WatchedFile; readonly key?: WatchedFile };

  constructor(o: ClientOptions) {
    this.files = {
      ...(o.ca !== undefined ? { ca: new WatchedFile(o.ca, "CA file (--ca)") } : {}),
      ...(o.cert !== undefined ? { cert: new WatchedFile(o.cert, "client certificate (--cert)") } : {}),
      ...(o.key !== undefined ? { key: new WatchedFile(o.key, "client key (--key)") } : {}),
    };
  }

  get empty(): boolean {
    return this.files.ca === undefined && this.files.cert === undefined;
  }

  /** The material as read at start. */
  initial(): TlsMaterial {
    return this.materialOf(this.files.ca?.latest, this.files.cert?.latest, this.files.key?.latest);
  }

  /** The material now, and whether any file changed since the previous call. */
  async current(): Promise<{ readonly material: TlsMaterial; readonly changed: boolean }> {
    const [ca, cert, key] = await Promise.all([this.files.ca?.read(), this.files.cert?.read(), this.files.key?.read()]);
    return { material: this.materialOf(ca?.content, cert?.content, key?.content), changed: Boolean(ca?.changed || cert?.changed || key?.changed) };
  }

  private materialOf(ca: Buffer | undefined, cert: Buffer | undefined, key: Buffer | undefined): TlsMaterial {
    return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
}
