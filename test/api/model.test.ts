/**
 * Model input over REST: every form of manifest kubectl takes, the model read
 * back in both formats, applies, deletes and the generation every write answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { stringifyManifests } from "../../server/manifests/yaml-out.js";
import { type TestServer, http, startServer } from "../helpers/server.js";
import { assertUnchanged, modelItems, snapshot } from "./support.js";

const FIXTURES = new URL("../fixtures/api/", import.meta.url);
const SMALL = readFileSync(new URL("small-cluster.yaml", FIXTURES), "utf8");
const OTHER_KINDS = readFileSync(new URL("with-other-kinds.yaml", FIXTURES), "utf8");
const SMALL_DOCS = parseAllDocuments(SMALL).map((d) => d.toJS() as Record<string, unknown>);

const APPLIED = ["Namespace app", "Namespace db", "Node n1", "Pod app/web", "Pod db/pg", "NetworkPolicy db/db-from-app"];

/** The model GET /v1/model gives for small-cluster.yaml: sorted, normalised, nothing else. */
const NS_APP = { apiVersion: "v1", kind: "Namespace", metadata: { name: "app", labels: { team: "blue", "kubernetes.io/metadata.name": "app" } } };
const NS_DB = { apiVersion: "v1", kind: "Namespace", metadata: { name: "db", labels: { "kubernetes.io/metadata.name": "db" } } };
const NODE_N1 = {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "n1", labels: { zone: "a" } },
  status: { addresses: [{ type: "InternalIP", address: "192.168.0.1" }] },
};
const POD_WEB = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "app", labels: { role: "web" } },
  spec: { nodeName: "n1", containers: [{ name: "web", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }] },
  status: { phase: "Running", podIP: "10.1.0.10", podIPs: [{ ip: "10.1.0.10" }] },
};
const POD_PG = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "pg", namespace: "db", labels: { role: "db" } },
  spec: { nodeName: "n1", containers: [{ name: "pg", ports: [{ containerPort: 5432, protocol: "TCP" }] }] },
  status: { phase: "Running", podIP: "10.1.0.20", podIPs: [{ ip: "10.1.0.20" }] },
};
const POLICY = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "db-from-app", namespace: "db" },
  spec: {
    podSelector: { matchLabels: { role: "db" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "app" } } }], ports: [{ port: 5432 }] }],
  },
};
const SMALL_ITEMS = [NS_APP, NS_DB, NODE_N1, POD_WEB, POD_PG, POLICY];

const JSON_TYPE = { "content-type": "application/json" };

async function check(server: TestServer, src: string, dst: string, port: number): Promise<{ status: number; body: any }> {
  return http(server, "GET", `/v1/check?src=${encodeURIComponent(src)}&dst=${encodeURIComponent(dst)}&port=${port}`);
}

