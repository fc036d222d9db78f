/**
 * Hostile input at the front doors, one finding of an attacker's run each:
 * every request is answered in the usual error shape (JSON, never HTML or a
 * stack trace) with its exact status and message, leaves the model exactly
 * as it was, and leaves the server serving every other caller.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { readerThread } from "../../server/manifests/reader-thread.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { assertUnchanged, grpcError, modelItems, podwallErrors, snapshot } from "./support.js";

const EXAMPLES = "examples/cluster";
const PORT_RANGE = "must be between 1 and 65535, inclusive";
const TYPES_ACCEPTED = "accepted media types include: application/json, application/yaml, application/x-yaml, text/yaml";
const EMPTY_REPLACE =
  "refusing to replace the model with manifests that hold no object: that would delete every object; " +
  "to empty the model, ask for it with allowEmpty (REST: PUT /v1/model?allowEmpty=true, gRPC: allow_empty: true)";

const bad = (message: string, errors: unknown[] = []) => ({ code: 400, reason: "BadRequest", message, errors });
const policyYaml = (name: string, spec: string) => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: x}\nspec: ${spec}\n`;

/** Billion laughs: `levels` anchors, each `width` aliases of the one before. */
function laughs(levels: number, width: number, indent = ""): string {
  const lines = [`${indent}l0: &l0 [${Array(width).fill('"lol"').join(", ")}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `${indent}l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\n`;
}

/** A request with exactly these headers and this body (fetch adds no content type to bytes). */
async function raw(server: { url: string }, method: string, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { method, headers, body: new TextEncoder().encode(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

/** Asserts the answer is the usual JSON error shape and names no file of the server. */
function assertErrorShape(r: { status: number; type: string | null; text: string }): void {
  assert.equal(r.type, "application/json; charset=utf-8");
  assert.doesNotMatch(r.text, /<html|<pre|\/work\/|node_modules|\.ts:\d+/i);
}

describe("hostile input", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer([EXAMPLES]);
  });
  after(async () => server.close());

  describe("YAML that would exhaust the reader is a 400, and nothing is stored", () => {
    const cases: [string, string, string][] = [
      [
        "billion laughs",
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: lol}\n${laughs(9, 9)}`,
        "document contains excessive aliasing: aliases repeat more than 100000 nodes at line 9, column 10",
      ],
      ["an unresolved alias", "apiVersion: v1\nkind: Namespace\nmetadata: *m\n", "unknown anchor 'm' referenced at line 3, column 11"],
      ["a cyclic alias", "apiVersion: v1\nkind: Namespace\nmetadata: &m [*m]\n", "anchor 'm' value contains itself at line 3, column 15"],
      ["a cyclic value in an otherwise valid policy", policyYaml("cyc", "&s {podSelector: {}, extra: *s}"), "anchor 's' value contains itself at line 4, column 35"],
      ["a 6,000-deep value in an otherwise valid policy", policyYaml("deep", `{podSelector: {}, extra: ${"[".repeat(6000)}${"]".repeat(6000)}}`), "exceeded max depth of 100"],
    ];
    for (const [name, body, message] of cases) {
      it(name, async () => {
        const before = await snapshot(server);
        const r = await raw(server, "POST", "/v1/apply", body, { "content-type": "application/yaml" });
        assertErrorShape(r);
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, bad(`malformed manifests: document 1: ${message}`));
        await assertUnchanged(server, before, name);
      });
    }

    it("an alias fan-out under a field the API server does not know is dropped with a warning, not stored", async () => {
      const body = policyYaml("fan", `\n  podSelector: {}\n${laughs(4, 9, "  ")}  extra: *l3`);
      const r = await http(server, "POST", "/v1/apply", body);
      assert.equal(r.status, 200);
      const fields = ["spec.l0", "spec.l1", "spec.l2", "spec.l3", "spec.extra"];
      assert.deepEqual(
        r.body.warnings,
        fields.map((f) => `unknown field "${f}" (NetworkPolicy x/fan)`),
      );
      const stored = (await modelItems(server)).find((o) => o["kind"] === "NetworkPolicy" && o["metadata"].name === "fan");
      assert.deepEqual(stored?.["spec"], { podSelector: {} });
      assert.equal((await http(server, "DELETE", "/v1/namespaces/x/networkpolicies/fan")).status, 200);
    });
  });

  describe("JSON nested thousands deep is a 400 in the usual shape", () => {
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const cases: [string, string, string, string][] = [
      ["PUT /v1/model", "PUT", "/v1/model", `${"[".repeat(5000)}${"]".repeat(5000)}`],
      ["POST /v1/check", "POST", "/v1/check", `{"src": ${deep}, "dst": "x/a", "port": 80}`],
      ["POST /v1/check/batch", "POST", "/v1/check/batch", `{"checks": ${deep}}`],
      ["PUT /v1/nodes/node-1/status", "PUT", "/v1/nodes/node-1/status", `{"version": ${deep}}`],
    ];
    for (const [name, method, path, body] of cases) {
      it(name, async () => {
        const before = await snapshot(server);
        const r = await raw(server, method, path, body, { "content-type": "application/json" });
        assertErrorShape(r);
        assert.equal(r.status, 400);
        const message =
          path === "/v1/model" ? "malformed manifests: document 1: exceeded max depth of 100 at line 1, column 101" : "malformed request body: exceeded max depth of 100";
        assert.deepEqual(r.body, bad(message));
        await assertUnchanged(server, before, name);
      });
    }
  });

  it("150,000 field errors: the first 100 are listed and the rest counted", async () => {
    const before = await snapshot(server);
    const ports = Array.from({ length: 150_000 }, () => ({ port: 0 }));
    const body = JSON.stringify({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "x" },
      spec: { podSelector: {}, ingress: [{ ports }] },
    });
    const r = await raw(server, "POST", "/v1/apply", body, { "content-type": "application/json" });
    assertErrorShape(r);
    assert.equal(r.status, 422);
    const field = (i: number) => `spec.ingress[0].ports[${i}].port`;
    const listed = Array.from({ length: 100 }, (_, i) => i);
    assert.deepEqual(r.body, {
      code: 422,
      reason: "Invalid",
      message: `NetworkPolicy.networking.k8s.io "p" is invalid: [${listed.map((i) => `${field(i)}: Invalid value: 0: ${PORT_RANGE}`).join(", ")}, and 149900 more]`,
      errors: listed.map((i) => ({ object: 'NetworkPolicy.networking.k8s.io "p"', field: field(i), type: "FieldValueInvalid", value: 0, detail: PORT_RANGE })),
      omittedErrors: 149_900,
    });
    await assertUnchanged(server, before, "150,000 errors");
  });

  it("an error quotes an excerpt of a long value, not the value", async () => {
    const long = "v".repeat(100_000);
    const r = await http(server, "POST", "/v1/apply", `apiVersion: v1\nkind: Namespace\nmetadata: {name: q, labels: {a: ${long}}}\n`);
    assert.equal(r.status, 422);
    const excerpt = `${"v".repeat(256)}...(99744 more characters)`;
    const detail = "must be no more than 63 characters";
    assert.deepEqual(r.body, {
      code: 422,
      reason: "Invalid",
      message: `Namespace "q" is invalid: metadata.labels: Invalid value: "${excerpt}": ${detail}`,
      errors: [{ object: 'Namespace "q"', field: "metadata.labels", type: "FieldValueInvalid", value: excerpt, detail }],
    });
  });

  describe("writes take JSON and YAML bodies only: anything else is 415", () => {
    const routes: [string, string, string][] = [
      ["PUT", "/v1/model", "apiVersion: v1\nkind: Namespace\nmetadata: {name: w}\n"],
      ["POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: w}\n"],
      ["POST", "/v1/check", '{"src": "x/a", "dst": "x/b", "port": 80}'],
      ["POST", "/v1/check/batch", '{"checks": []}'],
      ["PUT", "/v1/nodes/node-1/status", '{"version": "v"}'],
    ];
    const types: [string, Record<string, string>][] = [
      ["text/plain", { "content-type": "text/plain" }],
      ["application/x-www-form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }],
      ["multipart/form-data", { "content-type": "multipart/form-data; boundary=x" }],
      ["", {}],
    ];
    for (const [method, path, body] of routes) {
      for (const [type, headers] of types) {
        it(`${method} ${path} as ${JSON.stringify(type)}`, async () => {
          const before = await snapshot(server);
          const r = await raw(server, method, path, body, headers);
          assertErrorShape(r);
          assert.equal(r.status, 415);
          assert.deepEqual(r.body, {
            code: 415,
            reason: "UnsupportedMediaType",
            message: `the body of the request was in an unknown format (${JSON.stringify(type)}) - ${TYPES_ACCEPTED}`,
            errors: [],
          });
          await assertUnchanged(server, before, `${method} ${path}`);
        });
      }
    }

    it("a charset other than UTF-8 is 415", async () => {
      const r = await raw(server, "POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: w}\n", { "content-type": "application/yaml; charset=latin1" });
      assert.equal(r.status, 415);
      assert.deepEqual(r.body, { code: 415, reason: "UnsupportedMediaType", message: 'unsupported charset "LATIN1"', errors: [] });
    });

    for (const type of ["application/json; charset=utf-8", "application/yaml", "application/x-yaml; charset=UTF-8", "text/yaml", "Application/JSON"]) {
      it(`${type} is read`, async () => {
        const body = type.toLowerCase().includes("json")
          ? '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "typed"}}'
          : "apiVersion: v1\nkind: Namespace\nmetadata: {name: typed}\n";
        const r = await raw(server, "POST", "/v1/apply", body, { "content-type": type });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body.applied, ["Namespace typed"]);
      });
    }

    it("a check body may be YAML too", async () => {
      const r = await raw(server, "POST", "/v1/check", "src: x/a\ndst: x/b\nport: 80\n", { "content-type": "application/yaml" });
      assert.equal(r.status, 200);
      assert.equal(typeof r.body.allowed, "boolean");
    });
  });

  describe("a replace that would leave the model empty takes allowEmpty", () => {
    for (const [name, body] of [
      ["no manifests", ""],
      ["only kinds Podwall skips", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n"],
    ] as const) {
      it(`${name} is refused, naming the flag`, async () => {
        const before = await snapshot(server);
        const r = await raw(server, "PUT", "/v1/model", body, { "content-type": "application/yaml" });
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, bad(EMPTY_REPLACE));
        await assertUnchanged(server, before, name);
      });
    }

    it("allowEmpty must be a boolean", async () => {
      const r = await http(server, "PUT", "/v1/model?allowEmpty=yes", "");
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, bad("allowEmpty must be true or false", [{ field: "allowEmpty", type: "FieldValueInvalid", value: "yes", detail: "must be true or false" }]));
    });

    it("over gRPC too", async () => {
      const model = modelClient(server.grpcAddress);
      try {
        const before = await snapshot(server);
        const e = await grpcError(model.unary("replace", { manifests: "" }));
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(e.details, EMPTY_REPLACE);
        await assertUnchanged(server, before, "gRPC Replace");
      } finally {
        model.close();
      }
    });

    it("with allowEmpty, over REST and gRPC, the model is emptied", async () => {
      const fresh = await startServer([EXAMPLES]);
      const model = modelClient(fresh.grpcAddress);
      try {
        const g = (await snapshot(fresh)).generation;
        const r = await http(fresh, "PUT", "/v1/model?allowEmpty=true", "");
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, { generation: g + 1, applied: [], skipped: [] });
        assert.deepEqual(await modelItems(fresh), []);
        const w = await model.unary("replace", { manifests: "", allowEmpty: true });
        assert.equal(Number(w.generation), g + 1);
      } finally {
        model.close();
        await fresh.close();
      }
    });
  });

  describe("a node's status report is bounded", () => {
    const cases: [string, Record<string, unknown>, string, number][] = [
      ["an error of 4097 bytes", { version: "v1", error: "e".repeat(4097) }, "error", 4096],
      ["an error of 4096 bytes in 1366 characters", { version: "v1", error: "€".repeat(1366) }, "error", 4096],
      ["a version of 257 bytes", { version: "v".repeat(257) }, "version", 256],
    ];
    for (const [name, body, field, max] of cases) {
      it(`${name} is refused`, async () => {
        const r = await http(server, "PUT", "/v1/nodes/node-1/status", body);
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, bad("invalid status report", [{ field, type: "FieldValueInvalid", detail: `may not be more than ${max} bytes` }]));
        const nodes = (await http(server, "GET", "/v1/nodes")).body.nodes as { node: string; applied: unknown }[];
        assert.equal(nodes.find((n) => n.node === "node-1")?.applied, null);
      });
    }
    it("a report within the bounds is taken", async () => {
      const r = await http(server, "PUT", "/v1/nodes/node-2/status", { version: "v1", error: "e".repeat(4096) });
      assert.equal(r.status, 200);
      assert.equal(r.body.applied.error, "e".repeat(4096));
    });
  });

  describe("unknown and duplicate fields, as the API server's strict field validation", () => {
    it("unknown fields are dropped and warned of, in the answer and in Warning headers", async () => {
      const body =
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: u, namespace: x, colour: red}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}, nameSpace: {}}]}]\n  foo: 1\n";
      const res = await fetch(`${server.url}/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body });
      assert.equal(res.status, 200);
      const warnings = ['unknown field "metadata.colour"', 'unknown field "spec.ingress[0].from[0].nameSpace"', 'unknown field "spec.foo"'].map((w) => `${w} (NetworkPolicy x/u)`);
      assert.deepEqual(((await res.json()) as { warnings: string[] }).warnings, warnings);
      assert.equal(res.headers.get("warning"), warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", "));
      const stored = (await modelItems(server)).find((o) => o["metadata"].name === "u");
      assert.deepEqual(stored, {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "u", namespace: "x" },
        spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] },
      });
    });

    it("warnings are bounded, and their headers safe to send", async () => {
      const extra = Array.from({ length: 150 }, (_, i) => `  f${i}: 1`).join("\n");
      const body = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: many, namespace: x}\nspec:\n  podSelector: {}\n  "fü\\"ß\\n": 1\n${extra}\n`;
      const res = await fetch(`${server.url}/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body });
      assert.equal(res.status, 200);
      const warnings = ((await res.json()) as { warnings: string[] }).warnings;
      const odd = 'unknown field "spec.fü\\"ß\\n" (NetworkPolicy x/many)';
      assert.deepEqual(warnings, [odd, ...Array.from({ length: 99 }, (_, i) => `unknown field "spec.f${i}" (NetworkPolicy x/many)`), "51 more warnings left out"]);
      // The header carries UTF-8 (fetch reads header bytes as Latin-1), quotes and backslashes escaped, control characters spelled.
      const first = Buffer.from(res.headers.get("warning")!.split(", 299 - ")[0]!, "latin1").toString("utf8");
      assert.equal(first, '299 - "unknown field \\"spec.fü\\\\\\"ß\\\\n\\" (NetworkPolicy x/many)"');
    });

    for (const [format, body, type] of [
      ["YAML", "apiVersion: v1\nkind: Pod\nmetadata: {name: d, namespace: x}\nspec:\n  nodeName: node-1\n  nodeName: node-2\n", "application/yaml"],
      ["JSON", '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "namespace": "x"}, "spec": {"nodeName": "node-1", "nodeName": "node-2"}}', "application/json"],
    ] as const) {
      it(`a field given twice (${format}) is refused as the API server's strict decoding refuses it`, async () => {
        const before = await snapshot(server);
        const r = await raw(server, "POST", "/v1/apply", body, { "content-type": type });
        assert.equal(r.status, 400);
        assert.deepEqual(
          r.body,
          bad('Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "spec.nodeName"', [
            { object: 'Pod "d"', field: "spec.nodeName", type: "FieldValueDuplicate", detail: 'duplicate field "spec.nodeName"' },
          ]),
        );
        await assertUnchanged(server, before, format);
      });
    }

    it("gRPC Apply answers the warnings in WriteResponse.warnings", async () => {
      const model = modelClient(server.grpcAddress);
      try {
        const w = await model.unary("apply", { manifests: policyYaml("gw", "{podSelector: {}, foo: 1}") });
        assert.deepEqual(w.warnings, ['unknown field "spec.foo" (NetworkPolicy x/gw)']);
      } finally {
        model.close();
      }
    });
  });

  describe("gRPC statuses are always sent", () => {
    let model: ReturnType<typeof modelClient>;
    let decisions: ReturnType<typeof decisionClient>;
    before(() => {
      model = modelClient(server.grpcAddress);
      decisions = decisionClient(server.grpcAddress);
    });
    after(() => {
      model.close();
      decisions.close();
    });

    it("a rejected value with non-ASCII characters is INVALID_ARGUMENT, its errors intact", async () => {
      const manifests = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: "Grüße-名前"}\n';
      const rest = await http(server, "POST", "/v1/apply", manifests);
      const e = await grpcError(model.unary("apply", { manifests }));
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(e.details, rest.body.message);
      assert.deepEqual(podwallErrors(e), rest.body.errors);
      assert.equal((podwallErrors(e) as { value: string }[])[0]?.value, "Grüße-名前");
    });

    it("an error that would echo hundreds of KB gets its status, bounded, and the connection stays up", async () => {
      const manifests = Array.from({ length: 300 }, (_, i) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: "N${i}${"ü".repeat(300)}"}`).join("\n---\n");
      const e = await grpcError(model.unary("apply", { manifests }));
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.ok(encodeURI(e.details).length <= 8 * 1024, "details fit in 8 KiB");
      assert.match(e.details, /^Namespace "N0ü+\.\.\.\(46 more characters\)" is invalid: /);
      const errors = podwallErrors(e) ?? [];
      assert.ok(errors.length > 0 && JSON.stringify(errors).length <= 32 * 1024);
      // Two errors per namespace: its name is too long, and not a DNS label.
      assert.equal(Number(e.metadata.get("podwall-errors-omitted")[0]), 600 - errors.length);
      const d = await decisions.unary("check", { src: "x/a", dst: "x/b", port: 80 });
      assert.equal(typeof d.allowed, "boolean");
    });

    it("a message that is not protobuf is INVALID_ARGUMENT", async () => {
      const Raw = grpc.makeGenericClientConstructor(
        {
          check: {
            path: "/podwall.v1.DecisionService/Check",
            requestStream: false,
            responseStream: false,
            requestSerialize: (b: Buffer) => b,
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        "Raw",
      );
      const client = new Raw(server.grpcAddress, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...a: unknown[]) => void>;
      try {
        const e = await grpcError(
          new Promise((resolve, reject) => client["check"]!(Buffer.from([0x0a, 0xff, 0xff]), (err: unknown, r: unknown) => (err ? reject(err) : resolve(r)))),
        );
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(e.details, "malformed request: not a podwall.v1.CheckRequest message: premature EOF");
      } finally {
        client.close();
      }
    });
  });

  it("a large YAML write is read off the event loop: a small request is answered while it is read", async () => {
    const pods = Array.from(
      { length: 3000 },
      (_, i) =>
        `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p${i}\n  namespace: x\n  labels: {app: a${i % 7}, tier: t${i % 3}}\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\n    ports:\n    - {name: http, containerPort: 8080, protocol: TCP}\nstatus:\n  podIP: 10.250.${Math.floor(i / 250)}.${i % 250}\n`,
    ).join("---\n");
    const big = http(server, "POST", "/v1/apply", pods);
    while (!readerThread.busy) await new Promise((resolve) => setImmediate(resolve));
    const small = await http(server, "GET", "/v1/check?src=x/a&dst=x/b&port=80");
    assert.equal(small.status, 200);
    assert.equal(readerThread.busy, true, "the large write was still being read when the small request was answered");
    const r = await big;
    assert.equal(r.status, 200);
    assert.equal(r.body.applied.length, 3000);
  });
});

describe("a request body that stops arriving", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer([EXAMPLES], { limits: { requestTimeoutMs: 300 } });
  });
  after(async () => server.close());

  it("is answered 408 and its connection closed", async () => {
    const port = Number(new URL(server.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      let data = "";
      const s = connect(port, "127.0.0.1", () => {
        s.write("PUT /v1/model HTTP/1.1\r\nHost: podwall\r\nContent-Type: application/yaml\r\nContent-Length: 1000\r\n\r\napiVersion: v1\n");
      });
      s.setEncoding("utf8");
      s.on("data", (d: string) => (data += d));
      s.on("close", () => resolve(data));
      s.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it("a long poll that waits longer than the request timeout is still answered", async () => {
    const version = (await http(server, "GET", "/v1/nodes/node-1/rules")).body.version as string;
    const r = await http(server, "GET", "/v1/nodes/node-1/rules?wait=1", undefined, { "if-none-match": `"${version}"` });
    assert.equal(r.status, 304);
  });
});
