/**
 * YAML read and written as kubectl reads it: YAML 1.1 through go-yaml v2 and
 * sigs.k8s.io/yaml. Reading: exact values for each scalar spelling. Writing:
 * exact text for the strings that must be quoted, and a round trip property.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeObject } from "../../server/manifests/decode.js";
import { ManifestSyntaxError, parseManifests } from "../../server/manifests/parse.js";
import { stringifyManifests } from "../../server/manifests/yaml-out.js";

/** The value of `v` in the one-document YAML `v: <text>`. */
const valueOf = (text: string): unknown => (parseManifests(`v: ${text}\n`)[0] as { v: unknown }).v;

describe("YAML 1.1 scalars, as go-yaml v2 resolves them", () => {
  const rows: readonly (readonly [string, unknown])[] = [
    ...["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"].map((s) => [s, true] as const),
    ...["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"].map((s) => [s, false] as const),
    ...["~", "null", "Null", "NULL", ""].map((s) => [s, null] as const),
    // Only these spellings: other cases are strings.
    ["yEs", "yEs"],
    ["oN", "oN"],
    ["tRUE", "tRUE"],
    ["nULL", "nULL"],
    // Integers as strconv.ParseInt(s, 0, 64) reads them, underscores dropped.
    ["0777", 511],
    ["-0777", -511],
    ["0o17", 15],
    ["0x1F", 31],
    ["0X1f", 31],
    ["0b101", 5],
    ["-0b11", -3],
    ["+12", 12],
    ["1_000", 1000],
    ["0", 0],
    ["00", 0],
    // Not octal, so a float.
    ["08", 8],
    ["1.0", 1],
    ["1.", 1],
    [".5", 0.5],
    ["-.5", -0.5],
    ["1e3", 1000],
    ["6.02e+23", 6.02e23],
    ["99999999999999999999", 1e20],
    // Out of float range, or not a number at all: text.
    ["1e400", "1e400"],
    ["0x", "0x"],
    ["0xFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFF"],
    ["e5", "e5"],
    [".", "."],
    ["1.2.3", "1.2.3"],
    ["10.0.0.0/8", "10.0.0.0/8"],
    // Base 60 is "purposefully unsupported"; a timestamp into interface{} stays text.
    ["1:20", "1:20"],
    ["190:20:30", "190:20:30"],
    ["2026-01-01", "2026-01-01"],
    ["2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"],
    // Quoted or tagged: strings.
    ['"yes"', "yes"],
    ["'0777'", "0777"],
    ["!!str on", "on"],
    ["!!bool yes", true],
    ["!!int 12", 12],
  ];
  for (const [text, want] of rows) {
    it(`v: ${text} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(valueOf(text), want);
    });
  }

  it('keys resolve too, then become strings: `y:` is the key "true"', () => {
    assert.deepEqual(parseManifests("y: 1\nno: 2\n0777: 3\n'on': 4\n"), [{ true: 1, false: 2, "511": 3, on: 4 }]);
  });
  it("merge keys and anchors, as YAML 1.1 has them", () => {
    assert.deepEqual(parseManifests("base: &b {app: web}\nlabels:\n  <<: *b\n  tier: front\n"), [{ base: { app: "web" }, labels: { app: "web", tier: "front" } }]);
  });
  it('JSON stays JSON: a quoted "yes" is a string', () => {
    assert.deepEqual(parseManifests('{"metadata": {"labels": {"access": "yes", "on": true}}}'), [{ metadata: { labels: { access: "yes", on: true } } }]);
  });
  for (const [text, what] of [
    [".nan", "NaN"],
    [".inf", "+Inf"],
    ["-.Inf", "-Inf"],
  ] as const) {
    it(`${text} cannot become JSON: json: unsupported value: ${what}`, () => {
      assert.throws(() => parseManifests(`a: 1\n---\nv: [${text}]\n`), new ManifestSyntaxError(`document 2: json: unsupported value: ${what}`));
    });
  }
});

describe("a YAML 1.1 boolean where a label value belongs", () => {
  const manifest = (value: string) =>
    `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: prod}\nspec:\n  podSelector:\n    matchLabels: {access: ${value}}\n`;
  it("matchLabels: {access: yes} is refused at spec.podSelector.matchLabels", () => {
    const d = decodeObject(parseManifests(manifest("yes"))[0]);
    assert.deepEqual(d.kind === "invalid" ? d.errors : d, [
      {
        field: "spec.podSelector.matchLabels",
        type: "FieldValueTypeInvalid",
        value: true,
        detail: "json: cannot unmarshal bool into Go struct field LabelSelector.spec.podSelector.matchLabels of type string",
      },
    ]);
  });
  it('matchLabels: {access: "yes"} is the label value "yes"', () => {
    const d = decodeObject(parseManifests(manifest('"yes"'))[0]);
    assert.deepEqual(d.kind === "object" && d.object.kind === "NetworkPolicy" ? d.object.policy.podSelector : d, {
      kind: "match",
      requirements: [{ key: "access", operator: "In", values: ["yes"] }],
    });
  });
});

describe("stringifyManifests", () => {
  const quoted = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "true",
    "False",
    "1.0",
    "0777",
    "0o17",
    "0X1F",
    "1e3",
    "~",
    "null",
    "",
    "2026-01-01",
    "1:20",
    "<<",
    "-",
    "a b",
    "fd00::",
    "x: y",
    "#x",
    "@x",
    "*x",
    "&x",
    "!x",
    "%x",
    "[x]",
    "{x}",
    "'x'",
    '"x"',
  ];
  for (const s of quoted) {
    it(`quotes ${JSON.stringify(s)}`, () => {
      assert.equal(stringifyManifests({ v: s }), `v: ${JSON.stringify(s)}\n`);
    });
  }
  const plain = ["web", "Yes-please", "v1", "1.2.3", "10.0.0.0/8", "2001:db8::/32", "kubernetes.io/metadata.name", "a:b", "e5", "0x"];
  for (const s of plain) {
    it(`writes ${JSON.stringify(s)} plain`, () => {
      assert.equal(stringifyManifests({ v: s }), `v: ${s}\n`);
    });
  }
  it("escapes what YAML 1.1 reads as a line break or cannot hold", () => {
    assert.equal(stringifyManifests({ v: "a\u2028b\u0085c\ufeffd\u007f" }), 'v: "a\\u2028b\\u0085c\\ufeffd\\u007f"\n');
  });
  it("writes a List as kubectl get -o yaml does", () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      metadata: { generation: 7 },
      items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod", labels: { "kubernetes.io/metadata.name": "prod", tier: "yes" } } }],
    };
    assert.equal(
      stringifyManifests(list),
      [
        "apiVersion: v1",
        "kind: List",
        "metadata:",
        "  generation: 7",
        "items:",
        "- apiVersion: v1",
        "  kind: Namespace",
        "  metadata:",
        "    name: prod",
        "    labels:",
        "      kubernetes.io/metadata.name: prod",
        '      tier: "yes"',
        "",
      ].join("\n"),
    );
  });
  it("writes a key over 1024 characters as an explicit key", () => {
    const v = { ["k".repeat(1100)]: { a: [1] }, ["j".repeat(1100)]: [true], ["i".repeat(1100)]: "x" };
    const text = stringifyManifests(v);
    assert.equal(text.split("\n").filter((l) => l.startsWith("? ")).length, 3);
    assert.deepEqual(parseManifests(text), [v]);
  });
  it("writes numbers, booleans, null and empty collections so they read back", () => {
    const v = { a: [1, -2.5, 1e21, 1e-7, true, false, null, [], {}], b: { c: [[1, 2], { d: [] }] } };
    assert.equal(stringifyManifests(v), "a:\n- 1\n- -2.5\n- 1.0e+21\n- 1.0e-7\n- true\n- false\n- null\n- []\n- {}\nb:\n  c:\n  - - 1\n    - 2\n  - d: []\n");
    assert.deepEqual(parseManifests(stringifyManifests(v)), [v]);
  });
});

/** Label keys and values, with the spellings YAML 1.1 reads as something else. */
const TRICKY = [
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "Y",
  "N",
  "true",
  "false",
  "True",
  "1",
  "1.0",
  "0777",
  "0x1F",
  "1e3",
  "~",
  "null",
  "",
  "2026-01-01",
  "1:20",
  "<<",
  "-",
  "a b",
  "x:",
  ": x",
  "#",
  "'",
  '"',
  "\\",
  "\n",
  " lead",
  "trail ",
  "\u2028",
  "\u0085",
  "\ufeff",
  "é",
  "😀",
];
const tricky = fc.constantFrom(...TRICKY);
const labelish = fc.stringMatching(/^[a-z0-9]([a-z0-9._/-]{0,20}[a-z0-9])?$/);
const text = fc.oneof(tricky, labelish, fc.string({ unit: "grapheme", maxLength: 12 }));

describe("stringifyManifests: what kubectl reads back is what was written", () => {
  it("label maps", () => {
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 8, noNullPrototype: true }), (labels) => {
        const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns", labels } };
        assert.deepEqual(parseManifests(stringifyManifests(ns)), [ns]);
      }),
      { numRuns: 300 },
    );
  });
  it("any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "grapheme", maxDepth: 4 }), (value) => {
        // JSON has no -0; round the value through JSON to compare.
        const want = JSON.parse(JSON.stringify({ value }));
        assert.deepEqual(parseManifests(stringifyManifests({ value })), [want]);
      }),
      { numRuns: 300 },
    );
  });
});