describe("REST model input", () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => server.close());

  describe("PUT /v1/model takes every form kubectl takes", () => {
    const forms: { name: string; body: string; headers: Record<string, string> }[] = [
      { name: "multi-document YAML", body: SMALL, headers: { "content-type": "application/yaml" } },
      { name: "a YAML kind: List", body: stringifyManifests({ apiVersion: "v1", kind: "List", items: SMALL_DOCS }), headers: {} },
      { name: "a JSON kind: List", body: JSON.stringify({ apiVersion: "v1", kind: "List", items: SMALL_DOCS }), headers: JSON_TYPE },
      { name: "JSON objects as documents", body: SMALL_DOCS.map((d) => JSON.stringify(d)).join("\n---\n"), headers: JSON_TYPE },
      {
        name: "a List nested in a List, with a typed PodList",
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: [{ apiVersion: "v1", kind: "List", items: SMALL_DOCS.slice(0, 3) }, { apiVersion: "v1", kind: "PodList", items: SMALL_DOCS.slice(3, 5) }, SMALL_DOCS[5]],
        }),
        headers: JSON_TYPE,
      },
    ];
    for (const f of forms) {
      it(`as ${f.name}`, async () => {
        const res = await http(server, "PUT", "/v1/model", f.body, f.headers);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { generation: 1, applied: APPLIED, skipped: [] });
        assert.deepEqual(await modelItems(server), SMALL_ITEMS);
        // The model decides as the manifests say: db/pg accepts 5432 from namespace app only.
        const allowed = await check(server, "app/web", "db/pg", 5432);
        assert.equal(allowed.body.allowed, true);
        assert.deepEqual(allowed.body.ingress.policies, ["db/db-from-app"]);
        assert.equal((await check(server, "203.0.113.7", "db/pg", 5432)).body.allowed, false);
        assert.equal((await check(server, "app/web", "db/pg", 5433)).body.allowed, false);
      });
    }

    it("as a single JSON object", async () => {
      const res = await http(server, "PUT", "/v1/model", JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "solo" } }), JSON_TYPE);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { generation: 1, applied: ["Namespace solo"], skipped: [] });
      assert.deepEqual(await modelItems(server), [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "solo", labels: { "kubernetes.io/metadata.name": "solo" } } }]);
    });

    it("replaces the whole model: what the new body lacks is gone", async () => {
      assert.equal((await http(server, "PUT", "/v1/model", SMALL)).status, 200);
      const res = await http(server, "PUT", "/v1/model", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: db\n");
      assert.deepEqual(res.body, { generation: 2, applied: ["Namespace db"], skipped: [] });
      assert.deepEqual(await modelItems(server), [NS_DB]);
      assert.equal((await check(server, "app/web", "db/pg", 5432)).status, 404);
    });
  });

  describe("kinds Podwall does not model", () => {
    const expected = {
      generation: 1,
      applied: ["Namespace shop", "Pod shop/cart-0"],
      skipped: ["apps/v1/Deployment shop/cart", "v1/ConfigMap shop/cart-settings"],
    };
    for (const [method, path] of [
      ["PUT", "/v1/model"],
      ["POST", "/v1/apply"],
    ] as const) {
      it(`are skipped and listed by ${method} ${path}, the rest applied`, async () => {
        const res = await http(server, method, path, OTHER_KINDS);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, expected);
        assert.deepEqual(
          (await modelItems(server)).map((i) => `${i["kind"]} ${i["metadata"].namespace ?? ""}/${i["metadata"].name}`),
          ["Namespace /shop", "Pod shop/cart-0"],
        );
      });
    }

    it("are skipped inside a JSON List too", async () => {
      const items = parseAllDocuments(OTHER_KINDS).map((d) => d.toJS() as unknown);
      const res = await http(server, "PUT", "/v1/model", JSON.stringify({ apiVersion: "v1", kind: "List", items }), JSON_TYPE);
      assert.deepEqual(res.body, expected);
    });
  });

  describe("GET /v1/model", () => {
    beforeEach(async () => {
      assert.equal((await http(server, "PUT", "/v1/model", SMALL)).status, 200);
    });

    it("is a v1 List in JSON by default, with the generation", async () => {
      const res = await fetch(`${server.url}/v1/model`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      const text = await res.text();
      const body = JSON.parse(text) as unknown;
      assert.deepEqual(body, { apiVersion: "v1", kind: "List", metadata: { generation: 1 }, items: SMALL_ITEMS });
      assert.equal(text, `${JSON.stringify(body, null, 2)}\n`);
    });

    const accepts: [string, "json" | "yaml"][] = [
      ["application/json", "json"],
      ["*/*", "json"],
      ["application/yaml", "yaml"],
      ["application/yaml, application/json;q=0.5", "yaml"],
      ["application/yaml;q=0.5, application/json", "json"],
    ];
    for (const [accept, format] of accepts) {
      it(`answers ${format} to Accept: ${accept}`, async () => {
        const res = await fetch(`${server.url}/v1/model`, { headers: { accept } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), `application/${format}; charset=utf-8`);
        const text = await res.text();
        const body = format === "json" ? (JSON.parse(text) as unknown) : (parse(text) as unknown);
        assert.deepEqual(body, { apiVersion: "v1", kind: "List", metadata: { generation: 1 }, items: SMALL_ITEMS });
      });
    }

    // Label values that a YAML writer must quote to keep them strings.
    const TRICKY = { "v-true": "true", "v-num": "123", "v-null": "null", "v-on": "on", "v-oct": "010", "v-exp": "1e3", "v-hex": "0x1F", "example.com/key": "a.b_c-d" };
    for (const format of ["json", "yaml"] as const) {
      it(`round-trips as ${format}: PUT of the GET output gives the same model`, async () => {
        const extra = { apiVersion: "v1", kind: "Namespace", metadata: { name: "tricky", labels: TRICKY } };
        assert.equal((await http(server, "POST", "/v1/apply", JSON.stringify(extra), JSON_TYPE)).status, 200);
        const accept = `application/${format}`;
        const first = await fetch(`${server.url}/v1/model`, { headers: { accept } });
        const text = await first.text();
        assert.match(text, format === "json" ? /"generation": 2\n/ : /^ {2}generation: 2$/m);

        const put = await http(server, "PUT", "/v1/model", text, { "content-type": accept });
        assert.equal(put.status, 200);
        assert.deepEqual(put.body, {
          generation: 3,
          applied: ["Namespace app", "Namespace db", "Namespace tricky", "Node n1", "Pod app/web", "Pod db/pg", "NetworkPolicy db/db-from-app"],
          skipped: [],
        });
        const again = await (await fetch(`${server.url}/v1/model`, { headers: { accept } })).text();
        const expected = format === "json" ? text.replace('"generation": 2', '"generation": 3') : text.replace("  generation: 2", "  generation: 3");
        assert.notEqual(expected, text);
        assert.equal(again, expected);
        const tricky = (await modelItems(server)).find((i) => i["metadata"].name === "tricky");
        assert.deepEqual(tricky?.["metadata"].labels, { ...TRICKY, "kubernetes.io/metadata.name": "tricky" });
      });
    }
  });

  describe("namespaces carry the label kubernetes.io/metadata.name", () => {
    const cases: { name: string; labels: Record<string, string> | undefined; want: Record<string, string> }[] = [
      { name: "added to a namespace without labels", labels: undefined, want: { "kubernetes.io/metadata.name": "ns1" } },
      { name: "added next to other labels", labels: { a: "1" }, want: { a: "1", "kubernetes.io/metadata.name": "ns1" } },
      { name: "set to the name whatever the manifest says", labels: { "kubernetes.io/metadata.name": "other" }, want: { "kubernetes.io/metadata.name": "ns1" } },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns1", ...(c.labels ? { labels: c.labels } : {}) } };
        assert.equal((await http(server, "PUT", "/v1/model", JSON.stringify(ns), JSON_TYPE)).status, 200);
        assert.deepEqual(await modelItems(server), [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "ns1", labels: c.want } }]);
      });
    }

    it("is what namespaceSelector matches: only namespace app reaches db/pg", async () => {
      await http(server, "PUT", "/v1/model", SMALL);
      const other = [
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n  labels:\n    kubernetes.io/metadata.name: app",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: other\nstatus:\n  podIP: 10.1.0.30",
      ].join("\n---\n");
      assert.equal((await http(server, "POST", "/v1/apply", other)).status, 200);
      assert.equal((await check(server, "app/web", "db/pg", 5432)).body.allowed, true);
      const denied = await check(server, "other/p", "db/pg", 5432);
      assert.equal(denied.body.allowed, false);
      assert.equal(denied.body.ingress.reason, "no-rule-matched");
    });
  });

  describe("POST /v1/apply", () => {
    beforeEach(async () => {
      assert.equal((await http(server, "PUT", "/v1/model", SMALL)).status, 200);
    });

    it("creates objects and leaves the others as they were", async () => {
      const api = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: app\nstatus:\n  podIP: 10.1.0.11\n";
      const res = await http(server, "POST", "/v1/apply", api);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { generation: 2, applied: ["Pod app/api"], skipped: [] });
      const apiItem = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "api", namespace: "app" },
        spec: { containers: [] },
        status: { podIP: "10.1.0.11", podIPs: [{ ip: "10.1.0.11" }] },
      };
      assert.deepEqual(await modelItems(server), [NS_APP, NS_DB, NODE_N1, apiItem, POD_WEB, POD_PG, POLICY]);
      assert.equal((await check(server, "app/api", "db/pg", 5432)).body.allowed, true);
    });

    it("updates objects in place", async () => {
      const web = { ...POD_WEB, metadata: { ...POD_WEB.metadata, labels: { role: "web", tier: "front" } } };
      const res = await http(server, "POST", "/v1/apply", JSON.stringify(web), JSON_TYPE);
      assert.deepEqual(res.body, { generation: 2, applied: ["Pod app/web"], skipped: [] });
      assert.deepEqual(await modelItems(server), [NS_APP, NS_DB, NODE_N1, web, POD_PG, POLICY]);
    });

    it("updates a policy, and the decisions follow", async () => {
      const policy = { ...POLICY, spec: { ...POLICY.spec, ingress: [{ ...POLICY.spec.ingress[0], ports: [{ port: 5433 }] }] } };
      const res = await http(server, "POST", "/v1/apply", JSON.stringify(policy), JSON_TYPE);
      assert.deepEqual(res.body, { generation: 2, applied: ["NetworkPolicy db/db-from-app"], skipped: [] });
      assert.deepEqual(await modelItems(server), [NS_APP, NS_DB, NODE_N1, POD_WEB, POD_PG, policy]);
      const d = (await check(server, "app/web", "db/pg", 5432)).body;
      assert.equal(d.allowed, false);
      assert.equal(d.generation, 2);
      assert.equal((await check(server, "app/web", "db/pg", 5433)).body.allowed, true);
    });

    it("creates a namespace and its pod in one request, in any order", async () => {
      const body = "apiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: new}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: new}\n";
      const res = await http(server, "POST", "/v1/apply", body);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { generation: 2, applied: ["Pod new/q", "Namespace new"], skipped: [] });
    });
  });

  it("answers every write with a generation that grows by one", async () => {
    const writes: [string, string, string?][] = [
      ["PUT", "/v1/model", SMALL],
      ["POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n"],
      ["POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: extra, labels: {a: b}}\n"],
      ["DELETE", "/v1/namespaces/db/networkpolicies/db-from-app"],
      ["DELETE", "/v1/namespaces/db/pods/pg"],
      ["DELETE", "/v1/nodes/n1"],
      ["DELETE", "/v1/namespaces/app"],
      ["PUT", "/v1/model", SMALL],
    ];
    const generations: number[] = [];
    for (const [method, path, body] of writes) {
      const res = await http(server, method, path, body);
      assert.equal(res.status, 200, `${method} ${path}`);
      generations.push(res.body.generation);
    }
    assert.deepEqual(generations, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal((await snapshot(server)).generation, 8);
    assert.equal((await http(server, "GET", "/readyz")).body.generation, 8);
  });

  describe("DELETE", () => {
    beforeEach(async () => {
      assert.equal((await http(server, "PUT", "/v1/model", SMALL)).status, 200);
    });

    it("of a namespace removes it with its pods and policies", async () => {
      const pol = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: app}\nspec: {podSelector: {}}\n";
      assert.equal((await http(server, "POST", "/v1/apply", pol)).body.generation, 2);
      const res = await http(server, "DELETE", "/v1/namespaces/app");
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { generation: 3, applied: ["Namespace app"], skipped: [] });
      assert.deepEqual(await modelItems(server), [NS_DB, NODE_N1, POD_PG, POLICY]);
      assert.equal((await check(server, "app/web", "db/pg", 5432)).status, 404);
      // The pod's address is free again: it is outside the cluster now.
      assert.equal((await check(server, "10.1.0.10", "db/pg", 5432)).body.src.kind, "external");
      // A namespace created again under the same name starts empty.
      await http(server, "POST", "/v1/apply", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n");
      assert.deepEqual(
        (await modelItems(server)).filter((i) => i["metadata"].namespace === "app"),
        [],
      );
    });

    const one: { name: string; path: string; applied: string; items: unknown[] }[] = [
      { name: "a pod", path: "/v1/namespaces/db/pods/pg", applied: "Pod db/pg", items: [NS_APP, NS_DB, NODE_N1, POD_WEB, POLICY] },
      {
        name: "a network policy",
        path: "/v1/namespaces/db/networkpolicies/db-from-app",
        applied: "NetworkPolicy db/db-from-app",
        items: [NS_APP, NS_DB, NODE_N1, POD_WEB, POD_PG],
      },
      { name: "a node", path: "/v1/nodes/n1", applied: "Node n1", items: [NS_APP, NS_DB, POD_WEB, POD_PG, POLICY] },
    ];
    for (const c of one) {
      it(`of ${c.name} removes that object alone`, async () => {
        const res = await http(server, "DELETE", c.path);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { generation: 2, applied: [c.applied], skipped: [] });
        assert.deepEqual(await modelItems(server), c.items);
      });
    }

    it("of the policy lifts the isolation it made", async () => {
      assert.equal((await check(server, "203.0.113.7", "db/pg", 5432)).body.allowed, false);
      await http(server, "DELETE", "/v1/namespaces/db/networkpolicies/db-from-app");
      const d = (await check(server, "203.0.113.7", "db/pg", 5432)).body;
      assert.equal(d.allowed, true);
      assert.equal(d.ingress.reason, "not-isolated");
    });

    it("of the node makes its address an outside one", async () => {
      assert.equal((await check(server, "192.168.0.1", "db/pg", 5432)).body.reason, "own-node");
      await http(server, "DELETE", "/v1/nodes/n1");
      const d = (await check(server, "192.168.0.1", "db/pg", 5432)).body;
      assert.deepEqual(d.src, { kind: "external", ip: "192.168.0.1" });
      assert.equal(d.allowed, false);
    });

    const unknown: [string, string][] = [
      ["/v1/namespaces/nope", 'namespaces "nope" not found'],
      ["/v1/namespaces/db/pods/nope", 'pods "nope" not found in namespace "db"'],
      ["/v1/namespaces/nope/pods/pg", 'pods "pg" not found in namespace "nope"'],
      ["/v1/namespaces/app/pods/pg", 'pods "pg" not found in namespace "app"'],
      ["/v1/namespaces/db/networkpolicies/nope", 'networkpolicies.networking.k8s.io "nope" not found in namespace "db"'],
      ["/v1/namespaces/app/networkpolicies/db-from-app", 'networkpolicies.networking.k8s.io "db-from-app" not found in namespace "app"'],
      ["/v1/nodes/nope", 'nodes "nope" not found'],
    ];
    for (const [path, message] of unknown) {
      it(`of something unknown is 404: DELETE ${path}`, async () => {
        const before = await snapshot(server);
        const res = await http(server, "DELETE", path);
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, { code: 404, reason: "NotFound", message, errors: [] });
        await assertUnchanged(server, before, `DELETE ${path}`);
      });
    }

    it("twice is 404 the second time", async () => {
      assert.equal((await http(server, "DELETE", "/v1/namespaces/db/pods/pg")).status, 200);
      const before = await snapshot(server);
      const res = await http(server, "DELETE", "/v1/namespaces/db/pods/pg");
      assert.equal(res.status, 404);
      assert.equal(res.body.message, 'pods "pg" not found in namespace "db"');
      await assertUnchanged(server, before, "second DELETE");
    });
  });
});
