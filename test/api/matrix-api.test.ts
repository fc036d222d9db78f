/**
 * The matrix at both front doors: `GET /v1/matrix` (JSON and its shape, pods
 * in namespace-then-name order, `namespaces=` and `pods=` filters,
 * `group=true`, exact 400 / 404 / 413 bodies, 413 counted as a rejection) and
 * gRPC `Matrix` (the same pods and cells as REST, rows in several messages
 * when they are wide, the same errors as gRPC statuses). A client that goes
 * away mid-stream, at either door, leaves the server answering; and a
 * streamed matrix leaves nothing behind on its connection.
 */
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type ClientReadableStream, type ServiceError, status } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import express, { type NextFunction, type Request, type Response } from "express";
import { Client } from "undici";
import { decisionClient } from "../../client/grpc-client.js";
import { createRestApp } from "../../server/api/rest/app.js";
import type { MatrixRequestSchema, MatrixResponse } from "../../server/gen/podwall/v1/podwall_pb.js";
import { AnalysisService, PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { PATIENCE } from "../helpers/follow.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { type Manifest, eventually, namespace, node, pod, policy, yaml } from "../rules/support.js";
import { podwallErrors, serveApp } from "./support.js";

const HTTP_PORT = { name: "http", containerPort: 8080 };

/** Namespaces `a`, `a-b` and `b`: as strings "a-b/…" sorts before "a/…", by namespace it comes after. */
const OBJECTS: Manifest[] = [
  namespace("a", { team: "a" }),
  namespace("a-b", { team: "ab" }),
  namespace("b", { team: "b" }),
  node("node-1", "10.0.0.1", "fd00::1"),
  node("node-2", "10.0.0.2"),
  pod("b/n", { labels: { app: "api" }, node: "node-1", ips: ["10.244.1.14", "fd10::1:14"], ports: [HTTP_PORT] }),
  pod("b/m", { labels: { app: "api", legacy: "yes" }, node: "node-2", ips: ["10.244.2.13"], ports: [HTTP_PORT] }),
  pod("a-b/pending", { labels: { app: "db" }, node: "node-2", phase: "Pending" }),
  pod("a-b/a", { labels: { app: "db" }, node: "node-1", ips: ["10.244.1.12"] }),
  pod("a/z", { labels: { app: "web" }, node: "node-1", ips: ["10.244.1.10"] }),
  pod("a/y-1", { labels: { app: "web" }, node: "node-2", ips: ["10.244.2.11"] }),
  pod("a/x", { labels: { app: "web" }, node: "node-2", ips: ["10.244.2.15"] }),
  pod("a/host", { labels: { app: "agent" }, node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
  policy("a-b/deny", { podSelector: {}, policyTypes: ["Ingress"] }),
  policy("a-b/db-from-web", {
    podSelector: { matchLabels: { app: "db" } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "a" } }, podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }],
  }),
  policy("b/api", {
    podSelector: { matchLabels: { app: "api" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: "http" }] }],
    egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } }, namespaceSelector: {} }, { ipBlock: { cidr: "10.244.2.0/24" } }] }],
  }),
];
const MODEL = yaml(OBJECTS);
const SORTED = ["a/host", "a/x", "a/y-1", "a/z", "a-b/a", "a-b/pending", "b/m", "b/n"];
const TRAFFIC = [
  { protocol: "TCP", port: 8080 },
  { protocol: "TCP", port: 5432 },
  { protocol: "UDP", port: 8080 },
] as const;

const PORT_RANGE = "must be between 1 and 65535, inclusive";
const bad = (message: string, errors: unknown[]) => ({ code: 400, reason: "BadRequest", message, errors });

/** A MatrixRequest as its init shape. */
type MatrixQuestion = MessageInitShape<typeof MatrixRequestSchema>;

interface MatrixBody {
  readonly generation: number;
  readonly protocol: string;
  readonly port: number;
  readonly pods?: string[];
  readonly groups?: string[][];
  readonly allowed: boolean[][];
}

