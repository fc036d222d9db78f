/**
 * server/manifests/kube-fields.ts is the fields of the kinds Podwall reads as
 * the Kubernetes API declares them; here it is derived again from the models
 * of @kubernetes/client-node, so that it cannot drift from them. After an
 * upgrade of client-node: `UPDATE_GOLDEN=1 node --import tsx --test
 * test/manifests/kube-fields.test.ts`, and read the diff.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { KUBE_TYPES } from "../../server/manifests/kube-fields.js";
import { knownOnly, unknownFields } from "../../server/manifests/known-fields.js";

const FILE = fileURLToPath(new URL("../../server/manifests/kube-fields.ts", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";
const ROOTS = ["V1Namespace", "V1Node", "V1Pod", "V1NetworkPolicy"];

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}
type Model = { readonly attributeTypeMap?: readonly Attribute[] };

const models = k8s as unknown as Record<string, Model | undefined>;
const shortName = (model: string) => model.replace(/^(?:Core)?V1(?=[A-Z])/, "");

/** Every model the roots reach, as `field` (a value not read further) or `field:Type` / `field:[]Type`. */
function derive(): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (model: string): void => {
    const name = shortName(model);
    if (name in out) return;
    const attrs = models[model]?.attributeTypeMap;
    assert.ok(attrs, `${model} is not a model of @kubernetes/client-node`);
    out[name] = "";
    const fields: string[] = [];
    for (const a of attrs) {
      const inner = /^Array<(.+)>$/.exec(a.type)?.[1];
      const t = inner ?? a.type;
      if (models[t]?.attributeTypeMap) {
        visit(t);
        fields.push(`${a.baseName}:${inner ? "[]" : ""}${shortName(t)}`);
      } else fields.push(a.baseName);
    }
    out[name] = fields.join(" ");
  };
  for (const r of ROOTS) visit(r);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function render(types: Record<string, string>): string {
  // Laid out as the formatter lays it out: a value too long for the line goes on the next.
  const lines = Object.entries(types).map(([t, f]) => {
    const line = `  ${t}: ${JSON.stringify(f)},`;
    return line.length <= 180 ? line : `  ${t}:\n    ${JSON.stringify(f)},`;
  });
  return [
    "/**",
    " * The fields of the kinds Podwall reads, as the Kubernetes API declares them:",
    " * each type's fields, `name:Type` for an object, `name:[]Type` for a list of",
    " * them, and a bare name for a value that is not read further (a string, a",
    " * number, a map of strings, free-form JSON).",
    " *",
    " * Generated from the models of @kubernetes/client-node by",
    " * test/manifests/kube-fields.test.ts (`UPDATE_GOLDEN=1`); never edited by hand.",
    " */",
    "export const KUBE_TYPES: Readonly<Record<string, string>> = {",
    ...lines,
    "};",
    "",
  ].join("\n");
}

describe("the fields the API server knows", () => {
  it("are those of @kubernetes/client-node's models", () => {
    const text = render(derive());
    if (UPDATE) writeFileSync(FILE, text);
    assert.equal(readFileSync(FILE, "utf8"), text, "kube-fields.ts differs from client-node's models: run with UPDATE_GOLDEN=1 and read the diff");
    assert.deepEqual(KUBE_TYPES, derive());
  });

  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", labels: { "any key": "is a label" }, managedFields: [{ fieldsV1: { "f:free": {} } }] },
    spec: {
      containers: [{ name: "c", image: "nginx", ports: [{ containerPort: 80, hostPortz: 1 }], resources: { limits: { cpu: "1" } } }],
      nodeName: "n",
      volumes: [{ name: "v", emptyDir: {}, csi: { driver: "d", volumeAttributes: { free: "x" } } }],
      tolerations: "not a list",
      foo: { bar: 1 },
    },
    status: { podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1", mac: "x" }] },
    extra: true,
  };

  it("a field unknown at any depth is named by its path; maps and free-form values are not read", () => {
    assert.deepEqual(unknownFields(pod, "Pod"), ["spec.containers[0].ports[0].hostPortz", "spec.foo", "status.podIPs[0].mac", "extra"]);
  });

  it("knownOnly keeps what the API server keeps", () => {
    const policy = {
      podSelector: { matchLabels: { a: "b" }, matchFields: [1] },
      ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8", bogus: [[[]]] } }], ports: [{ port: 80, protocol: "TCP", x: 1 }], y: 2 }],
      policyTypes: ["Ingress"],
      z: { deep: { deeper: {} } },
    };
    assert.deepEqual(knownOnly(policy, "NetworkPolicySpec"), {
      podSelector: { matchLabels: { a: "b" } },
      ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ port: 80, protocol: "TCP" }] }],
      policyTypes: ["Ingress"],
    });
  });
});
