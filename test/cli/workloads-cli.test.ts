/**
 * `podwall check --manifests` on a repository of workloads (Deployments,
 * StatefulSets, Jobs, ... and no Namespace objects), as a user runs it: the
 * decisions the fixture's policies give, the notes on standard error, and a
 * bad template refused with its field path.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podwall } from "../helpers/cli.js";

const SHOP = ["--manifests", "test/fixtures/workloads/shop"];

const NOTES = [
  "note: StatefulSet shop/web stands for pod shop/web-statefulset: Deployment shop/web has the name web",
  "note: 8 workloads stand for their pods, at addresses of 198.18.0.0/15",
  "note: namespace monitoring made, as no Namespace object defines it (DaemonSet monitoring/node-exporter names it)",
  "note: namespace shop made, as no Namespace object defines it (Deployment shop/web names it)",
  "",
].join("\n");

/** Each workload's pod, by the fixture's policies: shop admits web → api (http), api and migrate → db, and Prometheus; nothing else. */
const CASES: { src: string; dst: string; port: string; code: 0 | 1; first: string }[] = [
  { src: "shop/web", dst: "shop/api", port: "8080", code: 0, first: "shop/web (198.18.0.8) -> shop/api (198.18.0.3) TCP/8080: ALLOWED" },
  { src: "shop/web", dst: "shop/api", port: "udp/8080", code: 1, first: "shop/web (198.18.0.8) -> shop/api (198.18.0.3) UDP/8080: DENIED" },
  { src: "shop/web", dst: "shop/db", port: "5432", code: 1, first: "shop/web (198.18.0.8) -> shop/db (198.18.0.5) TCP/5432: DENIED" },
  { src: "shop/api", dst: "shop/db", port: "5432", code: 0, first: "shop/api (198.18.0.3) -> shop/db (198.18.0.5) TCP/5432: ALLOWED" },
  { src: "shop/migrate", dst: "shop/db", port: "5432", code: 0, first: "shop/migrate (198.18.0.6) -> shop/db (198.18.0.5) TCP/5432: ALLOWED" },
  { src: "shop/report", dst: "shop/api", port: "8080", code: 1, first: "shop/report (198.18.0.7) -> shop/api (198.18.0.3) TCP/8080: DENIED" },
  { src: "shop/web-statefulset", dst: "shop/api", port: "8080", code: 1, first: "shop/web-statefulset (198.18.0.9) -> shop/api (198.18.0.3) TCP/8080: DENIED" },
  { src: "shop/api", dst: "shop/cache", port: "6379", code: 1, first: "shop/api (198.18.0.3) -> shop/cache (198.18.0.4) TCP/6379: DENIED" },
  { src: "monitoring/prometheus", dst: "shop/cache", port: "6379", code: 0, first: "monitoring/prometheus (198.18.0.1) -> shop/cache (198.18.0.4) TCP/6379: ALLOWED" },
  { src: "shop/db", dst: "monitoring/node-exporter", port: "9100", code: 0, first: "shop/db (198.18.0.5) -> monitoring/node-exporter (198.18.0.2) TCP/9100: ALLOWED" },
];

describe("podwall check --manifests on workloads", () => {
  for (const c of CASES) {
    it(`${c.src} -> ${c.dst} ${c.port}: exit ${c.code}`, async () => {
      const r = await podwall(["check", c.src, c.dst, c.port, ...SHOP]);
      assert.equal(r.code, c.code, r.stderr);
      assert.equal(r.stdout.split("\n")[0], c.first);
      assert.equal(r.stderr, NOTES);
    });
  }

  it("-o json keeps standard output to the decision: the notes go to standard error, and no progress line to a pipe", async () => {
    const r = await podwall(["check", "shop/web", "shop/api", "8080", "-o", "json", ...SHOP]);
    assert.equal(r.code, 0);
    const d = JSON.parse(r.stdout) as { allowed: boolean; ingress: { policies: string[] } };
    assert.equal(d.allowed, true);
    assert.equal(r.stderr, NOTES);
    assert.ok(!r.stderr.includes("\r"));
  });

  it("a pod no workload stands for is unknown, as ever", async () => {
    const r = await podwall(["check", "shop/frontend", "shop/api", "8080", ...SHOP]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split("\n").at(-2), 'error: pods "frontend" not found in namespace "shop"');
  });

  it("a template whose labels are not a map: exit 2, the error at spec.template.metadata.labels", async () => {
    const r = await podwall(["check", "shop/web", "shop/api", "80", "--manifests", "test/fixtures/workloads/bad"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      [
        'error: Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: "app=web": must be an object',
        "  spec.template.metadata.labels: must be an object",
        "",
      ].join("\n"),
    );
  });
});
