/**
 * A real server with TLS, client certificates and an auth file, for the
 * client, CLI and agent tests: an admin, a reader and node-1's agent by
 * token, and node-1's agent by client certificate, on the example cluster.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RestClient } from "../../client/rest-client.js";
import { Transport } from "../../client/transport.js";
import { type Pki, makePki } from "../helpers/pki.js";
import { type TestServer, startServer } from "../helpers/server.js";

export const TOKENS = { admin: "admin-token-1", reader: "reader-token-1", agent1: "agent-node-1-token" } as const;
export type TokenName = keyof typeof TOKENS;
/** The common name of node-1's agent certificate. */
export const AGENT_CN = "podwall-agent:node-1";

export interface SecureServer {
  readonly pki: Pki;
  readonly server: TestServer;
  /** "https://127.0.0.1:PORT" */
  readonly url: string;
  /** A file holding each token (with a trailing newline, as `echo` writes it). */
  readonly tokenFiles: Readonly<Record<TokenName, string>>;
  /** node-1's agent certificate, signed by the CA the server verifies against. */
  readonly agentCert: { readonly cert: string; readonly key: string };
  /** A REST client trusting the CA, with these credentials. */
  rest(o?: ConstructorParameters<typeof Transport>[0]): RestClient;
  close(): Promise<void>;
}

const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

export async function startSecureServer(): Promise<SecureServer> {
  const pki = await makePki();
  try {
    const tokenFiles = {} as Record<TokenName, string>;
    for (const k of Object.keys(TOKENS) as TokenName[]) {
      tokenFiles[k] = join(pki.dir, `${k}.token`);
      writeFileSync(tokenFiles[k], `${TOKENS[k]}\n`);
    }
    const auth = join(pki.dir, "auth.yaml");
    writeFileSync(
      auth,
      [
        "tokens:",
        `  - {name: ops, sha256: ${sha256(TOKENS.admin)}, role: admin}`,
        `  - {name: dashboards, sha256: ${sha256(TOKENS.reader)}, role: reader}`,
        `  - {name: agent-node-1, sha256: ${sha256(TOKENS.agent1)}, role: agent, node: node-1}`,
        "certificates:",
        `  - {commonName: "${AGENT_CN}", role: agent, node: node-1}`,
        "",
      ].join("\n"),
    );
    const agentCert = await pki.client(AGENT_CN);
    const server = await startServer(["examples/cluster"], { auth, tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } });
    const url = `https://127.0.0.1:${server.restPort}`;
    return {
      pki,
      server,
      url,
      tokenFiles,
      agentCert,
      rest: (o = {}) => new RestClient(url, new Transport({ ca: pki.caCert, ...o })),
      close: async () => {
        await server.close();
        pki.cleanup();
      },
    };
  } catch (e) {
    pki.cleanup();
    throw e;
  }
}
