/**
 * The fuzzer's tier policies are what it takes them for: every poisoned one
 * is refused for the error its mutation makes (the CRDs' schema or CEL rule,
 * at its field path), and every valid one is read as written, through each
 * text form the fuzzer sends. Otherwise an accepted "bad" write would be a
 * false finding, and a refused "valid" what-if a missed one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../fuzz/random.js";
import { TIER_KINDS, type TierMutation, poisonedTierObject, tierText, validTierObject } from "../../fuzz/tier-manifests.js";
import { decodeObject } from "../../server/manifests/decode.js";
import { parseManifests } from "../../server/manifests/parse.js";

const RULE = String.raw`spec\.(ingress|egress)\[\d+\]`;

/** The error each mutation must make: field path, type and detail, as patterns. */
const REFUSED: Readonly<Record<TierMutation, readonly [RegExp, string, RegExp][]>> = {
  priority: [
    [/^spec\.priority$/, "FieldValueInvalid", /^spec\.priority in body should be (greater|less) than or equal to (0|1000)$/],
    [/^spec\.priority$/, "FieldValueTypeInvalid", /^spec\.priority in body must be of type integer: "(string|boolean|number)"$/],
    [/^spec\.priority$/, "FieldValueRequired", /^$/],
  ],
  action: [[new RegExp(`^${RULE}\\.action$`), "FieldValueNotSupported", /^supported values: "(Accept|Allow)", "Deny"(, "Pass")?$/]],
  "ingress-peer": [[/^spec\.ingress\[\d+\]\.from\[0\]$/, "FieldValueInvalid", /^spec\.ingress\[\d+\]\.from\[0\] in body should have at least 1 properties$/]],
  "named-port": [
    [
      /^spec\.egress\[\d+\]$/,
      "FieldValueInvalid",
      /^networks\/nodes(\/domainNames)? peer cannot be set with namedPorts since there are no namedPorts for networks\/nodes(\/domainNames)?$/,
    ],
  ],
  "banp-name": [[/^<nil>$/, "FieldValueInvalid", /^Only one baseline admin network policy with metadata\.name="default" can be created in the cluster$/]],
  "too-many-rules": [[/^spec\.(ingress|egress)$/, "FieldValueTooMany", /^must have at most (25|100) items$/]],
  "too-many-peers": [[new RegExp(`^${RULE}\\.(from|to)$`), "FieldValueTooMany", /^must have at most (25|100) items$/]],
  tier: [[/^spec\.tier$/, "FieldValueNotSupported", /^supported values: "Admin", "Baseline"$/]],
  range: [
    [new RegExp(`^${RULE}\\.protocols\\[0\\]\\.tcp\\.destinationPort\\.range$`), "FieldValueInvalid", /^Start port must be less than End port$/],
    [new RegExp(`^${RULE}\\.ports\\[0\\]\\.portRange\\.end$`), "FieldValueInvalid", /^must be greater than `start`$/],
  ],
  network: [[/^spec\.egress\[\d+\]\.to\[0\]\.networks\[0\]$/, "FieldValueInvalid", /^Invalid CIDR format provided$/]],
  subject: [
    [/^spec\.subject$/, "FieldValueRequired", /^$/],
    [/^spec\.subject$/, "FieldValueTypeInvalid", /^spec\.subject in body must be of type object: "string"$/],
    [/^spec\.subject$/, "FieldValueTooMany", /^must have at most 1 item$/],
    [/^spec\.subject$/, "FieldValueInvalid", /^spec\.subject in body should have at least 1 properties$/],
  ],
  "no-peers": [
    [new RegExp(`^${RULE}\\.(from|to)$`), "FieldValueRequired", /^$/],
    [new RegExp(`^${RULE}\\.(from|to)$`), "FieldValueInvalid", /^spec\.(ingress|egress)\[\d+\]\.(from|to) in body should have at least 1 items$/],
  ],
};

const RUNS = 2000;

describe("the fuzzer's tier policies", () => {
  it(`refuses each of ${RUNS} poisoned ones for the error of its mutation, and makes every mutation`, () => {
    const made = new Set<TierMutation>();
    for (let i = 0; i < RUNS; i++) {
      const { object, mutation } = poisonedTierObject(new Rng(i), i);
      made.add(mutation);
      const d = decodeObject(object);
      assert.equal(d.kind, "invalid", `seed ${i}, ${mutation}: ${JSON.stringify(object)}`);
      if (d.kind !== "invalid") continue;
      const hit = d.errors.some((e) => REFUSED[mutation].some(([field, type, detail]) => field.test(e.field) && e.type === type && detail.test(e.detail)));
      assert.ok(hit, `seed ${i}, ${mutation}: refused for other reasons: ${JSON.stringify(d.errors)}`);
    }
    assert.deepEqual([...made].sort(), Object.keys(REFUSED).sort());
  });

  it(`reads each of ${RUNS} valid ones as written, in every text form, and makes every kind`, () => {
    const kinds = new Set<string>();
    for (let i = 0; i < RUNS; i++) {
      const rng = new Rng(i);
      const object = validTierObject(rng, i);
      kinds.add(object["kind"] as string);
      const d = decodeObject(object);
      assert.equal(d.kind, "object", `seed ${i}: ${JSON.stringify(d)}`);
      if (d.kind !== "object") continue;
      assert.deepEqual(d.warnings, [], `seed ${i}`);
      const o = d.object;
      assert.ok(o.kind === "ClusterNetworkPolicy" || o.kind === "AdminNetworkPolicy" || o.kind === "BaselineAdminNetworkPolicy", `seed ${i}: ${o.kind}`);
      assert.deepEqual(o.policy.unenforceable, [], `seed ${i}: no peer the rulesets cannot enforce`);
      const text = tierText(rng, [object, object]);
      const read = parseManifests(text);
      const items = read.length === 1 ? ((read[0] as { items: unknown[] }).items ?? read) : read;
      assert.deepEqual(items, [object, object], `seed ${i}: ${text}`);
    }
    assert.deepEqual([...kinds].sort(), [...TIER_KINDS].sort());
  });
});
