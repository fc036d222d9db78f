/**
 * The server's TLS files (`--tls-cert`, `--tls-key`, `--client-ca`), read at
 * start and again whenever one changes, for both front doors: REST swaps its
 * secure context, gRPC is told through a certificate provider. A change that
 * cannot be read (a half-written file) leaves the files in force as they were.
 */
import { readFileSync, type Stats, unwatchFile, watchFile } from "node:fs";
import { type SecureContextOptions, createSecureContext } from "node:tls";
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Metrics } from "../service/metrics.js";
import { changed } from "./authenticator.js";

export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  /** Verify client certificates against this CA; without it no client certificate is asked for. */
  readonly clientCa?: string;
}

interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

type CaListener = Parameters<grpc.experimental.CertificateProvider["addCaCertificateListener"]>[0];
type IdentityListener = Parameters<grpc.experimental.CertificateProvider["addIdentityCertificateListener"]>[0];

const WATCH_INTERVAL_MS = 1_000;

export class TlsFiles implements grpc.experimental.CertificateProvider {
  private material: TlsMaterial;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<() => void>();
  private readonly watching = (now: Stats, before: Stats) => {
    if (changed(now, before)) this.reload();
  };

  constructor(
    readonly paths: TlsPaths,
    private readonly deps: { logger?: Logger; metrics?: Metrics } = {},
  ) {
    this.material = read(paths);
    for (const p of this.files()) watchFile(p, { interval: WATCH_INTERVAL_MS, persistent: false }, this.watching);
  }

  private files(): string[] {
    return [this.paths.cert, this.paths.key, ...(this.paths.clientCa ? [this.paths.clientCa] : [])];
  }

  /** For a node https server: the files, and client certificates asked for (not required: a token or /healthz need none) when a client CA is given. */
  serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    return { ...this.secureContext(), requestCert: this.paths.clientCa !== undefined, rejectUnauthorized: false };
  }

  secureContext(): SecureContextOptions {
    const m = this.material;
    return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) };
  }

  /** Calls `fn` after each change that was read. */
  onChange(fn: () => void): void {
    this.changeListeners.add(fn);
  }

  reload(): boolean {
    try {
      this.material = read(this.paths);
    } catch (e) {
      this.deps.metrics?.authReloads.inc({ file: "tls", outcome: "error" });
      this.deps.logger?.error({ err: e instanceof Error ? e.message : String(e) }, "TLS files cannot be read; the certificates read before stay in force");
      return false;
    }
    this.deps.metrics?.authReloads.inc({ file: "tls", outcome: "ok" });
    this.deps.logger?.info({ cert: this.paths.cert }, "TLS files re-read");
    for (const fn of this.caListeners) fn(this.caUpdate());
    for (const fn of this.identityListeners) fn(this.identityUpdate());
    for (const fn of this.changeListeners) fn();
    return true;
  }

  // grpc-js certificate provider: one object serves both the identity and the
  // CA, so the order in which grpc-js takes the two providers does not matter.
  // The first update comes after the listener is added (a microtask later):
  // grpc-js starts to watch for updates only once its listeners are in place.
  addCaCertificateListener(fn: CaListener): void {
    this.caListeners.add(fn);
    queueMicrotask(() => this.caListeners.has(fn) && fn(this.caUpdate()));
  }
  removeCaCertificateListener(fn: CaListener): void {
    this.caListeners.delete(fn);
  }
  addIdentityCertificateListener(fn: IdentityListener): void {
    this.identityListeners.add(fn);
    queueMicrotask(() => this.identityListeners.has(fn) && fn(this.identityUpdate()));
  }
  removeIdentityCertificateListener(fn: IdentityListener): void {
    this.identityListeners.delete(fn);
  }

  /**
   * grpc-js asks for client certificates whenever it has a CA provider; without
   * `--client-ca` it is given the server's own chain, which signs no client,
   * so no client certificate is ever taken as verified.
   */
  private caUpdate() {
    return { caCertificate: this.material.ca ?? this.material.cert };
  }

  private identityUpdate() {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  close(): void {
    for (const p of this.files()) unwatchFile(p, this.watching);
    this.caListeners.clear();
    this.identityListeners.clear();
    this.changeListeners.clear();
  }
}

function read(p: TlsPaths): TlsMaterial {
  const file = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read the ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const m = { cert: file(p.cert, "TLS certificate"), key: file(p.key, "TLS key"), ...(p.clientCa ? { ca: file(p.clientCa, "client CA") } : {}) };
  if (!m.cert.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${p.cert} holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(m.key.toString())) throw new Error(`${p.key} holds no PEM private key`);
  if (m.ca && !m.ca.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${p.clientCa} holds no PEM certificate`);
  // A key that does not go with the certificate (one file of the pair replaced, the other not yet) is refused here, not by a handshake.
  try {
    createSecureContext(m);
  } catch (e) {
    throw new Error(`${p.cert} and ${p.key}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return m;
}
