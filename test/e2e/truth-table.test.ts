/**
 * Truth tables in the style of upstream's e2e network policy tests and
 * cyclonus: for each scenario, the whole 9 x 9 table of the x/y/z cluster per
 * protocol/port, through the REST API of a real server, against tables built
 * independently from the Kubernetes documentation (reachability.ts).
 *
 * Each scenario resets the model to the base cluster, then for each step
 * makes its change, observes every table it names in one batch each and
 * compares cell by cell. Every difference of every table is collected, so one
 * failure shows all that is wrong at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { follow } from "../helpers/follow.js";
import { startKubeApiServer } from "../helpers/kube-apiserver.js";
import { startServer } from "../helpers/server.js";
import { ALL_PODS } from "./cluster.js";
import { ClusterApi } from "./cluster-api.js";
import { mismatches, renderDiff } from "./matrix-diff.js";
import { Reachability } from "./reachability.js";
import type { Scenario } from "./scenario.js";
import { directionScenarios } from "./scenarios-directions.js";
import { ipBlockScenarios } from "./scenarios-ip-blocks.js";
import { isolationScenarios } from "./scenarios-isolation.js";
import { peerScenarios } from "./scenarios-peers.js";
import { portScenarios } from "./scenarios-ports.js";
import { updateScenarios } from "./scenarios-updates.js";
import { WatchDoor } from "./watch-door.js";

const SCENARIOS: readonly Scenario[] = [...isolationScenarios, ...peerScenarios, ...portScenarios, ...ipBlockScenarios, ...directionScenarios, ...updateScenarios];

interface ScenarioOutcome {
  /** Cells compared: table cells plus address cells. */
  readonly cells: number;
  readonly tables: number;
  /** Readable reports, one per table or address cell that disagreed. */
  readonly failures: readonly string[];
}

async function runScenario(api: ClusterApi, s: Scenario): Promise<ScenarioOutcome> {
  let cells = 0;
  let tables = 0;
  const failures: string[] = [];
  await api.reset();
  for (const [i, step] of s.steps.entries()) {
    const where = `${s.name}, step ${i + 1} (${step.name})`;
    await step.act?.(api);
    const pods = step.pods ?? ALL_PODS;
    for (const unknown of step.unknownPods ?? []) {
      const status = await api.checkStatus(unknown, pods[0]!);
      if (status !== 404) failures.push(`${where}: a check from ${unknown} answered ${status}, not 404`);
    }
    for (const c of step.cases) {
      const expected = new Reachability(pods);
      c.expect(expected);
      expected.allowLoopback();
      const observed = await api.observe(pods, c.protocol, c.port);
      tables++;
      cells += pods.length ** 2;
      if (mismatches(expected, observed).length > 0) {
        failures.push(renderDiff(`${where}, ${c.protocol}/${c.port}`, expected, observed));
      }
    }
    const addressCells = step.cells ?? [];
    if (addressCells.length > 0) {
      const observed = await api.decide(addressCells);
      cells += addressCells.length;
      addressCells.forEach((c, j) => {
        if (observed[j] !== c.allowed) {
          const word = (b: boolean | undefined) => (b === undefined ? "nothing" : b ? "allowed" : "denied");
          failures.push(`${where}: ${c.src} -> ${c.dst} ${c.protocol}/${c.port}: expected ${word(c.allowed)}, observed ${word(observed[j])}`);
        }
      });
    }
  }
  return { cells, tables, failures };
}

/** The suite is only meaningful with this many scenarios actually run. */
const MIN_SCENARIOS = 30;

/** The suite over one way of writing the model: set-up gives the API and what tears it down. */
function truthTables(title: string, setUp: () => Promise<{ api: ClusterApi; tearDown(): Promise<void> }>): void {
  describe(title, () => {
    let api: ClusterApi;
    let tearDown: () => Promise<void>;
    let ran = 0;
    let cells = 0;
    let tables = 0;

    before(async () => {
      ({ api, tearDown } = await setUp());
    });
    after(async () => tearDown());

    it("has distinct scenario names, each with a documented reason and at least one table", () => {
      const names = SCENARIOS.map((s) => s.name);
      assert.deepEqual(
        names.filter((n, i) => names.indexOf(n) !== i),
        [],
      );
      for (const s of SCENARIOS) {
        assert.ok(s.doc.length > 0, `${s.name}: no doc`);
        assert.ok(
          s.steps.some((step) => step.cases.length > 0),
          `${s.name}: no table`,
        );
      }
    });

    for (const s of SCENARIOS) {
      it(s.name, async (t) => {
        const outcome = await runScenario(api, s);
        cells += outcome.cells;
        tables += outcome.tables;
        ran++;
        t.diagnostic(`${outcome.tables} tables, ${outcome.cells} cells`);
        assert.ok(outcome.failures.length === 0, `${s.name} (${s.doc})\n\n${outcome.failures.join("\n\n")}`);
      });
    }

    it(`ran at least ${MIN_SCENARIOS} scenarios`, (t) => {
      const summary = `truth tables: ${ran} scenarios, ${tables} tables, ${cells} cells compared (${api.checksAsked} checks asked)`;
      console.log(summary);
      t.diagnostic(summary);
      assert.ok(ran >= MIN_SCENARIOS, `only ${ran} of ${SCENARIOS.length} scenarios ran; at least ${MIN_SCENARIOS} must`);
    });
  });
}

truthTables("NetworkPolicy truth tables over REST (x/y/z cluster, 9 x 9)", async () => {
  const server = await startServer();
  return { api: new ClusterApi(server), tearDown: () => server.close() };
});

truthTables("NetworkPolicy truth tables, the objects arriving through a Kubernetes watch (x/y/z cluster, 9 x 9)", async () => {
  const double = await startKubeApiServer();
  const server = await follow(double);
  await server.ready;
  return {
    api: new ClusterApi(server, new WatchDoor(double, server)),
    tearDown: async () => {
      await server.close();
      await double.close();
    },
  };
});