/** Check's answers for every ordered pair, in one batch. */
async function checkedBy(server: { url: string }, pods: readonly string[], t: { protocol: string; port: number }): Promise<boolean[][]> {
  const checks = pods.flatMap((src) => pods.map((dst) => ({ src, dst, ...t })));
  const res = await http(server, "POST", "/v1/check/batch", { checks });
  assert.equal(res.status, 200);
  const flat = (res.body.results as { allowed: boolean }[]).map((r) => r.allowed);
  return pods.map((_, i) => flat.slice(i * pods.length, (i + 1) * pods.length));
}

async function getMatrix(server: { url: string }, query: string): Promise<MatrixBody> {
  const res = await http(server, "GET", `/v1/matrix?${query}`);
  assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return res.body as MatrixBody;
}

/** A Matrix stream read to its end: the first message's fields, and each later message's rows. */
interface GrpcMatrix {
  readonly first: MatrixResponse;
  readonly rowsPerMessage: number[];
  readonly allowed: boolean[][];
}

function grpcMatrix(client: ReturnType<typeof decisionClient>, req: MatrixQuestion): Promise<GrpcMatrix> {
  return new Promise((resolve, reject) => {
    const stream = client.stream("matrix", req) as ClientReadableStream<MatrixResponse>;
    const messages: MatrixResponse[] = [];
    stream.on("data", (m: MatrixResponse) => messages.push(m));
    stream.on("error", reject);
    stream.on("end", () => {
      const [first, ...rest] = messages;
      if (!first) return reject(new Error("no message"));
      assert.deepEqual(first.rows, [], "the first message has no rows");
      for (const m of rest) {
        assert.equal(m.generation, 0n, "only the first message has the generation");
        assert.deepEqual([m.pods, m.groups], [[], []], "only the first message names the pods");
      }
      resolve({ first, rowsPerMessage: rest.map((m) => m.rows.length), allowed: rest.flatMap((m) => m.rows.map((r) => [...r.allowed])) });
    });
  });
}

async function grpcMatrixError(client: ReturnType<typeof decisionClient>, req: MatrixQuestion): Promise<ServiceError> {
  try {
    await grpcMatrix(client, req);
  } catch (e) {
    return e as ServiceError;
  }
  assert.fail("the Matrix call succeeded; an error was expected");
}

/** A Matrix answer in the REST JSON shape. */
function restShape(g: GrpcMatrix): MatrixBody {
  const f = g.first;
  return {
    generation: Number(f.generation),
    protocol: f.protocol,
    port: f.port,
    ...(f.groups.length > 0 ? { groups: f.groups.map((x) => [...x.pods]) } : { pods: [...f.pods] }),
    allowed: g.allowed,
  };
}

