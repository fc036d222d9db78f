/**
 * The incremental path (memoised rulesets, recompiling only what a write
 * touches) must give byte-identical rulesets and identical decisions to a
 * rebuild from scratch, over random sequences of changes on the `small`
 * profile.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { allObjects } from "../../bench/generate.js";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { applyChange, base, change } from "./changes.js";

async function rebuilt(s: PodwallService): Promise<{ service: PodwallService; rules: RulesService }> {
  const fresh = await PodwallService.start({ cacheSize: 0 });
  await fresh.applyObjects(SYSTEM, (JSON.parse(s.model(SYSTEM, "json").text) as { items: unknown[] }).items, true);
  return { service: fresh, rules: new RulesService(fresh) };
}

describe("incremental rulesets and decisions equal a rebuild from scratch", () => {
  it("over random sequences of changes on the small profile", async () => {
    let steps = 0;
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
        const service = await PodwallService.start({ cacheSize: 0 });
        await service.applyObjects(SYSTEM, allObjects(base), true);
        const rules = new RulesService(service);
        const nodes = [...service.cluster.nodes.keys()];
        for (const n of nodes) rules.rules(SYSTEM, n);
        for (const c of changes) {
          await applyChange(service, c);
          steps++;
          const fresh = await rebuilt(service);
          for (const n of service.cluster.nodes.keys()) {
            assert.deepEqual(rules.rules(SYSTEM, n), fresh.rules.rules(SYSTEM, n), `node ${n} after ${JSON.stringify(c)}`);
            compared++;
          }
          const pods = [...service.cluster.pods.keys()];
          for (let i = 0; i < 20; i++) {
            const q = { src: pods[(i * 37 + steps) % pods.length]!, dst: pods[(i * 101 + 7) % pods.length]!, port: [8080, 8000, 9090, 53][i % 4]!, explain: true };
            assert.deepEqual({ ...service.check(SYSTEM, q), generation: 0, decisionId: "" }, { ...fresh.service.check(SYSTEM, q), generation: 0, decisionId: "" });
          }
        }
      }),
      { numRuns: 30, seed: 20261126 },
    );
    assert.ok(compared > 100, `only ${compared} rulesets compared`);
  });
});
