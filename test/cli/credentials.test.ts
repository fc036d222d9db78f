/**
 * `podwall check` and `podwall rules` against a server with TLS, client
 * certificates and an auth file: `--ca`, `--token-file`, `--cert`/`--key`,
 * `PODWALL_SERVER` and `PODWALL_TOKEN_FILE`; refused, they exit 2 and say
 * why and what to give, and never print a token.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SYSTEM } from "../../server/service/index.js";
import { ROOT } from "../helpers/process.js";
import { type SecureServer, TOKENS, startSecureServer } from "../client/secure-fixture.js";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command with PODWALL_SERVER and PODWALL_TOKEN_FILE only as `env` gives them. */
function podwall(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete base["PODWALL_SERVER"];
  delete base["PODWALL_TOKEN_FILE"];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", "client/cli/main.ts", ...args], { cwd: ROOT, env: { ...base, ...env } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

describe("podwall check and rules with credentials", () => {
  let s: SecureServer;
  before(async () => {
    s = await startSecureServer();
  });
  after(async () => s?.close());

  it("--ca with --token-file or --cert/--key; PODWALL_SERVER and PODWALL_TOKEN_FILE stand in for the flags", async () => {
    const byFlags = await podwall(["check", "x/a", "y/b", "80", "--server", s.url, "--ca", s.pki.caCert, "--token-file", s.tokenFiles.reader]);
    assert.equal(byFlags.code, 0, byFlags.stderr);
    assert.match(byFlags.stdout, /^x\/a \(10\.244\.1\.11\) -> y\/b \(10\.244\.1\.15\) TCP\/80: ALLOWED\n/);
    const byEnv = await podwall(["check", "x/a", "y/b", "80", "--ca", s.pki.caCert], { PODWALL_SERVER: s.url, PODWALL_TOKEN_FILE: s.tokenFiles.reader });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.equal(byEnv.stdout, byFlags.stdout);
    const flagWins = await podwall(["check", "x/a", "y/b", "80", "--ca", s.pki.caCert, "--token-file", s.tokenFiles.reader], {
      PODWALL_SERVER: s.url,
      PODWALL_TOKEN_FILE: join(s.pki.dir, "no-such-file"),
    });
    assert.equal(flagWins.code, 0, flagWins.stderr);

    const rules = await podwall(["rules", "node-1", "--format", "json", "--server", s.url, "--ca", s.pki.caCert, "--cert", s.agentCert.cert, "--key", s.agentCert.key]);
    assert.equal(rules.code, 0, rules.stderr);
    assert.equal(JSON.parse(rules.stdout).version, s.server.rules.rules(SYSTEM, "node-1").version);
  });

  it("refused, they exit 2 and say why and what to give", async () => {
    const none = await podwall(["check", "x/a", "y/b", "80", "--server", s.url, "--ca", s.pki.caCert]);
    assert.deepEqual(none, {
      code: 2,
      stdout: "",
      stderr: `error: Unauthorized: no valid credentials were given (${s.url} asks for credentials: give --token-file FILE, or --cert FILE --key FILE)\n`,
    });
    const forbidden = await podwall(["rules", "node-2", "--server", s.url, "--ca", s.pki.caCert, "--token-file", s.tokenFiles.agent1]);
    assert.deepEqual(forbidden, {
      code: 2,
      stdout: "",
      stderr: `error: agent-node-1 (role agent for node "node-1") may not rules:read of node "node-2" (${s.url} knows the credentials of --token-file ${s.tokenFiles.agent1}, but their role does not allow this)\n`,
    });
    const untrusted = await podwall(["check", "x/a", "y/b", "80", "--server", s.url, "--token-file", s.tokenFiles.reader]);
    assert.deepEqual(untrusted, {
      code: 2,
      stdout: "",
      stderr: `error: cannot reach ${s.url}: self-signed certificate in certificate chain (the server's certificate is not trusted: give its CA with --ca FILE)\n`,
    });
    const halfCert = await podwall(["check", "x/a", "y/b", "80", "--server", s.url, "--ca", s.pki.caCert, "--cert", s.agentCert.cert]);
    assert.deepEqual(halfCert, { code: 2, stdout: "", stderr: "error: --cert and --key go together: give both or neither\n" });
    const noFile = join(s.pki.dir, "missing.token");
    const missing = await podwall(["check", "x/a", "y/b", "80", "--server", s.url, "--ca", s.pki.caCert], { PODWALL_TOKEN_FILE: noFile });
    assert.deepEqual(missing, { code: 2, stdout: "", stderr: `error: cannot read the token file ${noFile}: ENOENT\n` });
    for (const run of [none, forbidden, untrusted]) for (const t of Object.values(TOKENS)) assert.ok(!run.stderr.includes(t), "no token in an error");
  });
});
