/**
 * The `podwall` command as a user runs it: a child process, its exit code,
 * its stdout and its stderr.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open as openLmdb } from "lmdb";
import { LmdbStore, lmdbOptions } from "../../server/store/lmdb.js";
import { parse as parseYaml } from "yaml";
import { type ServeProcess, spawnServe, untilReady } from "../helpers/process.js";
import { podwall, closedPort, type Run } from "../helpers/cli.js";

const OFFLINE = ["--manifests", "examples/cluster"];

const ALLOWED_TEXT = [
  "x/a (10.244.1.11) -> y/b (10.244.1.15) TCP/80: ALLOWED",
  "  egress of x/a: not isolated (no policy selects it for egress)",
  "  ingress of y/b: not isolated (no policy selects it for ingress)",
  "  (generation 1)",
  "",
].join("\n");

const EXPLAINED_TEXT = [
  "y/b (10.244.1.15) -> x/a (10.244.1.11) TCP/80: ALLOWED",
  "  egress of y/b: not isolated (no policy selects it for egress)",
  "  ingress of x/a: allowed; isolated by x/allow-y-to-a",
  "  ingress policy x/allow-y-to-a: allows",
  "    spec.ingress[0]: matched (peer spec.ingress[0].from[0], port spec.ingress[0].ports[0])",
  "  (generation 1)",
  "",
].join("\n");

const PORT_DETAIL = "must be between 1 and 65535, inclusive";

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly code: 0 | 1 | 2;
  /** Exact stdout, or lines it must hold. */
  readonly stdout?: string | readonly string[];
  readonly stderr?: string;
}

/** Questions asked offline and of a server: the answers must not differ. */
const CASES: Case[] = [
  { name: "an allowed connection exits 0 and prints ALLOWED", args: ["check", "x/a", "y/b", "80"], code: 0, stdout: ALLOWED_TEXT, stderr: "" },
  {
    name: "a denied connection exits 1 and prints DENIED",
    args: ["check", "x/b", "x/a", "80"],
    code: 1,
    stdout: [
      "x/b (10.244.2.12) -> x/a (10.244.1.11) TCP/80: DENIED",
      "  egress of x/b: not isolated (no policy selects it for egress)",
      "  ingress of x/a: denied; isolated by x/allow-y-to-a and no rule matches",
      "  (generation 1)",
      "",
    ].join("\n"),
    stderr: "",
  },
  { name: "--explain prints each rule by its field path", args: ["check", "y/b", "x/a", "80", "--explain"], code: 0, stdout: EXPLAINED_TEXT, stderr: "" },
  {
    name: "--explain of a denial says why each rule did not match",
    args: ["check", "x/b", "x/a", "80", "--explain"],
    code: 1,
    stdout: ["  ingress policy x/allow-y-to-a: does not allow", "    spec.ingress[0]: peer-mismatch: no peer of the rule matches the other end"],
  },
  {
    name: "udp/80: the protocol in lower case",
    args: ["check", "y/b", "x/a", "udp/80", "--explain"],
    code: 1,
    stdout: ["y/b (10.244.1.15) -> x/a (10.244.1.11) UDP/80: DENIED", "    spec.ingress[0]: protocol-mismatch: the rule allows no UDP port"],
  },
  {
    name: "SCTP/80: the protocol in upper case",
    args: ["check", "y/b", "x/a", "SCTP/80", "--explain"],
    code: 1,
    stdout: ["y/b (10.244.1.15) -> x/a (10.244.1.11) SCTP/80: DENIED", "    spec.ingress[0]: protocol-mismatch: the rule allows no SCTP port"],
  },
  { name: "tcp/80 is 80", args: ["check", "y/b", "x/a", "tcp/80", "--explain"], code: 0, stdout: EXPLAINED_TEXT },
  {
    name: "a port the rule does not name",
    args: ["check", "y/b", "x/a", "81", "--explain"],
    code: 1,
    stdout: ["y/b (10.244.1.15) -> x/a (10.244.1.11) TCP/81: DENIED", "    spec.ingress[0]: port-mismatch: the rule allows no TCP port 81 on x/a"],
  },
  {
    name: "addresses: a pod to a node on its own node",
    args: ["check", "z/c", "10.0.0.1", "80"],
    code: 0,
    stdout: ["z/c (10.244.1.19) -> node node-1 (10.0.0.1) TCP/80: ALLOWED (traffic between a pod and its own node is always allowed)"],
  },
  {
    name: "addresses: outside the cluster",
    args: ["check", "z/c", "8.8.8.8", "53"],
    code: 1,
    stdout: ["z/c (10.244.1.19) -> 8.8.8.8 (outside the cluster) TCP/53: DENIED", "  ingress: 8.8.8.8 (outside the cluster) is not a pod: no policy applies"],
  },
  { name: "an unknown pod exits 2 with the error on stderr", args: ["check", "x/zz", "x/a", "80"], code: 2, stdout: "", stderr: 'error: pods "zz" not found in namespace "x"\n' },
  { name: "an unknown destination pod exits 2", args: ["check", "x/a", "nope/a", "80"], code: 2, stdout: "", stderr: 'error: pods "a" not found in namespace "nope"\n' },
  ...["0", "65536", "abc", "tcp/0", "-1"].map(
    (port): Case => ({
      name: `port ${port} exits 2`,
      args: ["check", "x/a", "y/b", port],
      code: 2,
      stdout: "",
      stderr: `error: invalid check: port: ${PORT_DETAIL}\n  port: ${PORT_DETAIL}\n`,
    }),
  ),
  {
    name: "protocol icmp exits 2",
    args: ["check", "x/a", "y/b", "icmp/80"],
    code: 2,
    stdout: "",
    stderr: 'error: invalid check: protocol: supported values: "TCP", "UDP", "SCTP"\n  protocol: supported values: "TCP", "UDP", "SCTP"\n',
  },
];

