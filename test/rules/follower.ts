/**
 * A simulated node that follows one server by deltas, as the agent does,
 * beside one that applies every version whole: both must hold the same.
 */
import assert from "node:assert/strict";
import { applyDelta, applyRuleset } from "../../client/agent/apply.js";
import { type Ruleset, isDelta } from "../../server/rules/index.js";
import { FakeRunner, nodeState } from "./simulator.js";

/** A node that follows one server by deltas, as the agent does, beside one that applies every version whole. */
export class Follower {
  readonly byDelta = new FakeRunner();
  readonly whole = new FakeRunner();
  version = "";

  static async start(r: Ruleset): Promise<Follower> {
    const f = new Follower();
    await applyRuleset(f.byDelta, r);
    await applyRuleset(f.whole, r);
    f.version = r.version;
    return f;
  }

  /** Moves both to `r`; true when `answer` (what the server gave for `since`) was a delta. */
  async follow(r: Ruleset, answer: Ruleset): Promise<boolean> {
    const delta = isDelta(answer);
    if (delta) {
      assert.equal(answer.base, this.version, "a delta names the version it applies onto");
      assert.equal(answer.version, r.version);
      await applyDelta(this.byDelta, answer);
    } else await applyRuleset(this.byDelta, answer);
    await applyRuleset(this.whole, r);
    this.version = r.version;
    return delta;
  }

  assertSame(what: string): void {
    assert.deepEqual(nodeState(this.byDelta.node), nodeState(this.whole.node), what);
  }
}
