/**
 * Manifests validated as a current API server validates them, at the front
 * door: StrictIPCIDRValidation (host bits, leading zeros) with the exact field
 * paths and messages, `--legacy-cidr-validation` for older clusters, YAML read
 * as kubectl reads it (YAML 1.1), `GET /v1/model` written so that it reads
 * back the same, and legacy values a cluster already holds taken as they are.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type KubeApiServer, startKubeApiServer } from "../helpers/kube-apiserver.js";
import { type Following, converged, follow } from "../helpers/follow.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { assertUnchanged, snapshot } from "./support.js";

const NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {team: a}}\n";
const policy = (ingress: string) =>
  `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  podSelector: {}\n  ingress:\n${ingress}`;
const OBJECT = 'NetworkPolicy.networking.k8s.io "p"';

const STRICT_CASES = [
  {
    name: "a CIDR with bits set beyond its prefix",
    body: policy("  - from:\n    - ipBlock: {cidr: 10.1.2.3/8}\n"),
    errors: [
      { object: OBJECT, field: "spec.ingress[0].from[0].ipBlock.cidr", type: "FieldValueInvalid", value: "10.1.2.3/8", detail: "must not have bits set beyond the prefix length" },
    ],
  },
  {
    name: "an except with leading zeros",
    body: policy("  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 010.2.0.0/16]}\n"),
    errors: [
      {
        object: OBJECT,
        field: "spec.ingress[0].from[0].ipBlock.except[1]",
        type: "FieldValueInvalid",
        value: "010.2.0.0/16",
        detail: "must not have leading 0s in IP or prefix length",
      },
    ],
  },
  {
    name: "a pod address with leading zeros",
    body: "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 10.1.1.01}\n",
    errors: [{ object: 'Pod "a"', field: "status.podIPs[0]", type: "FieldValueInvalid", value: "10.1.1.01", detail: "must not have leading 0s" }],
  },
  {
    name: "a label value that YAML 1.1 reads as a boolean",
    body: "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  podSelector: {matchLabels: {access: yes}}\n",
    errors: [
      {
        object: OBJECT,
        field: "spec.podSelector.matchLabels",
        type: "FieldValueTypeInvalid",
        value: true,
        detail: "json: cannot unmarshal bool into Go struct field LabelSelector.spec.podSelector.matchLabels of type string",
      },
    ],
  },
];

describe("validation as a current API server", () => {
  let strict: TestServer;
  let legacy: TestServer;
  before(async () => {
    [strict, legacy] = await Promise.all([startServer(), startServer([], { legacyCidr: true })]);
    for (const s of [strict, legacy]) assert.equal((await http(s, "PUT", "/v1/model", NS)).status, 200);
  });
  after(async () => {
    await strict.close();
    await legacy.close();
  });

  for (const c of STRICT_CASES) {
    it(`${c.name}: 422 with its field path, and nothing changes`, async () => {
      const before = await snapshot(strict);
      const r = await http(strict, "POST", "/v1/apply", NS + c.body);
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.errors, c.errors);
      await assertUnchanged(strict, before, c.name);
    });
  }

  it("--legacy-cidr-validation takes what an older API server took, and decides on the network it names", async () => {
    const r = await http(
      legacy,
      "POST",
      "/v1/apply",
      `${NS}${policy("  - from:\n    - ipBlock: {cidr: 10.1.2.3/8, except: [010.2.0.0/16]}\n")}---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 192.168.0.5}\n`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await http(legacy, "GET", "/v1/check?src=10.9.9.9&dst=x/a&port=80")).body.allowed, true, "10.9.9.9 is in 10.0.0.0/8");
    assert.equal((await http(legacy, "GET", "/v1/check?src=10.2.0.1&dst=x/a&port=80")).body.allowed, false, "10.2.0.1 is in the except");
    // The boolean is still refused: it is no legacy form, the API server never took it.
    assert.equal((await http(legacy, "POST", "/v1/apply", NS + STRICT_CASES[3]!.body)).status, 422);
  });

  it("writes GET /v1/model as YAML that reads back the same: strings YAML 1.1 would read otherwise are quoted", async () => {
    const body = `apiVersion: v1\nkind: Namespace\nmetadata: {name: "y", labels: {enabled: "yes", mode: "off", version: "1.0", octal: "0777"}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: "n"}\n`;
    assert.equal((await http(strict, "PUT", "/v1/model", body)).status, 200);
    const yaml = (await http(strict, "GET", "/v1/model", undefined, { accept: "application/yaml" })).body as string;
    for (const s of ["y", "n", "yes", "off", "1.0", "0777"]) assert.match(yaml, new RegExp(`: (["'])${s.replace(".", "\\.")}\\1$`, "m"), `${s} is quoted`);
    const before = (await http(strict, "GET", "/v1/model", undefined, { accept: "application/json" })).body.items;
    const again = await http(strict, "PUT", "/v1/model", yaml);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual((await http(strict, "GET", "/v1/model", undefined, { accept: "application/json" })).body.items, before);
  });
});

describe("legacy values a cluster holds are taken as the API server holds them", () => {
  let double: KubeApiServer;
  let server: Following;
  before(async () => {
    double = await startKubeApiServer();
    double.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } });
    double.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "a", namespace: "x" }, spec: { nodeName: "n1" }, status: { phase: "Running", podIP: "10.1.1.1" } });
    // Written while an older API server served the cluster: kept, and still served, after the upgrade.
    double.create({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "legacy", namespace: "x" },
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "192.168.1.7/16", except: ["192.168.010.0/24"] } }] }] },
    });
    server = await follow(double);
    await server.ready;
  });
  after(async () => {
    await server.close();
    await double.close();
  });

  it("follows a policy with a host-bits CIDR and a leading-zero except, and decides on what they name", async () => {
    await converged(server.url, double, "the legacy policy");
    assert.equal((await http(server, "GET", "/v1/check?src=192.168.200.1&dst=x/a&port=80")).body.allowed, true);
    assert.equal((await http(server, "GET", "/v1/check?src=192.168.10.1&dst=x/a&port=80")).body.allowed, false);
    assert.equal((await http(server, "GET", "/v1/check?src=10.9.9.9&dst=x/a&port=80")).body.allowed, false);
  });
});
