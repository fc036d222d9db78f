/** Label selectors: matching (k8s.io/apimachinery/pkg/labels semantics) and kubectl-style descriptions. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Labels, Selector } from "../../server/model/types.js";
import { Path } from "../../server/policy/field.js";
import { Reader } from "../../server/policy/reader.js";
import { decodeSelector, describeSelector, matches } from "../../server/policy/selector.js";

type Obj = Record<string, unknown>;

function selector(raw: Obj): Selector {
  const r = new Reader();
  const s = decodeSelector(r, raw, Path.root("podSelector"));
  assert.deepEqual(r.errors, []);
  return s;
}

const WEB = { app: "web", tier: "front" };
const DB = { app: "db", tier: "back", legacy: "true" };
const BARE = {};
const EMPTY_VALUE = { app: "" };

interface Case {
  readonly name: string;
  readonly selector: Obj;
  readonly labels: Labels;
  readonly matches: boolean;
}

const cases: readonly Case[] = [
  { name: "{} matches an object with labels", selector: {}, labels: WEB, matches: true },
  { name: "{} matches an object without labels", selector: {}, labels: BARE, matches: true },
  { name: "matchLabels: equal value", selector: { matchLabels: { app: "web" } }, labels: WEB, matches: true },
  { name: "matchLabels: other value", selector: { matchLabels: { app: "web" } }, labels: DB, matches: false },
  { name: "matchLabels: key missing", selector: { matchLabels: { app: "web" } }, labels: BARE, matches: false },
  { name: "matchLabels: empty value matches only the empty value", selector: { matchLabels: { app: "" } }, labels: EMPTY_VALUE, matches: true },
  { name: "matchLabels: empty value does not match a missing key", selector: { matchLabels: { app: "" } }, labels: BARE, matches: false },
  { name: "matchLabels: every entry must match", selector: { matchLabels: { app: "web", tier: "back" } }, labels: WEB, matches: false },
  { name: "In: one of the values", selector: { matchExpressions: [{ key: "app", operator: "In", values: ["db", "web"] }] }, labels: WEB, matches: true },
  { name: "In: none of the values", selector: { matchExpressions: [{ key: "app", operator: "In", values: ["db", "cache"] }] }, labels: WEB, matches: false },
  { name: "In: key missing", selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }, labels: BARE, matches: false },
  { name: "NotIn: another value", selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] }, labels: WEB, matches: true },
  { name: "NotIn: a listed value", selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["db", "web"] }] }, labels: WEB, matches: false },
  { name: "NotIn: matches an object without the key", selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, labels: BARE, matches: true },
  { name: "Exists: key present", selector: { matchExpressions: [{ key: "legacy", operator: "Exists" }] }, labels: DB, matches: true },
  { name: "Exists: key present with an empty value", selector: { matchExpressions: [{ key: "app", operator: "Exists" }] }, labels: EMPTY_VALUE, matches: true },
  { name: "Exists: key missing", selector: { matchExpressions: [{ key: "legacy", operator: "Exists" }] }, labels: WEB, matches: false },
  { name: "DoesNotExist: key present", selector: { matchExpressions: [{ key: "legacy", operator: "DoesNotExist" }] }, labels: DB, matches: false },
  { name: "DoesNotExist: matches an object without the key", selector: { matchExpressions: [{ key: "legacy", operator: "DoesNotExist" }] }, labels: WEB, matches: true },
  {
    name: "matchLabels AND matchExpressions: both hold",
    selector: {
      matchLabels: { tier: "front" },
      matchExpressions: [
        { key: "app", operator: "In", values: ["web"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    },
    labels: WEB,
    matches: true,
  },
  {
    name: "matchLabels AND matchExpressions: one fails",
    selector: {
      matchLabels: { tier: "back" },
      matchExpressions: [
        { key: "app", operator: "In", values: ["db"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    },
    labels: DB,
    matches: false,
  },
  {
    name: "two expressions on one key: both must hold",
    selector: {
      matchExpressions: [
        { key: "app", operator: "In", values: ["web", "db"] },
        { key: "app", operator: "NotIn", values: ["db"] },
      ],
    },
    labels: DB,
    matches: false,
  },
  { name: "a key present only as a prefix does not count", selector: { matchExpressions: [{ key: "example.com/app", operator: "Exists" }] }, labels: WEB, matches: false },
  { name: "inherited properties are not labels", selector: { matchExpressions: [{ key: "constructor", operator: "Exists" }] }, labels: BARE, matches: false },
];

describe("matches", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(matches(selector(c.selector), c.labels), c.matches);
    });
  }
});

describe("decodeSelector", () => {
  it("{} is everything, not a match with no requirements", () => {
    assert.deepEqual(selector({}), { kind: "everything" });
    assert.deepEqual(selector({ matchLabels: {}, matchExpressions: [] }), { kind: "everything" });
  });
  it("matchLabels become In requirements; values are sorted and deduplicated; requirements in a stable order", () => {
    assert.deepEqual(selector({ matchLabels: { tier: "front" }, matchExpressions: [{ key: "app", operator: "NotIn", values: ["b", "a", "b"] }] }), {
      kind: "match",
      requirements: [
        { key: "app", operator: "NotIn", values: ["a", "b"] },
        { key: "tier", operator: "In", values: ["front"] },
      ],
    });
  });
  it("the same selector written two ways decodes equal", () => {
    assert.deepEqual(
      selector({ matchLabels: { b: "1", a: "2" } }),
      selector({
        matchExpressions: [
          { key: "a", operator: "In", values: ["2"] },
          { key: "b", operator: "In", values: ["1"] },
        ],
      }),
    );
  });
});

const described: readonly { selector: Obj; text: string }[] = [
  { selector: {}, text: "<all>" },
  { selector: { matchLabels: { app: "web" } }, text: "app=web" },
  { selector: { matchLabels: { tier: "front", app: "web" } }, text: "app=web,tier=front" },
  { selector: { matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] }, text: "tier in (a,b)" },
  { selector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["a"] }] }, text: "tier notin (a)" },
  { selector: { matchExpressions: [{ key: "legacy", operator: "Exists" }] }, text: "legacy" },
  { selector: { matchExpressions: [{ key: "legacy", operator: "DoesNotExist" }] }, text: "!legacy" },
  {
    selector: {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["a", "b"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    },
    text: "app=web,!legacy,tier in (a,b)",
  },
];

describe("describeSelector", () => {
  for (const d of described) {
    it(`${JSON.stringify(d.selector)} → ${d.text}`, () => {
      assert.equal(describeSelector(selector(d.selector)), d.text);
    });
  }
});
