/** LabelIndex: key → value → objects, kept exact through adds and removes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LabelIndex } from "../../server/model/label-index.js";

interface Item {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const web = { name: "web", labels: { app: "web", tier: "front" } };
const api = { name: "api", labels: { app: "api", tier: "front", legacy: "" } };
const db = { name: "db", labels: { app: "db", tier: "back" } };
const bare = { name: "bare", labels: {} };

function index(...items: Item[]): LabelIndex<Item> {
  const idx = new LabelIndex<Item>();
  for (const i of items) idx.add(i, i.labels);
  return idx;
}
const names = (xs: Iterable<Item>): string[] => [...xs].map((x) => x.name).sort();

describe("LabelIndex.withValues", () => {
  const idx = index(web, api, db, bare);
  const rows: readonly [string, string[], string[]][] = [
    ["app", ["web"], ["web"]],
    ["app", ["web", "db"], ["db", "web"]],
    ["app", ["cache"], []],
    ["app", [], []],
    ["tier", ["front"], ["api", "web"]],
    ["legacy", [""], ["api"]],
    ["missing", ["x"], []],
  ];
  for (const [key, values, want] of rows) {
    it(`${key} in (${values.join(",")}) → [${want.join(",")}]`, () => {
      assert.deepEqual(names(idx.withValues(key, values)), want);
    });
  }
});

describe("LabelIndex.withKey", () => {
  const idx = index(web, api, db, bare);
  for (const [key, want] of [
    ["app", ["api", "db", "web"]],
    ["legacy", ["api"]],
    ["missing", []],
  ] as const) {
    it(`${key} → [${want.join(",")}]`, () => {
      assert.deepEqual(names(idx.withKey(key)), want);
    });
  }
});

describe("LabelIndex add and remove", () => {
  it("all and size count objects, labelled or not", () => {
    const idx = index(web, bare);
    assert.equal(idx.size, 2);
    assert.deepEqual(names(idx.all), ["bare", "web"]);
  });
  it("remove takes the object out of every posting list, and empty keys go away", () => {
    const idx = index(web, api, db);
    idx.remove(api, api.labels);
    assert.deepEqual(names(idx.withValues("tier", ["front"])), ["web"]);
    assert.deepEqual(names(idx.withKey("legacy")), []);
    assert.deepEqual(names(idx.withKey("app")), ["db", "web"]);
    assert.equal(idx.size, 2);
  });
  it("removing the last object leaves an empty index", () => {
    const idx = index(web);
    idx.remove(web, web.labels);
    assert.equal(idx.size, 0);
    assert.deepEqual(idx.withKey("app"), []);
    assert.deepEqual(idx.withValues("app", ["web"]), []);
  });
  it("an object re-added with other labels is found only by the new ones", () => {
    const idx = index(web);
    idx.remove(web, web.labels);
    const moved = { ...web, labels: { app: "web2" } };
    idx.add(moved, moved.labels);
    assert.deepEqual(names(idx.withValues("app", ["web"])), []);
    assert.deepEqual(names(idx.withValues("app", ["web2"])), ["web"]);
    assert.deepEqual(names(idx.withKey("tier")), []);
  });
  it("removing an object that was never added changes nothing", () => {
    const idx = index(web);
    idx.remove(db, db.labels);
    assert.equal(idx.size, 1);
    assert.deepEqual(names(idx.withKey("app")), ["web"]);
  });
});
