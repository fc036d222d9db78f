/**
 * Bad input at the front doors: every rejection has its exact status, body
 * and field paths, and leaves the model (generation and content) as it was.
 */
import assert from "node:assert/strict";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { after, before, describe, it } from "node:test";
import { decisionClient, modelClient } from "../../client/grpc-client.js";
import { createRestApp } from "../../server/api/rest/app.js";
import { PodwallService, SYSTEM } from "../../server/service/index.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { assertUnchanged, grpcError, podwallErrors, sansId, serveApp, snapshot } from "./support.js";

const EXAMPLES = "examples/cluster";
const JSON_TYPE = { "content-type": "application/json" };
const PORT_RANGE = "must be between 1 and 65535, inclusive";
const PROTOCOLS = 'supported values: "TCP", "UDP", "SCTP"';
const REF = "a pod as namespace/name, or an IP address";

const BAD_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Sideways]
  ingress:
    - from:
        - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}
      ports:
        - port: 0
    - from:
        - podSelector: {matchLabels: {"bad key!": x}}
`;
const BAD_POLICY_OBJECT = 'NetworkPolicy.networking.k8s.io "bad"';
const LABEL_NAME_DETAIL =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const BAD_POLICY_ERRORS = [
  { object: BAD_POLICY_OBJECT, field: "spec.ingress[0].ports[0].port", type: "FieldValueInvalid", value: 0, detail: PORT_RANGE },
  { object: BAD_POLICY_OBJECT, field: "spec.ingress[0].from[0].ipBlock.except[0]", type: "FieldValueInvalid", value: "11.0.0.0/8", detail: "must be a strict subset of `cidr`" },
  { object: BAD_POLICY_OBJECT, field: "spec.ingress[1].from[0].podSelector.matchLabels", type: "FieldValueInvalid", value: "bad key!", detail: LABEL_NAME_DETAIL },
  { object: BAD_POLICY_OBJECT, field: "spec.policyTypes[1]", type: "FieldValueNotSupported", value: "Sideways", detail: 'supported values: "Ingress", "Egress"' },
];
/** Kubernetes' form: `Kind "name" is invalid: [path: Type: value: detail, ...]`. */
const BAD_POLICY_MESSAGE =
  `${BAD_POLICY_OBJECT} is invalid: [` +
  [
    `spec.ingress[0].ports[0].port: Invalid value: 0: ${PORT_RANGE}`,
    'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "11.0.0.0/8": must be a strict subset of `cidr`',
    `spec.ingress[1].from[0].podSelector.matchLabels: Invalid value: "bad key!": ${LABEL_NAME_DETAIL}`,
    'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
  ].join(", ") +
  "]";

/** Valid objects, then one invalid one last: nothing of it may be applied. */
const LAST_INVALID = [
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: fresh}\nstatus: {podIP: 10.244.9.9}",
  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 65536}]}]}",
].join("\n---\n");
const LAST_INVALID_BODY = {
  code: 422,
  reason: "Invalid",
  message: `NetworkPolicy.networking.k8s.io "p" is invalid: spec.ingress[0].ports[0].port: Invalid value: 65536: ${PORT_RANGE}`,
  errors: [{ object: 'NetworkPolicy.networking.k8s.io "p"', field: "spec.ingress[0].ports[0].port", type: "FieldValueInvalid", value: 65536, detail: PORT_RANGE }],
};

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** The exact error body. */
  readonly want: Record<string, unknown>;
}

const bad = (message: string, errors: unknown[] = []) => ({ code: 400, reason: "BadRequest", message, errors });
const notFound = (message: string) => ({ code: 404, reason: "NotFound", message, errors: [] });

const MALFORMED: Case[] = [
  {
    name: "malformed YAML to PUT /v1/model",
    method: "PUT",
    path: "/v1/model",
    body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a\n",
    status: 400,
    want: bad("malformed manifests: document 1: Flow map in block collection must be sufficiently indented and end with a } at line 4, column 1:"),
  },
  {
    name: "malformed YAML in the second document of POST /v1/apply",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n",
    status: 400,
    want: bad("malformed manifests: document 2: Flow sequence in block collection must be sufficiently indented and end with a ] at line 6, column 1:"),
  },
  {
    name: "malformed JSON to PUT /v1/model",
    method: "PUT",
    path: "/v1/model",
    body: '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}',
    headers: JSON_TYPE,
    status: 400,
    want: bad("malformed manifests: document 1: Flow map must end with a } at line 1, column 68:"),
  },
  {
    name: "malformed JSON to POST /v1/check",
    method: "POST",
    path: "/v1/check",
    body: '{"src": "x/a", "dst": ',
    headers: JSON_TYPE,
    status: 400,
    want: bad("malformed request body: Unexpected end of JSON input"),
  },
  {
    name: "malformed JSON to POST /v1/check/batch",
    method: "POST",
    path: "/v1/check/batch",
    body: '{"checks": [{"src": "x/a",}]}',
    headers: JSON_TYPE,
    status: 400,
    want: bad("malformed request body: Expected double-quoted property name in JSON at position 26"),
  },
  {
    name: "a JSON array to POST /v1/check",
    method: "POST",
    path: "/v1/check",
    body: [{ src: "x/a", dst: "x/b", port: 80 }],
    status: 400,
    want: bad("body must be a JSON object"),
  },
  {
    name: "an empty body to POST /v1/check: every field is missing",
    method: "POST",
    path: "/v1/check",
    body: "",
    headers: JSON_TYPE,
    status: 400,
    want: bad(`invalid check: src: ${REF}; dst: ${REF}; port: ${PORT_RANGE}`, [
      { field: "src", type: "FieldValueRequired", detail: REF },
      { field: "dst", type: "FieldValueRequired", detail: REF },
      { field: "port", type: "FieldValueRequired", detail: PORT_RANGE },
    ]),
  },
  {
    name: "a batch without checks",
    method: "POST",
    path: "/v1/check/batch",
    body: { check: [] },
    status: 400,
    want: bad('body must be {"checks": [...]}', [{ field: "checks", type: "FieldValueRequired", detail: "an array of checks" }]),
  },
  {
    name: "a batch entry that is not an object",
    method: "POST",
    path: "/v1/check/batch",
    body: { checks: [{ src: "x/a", dst: "x/b", port: 80 }, null] },
    status: 400,
    want: bad("invalid check: checks[1]: must be an object", [{ field: "checks[1]", type: "FieldValueTypeInvalid", value: null, detail: "must be an object" }]),
  },
  {
    name: "a path parameter that does not decode",
    method: "DELETE",
    path: "/v1/namespaces/%E0%A4%A",
    status: 400,
    want: bad("malformed request: Failed to decode param '%E0%A4%A'"),
  },
];

/** A body the server does not read: 415, as the API server answers a media type it does not take. */
const unsupported = (message: string) => ({ code: 415, reason: "UnsupportedMediaType", message, errors: [] });
const UNSUPPORTED: Case[] = [
  {
    name: "a charset the server cannot read",
    method: "POST",
    path: "/v1/check",
    body: '{"src": "x/a", "dst": "x/b", "port": 80}',
    headers: { "content-type": "application/json; charset=latin1" },
    status: 415,
    want: unsupported('unsupported charset "LATIN1"'),
  },
  {
    name: "a content encoding the server cannot read",
    method: "PUT",
    path: "/v1/model",
    body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    headers: { "content-type": "application/yaml", "content-encoding": "snappy" },
    status: 415,
    want: unsupported('unsupported content encoding "snappy"'),
  },
  {
    name: "manifests as text/plain, which any web page may send",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    headers: { "content-type": "text/plain" },
    status: 415,
    want: unsupported(
      'the body of the request was in an unknown format ("text/plain") - accepted media types include: application/json, application/yaml, application/x-yaml, text/yaml',
    ),
  },
];

const INVALID: Case[] = [
  {
    name: "an invalid NetworkPolicy: every error with its field path, in Kubernetes' form",
    method: "POST",
    path: "/v1/apply",
    body: BAD_POLICY,
    status: 422,
    want: { code: 422, reason: "Invalid", message: BAD_POLICY_MESSAGE, errors: BAD_POLICY_ERRORS },
  },
  { name: "a batch whose last object alone is invalid, to POST /v1/apply", method: "POST", path: "/v1/apply", body: LAST_INVALID, status: 422, want: LAST_INVALID_BODY },
  { name: "a batch whose last object alone is invalid, to PUT /v1/model", method: "PUT", path: "/v1/model", body: LAST_INVALID, status: 422, want: LAST_INVALID_BODY },
  {
    name: "two invalid objects: the errors of both, each naming its object",
    method: "POST",
    path: "/v1/apply",
    body: [
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: Upper}",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c, ports: [{containerPort: 0}, {containerPort: 81, protocol: ICMP}]}]}",
    ].join("\n---\n"),
    status: 422,
    want: {
      code: 422,
      reason: "Invalid",
      message:
        "Namespace \"Upper\" is invalid: metadata.name: Invalid value: \"Upper\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'); " +
        // As the API server: containerPort 0 is its Go zero value, "missing"; a set's values are listed sorted.
        'Pod "p" is invalid: [spec.containers[0].ports[0].containerPort: Required value, spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"]',
      errors: [
        {
          object: 'Namespace "Upper"',
          field: "metadata.name",
          type: "FieldValueInvalid",
          value: "Upper",
          detail:
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        },
        { object: 'Pod "p"', field: "spec.containers[0].ports[0].containerPort", type: "FieldValueRequired", detail: "" },
        { object: 'Pod "p"', field: "spec.containers[0].ports[1].protocol", type: "FieldValueNotSupported", value: "ICMP", detail: 'supported values: "SCTP", "TCP", "UDP"' },
      ],
    },
  },
  {
    name: "a pod at another pod's address",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Pod\nmetadata: {name: dup, namespace: x}\nstatus: {podIP: 10.244.1.11}\n",
    status: 422,
    want: {
      code: 422,
      reason: "Invalid",
      message: 'the request is invalid: status.podIPs[0].ip: Duplicate value: "10.244.1.11": also the address of pod x/a',
      errors: [{ object: "Pod x/dup", field: "status.podIPs[0].ip", type: "FieldValueDuplicate", value: "10.244.1.11", detail: "also the address of pod x/a" }],
    },
  },
  {
    name: "a node at another node's address",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Node\nmetadata: {name: node-3}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.3}, {type: InternalIP, address: 10.0.0.1}]}\n",
    status: 422,
    want: {
      code: 422,
      reason: "Invalid",
      message: 'the request is invalid: status.addresses[1].address: Duplicate value: "10.0.0.1": also the address of node node-1',
      errors: [{ object: "Node node-3", field: "status.addresses[1].address", type: "FieldValueDuplicate", value: "10.0.0.1", detail: "also the address of node node-1" }],
    },
  },
  {
    name: "a node at a pod's address",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Node\nmetadata: {name: node-3}\nstatus: {addresses: [{type: InternalIP, address: 10.244.2.12}]}\n",
    status: 422,
    want: {
      code: 422,
      reason: "Invalid",
      message: 'the request is invalid: status.addresses[0].address: Duplicate value: "10.244.2.12": also the address of pod x/b',
      errors: [{ object: "Node node-3", field: "status.addresses[0].address", type: "FieldValueDuplicate", value: "10.244.2.12", detail: "also the address of pod x/b" }],
    },
  },
];

const MISSING: Case[] = [
  {
    name: "a pod in a namespace that does not exist",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: nope}\n",
    status: 404,
    want: notFound('namespaces "nope" not found (Pod nope/p)'),
  },
  {
    name: "a policy in a namespace that does not exist",
    method: "POST",
    path: "/v1/apply",
    body: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: nope}\nspec: {podSelector: {}}\n",
    status: 404,
    want: notFound('namespaces "nope" not found (NetworkPolicy nope/p)'),
  },
  {
    name: "a replacement model whose pod's namespace exists only in the old model",
    method: "PUT",
    path: "/v1/model",
    body: "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 10.244.1.11}\n",
    status: 404,
    want: notFound('namespaces "x" not found (Pod x/a)'),
  },
  {
    name: "an unknown source pod in GET /v1/check",
    method: "GET",
    path: "/v1/check?src=x/zz&dst=x/a&port=80",
    status: 404,
    want: notFound('pods "zz" not found in namespace "x"'),
  },
  {
    name: "an unknown destination pod in GET /v1/check",
    method: "GET",
    path: "/v1/check?src=x/a&dst=nope/a&port=80",
    status: 404,
    want: notFound('pods "a" not found in namespace "nope"'),
  },
  {
    name: "an unknown pod in POST /v1/check",
    method: "POST",
    path: "/v1/check",
    body: { src: "x/a", dst: "y/zz", port: 80 },
    status: 404,
    want: notFound('pods "zz" not found in namespace "y"'),
  },
  {
    name: "an unknown pod in POST /v1/check/batch",
    method: "POST",
    path: "/v1/check/batch",
    body: {
      checks: [
        { src: "x/a", dst: "y/b", port: 80 },
        { src: "z/zz", dst: "y/b", port: 80 },
      ],
    },
    status: 404,
    want: notFound('pods "zz" not found in namespace "z"'),
  },
];

/** One bad value of a check, as a query string value and as a JSON value. */
interface BadCheck {
  readonly name: string;
  readonly query: Record<string, string>;
  readonly json: Record<string, unknown>;
  /** The field error, field relative to the check; value as the query / the JSON body gave it. */
  readonly error: (value: "query" | "json") => Record<string, unknown> & { field: string; detail: string };
}

const invalidPort =
  (q: string, j: unknown): BadCheck["error"] =>
  (v) => ({ field: "port", type: "FieldValueInvalid", value: v === "query" ? q : j, detail: PORT_RANGE });
const BAD_CHECKS: BadCheck[] = [
  { name: "port 0", query: { port: "0" }, json: { port: 0 }, error: invalidPort("0", 0) },
  { name: "port 65536", query: { port: "65536" }, json: { port: 65536 }, error: invalidPort("65536", 65536) },
  { name: 'port "abc"', query: { port: "abc" }, json: { port: "abc" }, error: invalidPort("abc", "abc") },
  { name: "port -1", query: { port: "-1" }, json: { port: -1 }, error: invalidPort("-1", -1) },
  { name: "port 80.5", query: { port: "80.5" }, json: { port: 80.5 }, error: invalidPort("80.5", 80.5) },
  { name: "no port", query: {}, json: {}, error: () => ({ field: "port", type: "FieldValueRequired", detail: PORT_RANGE }) },
  {
    name: 'protocol "ICMP"',
    query: { port: "80", protocol: "ICMP" },
    json: { port: 80, protocol: "ICMP" },
    error: () => ({ field: "protocol", type: "FieldValueNotSupported", value: "ICMP", detail: PROTOCOLS }),
  },
  {
    name: 'source "abc"',
    query: { port: "80", src: "abc" },
    json: { port: 80, src: "abc" },
    error: () => ({ field: "src", type: "FieldValueInvalid", value: "abc", detail: '"abc" is neither "namespace/name" nor an IP address' }),
  },
];

function checkCases(): Case[] {
  const out: Case[] = [];
  for (const b of BAD_CHECKS) {
    const q = new URLSearchParams({ src: "x/a", dst: "y/b", ...b.query });
    const qe = b.error("query");
    // An unresolvable reference is found after the fields are read, so its message has no "invalid check:" prefix.
    const msg = (e: { field: string; detail: string }) => (e.field.endsWith("src") ? `${e.field}: ${e.detail}` : `invalid check: ${e.field}: ${e.detail}`);
    out.push({ name: `${b.name} in GET /v1/check`, method: "GET", path: `/v1/check?${q}`, status: 400, want: bad(msg(qe), [qe]) });
    const je = b.error("json");
    out.push({ name: `${b.name} in POST /v1/check`, method: "POST", path: "/v1/check", body: { src: "x/a", dst: "y/b", ...b.json }, status: 400, want: bad(msg(je), [je]) });
    if (je.field === "src") continue; // references are resolved one by one, after every check was read
    const be = { ...je, field: `checks[1].${je.field}` };
    out.push({
      name: `${b.name} in POST /v1/check/batch`,
      method: "POST",
      path: "/v1/check/batch",
      body: {
        checks: [
          { src: "x/a", dst: "y/b", port: 80 },
          { src: "x/a", dst: "y/b", ...b.json },
          { src: "x/a", dst: "y/b", port: 81 },
        ],
      },
      status: 400,
      want: bad(msg(be), [be]),
    });
  }
  return out;
}

const ROUTES: Case[] = [
  ["GET", "/v1/nope"],
  ["GET", "/v2/model"],
  ["POST", "/v1/model"],
  ["DELETE", "/v1/model"],
  ["PATCH", "/v1/apply"],
  ["GET", "/v1/namespaces/x/pods/a"],
  ["GET", "/"],
].map(([method, path]) => ({
  name: `unknown route ${method} ${path}`,
  method: method!,
  path: path!,
  status: 404,
  want: notFound(`no route for ${method} ${path}`),
}));

describe("bad input over REST", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer([EXAMPLES]);
  });
  after(async () => server.close());

  const groups: [string, Case[]][] = [
    ["malformed requests are 400", MALFORMED],
    ["bodies in a format the server does not read are 415", UNSUPPORTED],
    ["invalid objects are 422 and change nothing", INVALID],
    ["unknown objects are 404", MISSING],
    ["bad checks are 400 with the field path", checkCases()],
    ["unknown routes are 404 JSON", ROUTES],
  ];
  for (const [title, cases] of groups) {
    describe(title, () => {
      for (const c of cases) {
        it(c.name, async () => {
          const before = await snapshot(server);
          const res = await http(server, c.method, c.path, c.body, c.headers);
          assert.equal(res.status, c.status);
          assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
          assert.deepEqual(res.body, c.want);
          await assertUnchanged(server, before, c.name);
        });
      }
    });
  }

  it("the valid objects of a rejected batch were not applied", async () => {
    assert.equal((await http(server, "POST", "/v1/apply", LAST_INVALID)).status, 422);
    const items = (await http(server, "GET", "/v1/model")).body.items as { metadata: { name: string } }[];
    assert.equal(
      items.some((i) => i.metadata.name === "fresh"),
      false,
    );
    assert.equal((await http(server, "GET", "/v1/check?src=fresh/p&dst=x/a&port=80")).status, 404);
  });

  it("a rejected write leaves the decisions as they were", async () => {
    const ask = async () => sansId((await http(server, "GET", "/v1/check?src=x/b&dst=10.0.0.1&port=80")).body);
    const before = await ask();
    assert.equal(before.dst.kind, "node");
    for (const body of ["apiVersion: v1\nkind: Node\nmetadata: {name: n9}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.1}]}\n", LAST_INVALID]) {
      assert.equal((await http(server, "POST", "/v1/apply", body)).status, 422);
    }
    assert.deepEqual(await ask(), before);
  });
});

describe("a body larger than the limit is 413", () => {
  let server: { url: string; close(): Promise<void> };
  before(async () => {
    const service = await PodwallService.start();
    await service.replace(
      SYSTEM,
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 10.1.1.1}\n",
    );
    server = await serveApp(createRestApp(service, { bodyLimit: "1kb" }));
  });
  after(async () => server.close());

  const padding = `# ${"x".repeat(2048)}\n`;
  const big: Case[] = [
    { name: "PUT /v1/model", method: "PUT", path: "/v1/model", body: `${padding}apiVersion: v1\nkind: Namespace\nmetadata: {name: "y"}\n` },
    { name: "POST /v1/apply", method: "POST", path: "/v1/apply", body: `${padding}apiVersion: v1\nkind: Namespace\nmetadata: {name: "y"}\n` },
    { name: "POST /v1/check", method: "POST", path: "/v1/check", body: { src: "x/a", dst: "x/a", port: 80, pad: padding } },
    { name: "POST /v1/check/batch", method: "POST", path: "/v1/check/batch", body: { checks: Array.from({ length: 40 }, () => ({ src: "x/a", dst: "x/a", port: 80 })) } },
  ].map((c) => ({ ...c, status: 413, want: { code: 413, reason: "RequestEntityTooLarge", message: "request body too large: request entity too large", errors: [] } }));
  for (const c of big) {
    it(c.name, async () => {
      const before = await snapshot(server);
      const res = await http(server, c.method, c.path, c.body);
      assert.equal(res.status, 413);
      assert.deepEqual(res.body, c.want);
      await assertUnchanged(server, before, c.name);
    });
  }

  it("a body under the limit is taken", async () => {
    const res = await http(server, "POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: 'y'}\n");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { generation: 2, applied: ["Namespace y"], skipped: [] });
  });
});