function assertRun(run: Run, c: Case, where: string): void {
  assert.equal(run.code, c.code, `${where}: exit code; stderr: ${run.stderr}`);
  if (typeof c.stdout === "string") assert.equal(run.stdout, c.stdout, `${where}: stdout`);
  else for (const line of c.stdout ?? []) assert.ok(run.stdout.split("\n").includes(line), `${where}: stdout lacks ${JSON.stringify(line)}:\n${run.stdout}`);
  if (c.stderr !== undefined) assert.equal(run.stderr, c.stderr, `${where}: stderr`);
}

describe("podwall check", { concurrency: 4 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(["examples/cluster"]);
  });
  after(async () => server.close());

  for (const c of CASES) {
    it(`${c.name} (offline, and the same of a server)`, async () => {
      const [offline, online] = await Promise.all([podwall([...c.args, ...OFFLINE]), podwall([...c.args, "--server", server.url])]);
      assertRun(offline, c, "--manifests");
      assertRun(online, c, "--server");
      assert.equal(online.stdout, offline.stdout);
      assert.equal(online.stderr, offline.stderr);
    });
  }

  for (const flag of ["--manifests", "--server"] as const) {
    it(`-o json prints the decision as the REST API gives it (${flag})`, async () => {
      const run = await podwall(["check", "y/b", "x/a", "80", "-o", "json", ...(flag === "--server" ? ["--server", server.url] : OFFLINE)]);
      assert.equal(run.code, 0);
      assert.equal(run.stderr, "");
      const rest = await http(server, "GET", "/v1/check?src=y/b&dst=x/a&port=80&explain=true");
      // Every decision has an id of its own; the two answers are otherwise the same, byte for byte.
      const printed = JSON.parse(run.stdout) as { decisionId?: unknown };
      assert.equal(typeof printed.decisionId, typeof rest.body.decisionId);
      const same = { ...rest.body, ...("decisionId" in printed ? { decisionId: printed.decisionId } : {}) };
      assert.deepEqual(printed, same);
      assert.equal(run.stdout, `${JSON.stringify(same, null, 2)}\n`);
    });
  }

  it("-o json of a denial exits 1", async () => {
    const run = await podwall(["check", "y/b", "x/a", "SCTP/80", "-o", "json", ...OFFLINE]);
    assert.equal(run.code, 1);
    const d = JSON.parse(run.stdout) as { allowed: boolean; protocol: string; port: number; ingress: { verdicts: unknown[] } };
    assert.equal(d.allowed, false);
    assert.equal(d.protocol, "SCTP");
    assert.equal(d.port, 80);
    assert.deepEqual(d.ingress.verdicts, [
      { policy: "x/allow-y-to-a", allowed: false, rules: [{ field: "spec.ingress[0]", result: "protocol-mismatch", detail: "the rule allows no SCTP port" }] },
    ]);
  });

  it("-o yaml prints the decision -o json prints, as YAML, and an unknown -o exits 2", async () => {
    const [yaml, json] = await Promise.all([
      podwall(["check", "x/a", "y/b", "SCTP/80", "-o", "yaml", ...OFFLINE]),
      podwall(["check", "x/a", "y/b", "SCTP/80", "-o", "json", ...OFFLINE]),
    ]);
    assert.equal(yaml.code, json.code);
    const id = (d: Record<string, unknown>) => ({ ...d, decisionId: "" });
    assert.deepEqual(id(parseYaml(yaml.stdout) as Record<string, unknown>), id(JSON.parse(json.stdout) as Record<string, unknown>));
    const wrong = await podwall(["check", "x/a", "y/b", "80", "-o", "xml", ...OFFLINE]);
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stdout, "");
    assert.match(wrong.stderr, /argument 'xml' is invalid\. Allowed choices are text, json, yaml\./);
  });

  it("a missing argument exits 2", async () => {
    const run = await podwall(["check", "x/a", "y/b"]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /missing required argument 'port'/);
  });

  it("a server that is not there exits 2", async () => {
    const run = await podwall(["check", "x/a", "y/b", "80", "--server", `http://127.0.0.1:${await closedPort()}`]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^error: /);
  });

  it("manifests that are not there exit 2", async () => {
    const run = await podwall(["check", "x/a", "y/b", "80", "--manifests", "test/fixtures/api/no-such-dir"]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^error: .*no-such-dir/);
  });

  it("--server follows the server's model: a write changes the answer", async () => {
    const deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: cli-deny, namespace: 'y'}\nspec: {podSelector: {matchLabels: {pod: b}}}\n";
    const other = await startServer(["examples/cluster"]);
    try {
      assert.equal((await podwall(["check", "x/a", "y/b", "80", "--server", other.url])).code, 0);
      assert.equal((await http(other, "POST", "/v1/apply", deny)).status, 200);
      const run = await podwall(["check", "x/a", "y/b", "80", "--server", other.url]);
      assert.equal(run.code, 1);
      assert.ok(run.stdout.includes("  ingress of y/b: denied; isolated by y/cli-deny and no rule matches\n"));
      assert.ok(run.stdout.endsWith("  (generation 2)\n"));
    } finally {
      await other.close();
    }
  });
});

