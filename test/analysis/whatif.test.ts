/**
 * What-if against its definition: apply the change to a copy, then compare.
 * On random models with tier policies and random changes (pods relabelled,
 * added, deleted; policies and tier policies added, changed, deleted;
 * namespaces relabelled, deleted; nodes relabelled), the copy
 * is a second service holding the model, to which the change is written for
 * real. For explicit ports, the cells what-if lists are exactly the cells in
 * which the two matrices differ (null where a pod is on one side only), in
 * protocol, port, source, destination order, up to `limit`, with the count of
 * all of them; the nodes it lists are exactly those whose ruleset version
 * differs, with the served version before and the copy's after. The served
 * model, its rulesets and its answers are as they were.
 *
 * Then at the front door: bad input answered as the write would be (the same
 * 422 as `POST /v1/apply`, 404 for an unknown object, 400 with field paths),
 * the model unchanged after each; the default ports; gRPC WhatIf as REST.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { decisionClient } from "../../client/grpc-client.js";
import { Matrix, type MatrixTraffic } from "../../server/analysis/matrix.js";
import { namedTraffic } from "../../server/analysis/whatif.js";
import type { WhatIfResponse } from "../../server/gen/podwall/v1/podwall_pb.js";
import type { Ruleset } from "../../server/rules/index.js";
import { AnalysisService, type PodwallError, type PodwallService, RulesService, SYSTEM, type WhatIfAnswer } from "../../server/service/index.js";
import { assertUnchanged, grpcError, podwallErrors, snapshot } from "../api/support.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { NODES, PORTS, PROTOCOLS, modelArb } from "../rules/random-model.js";
import { namespace, node, pod, policy, yaml } from "../rules/support.js";
import { type Loaded, type Manifest, checkedMatrix, compareKeys, loaded, replicated, sortedPods } from "./support.js";
import { hostAgents, tierPoliciesArb, withTiers } from "./tier-model.js";
import { type PlannedChange, type Ref, TIER_KINDS, changeArb, planChange, tierChangeArb } from "./whatif-changes.js";

const TRAFFIC: readonly MatrixTraffic[] = PROTOCOLS.flatMap((protocol) => PORTS.map((port) => ({ protocol, port })));
const PROTOCOL_ORDER = ["TCP", "UDP", "SCTP"];

/** The ports as a what-if is asked them: "PROTOCOL/PORT", or only the port for some TCP ports. */
const portText = (t: MatrixTraffic) => (t.protocol === "TCP" && t.port % 2 === 0 ? String(t.port) : `${t.protocol}/${t.port}`);

interface Expected {
  readonly cells: WhatIfAnswer["cells"];
  readonly nodes: WhatIfAnswer["nodes"];
}

/** Each pod's answer to each pod, by key; undefined where the pod is not in the model. */
function answers(service: PodwallService, t: MatrixTraffic): (src: string, dst: string) => boolean | null {
  const pods = sortedPods(service.cluster.pods.values());
  const index = new Map(pods.map((p, i) => [p.key, i]));
  const m = Matrix.of(service.cluster, pods, t);
  return (src, dst) => {
    const i = index.get(src);
    const j = index.get(dst);
    return i === undefined || j === undefined ? null : m.allowed(i, j);
  };
}

/** Every ruleset version of a service's model, compiled afresh. */
function versions(service: PodwallService): Map<string, string> {
  const rules = new RulesService(service);
  return new Map([...service.cluster.nodes.keys()].sort().map((n) => [n, rules.rules(SYSTEM, n).version]));
}

