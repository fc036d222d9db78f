/**
 * The reader's limits, at the parser: every hostile document an attacker sent
 * is refused with its exact message (go-yaml's words where go-yaml has them),
 * a document at a limit is read, duplicate keys are found where the API server
 * finds them, and the reader thread reads exactly what the caller's turn reads.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundedJson, excerptText, excerptValue } from "../../server/manifests/excerpt.js";
import { DEFAULT_MANIFEST_LIMITS, INLINE_BYTES } from "../../server/manifests/limits.js";
import { ManifestSyntaxError, ManifestTooLargeError, duplicateFields, parseDocument, parseManifests } from "../../server/manifests/parse.js";
import { type ReadItem, readItems } from "../../server/manifests/read.js";
import { ReadCancelled, readManifests, readerThread } from "../../server/manifests/reader-thread.js";
import { scanJson } from "../../server/manifests/json-scan.js";

const LIMITS = DEFAULT_MANIFEST_LIMITS;
const syntax = (message: string) => new ManifestSyntaxError(message);

/** Billion laughs: `levels` anchors, each `width` aliases of the one before; the last expands to width^levels strings. */
function laughs(levels: number, width: number): string {
  const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(", ")}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\n`;
}

const nestedFlow = (n: number) => `v: ${"[".repeat(n)}${"]".repeat(n)}\n`;
const nestedBlock = (n: number) => `${Array.from({ length: n }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n")} x\n`;

describe("YAML aliases, as go-yaml refuses them", () => {
  const rows: [string, string, string][] = [
    ["billion laughs", laughs(9, 9), "document 1: document contains excessive aliasing: aliases repeat more than 100000 nodes at line 6, column 10"],
    ["an alias of an anchor not defined", "apiVersion: v1\nkind: Namespace\nmetadata: *nope\n", "document 1: unknown anchor 'nope' referenced at line 3, column 11"],
    ["an alias of an anchor defined later", "a: *later\nb: &later x\n", "document 1: unknown anchor 'later' referenced at line 1, column 4"],
    ["a sequence that holds itself", "metadata: &m [*m]\n", "document 1: anchor 'm' value contains itself at line 1, column 15"],
    ["a mapping that holds itself", "a: &a {b: *a}\n", "document 1: anchor 'a' value contains itself at line 1, column 11"],
    ["a mapping merged into itself", "a: &a\n  <<: *a\n", "document 1: anchor 'a' value contains itself at line 2, column 7"],
    ["a document that holds itself", "&top\napiVersion: v1\nme: *top\n", "document 1: anchor 'top' value contains itself at line 3, column 5"],
    ["a List whose items hold themselves", "apiVersion: v1\nkind: List\nitems: &i [*i]\n", "document 1: anchor 'i' value contains itself at line 3, column 12"],
    ["the second document", "a: 1\n---\nb: *x\n", "document 2: unknown anchor 'x' referenced at line 3, column 4"],
  ];
  for (const [name, text, message] of rows) {
    it(`${name} is refused`, () => {
      assert.throws(() => parseManifests(text), syntax(message));
    });
  }

  it("aliases that repeat at most maxAliasNodes nodes are read, and one node more is refused", () => {
    // *l1 is 1 + 3 * (1 + 3) = 13 nodes; four of them repeat 52.
    const text = `l0: &l0 [a, b, c]\nl1: &l1 [*l0, *l0, *l0]\nx: [*l1, *l1, *l1, *l1]\n`;
    const limits = { ...LIMITS, maxAliasNodes: 12 + 52 };
    assert.equal((parseManifests(text, limits)[0] as { x: unknown[] }).x.length, 4);
    assert.throws(
      () => parseManifests(text, { ...limits, maxAliasNodes: 12 + 51 }),
      syntax("document 1: document contains excessive aliasing: aliases repeat more than 63 nodes at line 3, column 20"),
    );
  });

  it("merge keys, YAML 1.1's, still merge", () => {
    assert.deepEqual(parseManifests("base: &b {app: web, tier: x}\nlabels:\n  <<: *b\n  tier: front\n"), [
      { base: { app: "web", tier: "x" }, labels: { app: "web", tier: "front" } },
    ]);
  });
});

describe("nesting", () => {
  it(`${LIMITS.maxDepth} levels are read; ${LIMITS.maxDepth + 1} are refused, in YAML flow and block style and in JSON`, () => {
    // The document's mapping is a level itself.
    assert.equal(parseManifests(nestedFlow(LIMITS.maxDepth - 1)).length, 1);
    assert.throws(() => parseManifests(nestedFlow(LIMITS.maxDepth)), syntax("document 1: exceeded max depth of 100 at line 1, column 103"));
    assert.equal(parseManifests(nestedBlock(LIMITS.maxDepth)).length, 1);
    assert.throws(() => parseManifests(nestedBlock(LIMITS.maxDepth + 1)), syntax("document 1: exceeded max depth of 100 at line 101, column 201"));
    const json = (n: number) => `{"v": ${"[".repeat(n)}${"]".repeat(n)}}`;
    assert.equal(parseManifests(json(LIMITS.maxDepth - 1)).length, 1);
    assert.throws(() => parseManifests(json(LIMITS.maxDepth)), syntax("document 1: exceeded max depth of 100 at line 1, column 106"));
  });

  it("thousands of levels are refused without running out of stack", () => {
    assert.throws(() => parseManifests(nestedFlow(6000)), syntax("document 1: exceeded max depth of 100"));
    assert.throws(() => parseManifests(`{"v": ${"[".repeat(5000)}${"]".repeat(5000)}}`), syntax("document 1: exceeded max depth of 100 at line 1, column 106"));
  });

  it("aliases count at the depth they expand to", () => {
    const deep = `${"[".repeat(60)}${"]".repeat(60)}`;
    assert.throws(
      () => parseManifests(`a: &d ${deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n`),
      syntax("document 1: exceeded max depth of 100 at line 2, column 44"),
    );
  });

  it("values a caller parsed are held to the same limits", () => {
    const cyclic: Record<string, unknown> = { apiVersion: "v1", kind: "Namespace" };
    cyclic["metadata"] = cyclic;
    assert.throws(() => readItems([cyclic], { decode: {}, limits: { ...LIMITS, maxErrors: 100 } }), syntax("a value contains itself"));
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = [deep];
    assert.throws(() => readItems([{ kind: "Namespace", v: deep }], { decode: {}, limits: { ...LIMITS, maxErrors: 100 } }), syntax("exceeded max depth of 100"));
    const shared = { a: 1 };
    const fanOut = Array.from({ length: 50 }, () => ({ x: shared, y: shared }));
    assert.equal(readItems([{ apiVersion: "v1", kind: "ConfigMap", data: fanOut }], { decode: {}, limits: { ...LIMITS, maxErrors: 100 } }).length, 1);
  });
});

describe("size", () => {
  it("YAML past maxYamlBytes is too large (JSON is read whatever its size)", () => {
    const text = `a: ${"x".repeat(200)}\n`;
    assert.throws(
      () => parseManifests(text, { ...LIMITS, maxYamlBytes: 100 }),
      new ManifestTooLargeError("YAML manifests of 204 bytes are more than the 100 read as YAML: send them as JSON"),
    );
    assert.deepEqual(parseManifests(JSON.stringify({ a: "x".repeat(200) }), { ...LIMITS, maxYamlBytes: 100 }), [{ a: "x".repeat(200) }]);
  });
});

describe("keys given twice", () => {
  it("are found in YAML and JSON, at their paths from each object of a List", () => {
    const yaml =
      "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a, name: b}\n- spec:\n    containers:\n    - {name: c, ports: [{containerPort: 1, containerPort: 2}]}\n    containers: []\n";
    const json =
      '{"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"name": "a", "name": "b"}}, {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 1, "containerPort": 2}]}], "containers": []}}]}';
    for (const text of [yaml, json]) {
      const [first, second] = parseManifests(text);
      assert.deepEqual(duplicateFields(first), ["metadata.name"]);
      assert.deepEqual(duplicateFields(second), ["spec.containers[0].ports[0].containerPort", "spec.containers"]);
    }
  });

  it("merge keys are not duplicates, nor are equal keys of different mappings", () => {
    assert.deepEqual(duplicateFields(parseManifests("b: &b {x: 1}\nm: {<<: *b, <<: *b, y: 2}\nn: {x: 1}\n")[0]), []);
  });

  it("YAML 1.1 keys that resolve alike are duplicates (y and true)", () => {
    assert.deepEqual(duplicateFields(parseManifests("m: {y: 1, true: 2}\n")[0]), ["m.true"]);
  });

  it("escaped JSON keys are compared as they decode", () => {
    assert.deepEqual(scanJson('{"a\\"b": 1, "a\\u0022b": 2, "c\\\\": {"d": [1, {"e": 1, "e": 2}]}}', 100).duplicates, [['a"b'], ["c\\", "d", 1, "e"]]);
  });
});

describe("one document of a request body", () => {
  it("is its value; two documents are refused", () => {
    assert.deepEqual(parseDocument("src: x/a\nport: 80\n"), { src: "x/a", port: 80 });
    assert.deepEqual(parseDocument('{"checks": []}'), { checks: [] });
    assert.throws(() => parseDocument("a: 1\n---\nb: 2\n"), syntax("expected one document, found 2"));
  });
});

describe("excerpts", () => {
  it("a long string is cut at 256 characters and says how much is left out", () => {
    assert.equal(excerptText("x".repeat(300)), `${"x".repeat(256)}...(44 more characters)`);
    assert.equal(excerptText("short"), "short");
    // Never half a surrogate pair.
    assert.equal(excerptText(`${"x".repeat(255)}😀😀`), `${"x".repeat(255)}...(4 more characters)`);
  });
  it("an object is kept when its JSON is short, else cut as JSON text", () => {
    assert.deepEqual(excerptValue(["a", 1]), ["a", 1]);
    assert.equal(excerptValue(Array.from({ length: 100 }, (_, i) => i)), `${JSON.stringify(Array.from({ length: 100 }, (_, i) => i)).slice(0, 256)}...(truncated)`);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assert.equal(boundedJson(deep, 50).slice(0, 10), "[[[[[[[[[[");
  });
});

describe("the reader thread", () => {
  const namespaces = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${i}`, labels: { team: "t", "bad key!": "x" }, extra: i } }));
  const opts = { decode: {}, limits: { ...LIMITS, maxErrors: 100 } };
  const thread = async (text: string) => {
    const items: ReadItem[] = [];
    const reading = readManifests(text, opts, (batch) => items.push(...batch));
    assert.equal(readerThread.busy, true, "large text is read on the reader thread");
    await reading;
    return items;
  };

  it("reads large JSON and YAML as the caller's turn reads them, in order", async () => {
    const json = JSON.stringify({ apiVersion: "v1", kind: "List", items: namespaces(3000) });
    assert.ok(json.length > INLINE_BYTES.json);
    assert.deepEqual(await thread(json), readItems(json, opts));
    const yaml = namespaces(400)
      .map((o) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${o.metadata.name}\n  labels: {team: t, "bad key!": x}\n  extra: ${o.metadata.extra}\n`)
      .join("---\n");
    assert.ok(yaml.length > INLINE_BYTES.yaml);
    assert.deepEqual(await thread(yaml), readItems(yaml, opts));
  });

  it("manifests that need more heap than the thread has are too large, and the next read is read", async () => {
    const yaml = namespaces(3000)
      .map((o) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${o.metadata.name}\n  labels: {a: b}\n`)
      .join("---\n");
    await assert.rejects(
      readManifests(yaml, { ...opts, limits: { ...opts.limits, readerHeapMb: 16 } }, () => undefined),
      new ManifestTooLargeError("reading the manifests needs more than the reader's 16 MiB of heap"),
    );
    assert.equal((await thread(yaml)).length, 3000);
  });

  it("a read whose caller went away is ended, queued or running, and the next read is read", async () => {
    const yaml = namespaces(2000)
      .map((o) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${o.metadata.name}\n`)
      .join("---\n");
    const running = new AbortController();
    const queued = new AbortController();
    const first = readManifests(yaml, opts, () => undefined, running.signal);
    const second = readManifests(yaml, opts, () => undefined, queued.signal);
    queued.abort();
    await assert.rejects(second, new ReadCancelled());
    running.abort();
    await assert.rejects(first, new ReadCancelled());
    assert.equal(readerThread.busy, false);
    assert.equal((await thread(yaml)).length, 2000);
  });

  it("refuses what the caller's turn refuses, with the same error", async () => {
    const text = `${laughs(9, 9)}${"# padding\n".repeat(INLINE_BYTES.yaml / 10)}`;
    await assert.rejects(thread(text), syntax("document 1: document contains excessive aliasing: aliases repeat more than 100000 nodes at line 6, column 10"));
    const big = `a: ${"x".repeat(INLINE_BYTES.yaml * 2)}\n`;
    await assert.rejects(
      readManifests(big, { ...opts, limits: { ...opts.limits, maxYamlBytes: INLINE_BYTES.yaml } }, () => undefined),
      new ManifestTooLargeError(`YAML manifests of ${big.length} bytes are more than the ${INLINE_BYTES.yaml} read as YAML: send them as JSON`),
    );
  });
});