describe("podwall serve", () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("serves REST and gRPC on the addresses given, answers checks, and stops on SIGTERM", async () => {
    const p = await spawnServe(["--in-memory", "--manifests", "examples/cluster"]);
    const proc = p.proc;
    child = proc;
    assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(p.grpc, /^127\.0\.0\.1:\d+$/);
    await untilReady(p);
    const url = p.url;
    assert.deepEqual((await http({ url }, "GET", "/readyz")).body, { ready: true, status: "ready", generation: 1, store: { kind: "memory", writable: true } });
    const run = await podwall(["check", "x/a", "y/b", "80", "--server", url]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, ALLOWED_TEXT);

    proc.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  });
});

describe("podwall serve --data-dir", () => {
  const dir = mkdtempSync(join(tmpdir(), "podwall-cli-data-"));
  let holder: ServeProcess | undefined;
  after(async () => {
    await holder?.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const serveArgs = (data: string) => ["serve", "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--data-dir", data];

  it("keeps an answered write across a restart, with its generation, and applies unchanged manifests as no write", async () => {
    const data = join(dir, "restart");
    const first = await spawnServe(["--data-dir", data, "--manifests", "examples/cluster"]);
    await untilReady(first);
    const w = await http(
      { url: first.url },
      "POST",
      "/v1/apply",
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}}\n",
    );
    assert.equal(w.status, 200);
    assert.equal(w.body.generation, 2);
    first.proc.kill("SIGTERM");
    assert.equal(await first.exited, 0);
    const second = await spawnServe(["--data-dir", data, "--manifests", "examples/cluster"]);
    try {
      await untilReady(second);
      assert.deepEqual((await http({ url: second.url }, "GET", "/readyz")).body, { ready: true, status: "ready", generation: 2, store: { kind: "lmdb", writable: true } });
      const items = (await http({ url: second.url }, "GET", "/v1/model")).body.items as { kind: string; metadata: { name: string; namespace?: string } }[];
      assert.ok(
        items.some((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === "x" && o.metadata.name === "deny"),
        "the policy written before the restart",
      );
    } finally {
      await second.kill();
    }
  });

  it("exits 2 naming the holder when another server holds the directory", async () => {
    const data = join(dir, "locked");
    holder = await spawnServe(["--data-dir", data]);
    await untilReady(holder);
    const run = await podwall(serveArgs(data));
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`error: data directory ${data} is locked by another podwall process \\(pid ${holder.proc.pid}\\)`));
  });

  it("exits 2 naming the file when the directory holds no LMDB database", async () => {
    const data = join(dir, "garbage");
    mkdirSync(data);
    writeFileSync(join(data, "data.mdb"), Buffer.alloc(64 * 1024, 0x5a));
    const run = await podwall(serveArgs(data));
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`error: ${join(data, "data.mdb")} is not an LMDB database`));
  });

  it("exits 2 when the directory was written by a newer podwall", async () => {
    const data = join(dir, "newer");
    const store = LmdbStore.open(data);
    await store.close();
    const raw = openLmdb(lmdbOptions(data));
    await raw.put("meta/format", "2");
    await raw.close();
    const run = await podwall(serveArgs(data));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /holds format 2, written by a newer podwall; this one reads format 1/);
  });
});