/** What the change does, read off the served model (before) and the copy (after). */
function expected(served: PodwallService, servedVersions: ReadonlyMap<string, string>, copy: PodwallService, traffic: readonly MatrixTraffic[]): Expected {
  const keys = [...new Set([...served.cluster.pods.keys(), ...copy.cluster.pods.keys()])].sort(compareKeys);
  const cells: WhatIfAnswer["cells"][number][] = [];
  const ordered = [...traffic].sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol) || a.port - b.port);
  for (const t of ordered) {
    const b = answers(served, t);
    const a = answers(copy, t);
    for (const src of keys) {
      for (const dst of keys) {
        const was = b(src, dst);
        const now = a(src, dst);
        if (was !== now) cells.push({ src, dst, protocol: t.protocol, port: t.port, before: was, after: now });
      }
    }
  }
  const after = versions(copy);
  const nodes: { node: string; before: string | null; after: string | null }[] = [];
  for (const n of [...new Set([...servedVersions.keys(), ...after.keys()])].sort()) {
    const was = servedVersions.get(n) ?? null;
    const now = after.get(n) ?? null;
    if (was !== now) nodes.push({ node: n, before: was, after: now });
  }
  return { cells, nodes };
}

/** The change written for real: the manifests applied in one write, then each object deleted. */
async function writeChange(copy: PodwallService, change: PlannedChange): Promise<{ applied: string[]; deleted: string[] }> {
  const applied = change.apply.length > 0 ? [...(await copy.apply(SYSTEM, yaml(change.apply))).applied] : [];
  const deleted: string[] = [];
  for (const d of change.delete) deleted.push(...(await copy.delete(SYSTEM, d.kind, d.namespace, d.name)).applied);
  return { applied, deleted };
}

/** A ruleset as plain data. */
function plain(r: Ruleset): Record<string, unknown> {
  return { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks };
}

/** What must not move: the generation, the model's text, its rulesets and its answers. */
function state(s: Loaded, traffic: MatrixTraffic) {
  const keys = sortedPods(s.service.cluster.pods.values()).map((p) => p.key);
  return {
    generation: s.service.generation,
    model: s.service.model(SYSTEM, "json").text,
    rules: [...s.service.cluster.nodes.keys()].sort().map((n) => plain(s.rules.rules(SYSTEM, n))),
    checks: checkedMatrix(s.service, keys, traffic),
  };
}

const caseArb = fc.record({
  model: modelArb,
  tiers: tierPoliciesArb,
  copies: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 5 }),
  change: changeArb,
  traffic: fc.subarray([...TRAFFIC], { minLength: 1, maxLength: 4 }),
  limit: fc.option(fc.nat(8), { nil: undefined }),
  warm: fc.boolean(),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** Models where nodes peers reach something (a host-network pod on each node), and changes of tier policies and nodes. */
const tierCaseArb: fc.Arbitrary<Case> = fc.record({ c: caseArb, change: tierChangeArb }).map(({ c, change }) => ({ ...c, model: [...c.model, ...hostAgents(NODES)], change }));

type Seen = Record<"runs" | "changed" | "truncated" | "nulls" | "nodes" | "rejected" | "tierChanged" | "nodeChanged", number>;

