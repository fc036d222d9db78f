/**
 * A throw-away PKI for TLS tests, made at run time with Debian's openssl in a
 * temp dir: a CA, a server certificate for localhost (DNS:localhost,
 * IP:127.0.0.1, IP:::1), client certificates by common name signed by that
 * CA, and client certificates from a second, unrelated CA. EC P-256 keys.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const OPENSSL = "/usr/bin/openssl";
const run = promisify(execFile);

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  client(commonName: string): Promise<{ cert: string; key: string }>;
  /** a second, unrelated CA with a client cert, for "unknown CA" cases */
  foreignClient(commonName: string): Promise<{ cert: string; key: string }>;
  cleanup(): void;
}

interface Ca {
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run(OPENSSL, args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

async function newKey(path: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

async function makeCa(dir: string, name: string, subject: string): Promise<Ca> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  await newKey(key);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { cert, key };
}

/** A leaf certificate signed by `ca`, with the given extensions (one per line, openssl config syntax). */
async function issue(dir: string, ca: Ca, name: string, commonName: string, extensions: readonly string[]): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${extensions.join("\n")}\n`);
  await newKey(key);
  await openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/CN=${escapeSubject(commonName)}`]);
  await openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-out", cert, "-days", "2", "-extfile", ext]);
  return { cert, key };
}

/** openssl's -subj syntax: `/` and `,` and `+` and `=` and `\` inside a value are escaped. */
function escapeSubject(value: string): string {
  return value.replace(/[\\/,+=]/g, (c) => `\\${c}`);
}

/** File names for a common name: safe characters and a counter, so two clients never share files. */
function fileName(prefix: string, n: number, commonName: string): string {
  return `${prefix}-${n}-${commonName.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
}

const CLIENT_EXT = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"];

export async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), "podwall-pki-"));
  try {
    const [ca, foreignCa] = await Promise.all([makeCa(dir, "ca", "/CN=Podwall Test CA"), makeCa(dir, "foreign-ca", "/CN=Unrelated Test CA")]);
    const server = await issue(dir, ca, "server", "localhost", [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ]);
    let n = 0;
    return {
      dir,
      caCert: ca.cert,
      serverCert: server.cert,
      serverKey: server.key,
      client: (commonName) => issue(dir, ca, fileName("client", ++n, commonName), commonName, CLIENT_EXT),
      foreignClient: (commonName) => issue(dir, foreignCa, fileName("foreign", ++n, commonName), commonName, CLIENT_EXT),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