describe("GET /v1/matrix and gRPC Matrix", () => {
  let server: TestServer;
  let client: ReturnType<typeof decisionClient>;
  before(async () => {
    server = await startServer([], { analysisLimits: { matrixPods: 8 } });
    client = decisionClient(server.grpcAddress);
    assert.equal((await http(server, "PUT", "/v1/model", MODEL)).status, 200);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it("answers {generation, protocol, port, pods, allowed}: pods sorted by namespace then name, every cell as Check decides it", async () => {
    const generation = (await http(server, "GET", "/readyz")).body.generation as number;
    for (const t of TRAFFIC) {
      const m = await getMatrix(server, `protocol=${t.protocol.toLowerCase()}&port=${t.port}`);
      assert.deepEqual(Object.keys(m), ["generation", "protocol", "port", "pods", "allowed"]);
      assert.deepEqual({ generation: m.generation, protocol: m.protocol, port: m.port, pods: m.pods }, { generation, ...t, pods: SORTED });
      assert.deepEqual(m.allowed, await checkedBy(server, SORTED, t), `${t.protocol}/${t.port}`);
    }
    const m = await getMatrix(server, "port=8080");
    assert.equal(m.protocol, "TCP", "TCP when no protocol is given");
    const flat = m.allowed.flat();
    assert.ok(flat.includes(true) && flat.includes(false), "the model gives both answers");
  });

  it("namespaces= and pods= keep only those pods, in the same order, with the same cells", async () => {
    const full = await getMatrix(server, "port=8080");
    const sub = (keys: string[]) => keys.map((s) => keys.map((d) => full.allowed[SORTED.indexOf(s)]![SORTED.indexOf(d)]!));
    const cases: [string, string[]][] = [
      ["namespaces=b,a", ["a/host", "a/x", "a/y-1", "a/z", "b/m", "b/n"]],
      ["namespaces=a-b", ["a-b/a", "a-b/pending"]],
      ["namespaces=%20a-b%20,,a-b", ["a-b/a", "a-b/pending"]],
      ["pods=app%3Dweb", ["a/x", "a/y-1", "a/z"]],
      ["pods=app%20in%20(api,db),!legacy", ["a-b/a", "a-b/pending", "b/n"]],
      ["pods=app!%3Dweb&namespaces=a,b", ["a/host", "b/m", "b/n"]],
      ["pods=legacy", ["b/m"]],
      ["pods=nothing-has-this", []],
      ["namespaces=&pods=", SORTED],
    ];
    for (const [query, keys] of cases) {
      const m = await getMatrix(server, `port=8080&${query}`);
      assert.deepEqual(m.pods, keys, query);
      assert.deepEqual(m.allowed, sub(keys), query);
    }
  });

  it("group=true: groups of pods whose rows and columns are equal, and every pair of distinct pods of two groups has their cell", async () => {
    for (const t of TRAFFIC) {
      const full = await getMatrix(server, `protocol=${t.protocol}&port=${t.port}`);
      const g = await getMatrix(server, `protocol=${t.protocol}&port=${t.port}&group=true`);
      assert.deepEqual(Object.keys(g), ["generation", "protocol", "port", "groups", "allowed"]);
      const groups = g.groups!;
      assert.deepEqual(groups.flat(), SORTED, "the groups hold every pod once, in order");
      assert.ok(groups.length < SORTED.length, "some pods are grouped");
      assert.deepEqual(g.allowed.length, groups.length);
      groups.forEach((gs, a) => {
        groups.forEach((hs, b) => {
          for (const s of gs) {
            for (const d of hs) if (s !== d) assert.equal(full.allowed[SORTED.indexOf(s)]![SORTED.indexOf(d)], g.allowed[a]![b], `${s} -> ${d}`);
          }
        });
      });
    }
  });

  it("?format=table with group=true names each group by its first pod and how many more it holds", async () => {
    const res = await fetch(`${server.url}/v1/matrix?port=8080&group=true&format=table`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const g = await getMatrix(server, "port=8080&group=true");
    for (const [i, gs] of g.groups!.entries()) {
      const name = gs.length > 1 ? `${gs[0]} (+${gs.length - 1})` : gs[0]!;
      assert.ok(text.includes(`\n  ${String(i + 1).padStart(String(g.groups!.length).length)}  ${name}\n`), `${name} in the legend:\n${text}`);
      const row = text.split("\n").find((l) => l.startsWith(`${name} `));
      assert.ok(row, `a row for ${name}`);
      assert.equal(row.trimEnd().slice(-g.groups!.length), g.allowed[i]!.map((c) => (c ? "." : "X")).join(""));
    }
  });

  const BAD: { query: string; grpc: MatrixQuestion; want: Record<string, unknown>; fields: string[] }[] = [
    {
      query: "protocol=TCP",
      grpc: { protocol: "TCP" },
      want: bad(`invalid matrix: port: ${PORT_RANGE}`, [{ field: "port", type: "FieldValueRequired", detail: PORT_RANGE }]),
      fields: ["port"],
    },
    {
      query: "port=65536",
      grpc: { port: 65536 },
      want: bad(`invalid matrix: port: ${PORT_RANGE}`, [{ field: "port", type: "FieldValueInvalid", value: "65536", detail: PORT_RANGE }]),
      fields: ["port"],
    },
    {
      query: "port=80&protocol=icmp",
      grpc: { port: 80, protocol: "icmp" },
      want: bad('invalid matrix: protocol: supported values: "TCP", "UDP", "SCTP"', [
        { field: "protocol", type: "FieldValueNotSupported", value: "icmp", detail: 'supported values: "TCP", "UDP", "SCTP"' },
      ]),
      fields: ["protocol"],
    },
    {
      query: "port=80&pods=env%20in%20()",
      grpc: { port: 80, pods: "env in ()" },
      want: bad('invalid matrix: pods: "env in ()": a set needs at least one value', [
        { field: "pods", type: "FieldValueInvalid", value: "env in ()", detail: '"env in ()": a set needs at least one value' },
      ]),
      fields: ["pods"],
    },
    {
      query: "protocol=icmp&pods=a,,b",
      grpc: { protocol: "icmp", pods: "a,,b" },
      want: bad(`invalid matrix: protocol: supported values: "TCP", "UDP", "SCTP"; port: ${PORT_RANGE}; pods: an empty requirement between commas`, [
        { field: "protocol", type: "FieldValueNotSupported", value: "icmp", detail: 'supported values: "TCP", "UDP", "SCTP"' },
        { field: "port", type: "FieldValueRequired", detail: PORT_RANGE },
        { field: "pods", type: "FieldValueInvalid", value: "a,,b", detail: "an empty requirement between commas" },
      ]),
      fields: ["protocol", "port", "pods"],
    },
  ];

  for (const c of BAD) {
    it(`400 with field paths ${c.fields.join(", ")} for ${c.query}; INVALID_ARGUMENT over gRPC`, async () => {
      const res = await http(server, "GET", `/v1/matrix?${c.query}`);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, c.want);
      const e = await grpcMatrixError(client, c.grpc);
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.equal(e.details, c.want["message"]);
      assert.deepEqual(
        (podwallErrors(e) as { field: string }[]).map((x) => x.field),
        c.fields,
      );
    });
  }

  it("400 for a format other than json, table and wide", async () => {
    const res = await http(server, "GET", "/v1/matrix?port=80&format=xml");
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body,
      bad('format must be "json", "table" or "wide"', [{ field: "format", type: "FieldValueNotSupported", detail: 'supported values: "json", "table", "wide"' }]),
    );
  });

  it("400 for group other than true or false, as every yes-or-no field; group=false and group=0 are the matrix of pods", async () => {
    const res = await http(server, "GET", "/v1/matrix?port=80&group=yes");
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, bad("invalid matrix: group: must be true or false", [{ field: "group", type: "FieldValueInvalid", value: "yes", detail: "must be true or false" }]));
    for (const no of ["false", "0", "F"]) {
      const m = await http(server, "GET", `/v1/matrix?port=80&group=${no}`);
      assert.equal(m.status, 200, no);
      assert.ok(Array.isArray(m.body.pods) && m.body.groups === undefined, no);
    }
  });

  it("404 for an unknown namespace; NOT_FOUND over gRPC", async () => {
    const res = await http(server, "GET", "/v1/matrix?port=80&namespaces=a,nope");
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { code: 404, reason: "NotFound", message: 'namespaces "nope" not found', errors: [] });
    const e = await grpcMatrixError(client, { port: 80, namespaces: ["a", "nope"] });
    assert.equal(e.code, status.NOT_FOUND);
    assert.equal(e.details, 'namespaces "nope" not found');
  });

  it("gRPC Matrix gives the pods, groups and cells REST gives", async () => {
    const questions: [string, MatrixQuestion][] = [
      ["port=8080", { port: 8080 }],
      ["protocol=UDP&port=8080", { protocol: "udp", port: 8080 }],
      ["port=5432&namespaces=a,a-b", { port: 5432, namespaces: ["a", "a-b"] }],
      ["port=8080&pods=app%20notin%20(web)", { port: 8080, pods: "app notin (web)" }],
      ["port=8080&group=true", { port: 8080, group: true }],
      ["port=5432&group=true&namespaces=a-b,b", { port: 5432, group: true, namespaces: ["a-b", "b"] }],
    ];
    for (const [query, req] of questions) {
      const g = await grpcMatrix(client, req);
      assert.deepEqual(restShape(g), await getMatrix(server, query), query);
      assert.deepEqual(g.rowsPerMessage, g.allowed.length > 0 ? [g.allowed.length] : [], `${query}: narrow rows fit one message`);
    }
  });

  it("RESOURCE_EXHAUSTED over gRPC past the pod limit, counted as a rejected matrix", async () => {
    assert.equal((await http(server, "POST", "/v1/apply", yaml([pod("b/o", { labels: { app: "api" }, node: "node-2", ips: ["10.244.2.16"] })]))).status, 200);
    try {
      const rejected = async () => (await server.service.metrics.rejected.get()).values.find((v) => v.labels["reason"] === "matrix")?.value ?? 0;
      const before = await rejected();
      const e = await grpcMatrixError(client, { port: 80 });
      assert.equal(e.code, status.RESOURCE_EXHAUSTED);
      assert.equal(e.details, "the matrix would have 9 pods, more than the 8 one matrix may have: narrow it with namespaces or a pod selector");
      assert.deepEqual(
        (podwallErrors(e) as { field: string }[]).map((x) => x.field),
        ["pods"],
      );
      assert.equal(await rejected(), before + 1);
      assert.equal((await grpcMatrix(client, { port: 80, namespaces: ["b"] })).first.pods.length, 3, "narrowed, it is answered");
      assert.equal(await rejected(), before + 1);
    } finally {
      assert.equal((await http(server, "DELETE", "/v1/namespaces/b/pods/o")).status, 200);
    }
  });
});