/** One case: what-if on the served model equals the change written to a copy; the served model untouched. */
async function whatIfEqualsCopy(c: Case, seen: Seen): Promise<void> {
  const model = withTiers(replicated(c.model, c.copies), c.tiers);
  const change = planChange(model, c.change);
  fc.pre(change.apply.length + change.delete.length > 0);
  const served = await loaded(model);
  if (c.warm) for (const n of served.service.cluster.nodes.keys()) served.rules.rules(SYSTEM, n);
  const servedVersions = new Map([...served.service.cluster.nodes.keys()].sort().map((n) => [n, served.rules.rules(SYSTEM, n).version]));
  const was = state(served, c.traffic[0]!);

  const copy = await loaded(model);
  let written: { applied: string[]; deleted: string[] } | { error: string };
  try {
    written = await writeChange(copy.service, change);
  } catch (e) {
    written = { error: (e as { code: string }).code };
  }
  const input = {
    ...(change.apply.length > 0 ? { apply: yaml(change.apply) } : {}),
    ...(change.delete.length > 0 ? { delete: change.delete } : {}),
    ports: c.traffic.map(portText),
    ...(c.limit !== undefined ? { limit: c.limit } : {}),
  };
  seen.runs++;
  if ("error" in written) {
    // The write is refused: so is the question, with the same code.
    await assert.rejects(served.analysis.whatIf(SYSTEM, input), (e: { code: string }) => e.code === written.error);
    seen.rejected++;
  } else {
    const answer = await served.analysis.whatIf(SYSTEM, input);
    const want = expected(served.service, servedVersions, copy.service, c.traffic);
    const limit = c.limit ?? Number.POSITIVE_INFINITY;
    assert.deepEqual(answer.cells, want.cells.slice(0, limit), "the cells");
    assert.equal(answer.cellsChanged, want.cells.length);
    assert.equal(answer.truncated, want.cells.length > limit);
    assert.deepEqual(answer.nodes, want.nodes, "the nodes");
    assert.deepEqual(
      answer.ports,
      [...c.traffic].sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol) || a.port - b.port).map((t) => `${t.protocol}/${t.port}`),
    );
    assert.equal(answer.generation, was.generation);
    assert.deepEqual([answer.applied, answer.deleted], [written.applied, written.deleted]);
    if (want.cells.length > 0) seen.changed++;
    if (answer.truncated) seen.truncated++;
    if (want.cells.some((x) => x.before === null || x.after === null)) seen.nulls++;
    if (want.nodes.length > 0) seen.nodes++;
    const kinds = [...change.apply.map((m) => String(m["kind"])), ...change.delete.map((d) => d.kind)];
    if (want.cells.length > 0 && kinds.every((k) => TIER_KINDS.includes(k))) seen.tierChanged++;
    if (want.cells.length > 0 && kinds.every((k) => k === "Node")) seen.nodeChanged++;
  }
  assert.deepEqual(state(served, c.traffic[0]!), was, "the served model, its rulesets and its answers are as they were");
}

const noneSeen = (): Seen => ({ runs: 0, changed: 0, truncated: 0, nulls: 0, nodes: 0, rejected: 0, tierChanged: 0, nodeChanged: 0 });

describe("what-if equals applying the change to a copy and comparing", () => {
  it("on random models and changes: the differing cells (up to limit, all counted) and the nodes whose ruleset version differs; the served model untouched", async (t) => {
    const seen = noneSeen();
    await fc.assert(
      fc.asyncProperty(caseArb, (c) => whatIfEqualsCopy(c, seen)),
      { numRuns: 200, seed: 20261128 },
    );
    t.diagnostic(JSON.stringify(seen));
    assert.ok(seen.changed > 10 && seen.truncated > 0 && seen.nulls > 0 && seen.nodes > 10, `the changes did too little: ${JSON.stringify(seen)}`);
  });

  it("on random models with a host-network pod on each node, and changes of tier policies and node labels alone: as a copy says", async (t) => {
    const seen = noneSeen();
    await fc.assert(
      fc.asyncProperty(tierCaseArb, (c) => whatIfEqualsCopy(c, seen)),
      { numRuns: 150, seed: 20261129 },
    );
    t.diagnostic(JSON.stringify(seen));
    assert.ok(seen.tierChanged > 10 && seen.nodeChanged > 0, `the changes did too little: ${JSON.stringify(seen)}`);
  });
});

