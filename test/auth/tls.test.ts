/**
 * TLS on both doors with a CA made at run time: client certificates that the
 * handshake verified name identities (an unknown CA's certificate names
 * nobody), tokens still work over TLS, the probes stay open, and the server's
 * certificate and the client CA are re-read when their files change.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { PeerCertificate, TLSSocket } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { DecisionService, GetRulesRequestSchema } from "../../server/gen/podwall/v1/podwall_pb.js";
import { serviceDefinition } from "../../server/api/grpc/definitions.js";
import { type Pki, makePki } from "../helpers/pki.js";
import { type TestServer, startServer } from "../helpers/server.js";
import { eventually } from "../rules/support.js";
import { authFiles, authYaml, identity } from "./support.js";

interface Answer {
  status: number;
  body: string;
  peer: PeerCertificate;
}

/** One HTTPS request on a fresh connection, trusting `ca`, with an optional client certificate and headers. */
function get(port: number, path: string, o: { ca: Buffer[]; cert?: { cert: string; key: string }; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        servername: "localhost",
        ca: o.ca,
        agent: false,
        headers: o.headers ?? {},
        ...(o.cert ? { cert: readFileSync(o.cert.cert), key: readFileSync(o.cert.key) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), peer: (res.socket as TLSSocket).getPeerCertificate() }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("TLS and client certificates", () => {
  let pki: Pki;
  let second: Pki;
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  let tlsDir: string;
  let paths: { cert: string; key: string; clientCa: string };
  let agent2: { cert: string; key: string };
  let foreign: { cert: string; key: string };
  let ca: Buffer[];
  const admin = identity("ops", "admin");

  before(async () => {
    [pki, second] = await Promise.all([makePki(), makePki()]);
    agent2 = await pki.client("podwall-agent:node-2");
    foreign = await pki.foreignClient("podwall-agent:node-2");
    tlsDir = mkdtempSync(join(tmpdir(), "podwall-tls-"));
    paths = { cert: join(tlsDir, "tls.crt"), key: join(tlsDir, "tls.key"), clientCa: join(tlsDir, "ca.crt") };
    copyFileSync(pki.serverCert, paths.cert);
    copyFileSync(pki.serverKey, paths.key);
    copyFileSync(pki.caCert, paths.clientCa);
    ca = [readFileSync(pki.caCert), readFileSync(second.caCert)];
    files = authFiles(authYaml([admin], [{ commonName: "podwall-agent:node-2", role: "agent", node: "node-2" }]));
    server = await startServer([files.model], { auth: files.auth, tls: paths });
  });
  after(async () => {
    await server.close();
    files.cleanup();
    pki.cleanup();
    second.cleanup();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it("REST: a verified client certificate is its identity; an unknown CA's names nobody; tokens and probes work over TLS", async () => {
    const port = server.restPort;
    assert.equal((await get(port, "/healthz", { ca })).status, 200);
    assert.equal((await get(port, "/v1/nodes/node-2/rules", { ca, cert: agent2 })).status, 200);
    assert.equal((await get(port, "/v1/nodes/node-1/rules", { ca, cert: agent2 })).status, 403);
    assert.equal((await get(port, "/v1/check?src=app/b&dst=app/a&port=80", { ca, cert: agent2 })).status, 403);
    assert.equal((await get(port, "/v1/nodes/node-2/rules", { ca, cert: foreign })).status, 401);
    assert.equal((await get(port, "/v1/nodes/node-2/rules", { ca })).status, 401);
    assert.equal((await get(port, "/v1/model", { ca, headers: { authorization: `Bearer ${admin.token}` } })).status, 200);
  });

  it("REST: plain HTTP on the TLS port gets no answer", async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${server.restPort}/healthz`));
  });

  /** Channel credentials trusting both CAs, with an optional client certificate. */
  const creds = (cert?: { cert: string; key: string }) =>
    grpc.credentials.createSsl(Buffer.concat(ca), cert ? readFileSync(cert.key) : null, cert ? readFileSync(cert.cert) : null);
  /** GetRules of `node` on a new channel: the status it ends with. */
  const call = (c: grpc.ChannelCredentials, node: string, token?: string) =>
    new Promise<number>((resolve) => {
      const Client = grpc.makeGenericClientConstructor(serviceDefinition(DecisionService), "DecisionService");
      const client = new Client(`localhost:${server.grpcPort}`, c) as grpc.Client & Record<string, any>;
      const md = new grpc.Metadata();
      if (token) md.set("authorization", `Bearer ${token}`);
      client["getRules"](create(GetRulesRequestSchema, { node }), md, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null) => {
        client.close();
        resolve(err ? err.code : grpc.status.OK);
      });
    });

  it("gRPC: the same identities, and the same answers", async () => {
    assert.equal(await call(creds(agent2), "node-2"), grpc.status.OK);
    assert.equal(await call(creds(agent2), "node-1"), grpc.status.PERMISSION_DENIED);
    assert.equal(await call(creds(), "node-2"), grpc.status.UNAUTHENTICATED);
    assert.equal(await call(creds(), "node-1", admin.token), grpc.status.OK);
  });

  it("the server's certificate and the client CA are read again when their files change", async () => {
    const served = async () => (await get(server.restPort, "/healthz", { ca })).peer.fingerprint256;
    const first = await served();
    // A certificate from the second CA, swapped in as a secret volume swaps files.
    copyFileSync(second.serverCert, `${paths.cert}.new`);
    copyFileSync(second.serverKey, `${paths.key}.new`);
    renameSync(`${paths.key}.new`, paths.key);
    renameSync(`${paths.cert}.new`, paths.cert);
    await eventually(async () => (await served()) !== first, 30_000, "the new server certificate to be served");

    // Client certificates of the first CA stop naming anyone once the CA file names the second CA.
    const otherAgent = await second.client("podwall-agent:node-2");
    copyFileSync(second.caCert, `${paths.clientCa}.new`);
    renameSync(`${paths.clientCa}.new`, paths.clientCa);
    await eventually(async () => (await get(server.restPort, "/v1/nodes/node-2/rules", { ca, cert: otherAgent })).status === 200, 30_000, "the new client CA");
    assert.equal((await get(server.restPort, "/v1/nodes/node-2/rules", { ca, cert: agent2 })).status, 401);
    // gRPC reads the same files: the new CA's agent is known there too, the old one no longer.
    await eventually(async () => (await call(creds(otherAgent), "node-2")) === grpc.status.OK, 30_000, "the new client CA over gRPC");
    assert.equal(await call(creds(agent2), "node-2"), grpc.status.UNAUTHENTICATED);
  });
});