describe("GET /v1/matrix past the pod limit (an AnalysisService of the app's own)", () => {
  let service: PodwallService;
  let app: Awaited<ReturnType<typeof serveApp>>;
  before(async () => {
    service = await PodwallService.start({ cacheSize: 0 });
    await service.applyObjects(SYSTEM, OBJECTS);
    const rules = new RulesService(service);
    const analysis = new AnalysisService(service, rules, { matrixPods: 5 });
    app = await serveApp(createRestApp(service, { rules, analysis }));
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  it('413 with the field path pods, counted in podwall_requests_rejected_total{reason="matrix"}; narrowed, it is answered', async () => {
    const metric = async () => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith('podwall_requests_rejected_total{reason="matrix"}'));
      return line === undefined ? 0 : Number(line.split(" ").at(-1));
    };
    assert.equal(await metric(), 0);
    for (const [query, count] of [
      ["port=80", 8],
      ["port=80&format=table", 8],
      ["port=80&namespaces=a,b", 6],
    ] as const) {
      const res = await http(app, "GET", `/v1/matrix?${query}`);
      assert.equal(res.status, 413, query);
      assert.deepEqual(res.body, {
        code: 413,
        reason: "RequestEntityTooLarge",
        message: `the matrix would have ${count} pods, more than the 5 one matrix may have: narrow it with namespaces or a pod selector`,
        errors: [{ field: "pods", type: "FieldValueTooMany", value: count, detail: "must have at most 5 items" }],
      });
    }
    assert.equal(await metric(), 3);
    const narrowed = await getMatrix(app, "port=80&namespaces=a");
    assert.deepEqual(narrowed.pods, ["a/host", "a/x", "a/y-1", "a/z"]);
    assert.equal((await getMatrix(app, "port=80&pods=app%3Dapi")).pods?.length, 2);
    assert.equal(await metric(), 3, "an answered matrix is no rejection");
  });
});

