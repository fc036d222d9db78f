/**
 * The client transport (client/transport.ts) and the REST client on it,
 * against a node https server made with the test PKI: the CA it trusts, the
 * client certificate it presents, the bearer token it sends (re-read when its
 * file changes, never shown in an error), redirects refused, aborts, and the
 * errors a user reads.
 */
import assert from "node:assert/strict";
import { renameSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from "node:http";
import { type Server, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { CredentialsError } from "../../client/credentials.js";
import { RestClient } from "../../client/rest-client.js";
import { Transport } from "../../client/transport.js";
import { PodwallError } from "../../server/service/errors.js";
import { type Pki, makePki } from "../helpers/pki.js";

interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
  /** The client certificate's common name, when one was presented. */
  readonly cn: string | undefined;
  /** Whether the server's CA verified it. */
  readonly authorized: boolean;
}

interface Stub {
  readonly url: string;
  readonly seen: Seen[];
  /** Requests whose connection closed before they were answered. */
  readonly abandoned: string[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** An https server that asks for a client certificate (not required), records every request, and answers `{"ok":true}` unless `handle` answered. */
async function stub(pki: Pki, handle: Handler = () => false): Promise<Stub> {
  const seen: Seen[] = [];
  const abandoned: string[] = [];
  const server: Server = createServer(
    { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const cn = socket.getPeerCertificate().subject?.CN;
      seen.push({ path: req.url ?? "", authorization: req.headers.authorization, cn: cn === undefined ? undefined : String(cn), authorized: socket.authorized });
      res.on("close", () => {
        if (!res.writableFinished) abandoned.push(req.url ?? "");
      });
      if (handle(req, res)) return;
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    abandoned,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail("expected a rejection");
}

describe("the client transport over TLS", () => {
  let pki: Pki;
  let server: Stub;
  /** Where /redirect sends the client. */
  let redirectTo = "";
  before(async () => {
    pki = await makePki();
    server = await stub(pki, (req, res) => {
      if (req.url === "/hang") return true;
      if (req.url === "/redirect") {
        res.writeHead(302, { location: redirectTo }).end();
        return true;
      }
      if (req.url === "/denied") {
        res
          .writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" })
          .end('{"code":401,"message":"Unauthorized: no valid credentials were given","errors":[]}');
        return true;
      }
      if (req.url === "/forbidden") {
        res.writeHead(403, { "content-type": "application/json" }).end('{"code":403,"message":"dashboards (role reader) may not replace the model","errors":[]}');
        return true;
      }
      return false;
    });
  });
  after(async () => {
    await server.close();
    pki.cleanup();
  });

  it("trusts the server through --ca, and sends neither a certificate nor a token when given none", async () => {
    const t = new Transport({ ca: pki.caCert });
    try {
      const res = await t.fetch(`${server.url}/plain`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true });
      assert.deepEqual(server.seen.at(-1), { path: "/plain", authorization: undefined, cn: undefined, authorized: false });
    } finally {
      await t.close();
    }
  });

  it("refuses a server its CA did not sign, and says to give --ca", async () => {
    const c = new RestClient(server.url);
    try {
      const e = await rejection(c.request("GET", "/untrusted"));
      assert.ok(e instanceof PodwallError);
      assert.equal(e.code, "unavailable");
      assert.equal(e.message, `cannot reach ${server.url}: self-signed certificate in certificate chain (the server's certificate is not trusted: give its CA with --ca FILE)`);
      assert.ok(!server.seen.some((s) => s.path === "/untrusted"), "no request got through");
    } finally {
      await c.close();
    }
    const other = await makePki();
    const t = new Transport({ ca: other.caCert });
    try {
      const e = await rejection(new RestClient(server.url, t).request("GET", "/other-ca"));
      assert.match(e.message, /give its CA with --ca FILE\)$/);
    } finally {
      await t.close();
      other.cleanup();
    }
  });

  it("presents the client certificate of --cert/--key, which the server's CA verifies", async () => {
    const mine = await pki.client("podwall-agent:node-2");
    const t = new Transport({ ca: pki.caCert, ...mine });
    try {
      assert.equal((await t.fetch(`${server.url}/with-cert`)).status, 200);
      assert.deepEqual(server.seen.at(-1), { path: "/with-cert", authorization: undefined, cn: "podwall-agent:node-2", authorized: true });
    } finally {
      await t.close();
    }
    const foreign = await pki.foreignClient("podwall-agent:node-2");
    const f = new Transport({ ca: pki.caCert, ...foreign });
    try {
      assert.equal((await f.fetch(`${server.url}/foreign-cert`)).status, 200);
      assert.deepEqual(server.seen.at(-1), { path: "/foreign-cert", authorization: undefined, cn: "podwall-agent:node-2", authorized: false });
    } finally {
      await f.close();
    }
  });

  it("uses a rotated client certificate from the next request on", async () => {
    const first = await pki.client("node-a");
    const second = await pki.client("node-b");
    const cert = join(pki.dir, "rotating.crt");
    const key = join(pki.dir, "rotating.key");
    writeFileSync(cert, readFileSync(first.cert));
    writeFileSync(key, readFileSync(first.key));
    const t = new Transport({ ca: pki.caCert, cert, key });
    try {
      await (await t.fetch(`${server.url}/rotate-1`)).arrayBuffer();
      assert.equal(server.seen.at(-1)?.cn, "node-a");
      // As a Kubernetes secret volume swaps its files: a new file renamed over the old.
      writeFileSync(`${cert}.new`, readFileSync(second.cert));
      writeFileSync(`${key}.new`, readFileSync(second.key));
      renameSync(`${key}.new`, key);
      renameSync(`${cert}.new`, cert);
      await (await t.fetch(`${server.url}/rotate-2`)).arrayBuffer();
      assert.deepEqual(server.seen.at(-1), { path: "/rotate-2", authorization: undefined, cn: "node-b", authorized: true });
    } finally {
      await t.close();
    }
  });

  it("sends the token trimmed as a bearer token, and the new one once the file changes", async () => {
    const file = join(pki.dir, "token");
    writeFileSync(file, "  first-token\n");
    const t = new Transport({ ca: pki.caCert, tokenFile: file });
    try {
      await (await t.fetch(`${server.url}/token-1`)).arrayBuffer();
      assert.equal(server.seen.at(-1)?.authorization, "Bearer first-token");
      await (await t.fetch(`${server.url}/token-2`)).arrayBuffer();
      assert.equal(server.seen.at(-1)?.authorization, "Bearer first-token");
      writeFileSync(`${file}.new`, "second.token/with+b64==\n");
      renameSync(`${file}.new`, file);
      await (await t.fetch(`${server.url}/token-3`)).arrayBuffer();
      assert.equal(server.seen.at(-1)?.authorization, "Bearer second.token/with+b64==");
      writeFileSync(file, "third");
      await (await t.fetch(`${server.url}/token-4`)).arrayBuffer();
      assert.equal(server.seen.at(-1)?.authorization, "Bearer third");
    } finally {
      await t.close();
    }
  });

  it("fails, naming the file and never its content, when the token file is missing, empty or not a token", async () => {
    const missing = join(pki.dir, "no-such-token");
    assert.throws(
      () => new Transport({ tokenFile: missing }),
      (e: unknown) => e instanceof CredentialsError && e.message === `cannot read the token file ${missing}: ENOENT`,
    );
    const file = join(pki.dir, "bad-token");
    writeFileSync(file, "\n \n");
    assert.throws(() => new Transport({ tokenFile: file }), { message: `the token file ${file} is empty` });
    writeFileSync(file, "s3cret-part-one\ns3cret-part-two\n");
    assert.throws(
      () => new Transport({ tokenFile: file }),
      (e: unknown) =>
        e instanceof Error && e.message === `the token file ${file} holds characters a bearer token cannot have (or more than one line)` && !e.message.includes("s3cret"),
    );

    writeFileSync(file, "good-token");
    const t = new Transport({ ca: pki.caCert, tokenFile: file });
    const client = new RestClient(server.url, t);
    try {
      const before = server.seen.length;
      writeFileSync(file, "s3cret with a space");
      const e = await rejection(client.request("GET", "/after-bad-rewrite"));
      assert.ok(e instanceof CredentialsError);
      assert.ok(!e.message.includes("s3cret"), e.message);
      assert.equal(server.seen.length, before, "nothing was sent");
      writeFileSync(file, "good-again");
      assert.equal((await client.request("GET", "/after-fix")).status, 200);
      assert.equal(server.seen.at(-1)?.authorization, "Bearer good-again");
    } finally {
      await client.close();
    }
  });

  it("refuses --cert without --key, and a key file that is not there, naming the flag", async () => {
    const c = await pki.client("x");
    assert.throws(() => new Transport({ cert: c.cert }), { message: "--cert and --key go together: give both or neither" });
    assert.throws(() => new Transport({ key: c.key }), { message: "--cert and --key go together: give both or neither" });
    const gone = join(pki.dir, "gone.key");
    assert.throws(() => new Transport({ cert: c.cert, key: gone }), { message: `cannot read the client key (--key) ${gone}: ENOENT` });
    assert.throws(() => new Transport({ ca: gone }), { message: `cannot read the CA file (--ca) ${gone}: ENOENT` });
  });

  it("does not follow a redirect, so the token cannot go with it", async () => {
    const file = join(pki.dir, "redirect-token");
    writeFileSync(file, "redirect-token");
    const client = new RestClient(server.url, new Transport({ ca: pki.caCert, tokenFile: file }));
    const elsewhere: string[] = [];
    const other = createHttpServer((req, res) => {
      elsewhere.push(req.headers.authorization ?? "");
      res.end();
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    redirectTo = `http://127.0.0.1:${(other.address() as AddressInfo).port}/elsewhere`;
    try {
      const e = await rejection(client.request("GET", "/redirect"));
      assert.ok(e instanceof PodwallError);
      assert.match(e.message, new RegExp(`^cannot reach ${server.url}: `));
      assert.deepEqual(elsewhere, []);
    } finally {
      other.close();
      await client.close();
    }
  });

  it("turns a 401 and a 403 into errors that say what to do", async () => {
    const bare = new RestClient(server.url, new Transport({ ca: pki.caCert }));
    const file = join(pki.dir, "reader-token");
    writeFileSync(file, "reader");
    const withToken = new RestClient(server.url, new Transport({ ca: pki.caCert, tokenFile: file }));
    try {
      const e401 = await rejection(bare.request("GET", "/denied"));
      assert.ok(e401 instanceof PodwallError);
      assert.equal(e401.code, "unauthenticated");
      assert.equal(e401.message, `Unauthorized: no valid credentials were given (${server.url} asks for credentials: give --token-file FILE, or --cert FILE --key FILE)`);
      const refused = await rejection(withToken.request("GET", "/denied"));
      assert.equal(refused.message, `Unauthorized: no valid credentials were given (${server.url} did not accept the credentials of --token-file ${file})`);
      const e403 = await rejection(withToken.request("PUT", "/forbidden", {}));
      assert.ok(e403 instanceof PodwallError);
      assert.equal(e403.code, "forbidden");
      assert.equal(
        e403.message,
        `dashboards (role reader) may not replace the model (${server.url} knows the credentials of --token-file ${file}, but their role does not allow this)`,
      );
    } finally {
      await bare.close();
      await withToken.close();
    }
  });

  it("aborts a request in flight at once when its signal fires: the server sees the connection go", async () => {
    const t = new Transport({ ca: pki.caCert });
    try {
      const stop = new AbortController();
      const pending = t.fetch(`${server.url}/hang`, { signal: stop.signal });
      await waitFor(() => server.seen.some((s) => s.path === "/hang"));
      stop.abort();
      const e = await rejection(pending);
      assert.equal(e.name, "AbortError");
      await waitFor(() => server.abandoned.includes("/hang"));
    } finally {
      await t.close();
    }
  });
});

async function waitFor(f: () => boolean): Promise<void> {
  while (!f()) await new Promise((r) => setTimeout(r, 5));
}
