/**
 * `podwall lint` as a user runs it: a child process, its exit code (0 no
 * finding at or above --fail-on, 1 some, 2 error), its stdout and stderr,
 * offline on manifests and of a server.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { podwall, closedPort } from "../helpers/cli.js";

const FIXTURES = "test/fixtures/lint";

const offline = (fixture: string) => ["--manifests", `${FIXTURES}/${fixture}`];

const NO_POD_TEXT = [
  "SEVERITY   CODE                    OBJECT                         FIELD              MESSAGE",
  "warning    policy-selects-no-pod   NetworkPolicy shop/host-only   spec.podSelector   " +
    "podSelector app=agent selects no pod in namespace shop (1 host-network pod matches, but NetworkPolicy never applies to a host-network pod)",
  "warning    policy-selects-no-pod   NetworkPolicy shop/typo        spec.podSelector   podSelector app=wbe selects no pod in namespace shop",
  "2 findings: 0 errors, 2 warnings, 0 info",
  "",
].join("\n");

const ONLY_INFO_TEXT = [
  "SEVERITY   CODE                     OBJECT           FIELD    MESSAGE",
  "info       no-default-deny-egress   Namespace shop   <none>   no policy selects every pod of the namespace (podSelector: {}) for egress: its one pod, shop/web, is not isolated",
  "1 finding: 0 errors, 0 warnings, 1 info",
  "",
].join("\n");

describe("podwall lint", { concurrency: 4 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer([`${FIXTURES}/ordering.yaml`]);
  });
  after(async () => server.close());

  it("a model without findings: exit 0 and `no findings`", async () => {
    const run = await podwall(["lint", ...offline("default-deny-clean.yaml")]);
    assert.deepEqual(run, { code: 0, stdout: "no findings\n", stderr: "" });
  });

  it("prints kubectl's columns and a count; warnings exit 0 under the default --fail-on error", async () => {
    const run = await podwall(["lint", ...offline("policy-selects-no-pod.yaml")]);
    assert.deepEqual(run, { code: 0, stdout: NO_POD_TEXT, stderr: "" });
  });

  it("an object-wide finding prints its field as <none>", async () => {
    const run = await podwall(["lint", ...offline("only-info.yaml"), "--fail-on", "info"]);
    assert.deepEqual(run, { code: 1, stdout: ONLY_INFO_TEXT, stderr: "" });
  });

  const EXITS: readonly { fixture: string; failOn?: string; code: 0 | 1 }[] = [
    { fixture: "named-port-undefined.yaml", code: 1 },
    { fixture: "named-port-undefined.yaml", failOn: "error", code: 1 },
    { fixture: "peer-selects-nothing.yaml", failOn: "error", code: 0 },
    { fixture: "peer-selects-nothing.yaml", failOn: "warning", code: 1 },
    { fixture: "only-info.yaml", code: 0 },
    { fixture: "only-info.yaml", failOn: "warning", code: 0 },
    { fixture: "only-info.yaml", failOn: "info", code: 1 },
    { fixture: "redundant-rule-clean.yaml", failOn: "info", code: 0 },
  ];
  for (const e of EXITS) {
    it(`${e.fixture}${e.failOn ? ` --fail-on ${e.failOn}` : ""}: exit ${e.code}`, async () => {
      const run = await podwall(["lint", ...offline(e.fixture), ...(e.failOn ? ["--fail-on", e.failOn] : [])]);
      assert.equal(run.code, e.code, run.stderr);
      assert.equal(run.stderr, "");
    });
  }

  it("--fail-on with an unknown severity exits 2", async () => {
    const run = await podwall(["lint", ...offline("only-info.yaml"), "--fail-on", "fatal"]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /argument 'fatal' is invalid\. Allowed choices are error, warning, info\./);
  });

  it("manifests that are not there exit 2", async () => {
    const run = await podwall(["lint", "--manifests", `${FIXTURES}/no-such-file.yaml`]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^error: .*no-such-file\.yaml/);
  });

  it("a server that is not there exits 2", async () => {
    const run = await podwall(["lint", "--server", `http://127.0.0.1:${await closedPort()}`]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^error: /);
  });

  it("--server prints what --manifests prints of the same model, with the same exit code", async () => {
    for (const failOn of ["error", "warning", "info"]) {
      const [local, remote] = await Promise.all([
        podwall(["lint", ...offline("ordering.yaml"), "--fail-on", failOn]),
        podwall(["lint", "--server", server.url, "--fail-on", failOn]),
      ]);
      assert.equal(local.code, 1, local.stderr);
      assert.deepEqual(remote, local);
    }
    const text = (await podwall(["lint", "--server", server.url])).stdout.split("\n");
    assert.equal(text[0], "SEVERITY   CODE                      OBJECT              FIELD                           MESSAGE");
    assert.equal(text.at(-2), "15 findings: 1 error, 12 warnings, 2 info");
  });

  it("-o json prints GET /v1/lint's answer; -o yaml the same as YAML", async () => {
    const rest = await http(server, "GET", "/v1/lint");
    assert.equal(rest.status, 200);
    const [json, yaml, local] = await Promise.all([
      podwall(["lint", "--server", server.url, "-o", "json"]),
      podwall(["lint", "--server", server.url, "-o", "yaml"]),
      podwall(["lint", ...offline("ordering.yaml"), "-o", "json"]),
    ]);
    assert.equal(json.code, 1, json.stderr);
    assert.equal(json.stdout, `${JSON.stringify(rest.body, null, 2)}\n`);
    assert.deepEqual(parseYaml(yaml.stdout), rest.body);
    assert.equal(yaml.code, 1);
    assert.equal(local.stdout, json.stdout);
  });

  it("--help ends with examples", async () => {
    const run = await podwall(["lint", "--help"]);
    assert.equal(run.code, 0);
    const tail = run.stdout.slice(run.stdout.indexOf("\nExamples:\n"));
    assert.ok(run.stdout.includes("\nExamples:\n"), run.stdout);
    assert.ok(tail.split("\n").filter((l) => l.startsWith("  podwall lint")).length >= 2, tail);
    assert.match(run.stdout, /--fail-on <severity>/);
  });
});
