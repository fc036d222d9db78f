/**
 * The one HTTP transport of the CLI and the agent: undici's fetch over a
 * dispatcher of our own, because Node 20's global fetch cannot be given a CA
 * or a client certificate. It adds the bearer token to every request, trusts
 * `--ca` instead of the system's CAs, presents `--cert`/`--key`, and picks up
 * a changed token or TLS file on the next request (a new dispatcher for new
 * TLS files; requests in flight finish on the old one).
 */
import { Agent, Headers, type RequestInit, type Response, fetch } from "undici";
import { type ClientOptions, ClientTlsFiles, CredentialsError, type TlsMaterial, TokenFile, clientOptionsProblem } from "./credentials.js";

export type { ClientOptions } from "./credentials.js";

export class Transport {
  private readonly tls: ClientTlsFiles;
  private readonly tokenFile: TokenFile | undefined;
  private dispatcher: Agent;

  /** Reads every file given at once: throws, naming the file, when one cannot be read. */
  constructor(readonly options: ClientOptions = {}) {
    const problem = clientOptionsProblem(options);
    if (problem !== undefined) throw new CredentialsError(problem);
    this.tls = new ClientTlsFiles(options);
    this.tokenFile = options.tokenFile !== undefined ? new TokenFile(options.tokenFile) : undefined;
    this.dispatcher = dispatcherFor(this.tls.initial());
  }

  /** True when the requests carry a token or a client certificate. */
  get presentsCredentials(): boolean {
    return this.options.tokenFile !== undefined || this.options.cert !== undefined;
  }

  /** fetch, with the credentials and TLS files of this transport; redirects are refused, so a token never follows one. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.tokenFile) headers.set("authorization", await this.tokenFile.authorization());
    const { material, changed } = await this.tls.current();
    if (changed) {
      const old = this.dispatcher;
      this.dispatcher = dispatcherFor(material);
      void old.close().catch(() => {});
    }
    return fetch(url, { redirect: "error", ...init, headers, dispatcher: this.dispatcher });
  }

  /** Closes the connections it keeps open, once the requests in flight are done. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/**
 * No timeouts of undici's own: a long poll holds its request for as long as
 * it asks, and every caller passes an abort signal with its deadline.
 */
function dispatcherFor(m: TlsMaterial): Agent {
  return new Agent({ headersTimeout: 0, bodyTimeout: 0, connect: { ...m } });
}
