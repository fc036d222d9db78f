/**
 * The test PKI (test/helpers/pki.ts): what each certificate says, who signed
 * it, and that a real TLS handshake with it succeeds or fails as the tests
 * that use it expect.
 */
import assert from "node:assert/strict";
import { type KeyObject, X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { type Pki, makePki } from "../helpers/pki.js";

function x509(path: string): X509Certificate {
  return new X509Certificate(readFileSync(path));
}

/** Handshakes with a server that asks for (but does not require) a client certificate; resolves with what the server saw. */
async function handshake(pki: Pki, client: { cert?: string; key?: string; ca?: string; servername?: string; host?: string }) {
  const server = createServer({
    cert: readFileSync(pki.serverCert),
    key: readFileSync(pki.serverKey),
    ca: readFileSync(pki.caCert),
    requestCert: true,
    rejectUnauthorized: false,
  });
  const seen = new Promise<{ authorized: boolean; cn: string | undefined; error: string | undefined }>((resolve) => {
    server.once("secureConnection", (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, cn: peer.subject?.CN?.toString(), error: socket.authorizationError?.toString() });
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, client.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const socket = connect({
      host: client.host ?? "127.0.0.1",
      port,
      servername: client.servername,
      ca: client.ca ? readFileSync(client.ca) : undefined,
      cert: client.cert ? readFileSync(client.cert) : undefined,
      key: client.key ? readFileSync(client.key) : undefined,
    });
    const clientSide = new Promise<{ ok: boolean; error?: string }>((resolve) => {
      socket.once("secureConnect", () => resolve({ ok: true }));
      socket.once("error", (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
    });
    const result = await clientSide;
    const saw = result.ok ? await seen : undefined;
    socket.destroy();
    return { client: result, server: saw };
  } finally {
    server.close();
  }
}

describe("makePki", () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki.cleanup());

  it("makes a server certificate for localhost, 127.0.0.1 and ::1, signed by the CA", () => {
    const ca = x509(pki.caCert);
    const server = x509(pki.serverCert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.equal(server.subject, "CN=localhost");
    assert.equal(server.subjectAltName, "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    assert.equal(server.checkHost("localhost"), "localhost");
    assert.equal(server.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(server.checkIP("::1"), "::1");
    assert.equal(server.verify(ca.publicKey), true);
    assert.equal(server.checkPrivateKey(createPrivateKeyFrom(pki.serverKey)), true);
    assert.equal(server.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  });

  it("issues client certificates by common name from the CA, and foreign ones from another CA", async () => {
    const ca = x509(pki.caCert);
    const [mine, again, foreign] = await Promise.all([pki.client("podwall-agent:node-2"), pki.client("podwall-agent:node-2"), pki.foreignClient("podwall-agent:node-2")]);
    assert.notEqual(mine.cert, again.cert, "two clients never share files");
    for (const c of [mine, again, foreign]) assert.equal(x509(c.cert).subject, "CN=podwall-agent:node-2");
    assert.equal(x509(mine.cert).verify(ca.publicKey), true);
    assert.equal(x509(foreign.cert).verify(ca.publicKey), false);
    assert.equal(x509(foreign.cert).checkIssued(ca), false);
    assert.equal(x509(mine.cert).checkPrivateKey(createPrivateKeyFrom(mine.key)), true);
  });

  it("handshakes: the CA's client is authorized, the foreign client is not, a client without the CA refuses the server", async () => {
    const good = await pki.client("reader-1");
    const bad = await pki.foreignClient("reader-1");
    const ok = await handshake(pki, { ca: pki.caCert, ...good });
    assert.deepEqual(ok, { client: { ok: true }, server: { authorized: true, cn: "reader-1", error: undefined } });
    const foreign = await handshake(pki, { ca: pki.caCert, ...bad });
    assert.equal(foreign.client.ok, true);
    assert.equal(foreign.server?.authorized, false);
    assert.equal(foreign.server?.cn, "reader-1");
    assert.equal(foreign.server?.error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    const noCa = await handshake(pki, {});
    assert.deepEqual(noCa.client, { ok: false, error: "SELF_SIGNED_CERT_IN_CHAIN" });
    const byName = await handshake(pki, { ca: pki.caCert, servername: "localhost" });
    assert.equal(byName.client.ok, true);
  });

  it("cleanup removes the directory", async () => {
    const other = await makePki();
    assert.equal(existsSync(other.caCert), true);
    other.cleanup();
    assert.equal(existsSync(other.dir), false);
  });
});

function createPrivateKeyFrom(path: string): KeyObject {
  return createPrivateKey(readFileSync(path));
}
