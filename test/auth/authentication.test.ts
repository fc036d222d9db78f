/**
 * Authentication: the auth file read strictly, re-read when it changes and on
 * SIGHUP without a restart (a file that cannot be read leaves the identities
 * in force), tokens never logged, and a server started without `--auth` that
 * says it is open.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { readAuthFile } from "../../server/auth/auth-file.js";
import { PodwallError } from "../../server/service/index.js";
import { spawnSync } from "node:child_process";
import { CLI, ROOT } from "../helpers/process.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { eventually } from "../rules/support.js";
import { authFiles, authYaml, identity } from "./support.js";

const check = "/v1/check?src=app/b&dst=app/a&port=80";
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe("the auth file", () => {
  it("is read strictly: every error with its field path, nothing used", () => {
    const files = authFiles(
      [
        "tokens:",
        "  - {name: a, sha256: abc, role: admin}",
        `  - {name: a, sha256: ${"0".repeat(64)}, role: root}`,
        `  - {name: c, sha256: ${"1".repeat(64)}, role: agent}`,
        `  - {name: d, sha256: ${"2".repeat(64)}, role: reader, node: n}`,
        `  - {name: e, sha256: ${"2".repeat(64)}, role: reader, color: red}`,
        "certificates:",
        "  - {role: admin}",
        "extra: 1",
      ].join("\n"),
    );
    try {
      assert.throws(
        () => readAuthFile(files.auth),
        (e: unknown) => {
          assert.ok(e instanceof PodwallError);
          const fields = e.errors.map((x) => `${x.field} ${x.type}`).sort();
          assert.deepEqual(fields, [
            "certificates[0].commonName FieldValueRequired",
            "extra FieldValueForbidden",
            "tokens[0].sha256 FieldValueInvalid",
            "tokens[1].name FieldValueDuplicate",
            "tokens[1].role FieldValueNotSupported",
            "tokens[2].node FieldValueRequired",
            "tokens[3].node FieldValueForbidden",
            "tokens[4].color FieldValueForbidden",
            "tokens[4].sha256 FieldValueDuplicate",
          ]);
          return true;
        },
      );
    } finally {
      files.cleanup();
    }
  });

  it("that cannot be read stops `serve` with exit code 2 and says why", async () => {
    const files = authFiles("tokens: [{name: a, role: admin}]\n");
    try {
      const p = spawnSync(process.execPath, ["--import", "tsx", CLI, "serve", "--in-memory", "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--auth", files.auth], {
        cwd: ROOT,
        encoding: "utf8",
      });
      assert.equal(p.status, 2, p.stderr);
      assert.match(p.stderr, /tokens\[0\]\.sha256: Required value/);
    } finally {
      files.cleanup();
    }
  });
});

describe("identities change without a restart", () => {
  const first = identity("ops", "admin");
  const second = identity("ops2", "admin");
  let files: ReturnType<typeof authFiles>;
  let server: TestServer;
  const logs: string[] = [];
  before(async () => {
    files = authFiles(authYaml([first]));
    server = await startServer([files.model], { auth: files.auth, logger: pino({ level: "debug" }, { write: (s: string) => logs.push(s) }) });
  });
  after(async () => {
    await server.close();
    files.cleanup();
  });

  it("a changed file is read again: the new token works, the removed one is refused", async () => {
    assert.equal((await http(server, "GET", check, undefined, bearer(first.token))).status, 200);
    files.rewrite(authYaml([second]));
    await eventually(async () => (await http(server, "GET", check, undefined, bearer(second.token))).status === 200, 30_000, "the new token to be known");
    assert.equal((await http(server, "GET", check, undefined, bearer(first.token))).status, 401);
  });

  it("a file that cannot be read leaves the identities in force, and says so", async () => {
    const before = logs.length;
    files.rewrite("tokens: [{name: broken}]\n");
    await eventually(() => logs.slice(before).some((l) => l.includes("auth file cannot be read")), 30_000, "the bad file to be noticed");
    assert.equal((await http(server, "GET", check, undefined, bearer(second.token))).status, 200);
    const metrics = await http(server, "GET", "/metrics", undefined, bearer(second.token));
    assert.match(metrics.body, /podwall_auth_reloads_total\{file="auth",outcome="error"\} [1-9]/);
  });

  it("reload() (SIGHUP) reads the file at once", async () => {
    const third = identity("ops3", "reader");
    files.rewrite(authYaml([third]));
    server.reload();
    assert.equal((await http(server, "GET", check, undefined, bearer(third.token))).status, 200);
  });

  it("no token ever reaches the log", () => {
    const text = logs.join("");
    assert.ok(text.includes("auth file re-read"), "the log records the re-reads");
    for (const t of [first.token, second.token]) assert.ok(!text.includes(t), "a token is in the log");
  });
});

describe("without --auth", () => {
  it("the server says at start that it is open, and answers every caller", async () => {
    const logs: string[] = [];
    const server = await startServer([], { logger: pino({ level: "info" }, { write: (s: string) => logs.push(s) }) });
    try {
      assert.ok(logs.some((l) => l.includes("the server is open")));
      assert.equal((await http(server, "GET", "/v1/model")).status, 200);
      assert.equal((await http(server, "GET", "/v1/model", undefined, bearer("anything"))).status, 200);
    } finally {
      await server.close();
    }
  });
});