/** Namespaces x and y; x/a serves `http` on 8080 and y/c on 9090; x/in names `http`, UDP 53 and the range 1000-1002. */
const FRONT_OBJECTS: Manifest[] = [
  namespace("x", { team: "x" }),
  namespace("y", { team: "y" }),
  node("node-1", "10.0.0.1"),
  node("node-2", "10.0.0.2"),
  pod("x/a", { labels: { app: "a" }, node: "node-1", ips: ["10.1.1.1"], ports: [{ name: "http", containerPort: 8080 }] }),
  pod("x/b", { labels: { app: "b" }, node: "node-2", ips: ["10.1.2.1"] }),
  pod("y/c", { labels: { app: "c" }, node: "node-1", ips: ["10.1.1.2"], ports: [{ name: "http", containerPort: 9090 }] }),
  policy("x/in", {
    podSelector: { matchLabels: { app: "a" } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "y" } } }], ports: [{ port: "http" }, { protocol: "UDP", port: 53 }, { port: 1000, endPort: 1002 }] }],
  }),
];
const NAMED_PORTS = ["TCP/1", "TCP/1000", "TCP/1002", "TCP/8080", "TCP/9090", "UDP/1", "UDP/53"];

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
`;
/** Valid objects, then an invalid one: nothing of it is applied. */
const LAST_INVALID = [
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: fresh}\nstatus: {podIP: 10.244.9.9}",
  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 65536}]}]}",
].join("\n---\n");
const MALFORMED = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a\n";
const IN_MISSING_NAMESPACE = yaml([pod("nope/p", { node: "node-1", ips: ["10.1.1.9"] })]);
const TAKEN_ADDRESS = yaml([pod("y/d", { node: "node-2", ips: ["10.1.1.1"] })]);

const PORT_DETAIL = 'must be PORT or PROTOCOL/PORT, such as "80" or "UDP/53", with a port from 1 to 65535';
const KINDS_DETAIL = 'supported values: "Namespace", "Node", "Pod", "NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"';
const badRequest = (errors: { field: string; detail: string }[]) => ({
  code: 400,
  reason: "BadRequest",
  message: `invalid what-if: ${errors.map((e) => `${e.field}: ${e.detail}`).join("; ")}`,
  errors,
});

/** A WhatIfResponse in the REST JSON shape: an absent before or after is null. */
function whatIfFromProto(r: WhatIfResponse): Record<string, unknown> {
  return {
    generation: Number(r.generation),
    ports: [...r.ports],
    cells: r.cells.map((c) => ({ src: c.src, dst: c.dst, protocol: c.protocol, port: c.port, before: c.before ?? null, after: c.after ?? null })),
    cellsChanged: Number(r.cellsChanged),
    truncated: r.truncated,
    nodes: r.nodes.map((n) => ({ node: n.node, before: n.before ?? null, after: n.after ?? null })),
    applied: [...r.applied],
    deleted: [...r.deleted],
    skipped: [...r.skipped],
    ...(r.warnings.length > 0 ? { warnings: [...r.warnings] } : {}),
  };
}

describe("POST /v1/whatif and gRPC WhatIf at the front doors", () => {
  let server: TestServer;
  let client: ReturnType<typeof decisionClient>;
  before(async () => {
    server = await startServer();
    client = decisionClient(server.grpcAddress);
    assert.equal((await http(server, "PUT", "/v1/model", yaml(FRONT_OBJECTS))).status, 200);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  /** The model, the matrix (Check's answers) and a ruleset: what a what-if must leave as they were. */
  async function served(): Promise<unknown> {
    const matrix = await http(server, "GET", "/v1/matrix?port=8080");
    const udp = await http(server, "GET", "/v1/matrix?protocol=UDP&port=53");
    const check = await http(server, "POST", "/v1/check", { src: "y/c", dst: "x/a", port: 8080 });
    const rules = await http(server, "GET", "/v1/nodes/node-1/rules");
    return { snapshot: await snapshot(server), matrix: matrix.body, udp: udp.body, check: { ...check.body, decisionId: "" }, rules: rules.body };
  }

  async function assertServedAsBefore(before: unknown, what: string): Promise<void> {
    assert.deepEqual(await served(), before, `${what}: the served model, its answers and its rulesets`);
  }

  it("the same 422 as POST /v1/apply of the same manifests, and the same 400 and 404; the model unchanged after each", async () => {
    const was = await served();
    const cases: [string, string, number][] = [
      ["an invalid policy", BAD_POLICY, 422],
      ["valid objects, then an invalid one", LAST_INVALID, 422],
      ["malformed YAML", MALFORMED, 400],
      ["a pod in a namespace the model lacks", IN_MISSING_NAMESPACE, 404],
      ["a pod at an address another pod holds", TAKEN_ADDRESS, 422],
    ];
    for (const [what, manifests, code] of cases) {
      const whatIf = await http(server, "POST", "/v1/whatif", { apply: manifests, ports: ["80"] });
      await assertServedAsBefore(was, what);
      const apply = await http(server, "POST", "/v1/apply", manifests);
      await assertUnchanged(server, (was as { snapshot: Awaited<ReturnType<typeof snapshot>> }).snapshot, `${what}: the refused apply`);
      assert.equal(apply.status, code, `${what}: POST /v1/apply ${JSON.stringify(apply.body)}`);
      assert.equal(whatIf.status, apply.status, `${what}: ${JSON.stringify(whatIf.body)}`);
      assert.deepEqual(whatIf.body, apply.body, what);
    }
    const invalid = await http(server, "POST", "/v1/whatif", { apply: BAD_POLICY });
    assert.deepEqual(
      (invalid.body.errors as { field: string }[]).map((e) => e.field),
      ["spec.ingress[0].ports[0].port", "spec.ingress[0].from[0].ipBlock.except[0]", "spec.policyTypes[1]"],
    );
  });

  it("404 for deleting an object the model lacks, as DELETE answers it; the model unchanged", async () => {
    const was = await served();
    const cases: [{ kind: string; namespace?: string; name: string }, string][] = [
      [{ kind: "Pod", namespace: "x", name: "nope" }, "/v1/namespaces/x/pods/nope"],
      [{ kind: "NetworkPolicy", namespace: "x", name: "nope" }, "/v1/namespaces/x/networkpolicies/nope"],
      [{ kind: "Namespace", name: "nope" }, "/v1/namespaces/nope"],
      [{ kind: "Node", name: "node-9" }, "/v1/nodes/node-9"],
    ];
    for (const [ref, path] of cases) {
      const whatIf = await http(server, "POST", "/v1/whatif", { delete: [{ kind: "Pod", namespace: "x", name: "b" }, ref] });
      const del = await http(server, "DELETE", path);
      assert.equal(del.status, 404, path);
      assert.equal(whatIf.status, 404, JSON.stringify(whatIf.body));
      assert.deepEqual(whatIf.body, del.body, path);
      await assertServedAsBefore(was, path);
    }
  });

  it("400 with field paths for bad ports[i], delete[i] and limit, every error at once; the model unchanged", async () => {
    const was = await served();
    const cases: [string, unknown, { field: string; type: string; value?: unknown; detail: string }[]][] = [
      [
        "bad ports",
        { apply: BAD_POLICY, ports: ["0", "TCP/", "ICMP/80", 8.5, "80/TCP", "udp/53", "65536"] },
        [
          { field: "ports[0]", type: "FieldValueInvalid", value: "0", detail: PORT_DETAIL },
          { field: "ports[1]", type: "FieldValueInvalid", value: "TCP/", detail: PORT_DETAIL },
          { field: "ports[2]", type: "FieldValueInvalid", value: "ICMP/80", detail: PORT_DETAIL },
          { field: "ports[3]", type: "FieldValueInvalid", value: 8.5, detail: PORT_DETAIL },
          { field: "ports[4]", type: "FieldValueInvalid", value: "80/TCP", detail: PORT_DETAIL },
          { field: "ports[6]", type: "FieldValueInvalid", value: "65536", detail: PORT_DETAIL },
        ],
      ],
      [
        "ports not a list",
        { delete: [{ kind: "Pod", namespace: "x", name: "a" }], ports: "80" },
        [{ field: "ports", type: "FieldValueTypeInvalid", value: "80", detail: 'must be a list such as ["80", "UDP/53"]' }],
      ],
      [
        "bad deletes",
        { delete: [{ kind: "Deployment", namespace: "x", name: "a" }, { kind: "Pod", name: "a" }, { kind: "NetworkPolicy", namespace: "x" }, null, { kind: 7, name: "n" }] },
        [
          { field: "delete[0].kind", type: "FieldValueNotSupported", value: "Deployment", detail: KINDS_DETAIL },
          { field: "delete[1].namespace", type: "FieldValueRequired", detail: "" },
          { field: "delete[2].name", type: "FieldValueRequired", detail: "" },
          { field: "delete[3].kind", type: "FieldValueNotSupported", detail: KINDS_DETAIL },
          { field: "delete[3].name", type: "FieldValueRequired", detail: "" },
          { field: "delete[4].kind", type: "FieldValueNotSupported", value: 7, detail: KINDS_DETAIL },
        ],
      ],
      [
        "delete not a list",
        { delete: { kind: "Pod", namespace: "x", name: "a" } },
        [{ field: "delete", type: "FieldValueTypeInvalid", value: { kind: "Pod", namespace: "x", name: "a" }, detail: "must be a list of objects" }],
      ],
      ["a negative limit", { apply: BAD_POLICY, limit: -1 }, [{ field: "limit", type: "FieldValueInvalid", value: -1, detail: "must be a whole number" }]],
      ["a fractional limit", { apply: BAD_POLICY, limit: 1.5 }, [{ field: "limit", type: "FieldValueInvalid", value: 1.5, detail: "must be a whole number" }]],
      ["a limit as text", { apply: BAD_POLICY, limit: "10" }, [{ field: "limit", type: "FieldValueInvalid", value: "10", detail: "must be a whole number" }]],
      ["apply not manifests", { apply: 5 }, [{ field: "apply", type: "FieldValueTypeInvalid", value: 5, detail: "must be manifests (YAML or JSON text) or a list of objects" }]],
      ["nothing to do", { ports: ["80"] }, [{ field: "apply", type: "FieldValueRequired", detail: "manifests to apply, or objects to delete" }]],
      [
        "everything wrong at once",
        { apply: 5, delete: [{ kind: "Foo", name: "n" }], ports: ["0"], limit: -1 },
        [
          { field: "apply", type: "FieldValueTypeInvalid", value: 5, detail: "must be manifests (YAML or JSON text) or a list of objects" },
          { field: "delete[0].kind", type: "FieldValueNotSupported", value: "Foo", detail: KINDS_DETAIL },
          { field: "ports[0]", type: "FieldValueInvalid", value: "0", detail: PORT_DETAIL },
          { field: "limit", type: "FieldValueInvalid", value: -1, detail: "must be a whole number" },
        ],
      ],
    ];
    for (const [what, body, errors] of cases) {
      const res = await http(server, "POST", "/v1/whatif", body);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, badRequest(errors), what);
      await assertServedAsBefore(was, what);
    }
    const list = await http(server, "POST", "/v1/whatif", [{ apply: BAD_POLICY }]);
    assert.equal(list.status, 400);
    assert.equal(list.body.message, "body must be a JSON object");
    await assertServedAsBefore(was, "a list for a body");
  });

  it("without ports: every port and protocol a policy names (range ends, each named port's numbers) and, per protocol, one that none names", async () => {
    const was = await served();
    const relabel = yaml([pod("x/b", { labels: { app: "b", tier: "new" }, node: "node-2", ips: ["10.1.2.1"] })]);
    const plain = await http(server, "POST", "/v1/whatif", { apply: relabel });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.deepEqual(plain.body.ports, NAMED_PORTS);
    assert.deepEqual(plain.body.cells, [], "a label no selector reads changes no cell");
    assert.deepEqual(plain.body.nodes, []);

    // A policy the change adds names its ports too; one the change deletes still has its ports asked.
    const sctp = yaml([policy("y/sctp", { podSelector: {}, ingress: [{ ports: [{ protocol: "SCTP", port: 3868 }] }] })]);
    const added = await http(server, "POST", "/v1/whatif", { apply: sctp });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(added.body.ports, [...NAMED_PORTS, "SCTP/1", "SCTP/3868"]);
    const deleted = await http(server, "POST", "/v1/whatif", { delete: [{ kind: "NetworkPolicy", namespace: "x", name: "in" }] });
    assert.deepEqual(deleted.body.ports, NAMED_PORTS);
    await assertServedAsBefore(was, "the questions without ports");

    // The cells over the default ports are those of a copy with the change written.
    for (const [body, change] of [
      [added.body, { apply: [policy("y/sctp", { podSelector: {}, ingress: [{ ports: [{ protocol: "SCTP", port: 3868 }] }] })], delete: [] }],
      [deleted.body, { apply: [], delete: [{ kind: "NetworkPolicy", namespace: "x", name: "in" }] }],
    ] as [WhatIfAnswer, PlannedChange][]) {
      const base = await loaded(FRONT_OBJECTS);
      const copy = await loaded(FRONT_OBJECTS);
      await writeChange(copy.service, change);
      const traffic = body.ports.map((p) => ({ protocol: p.split("/")[0] as MatrixTraffic["protocol"], port: Number(p.split("/")[1]) }));
      const want = expected(base.service, versions(base.service), copy.service, traffic);
      assert.deepEqual(body.cells, want.cells);
      assert.deepEqual(body.nodes, want.nodes);
      assert.ok(want.cells.length > 0 && want.nodes.length > 0, "the change changes cells and rulesets");
    }
  });

  it("gRPC WhatIf answers as REST does, and refuses as REST does", async () => {
    const was = await served();
    const questions: { apply?: string; delete?: Ref[]; ports?: string[]; limit?: number }[] = [
      { apply: yaml([pod("x/b", { labels: { app: "c" }, node: "node-2", ips: ["10.1.2.1"] })]), ports: ["80", "8080", "UDP/53"] },
      { delete: [{ kind: "Pod", namespace: "y", name: "c" }] },
      { delete: [{ kind: "Namespace", namespace: "", name: "y" }], limit: 3 },
      { apply: yaml([pod("y/new", { labels: { app: "c" }, node: "node-2", ips: ["10.1.2.7"] })]), delete: [{ kind: "NetworkPolicy", namespace: "x", name: "in" }] },
    ];
    let nulls = 0;
    for (const q of questions) {
      const rest = await http(server, "POST", "/v1/whatif", q);
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      const viaGrpc = whatIfFromProto(await client.unary("whatIf", q));
      assert.deepEqual(viaGrpc, rest.body, JSON.stringify(q));
      nulls += (rest.body.cells as { before: unknown; after: unknown }[]).filter((c) => c.before === null || c.after === null).length;
    }
    assert.ok(nulls > 0, "some cell has a pod on one side only");
    const invalid = await grpcError(client.unary("whatIf", { apply: BAD_POLICY }));
    assert.equal(invalid.code, 3, "INVALID_ARGUMENT");
    assert.deepEqual(
      (podwallErrors(invalid) as { field: string }[]).map((e) => e.field),
      ["spec.ingress[0].ports[0].port", "spec.ingress[0].from[0].ipBlock.except[0]", "spec.policyTypes[1]"],
    );
    const missing = await grpcError(client.unary("whatIf", { delete: [{ kind: "Pod", namespace: "x", name: "nope" }] }));
    assert.equal(missing.code, 5, "NOT_FOUND");
    assert.equal(missing.details, 'pods "nope" not found in namespace "x"');
    const badPort = await grpcError(client.unary("whatIf", { delete: [{ kind: "Pod", namespace: "x", name: "a" }], ports: ["ICMP/1"] }));
    assert.equal(badPort.code, 3, "INVALID_ARGUMENT");
    assert.deepEqual(podwallErrors(badPort), [{ field: "ports[0]", type: "FieldValueInvalid", value: "ICMP/1", detail: PORT_DETAIL }]);
    await assertServedAsBefore(was, "the gRPC questions");
  });
});

describe("namedTraffic: the ports a what-if asks by default", () => {
  it("takes a tier policy's ranges, and its named ports at every protocol pods give them", async () => {
    const { service } = await loaded([
      namespace("x"),
      node("node-1", "10.0.0.1"),
      pod("x/dns", { node: "node-1", ips: ["10.1.1.1"], ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }] }),
      pod("x/dns-tcp", { node: "node-1", ips: ["10.1.1.2"], ports: [{ name: "dns", containerPort: 5353, protocol: "TCP" }] }),
      {
        apiVersion: "policy.networking.k8s.io/v1alpha2",
        kind: "ClusterNetworkPolicy",
        metadata: { name: "p" },
        spec: {
          tier: "Admin",
          priority: 1,
          subject: { namespaces: {} },
          ingress: [
            { action: "Deny", from: [{ namespaces: {} }], protocols: [{ tcp: { destinationPort: { range: { start: 1000, end: 1002 } } } }, { destinationNamedPort: "dns" }] },
          ],
        },
      },
    ]);
    assert.deepEqual(
      namedTraffic(service.cluster).map((t) => `${t.protocol}/${t.port}`),
      ["TCP/1", "TCP/1000", "TCP/1002", "TCP/5353", "UDP/1", "UDP/53"],
    );
  });
});

describe("what-if limits: it is answered in one turn of the event loop, so its work is bounded", () => {
  it("413 past the cells it may ask (ports × pods whose rows or columns may change × pods), counted, with the model unchanged; within it, answered", async () => {
    const { service, rules } = await loaded(FRONT_OBJECTS);
    const pods = service.cluster.pods.size;
    // Deleting namespace x: its pods' rows and columns may change, over every pod of the model.
    const moved = [...service.cluster.podsIn("x")].length;
    // Each pod of x has its row and its column asked, over every pod, on each port.
    const work = 2 * (2 * moved) * pods;
    const analysis = new AnalysisService(service, rules, { whatIfWork: work });
    const generation = service.generation;
    const ask = (ports: string[]) => analysis.whatIf(SYSTEM, { delete: [{ kind: "Namespace", name: "x" }], ports });
    assert.ok((await ask(["80", "81"])).cellsChanged > 0, "within the limit (2 ports), answered");
    const refused = await ask(["80", "81", "82"]).then(
      () => assert.fail("a what-if past its work limit was answered"),
      (e: unknown) => e as PodwallError,
    );
    assert.equal(refused.code, "too-large");
    assert.match(
      refused.message,
      new RegExp(`would ask ${3 * 2 * moved * pods} cells \\(3 ports × ${moved} rows and ${moved} columns that may change × ${pods} pods\\); at most ${work}`),
    );
    assert.deepEqual(
      refused.errors.map((e) => [e.field, e.type]),
      [["ports", "FieldValueTooMany"]],
    );
    assert.equal((await service.metrics.rejected.get()).values.find((v) => v.labels.reason === "whatif")?.value, 1);
    assert.equal(service.generation, generation);
    assert.equal(service.cluster.namespaces.has("x"), true, "the trial was undone");
  });

  it("400 for a port with an empty protocol before its slash", async () => {
    const { analysis } = await loaded(FRONT_OBJECTS);
    const e = await analysis.whatIf(SYSTEM, { delete: [{ kind: "Namespace", name: "x" }], ports: ["80", "/80"] }).then(
      () => assert.fail('"/80" was taken'),
      (err: unknown) => err as PodwallError,
    );
    assert.deepEqual(
      e.errors.map((x) => [x.field, x.type]),
      [["ports[1]", "FieldValueInvalid"]],
    );
  });

  it("400 for more than 256 ports, before anything is read", async () => {
    const { analysis } = await loaded(FRONT_OBJECTS);
    const ports = Array.from({ length: 257 }, (_, i) => String(i + 1));
    const e = await analysis.whatIf(SYSTEM, { delete: [{ kind: "Namespace", name: "x" }], ports }).then(
      () => assert.fail("257 ports were taken"),
      (err: unknown) => err as PodwallError,
    );
    assert.equal(e.code, "bad-request");
    assert.deepEqual(
      e.errors.map((x) => [x.field, x.type, x.detail]),
      [["ports", "FieldValueTooMany", "must have at most 256 items"]],
    );
  });
});