describe("podwall rules --since", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(["examples/cluster"]);
  });
  after(async () => server.close());

  it("prints the delta from a version the server keeps, in JSON and as text", async () => {
    const version = (await http(server, "GET", "/v1/nodes/node-1/rules")).body.version as string;
    const json = await podwall(["rules", "node-1", "--since", version, "--format", "json", "--server", server.url]);
    assert.equal(json.code, 0, json.stderr);
    const d = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual([d["base"], d["version"], d["ipset"], d["iptables"], d["remove"]], [version, version, "", "", { chains: [], sets: [] }]);
    const text = await podwall(["rules", "node-1", "--since", version, "--server", server.url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`^# node node-1, version ${version}, a delta from ${version}\n# 0 set members to add, 0 to delete\n# then remove chains: none; sets: none\n`),
    );
  });

  it("refuses --since with a text format or with --manifests (exit 2)", async () => {
    const format = await podwall(["rules", "node-1", "--since", "abc", "--format", "ipset", "--server", server.url]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--since prints a delta/);
    const offline = await podwall(["rules", "node-1", "--since", "abc", ...OFFLINE]);
    assert.equal(offline.code, 2);
    assert.match(offline.stderr, /cannot be used with option '--manifests/);
  });
});

describe("podwall --version, --help and -o", () => {
  it("--version prints the package's version and exits 0", async () => {
    const run = await podwall(["--version"]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `podwall ${(JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version}\n`);
  });

  for (const command of [[], ["serve"], ["check"], ["rules"], ["agent"]]) {
    it(`${["podwall", ...command].join(" ")} --help ends with examples`, async () => {
      const run = await podwall([...command, "--help"]);
      assert.equal(run.code, 0);
      const tail = run.stdout.slice(run.stdout.indexOf("\nExamples:\n"));
      assert.ok(run.stdout.includes("\nExamples:\n"), run.stdout);
      assert.ok(tail.split("\n").filter((l) => l.startsWith("  ") && /podwall|npm/.test(l)).length >= 2, tail);
    });
  }

  it("rules -o yaml and -o json print the same ruleset, and -o with --format exits 2", async () => {
    const [yaml, json] = await Promise.all([podwall(["rules", "node-1", "-o", "yaml", ...OFFLINE]), podwall(["rules", "node-1", "-o", "json", ...OFFLINE])]);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.deepEqual(parseYaml(yaml.stdout), JSON.parse(json.stdout));
    assert.deepEqual(Object.keys(JSON.parse(json.stdout)).sort(), ["hooks", "ip6tables", "ipset", "iptables", "node", "version"]);
    const both = await podwall(["rules", "node-1", "-o", "json", "--format", "ipset", ...OFFLINE]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /cannot be used with option '--format/);
  });
});
