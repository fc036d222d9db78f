/**
 * A sample of the fuzzer (fuzz/) inside `npm test`: a few hundred generated
 * bad inputs, from a fixed seed and from a random one, through every REST
 * route and gRPC method of a `podwall serve` process serving the example
 * cluster with tier policies of every kind, with the fuzzer's
 * properties: no 5xx, no crash, 4xx as JSON errors, never UNKNOWN or
 * INTERNAL, nothing changed by a rejected request. No time limit per request:
 * a hang is the test runner's to catch.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatSummary } from "../../fuzz/findings.js";
import { randomSeed } from "../../fuzz/random.js";
import { DEFAULT_MANIFESTS, runFuzz } from "../../fuzz/run.js";
import { TARGETS } from "../../fuzz/targets.js";

const FIXED_SEED = 20_240_611;

describe("fuzz sample", () => {
  const runs = [
    { what: "a fixed seed", seed: FIXED_SEED, rounds: 5 },
    { what: "a random seed", seed: randomSeed(), rounds: 2 },
  ];
  for (const { what, seed, rounds } of runs) {
    // Whole rounds over the targets: every route and method gets the same share.
    const count = rounds * TARGETS.length;
    it(`${count} bad inputs from ${what} (seed ${seed})`, async () => {
      const r = await runFuzz({ seed, count, sampleEvery: 5, manifests: DEFAULT_MANIFESTS, log: () => undefined });
      assert.equal(r.executed, count);
      if (r.findings.length > 0) assert.fail(`${formatSummary(seed, r.executed, r.ms, r.findings)}\nrun again: npm run fuzz -- --seed ${seed} --count ${count}`);
    });
  }
});