/** Pods enough that one gRPC message (about 2^20 cells) cannot hold every row. */
const WIDE = 1100;

/** Pods enough that a Matrix call has more row messages than grpc-js buffers (16) before it waits for the client. */
const LONG = 4600;

function wideObjects(pods: number): Manifest[] {
  const objects: Manifest[] = [namespace("w", { team: "w" }), namespace("v", { team: "v" }), node("node-1", "10.0.0.1"), node("node-2", "10.0.0.2")];
  for (let i = 0; i < pods; i++) {
    const ns = i % 3 === 0 ? "v" : "w";
    objects.push(pod(`${ns}/p${String(i).padStart(4, "0")}`, { labels: { app: `app-${i % 4}` }, node: `node-${1 + (i % 2)}`, ips: [`10.244.${Math.floor(i / 250)}.${i % 250}`] }));
  }
  objects.push(
    policy("w/deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy("w/app-1", { podSelector: { matchLabels: { app: "app-1" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "app-2" } } }] }] }),
    policy("w/app-2", { podSelector: { matchLabels: { app: "app-2" } }, egress: [{ to: [{ ipBlock: { cidr: "10.244.0.0/23" } }] }], policyTypes: ["Egress"] }),
  );
  return objects;
}

describe("Matrix with wide rows, and clients that go away mid-stream", () => {
  let server: TestServer;
  let client: ReturnType<typeof decisionClient>;
  before(async () => {
    server = await startServer();
    client = decisionClient(server.grpcAddress);
    assert.equal((await http(server, "PUT", "/v1/model", yaml(wideObjects(WIDE)))).status, 200);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it("gRPC sends the rows in several messages, each as many rows as about 2^20 cells hold, and they are REST's rows", async () => {
    const g = await grpcMatrix(client, { port: 80 });
    const perMessage = Math.floor(2 ** 20 / WIDE);
    assert.equal(g.first.pods.length, WIDE);
    assert.ok(g.rowsPerMessage.length >= 2, `${g.rowsPerMessage.length} row messages`);
    assert.deepEqual(
      g.rowsPerMessage.slice(0, -1),
      g.rowsPerMessage.slice(0, -1).map(() => perMessage),
    );
    assert.equal(
      g.rowsPerMessage.reduce((a, b) => a + b, 0),
      WIDE,
    );
    for (const row of g.allowed) assert.equal(row.length, WIDE);
    const rest = await getMatrix(server, "port=80");
    assert.deepEqual(restShape(g), rest);
    const flat = rest.allowed.flat();
    assert.ok(flat.includes(true) && flat.includes(false));
    // Spot checks against Check, in one batch.
    const picks = [0, 1, 2, 5, 7, 333, 334, 1099];
    const keys = picks.map((i) => rest.pods![i]!);
    assert.deepEqual(
      await checkedBy(server, keys, { protocol: "TCP", port: 80 }),
      picks.map((i) => picks.map((j) => rest.allowed[i]![j]!)),
    );
  });

  it("a REST client that goes away mid-stream does not stop the server: later requests are answered", async () => {
    for (const format of ["json", "table"]) {
      const abort = new AbortController();
      const res = await fetch(`${server.url}/v1/matrix?port=80&format=${format}`, { signal: abort.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.ok(!first.done && first.value.length > 0);
      abort.abort();
      await reader.read().catch(() => undefined);
      const m = await getMatrix(server, "port=80&namespaces=v");
      assert.equal(m.pods?.length, Math.ceil(WIDE / 3));
    }
    const whole = await getMatrix(server, "port=80");
    assert.equal(whole.allowed.length, WIDE);
  });
  it("a gRPC client that cancels after the first rows does not stop the server: the call ends and later requests are answered", async (t) => {
    // Rows enough for more messages than the call buffers, so that the server waits for the client to take them.
    await server.service.applyObjects(SYSTEM, wideObjects(LONG), true);
    const ends = async () =>
      (await server.service.metrics.requests.get()).values
        .filter((v) => v.labels["door"] === "grpc" && v.labels["route"] === "Matrix")
        .map((v) => [String(v.labels["code"]), v.value] as const);
    const count = (xs: readonly (readonly [string, number])[]) => xs.reduce((n, [, v]) => n + v, 0);
    const before = await ends();
    const stream = client.stream("matrix", { port: 80 }) as ClientReadableStream<MatrixResponse>;
    const ended = new Promise<ServiceError | undefined>((resolve) => {
      stream.on("error", (e: ServiceError) => resolve(e));
      stream.on("end", () => resolve(undefined));
    });
    let messages = 0;
    await new Promise<void>((resolve) => {
      stream.on("data", () => {
        if (++messages === 2) {
          stream.cancel();
          resolve();
        }
      });
    });
    const e = await ended;
    assert.equal(e?.code, status.CANCELLED);
    // The server ends the call (CANCELLED when the cancel found it waiting for the client, OK when it had written every row first).
    const after = await eventually(
      async () => {
        const now = await ends();
        return count(now) === count(before) + 1 ? now : undefined;
      },
      PATIENCE,
      "the server to end the cancelled Matrix call",
    );
    t.diagnostic(`the cancelled call ended ${JSON.stringify(after.filter(([code, n]) => n !== (before.find(([c]) => c === code)?.[1] ?? 0)))}`);
    const g = await grpcMatrix(client, { port: 80, namespaces: ["v"] });
    assert.equal(g.first.pods.length, Math.ceil(LONG / 3));
    assert.equal((await getMatrix(server, "port=80&namespaces=v")).pods?.length, Math.ceil(LONG / 3));
  });
});

/**
 * A streamed matrix and its connection: the server waits for the client to
 * take each piece (a piece of about a megabyte is more than a socket takes at
 * once), and what it waits with must go when the wait ends; a client that
 * goes away is no error of the server's.
 */
describe("a streamed matrix leaves nothing behind on its connection", () => {
  let service: PodwallService;
  let server: Server;
  let url: string;
  const sockets: Socket[] = [];
  /** Errors the app passed on: none may come of a client's leaving. */
  const errors: unknown[] = [];
  before(async () => {
    service = await PodwallService.start({ cacheSize: 0 });
    await service.applyObjects(SYSTEM, wideObjects(WIDE));
    const outer = express();
    outer.use(createRestApp(service));
    outer.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(err);
      if (res.headersSent) res.destroy();
      else res.status(500).end();
    });
    server = await new Promise<Server>((resolve) => {
      const s = outer.listen(0, "127.0.0.1", () => resolve(s));
    });
    server.on("connection", (s: Socket) => sockets.push(s));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await service.close();
  });

  it("the waits for the client leave no listener on the connection", async () => {
    const client = new Client(url);
    try {
      const get = async (path: string) => {
        const r = await client.request({ method: "GET", path });
        assert.equal(r.statusCode, 200, path);
        return r.body.text();
      };
      await get("/healthz");
      assert.equal(sockets.length, 1);
      const socket = sockets[0]!;
      const counts = () => ({ close: socket.listenerCount("close"), error: socket.listenerCount("error") });
      const was = counts();
      for (let i = 0; i < 2; i++) assert.equal((JSON.parse(await get("/v1/matrix?port=80")) as MatrixBody).allowed.length, WIDE);
      await get("/healthz");
      assert.equal(sockets.length, 1, "one connection served every request");
      assert.deepEqual(counts(), was);
    } finally {
      await client.close();
    }
  });

  it("a client that goes away mid-stream is no error: nothing reaches the app's error handler", async () => {
    const from = sockets.length;
    const abort = new AbortController();
    const res = await fetch(`${url}/v1/matrix?port=80`, { signal: abort.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.ok(!(await reader.read()).done);
    abort.abort();
    await reader.read().catch(() => undefined);
    await eventually(() => sockets.length > from && sockets.slice(from).every((s) => s.destroyed), PATIENCE, "the server to see the client go");
    // What a closed socket sets off runs in the turns that follow its close; then the check phase comes.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors.map(String), []);
  });
});
