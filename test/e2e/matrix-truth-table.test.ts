/**
 * The truth-table scenarios (truth-table.test.ts) answered by the whole-cluster
 * matrix: after each step's change, one `GET /v1/matrix` per protocol and port
 * the step names gives the whole table, which must equal the expected table
 * the scenario states (reachability.ts). The matrix names its pods (those of
 * the step: a deleted pod is not there) in namespace-then-name order, at the
 * generation the last write gave. Cells whose ends are addresses are not pod
 * pairs: the matrix does not hold them (truth-table.test.ts asks them).
 *
 * Also `?format=table` and `?format=wide` for one step, read back, are the
 * JSON's table.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { ALL_PODS } from "./cluster.js";
import { ClusterApi, type Protocol } from "./cluster-api.js";
import { type Observed, cellKey, mismatches, renderDiff } from "./matrix-diff.js";
import { Reachability } from "./reachability.js";
import type { Scenario } from "./scenario.js";
import { directionScenarios } from "./scenarios-directions.js";
import { ipBlockScenarios } from "./scenarios-ip-blocks.js";
import { isolationScenarios } from "./scenarios-isolation.js";
import { peerScenarios } from "./scenarios-peers.js";
import { portScenarios } from "./scenarios-ports.js";
import { updateScenarios } from "./scenarios-updates.js";

const SCENARIOS: readonly Scenario[] = [...isolationScenarios, ...peerScenarios, ...portScenarios, ...ipBlockScenarios, ...directionScenarios, ...updateScenarios];

interface MatrixBody {
  readonly generation: number;
  readonly protocol: string;
  readonly port: number;
  readonly pods: readonly string[];
  readonly allowed: readonly (readonly boolean[])[];
}

/** The whole table in one request. */
async function matrix(server: TestServer, protocol: Protocol, port: number): Promise<MatrixBody> {
  const res = await http(server, "GET", `/v1/matrix?protocol=${protocol}&port=${port}`);
  assert.equal(res.status, 200, `GET /v1/matrix ${protocol}/${port} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as MatrixBody;
}

function observed(m: MatrixBody): Observed {
  const out = new Map<string, boolean>();
  m.pods.forEach((src, i) => {
    m.pods.forEach((dst, j) => out.set(cellKey(src, dst), m.allowed[i]![j]!));
  });
  return out;
}

async function generation(server: TestServer): Promise<number> {
  return (await http(server, "GET", "/readyz")).body.generation as number;
}

/**
 * A text table read back: its first line, then the column heads (numbers
 * with a legend naming them, or with `wide` the names themselves, written
 * downwards), then one line per row, its pod's name and a character per cell.
 */
function parseTable(text: string, wide: boolean): { head: string; pods: string[]; allowed: boolean[][] } {
  const lines = text.split("\n");
  assert.equal(lines.at(-1), "", "the table ends with a newline");
  const [head, ...rest] = lines.slice(0, -1);
  // The rows are the last lines, as many as there are columns.
  let n = 0;
  while (n < rest.length && /^\S+ +[.X]+$/.test(rest[rest.length - 1 - n]!)) n++;
  const rows = rest.slice(rest.length - n);
  const width = rows[0]!.length - n;
  const heads = rest.slice(0, rest.length - n);
  const vertical = (c: number) =>
    heads
      .slice(wide ? 0 : heads.findIndex((l) => !/^ +\d+ {2}\S+$/.test(l) && l !== "columns:"))
      .map((l) => l[width + c] ?? " ")
      .join("")
      .trim();
  let pods: string[];
  if (wide) {
    pods = rows.map((_, c) => vertical(c));
  } else {
    assert.equal(heads[0], "columns:");
    const legend = heads.slice(1).flatMap((l) => /^ +(\d+) {2}(\S+)$/.exec(l) ?? []);
    pods = [];
    for (let i = 0; i < legend.length; i += 3) pods.push(legend[i + 2]!);
    pods.forEach((_, c) => assert.equal(vertical(c), String(c + 1), `column ${c + 1} is headed by its number`));
  }
  const allowed = rows.map((line, i) => {
    assert.equal(line.slice(0, width), pods[i]!.padEnd(width), `row ${i + 1} is named by its pod`);
    return [...line.slice(width)].map((c) => c === ".");
  });
  return { head: head!, pods, allowed };
}

describe("NetworkPolicy truth tables through GET /v1/matrix (x/y/z cluster, one request per table)", () => {
  let server: TestServer;
  let api: ClusterApi;
  let tables = 0;
  let cells = 0;
  let requests = 0;

  before(async () => {
    server = await startServer();
    api = new ClusterApi(server);
  });
  after(async () => server.close());

  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const failures: string[] = [];
      await api.reset();
      for (const [i, step] of s.steps.entries()) {
        const where = `${s.name}, step ${i + 1} (${step.name})`;
        await step.act?.(api);
        const pods = step.pods ?? ALL_PODS;
        const gen = await generation(server);
        for (const c of step.cases) {
          const m = await matrix(server, c.protocol, c.port);
          requests++;
          assert.deepEqual(m.pods, pods, `${where}: the matrix's pods`);
          assert.deepEqual({ generation: m.generation, protocol: m.protocol, port: m.port }, { generation: gen, protocol: c.protocol, port: c.port }, where);
          assert.equal(m.allowed.length, pods.length, `${where}: one row per pod`);
          for (const row of m.allowed) assert.equal(row.length, pods.length, `${where}: one cell per pod in every row`);
          for (const unknown of step.unknownPods ?? []) assert.ok(!m.pods.includes(unknown), `${where}: ${unknown} is not in the model`);
          const expected = new Reachability(pods);
          c.expect(expected);
          expected.allowLoopback();
          const seen = observed(m);
          tables++;
          cells += pods.length ** 2;
          if (mismatches(expected, seen).length > 0) failures.push(renderDiff(`${where}, ${c.protocol}/${c.port}`, expected, seen));
        }
      }
      assert.ok(failures.length === 0, `${s.name} (${s.doc})\n\n${failures.join("\n\n")}`);
    });
  }

  it("asked every scenario's tables, one request each", (t) => {
    const want = SCENARIOS.reduce((n, s) => n + s.steps.reduce((m, step) => m + step.cases.length, 0), 0);
    t.diagnostic(`matrix truth tables: ${SCENARIOS.length} scenarios, ${tables} tables, ${cells} cells in ${requests} requests`);
    assert.ok(SCENARIOS.length >= 30, `only ${SCENARIOS.length} scenarios`);
    assert.equal(tables, want);
    assert.equal(requests, want);
  });

  for (const format of ["table", "wide"] as const) {
    it(`?format=${format} of a scenario step, read back, is the JSON's table`, async () => {
      const s = SCENARIOS.find((x) => x.name === "default deny ingress and egress in namespace x");
      assert.ok(s, "the scenario exists");
      await api.reset();
      const step = s.steps[0]!;
      await step.act?.(api);
      for (const c of step.cases) {
        const json = await matrix(server, c.protocol, c.port);
        const res = await fetch(`${server.url}/v1/matrix?protocol=${c.protocol.toLowerCase()}&port=${c.port}&format=${format}`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
        const table = parseTable(await res.text(), format === "wide");
        assert.equal(table.head, `${c.protocol}/${c.port} at generation ${json.generation}: rows are sources, columns destinations ('.' allowed, 'X' denied)`);
        assert.deepEqual(table.pods, json.pods);
        assert.deepEqual(table.allowed, json.allowed);
        const flat = table.allowed.flat();
        assert.ok(flat.includes(true) && flat.includes(false), "the table has both answers");
      }
    });
  }
});