describe("bad input over gRPC", () => {
  let server: TestServer;
  let decisions: ReturnType<typeof decisionClient>;
  let model: ReturnType<typeof modelClient>;
  before(async () => {
    server = await startServer([EXAMPLES]);
    decisions = decisionClient(server.grpcAddress);
    model = modelClient(server.grpcAddress);
  });
  after(async () => {
    decisions.close();
    model.close();
    await server.close();
  });

  interface GrpcCase {
    readonly name: string;
    readonly call: () => Promise<unknown>;
    readonly code: GrpcStatus;
    readonly details: string;
    /** The podwall-errors metadata, or undefined when there must be none. */
    readonly errors: unknown[] | undefined;
  }
  const portError = (field: string, type: string, value?: number) => ({ field, type, ...(value !== undefined ? { value } : {}), detail: PORT_RANGE });
  const cases: GrpcCase[] = [
    {
      name: "ModelService.Apply of an invalid NetworkPolicy",
      call: () => model.unary("apply", { manifests: BAD_POLICY }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: BAD_POLICY_MESSAGE,
      errors: BAD_POLICY_ERRORS,
    },
    {
      name: "ModelService.Apply of a batch whose last object is invalid",
      call: () => model.unary("apply", { manifests: LAST_INVALID }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: LAST_INVALID_BODY.message,
      errors: LAST_INVALID_BODY.errors,
    },
    {
      name: "ModelService.Replace of a batch whose last object is invalid",
      call: () => model.unary("replace", { manifests: LAST_INVALID }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: LAST_INVALID_BODY.message,
      errors: LAST_INVALID_BODY.errors,
    },
    {
      name: "ModelService.Apply of malformed YAML",
      call: () => model.unary("apply", { manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a\n" }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: "malformed manifests: document 1: Flow map in block collection must be sufficiently indented and end with a } at line 4, column 1:",
      errors: undefined,
    },
    {
      name: "ModelService.Apply of a pod in a missing namespace",
      call: () => model.unary("apply", { manifests: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: nope}\n" }),
      code: GrpcStatus.NOT_FOUND,
      details: 'namespaces "nope" not found (Pod nope/p)',
      errors: undefined,
    },
    {
      name: "ModelService.Delete of an unknown pod",
      call: () => model.unary("delete", { kind: "Pod", namespace: "x", name: "zz" }),
      code: GrpcStatus.NOT_FOUND,
      details: 'pods "zz" not found in namespace "x"',
      errors: undefined,
    },
    {
      name: "ModelService.Delete of an unknown kind",
      call: () => model.unary("delete", { kind: "Deployment", namespace: "x", name: "a" }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: 'kind "Deployment" is not one of Namespace, Node, Pod, NetworkPolicy',
      errors: undefined,
    },
    {
      name: "ModelService.Get in an unknown format",
      call: () => model.unary("get", { format: "xml" }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: 'format "xml" is not "yaml" or "json"',
      errors: undefined,
    },
    {
      name: "DecisionService.Check of an unknown pod",
      call: () => decisions.unary("check", { src: "x/zz", dst: "x/a", port: 80 }),
      code: GrpcStatus.NOT_FOUND,
      details: 'pods "zz" not found in namespace "x"',
      errors: undefined,
    },
    {
      name: "DecisionService.Check with port 0 (proto3: no port)",
      call: () => decisions.unary("check", { src: "x/a", dst: "x/b", port: 0 }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `invalid check: port: ${PORT_RANGE}`,
      errors: [portError("port", "FieldValueRequired")],
    },
    {
      name: "DecisionService.Check with port 65536",
      call: () => decisions.unary("check", { src: "x/a", dst: "x/b", port: 65536 }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `invalid check: port: ${PORT_RANGE}`,
      errors: [portError("port", "FieldValueInvalid", 65536)],
    },
    {
      name: 'DecisionService.Check with protocol "ICMP"',
      call: () => decisions.unary("check", { src: "x/a", dst: "x/b", port: 80, protocol: "ICMP" }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `invalid check: protocol: ${PROTOCOLS}`,
      errors: [{ field: "protocol", type: "FieldValueNotSupported", value: "ICMP", detail: PROTOCOLS }],
    },
    {
      name: "DecisionService.BatchCheck with port 0 in the second check",
      call: () =>
        decisions.unary("batchCheck", {
          checks: [
            { src: "x/a", dst: "x/b", port: 80 },
            { src: "x/a", dst: "x/b" },
          ],
        }),
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `invalid check: checks[1].port: ${PORT_RANGE}`,
      errors: [portError("checks[1].port", "FieldValueRequired")],
    },
    {
      name: "DecisionService.BatchCheck with an unknown pod",
      call: () =>
        decisions.unary("batchCheck", {
          checks: [
            { src: "x/a", dst: "x/b", port: 80 },
            { src: "x/a", dst: "q/b", port: 80 },
          ],
        }),
      code: GrpcStatus.NOT_FOUND,
      details: 'pods "b" not found in namespace "q"',
      errors: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const before = await snapshot(server);
      const e = await grpcError(c.call());
      assert.equal(e.code, c.code);
      assert.equal(e.details, c.details);
      assert.deepEqual(podwallErrors(e), c.errors);
      await assertUnchanged(server, before, c.name);
    });
  }

  it("gives the same message and errors as REST for the same invalid manifests", async () => {
    const rest = await http(server, "POST", "/v1/apply", BAD_POLICY);
    const e = await grpcError(model.unary("apply", { manifests: BAD_POLICY }));
    assert.equal(rest.status, 422);
    assert.equal(e.details, rest.body.message);
    assert.deepEqual(podwallErrors(e), rest.body.errors);
  });
});
