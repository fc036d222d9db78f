/**
 * The linter: for each finding, a fixture in test/fixtures/lint that has it
 * (every finding of the fixture asserted exactly) and one that does not; the
 * order of findings; agreement with Check's primitives; and `GET /v1/lint`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Finding, type Severity, SEVERITIES, atLeast, compareFindings, lint, parseSeverity } from "../../server/analysis/lint.js";
import { createRestApp } from "../../server/api/rest/app.js";
import { Authenticator } from "../../server/auth/authenticator.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import type { Cluster } from "../../server/model/cluster.js";
import { peerSelectsPod, policiesSelecting, resolvePortMatcher } from "../../server/policy/index.js";
import { PodwallService, SYSTEM } from "../../server/service/index.js";
import { serveApp } from "../api/support.js";
import { authYaml, identity } from "../auth/support.js";

const FIXTURES = "test/fixtures/lint";

async function loaded(paths: string[]): Promise<PodwallService> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, readManifestPaths(paths), true);
  return service;
}

async function lintOf(fixture: string): Promise<Finding[]> {
  return lint((await loaded([join(FIXTURES, fixture)])).cluster);
}

type Row = readonly [Severity, Finding["code"], string, string, string];

const ALLOW_ALL = (field: string) => `${field} allows every peer on every port, so this rule allows nothing more`;
const NO_DEFAULT_DENY = (dir: string, state: string) => `no policy selects every pod of the namespace (podSelector: {}) for ${dir}: ${state}`;
const IP_BLOCK = (block: string, pods: string) =>
  `ipBlock ${block} holds the addresses of ${pods}: ipBlock is meant for addresses outside the cluster, and pod addresses change; select pods with podSelector and namespaceSelector`;
const HOST_PEER = "(1 host-network pod matches, but a peer never selects a host-network pod)";

/** Each fixture with every finding it has, in order; each `-clean` fixture lacks the finding its name says. */
const CASES: readonly { fixture: string; findings: readonly Row[] }[] = [
  {
    fixture: "policy-selects-no-pod.yaml",
    findings: [
      [
        "warning",
        "policy-selects-no-pod",
        "NetworkPolicy shop/host-only",
        "spec.podSelector",
        "podSelector app=agent selects no pod in namespace shop (1 host-network pod matches, but NetworkPolicy never applies to a host-network pod)",
      ],
      ["warning", "policy-selects-no-pod", "NetworkPolicy shop/typo", "spec.podSelector", "podSelector app=wbe selects no pod in namespace shop"],
    ],
  },
  { fixture: "policy-selects-no-pod-clean.yaml", findings: [] },
  {
    fixture: "peer-selects-nothing.yaml",
    findings: [
      ["warning", "peer-selects-nothing", "NetworkPolicy shop/web", "spec.egress[0].to[0].podSelector", `podSelector app=agent selects no pod in namespace shop ${HOST_PEER}`],
      ["warning", "peer-selects-nothing", "NetworkPolicy shop/web", "spec.ingress[0].from[0].podSelector", "podSelector app=frontend selects no pod in namespace shop"],
      ["warning", "peer-selects-nothing", "NetworkPolicy shop/web", "spec.ingress[0].from[1].namespaceSelector", "namespaceSelector team=nope selects no namespace"],
      [
        "warning",
        "peer-selects-nothing",
        "NetworkPolicy shop/web",
        "spec.ingress[0].from[2].podSelector",
        "podSelector app=web selects no pod in the namespace namespaceSelector team=db selects (db)",
      ],
      [
        "warning",
        "peer-selects-nothing",
        "NetworkPolicy shop/web",
        "spec.ingress[0].from[3].namespaceSelector",
        "namespaceSelector team=empty selects 1 namespace (empty), which holds no pod",
      ],
    ],
  },
  { fixture: "peer-selects-nothing-clean.yaml", findings: [] },
  {
    fixture: "named-port-undefined.yaml",
    findings: [
      [
        "error",
        "named-port-undefined",
        "NetworkPolicy shop/client",
        "spec.egress[0].ports[1].port",
        'named port "pg" (UDP) is not defined by shop/db, the only pod the rule applies to; shop/db defines "pg" for TCP',
      ],
      [
        "error",
        "named-port-undefined",
        "NetworkPolicy shop/client",
        "spec.egress[1].ports[0].port",
        'named port "https" (TCP) can never match: a named port is resolved on the destination pod, and the rule\'s peers reach no pod (an address outside the cluster has no named ports)',
      ],
      [
        "error",
        "named-port-undefined",
        "NetworkPolicy shop/client",
        "spec.egress[2].ports[0].port",
        'named port "metrics" (TCP) is defined by none of the 4 pods the rule applies to (e.g. shop/client)',
      ],
      [
        "error",
        "named-port-undefined",
        "NetworkPolicy shop/web",
        "spec.ingress[0].ports[0].port",
        'named port "htpp" (TCP) is defined by none of the 2 pods the rule applies to (e.g. shop/web-a)',
      ],
      // The peer of spec.egress[4] selects nothing: that is its finding, not its port's.
      ["warning", "peer-selects-nothing", "NetworkPolicy shop/client", "spec.egress[4].to[0].podSelector", "podSelector app=cache selects no pod in namespace shop"],
    ],
  },
  {
    fixture: "named-port-undefined-clean.yaml",
    findings: [
      ["warning", "ipblock-contains-pods", "NetworkPolicy shop/client", "spec.egress[1].to[0].ipBlock.cidr", IP_BLOCK("10.244.1.0/24", "3 pods (e.g. shop/client at 10.244.1.20)")],
    ],
  },
  {
    fixture: "redundant-rule.yaml",
    findings: [
      ["warning", "redundant-rule", "NetworkPolicy shop/web", "spec.ingress[0]", ALLOW_ALL("spec.ingress[1]")],
      ["warning", "redundant-rule", "NetworkPolicy shop/web", "spec.ingress[2]", ALLOW_ALL("spec.ingress[1]")],
      ["warning", "redundant-rule", "NetworkPolicy shop/web", "spec.ingress[3]", ALLOW_ALL("spec.ingress[1]")],
    ],
  },
  { fixture: "redundant-rule-clean.yaml", findings: [] },
  {
    fixture: "default-deny.yaml",
    findings: [
      [
        "warning",
        "no-default-deny-ingress",
        "Namespace labelled",
        "",
        NO_DEFAULT_DENY("ingress", "its pod is isolated by a policy that selects it by label, but a new pod without those labels would not be"),
      ],
      ["warning", "no-default-deny-ingress", "Namespace open", "", NO_DEFAULT_DENY("ingress", "none of its 2 pods is isolated (e.g. open/a)")],
      ["warning", "no-default-deny-ingress", "Namespace partial", "", NO_DEFAULT_DENY("ingress", "1 of its 2 pods is not isolated (e.g. partial/worker)")],
      ["info", "no-default-deny-egress", "Namespace ingress-only", "", NO_DEFAULT_DENY("egress", "its one pod, ingress-only/web, is not isolated")],
      [
        "info",
        "no-default-deny-egress",
        "Namespace labelled",
        "",
        NO_DEFAULT_DENY("egress", "its pod is isolated by a policy that selects it by label, but a new pod without those labels would not be"),
      ],
      ["info", "no-default-deny-egress", "Namespace open", "", NO_DEFAULT_DENY("egress", "none of its 2 pods is isolated (e.g. open/a)")],
      ["info", "no-default-deny-egress", "Namespace partial", "", NO_DEFAULT_DENY("egress", "none of its 2 pods is isolated (e.g. partial/web)")],
    ],
  },
  { fixture: "default-deny-clean.yaml", findings: [] },
  {
    fixture: "ipblock-contains-pods.yaml",
    findings: [
      ["warning", "ipblock-contains-pods", "NetworkPolicy shop/web", "spec.egress[0].to[1].ipBlock.cidr", IP_BLOCK("10.0.0.0/8", "2 pods (e.g. shop/db at 10.244.2.20)")],
      ["warning", "ipblock-contains-pods", "NetworkPolicy shop/web", "spec.egress[1].to[0].ipBlock.cidr", IP_BLOCK("fd00::/64", "1 pod (e.g. shop/db at fd00::20)")],
      [
        "warning",
        "ipblock-contains-pods",
        "NetworkPolicy shop/web",
        "spec.ingress[0].from[1].ipBlock.cidr",
        IP_BLOCK("10.244.1.0/24 except 10.244.1.128/25", "1 pod (e.g. shop/web at 10.244.1.10)"),
      ],
    ],
  },
  { fixture: "ipblock-contains-pods-clean.yaml", findings: [] },
  {
    fixture: "only-info.yaml",
    findings: [["info", "no-default-deny-egress", "Namespace shop", "", NO_DEFAULT_DENY("egress", "its one pod, shop/web, is not isolated")]],
  },
];

const asRow = (f: Finding): Row => [f.severity, f.code, f.object, f.field, f.message];

describe("lint: each finding, with a fixture that has it and one that does not", () => {
  for (const c of CASES) {
    it(`${c.fixture}: ${c.findings.length === 0 ? "no findings" : [...new Set(c.findings.map((r) => r[1]))].join(", ")}`, async () => {
      const findings = await lintOf(c.fixture);
      assert.deepEqual(findings.map(asRow), c.findings);
      for (const f of findings) assert.deepEqual(Object.keys(f), ["severity", "code", "object", "field", "message"]);
    });
  }
});

describe("lint: order", () => {
  it("sorts by severity, then object, then field with indexes in number order", async () => {
    const findings = await lintOf("ordering.yaml");
    const redundant = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => ["warning", "redundant-rule", "NetworkPolicy a/p", `spec.ingress[${i}]`]);
    assert.deepEqual(
      findings.map((f) => [f.severity, f.code, f.object, f.field]),
      [
        ["error", "named-port-undefined", "NetworkPolicy z/q", "spec.ingress[0].ports[0].port"],
        ["warning", "no-default-deny-ingress", "Namespace m", ""],
        ...redundant,
        ["info", "no-default-deny-egress", "Namespace a", ""],
        ["info", "no-default-deny-egress", "Namespace m", ""],
      ],
    );
  });

  it("compareFindings: code breaks a tie of severity, object and field; severity comes before object", () => {
    const f = (severity: Severity, code: Finding["code"], object: string, field: string): Finding => ({ severity, code, object, field, message: "" });
    const sorted = [
      f("info", "no-default-deny-egress", "Namespace a", ""),
      f("warning", "redundant-rule", "NetworkPolicy x/p", "spec.ingress[0]"),
      f("warning", "peer-selects-nothing", "NetworkPolicy x/p", "spec.ingress[0]"),
      f("warning", "ipblock-contains-pods", "NetworkPolicy x/p", "spec.egress[10]"),
      f("warning", "ipblock-contains-pods", "NetworkPolicy x/p", "spec.egress[9]"),
      f("error", "named-port-undefined", "NetworkPolicy z/q", "spec.ingress[0].ports[0].port"),
    ].sort(compareFindings);
    assert.deepEqual(
      sorted.map((x) => `${x.severity} ${x.object} ${x.field} ${x.code}`),
      [
        "error NetworkPolicy z/q spec.ingress[0].ports[0].port named-port-undefined",
        "warning NetworkPolicy x/p spec.egress[9] ipblock-contains-pods",
        "warning NetworkPolicy x/p spec.egress[10] ipblock-contains-pods",
        "warning NetworkPolicy x/p spec.ingress[0] peer-selects-nothing",
        "warning NetworkPolicy x/p spec.ingress[0] redundant-rule",
        "info Namespace a  no-default-deny-egress",
      ],
    );
  });

  it("severities: parseSeverity and atLeast", () => {
    assert.deepEqual(
      ["error", "warning", "info", "Error", "", undefined, ["error"]].map((v) => parseSeverity(v)),
      ["error", "warning", "info", undefined, undefined, undefined, undefined],
    );
    const table = SEVERITIES.map((s) => SEVERITIES.filter((least) => atLeast(s, least)));
    assert.deepEqual(table, [["error", "warning", "info"], ["warning", "info"], ["info"]]);
  });
});

/**
 * What lint says of policies, pod peers and ingress named ports, against a
 * search of every pod with the primitives Check decides with.
 */
function assertAgreesWithCheck(cluster: Cluster, findings: readonly Finding[]): void {
  const at = (object: string, field: string) => findings.some((f) => f.object === object && (f.field === field || f.field.startsWith(`${field}.`)));
  const pods = [...cluster.pods.values()];
  for (const ns of cluster.namespaces.keys()) {
    for (const p of cluster.policiesIn(ns)) {
      const object = `NetworkPolicy ${p.key}`;
      const selected = pods.filter((pod) => (["ingress", "egress"] as const).some((dir) => policiesSelecting(cluster, pod, dir).includes(p)));
      assert.equal(at(object, "spec.podSelector"), selected.length === 0, `${object}: selects ${selected.length} pods`);
      for (const dir of ["ingress", "egress"] as const) {
        for (const rule of p.policy[dir] ?? []) {
          for (const peer of rule.peers) {
            if (peer.kind !== "pods") continue;
            const any = pods.some((pod) => peerSelectsPod(cluster, p.namespace, peer, pod));
            assert.equal(at(object, peer.field), !any, `${object} ${peer.field}: selects a pod: ${any}`);
          }
          if (dir !== "ingress" || selected.length === 0) continue;
          for (const m of rule.ports) {
            if (m.kind !== "named") continue;
            const defined = selected.some((pod) => resolvePortMatcher(m, pod) !== undefined);
            assert.equal(at(object, `${m.field}.port`), !defined, `${object} ${m.field}: defined: ${defined}`);
          }
        }
      }
    }
  }
}

describe("lint agrees with Check", () => {
  for (const paths of [...CASES.map((c) => [join(FIXTURES, c.fixture)]), ["examples/cluster"], ["test/fixtures/rules/models/named-ports.yaml"]]) {
    it(paths.join(", "), async () => {
      const cluster = (await loaded(paths)).cluster;
      assertAgreesWithCheck(cluster, lint(cluster));
    });
  }
});

describe("GET /v1/lint", () => {
  let service: PodwallService;
  let server: { url: string; close(): Promise<void> };
  before(async () => {
    service = await loaded([join(FIXTURES, "ordering.yaml")]);
    server = await serveApp(createRestApp(service));
  });
  after(async () => server.close());

  const get = async (query = "", headers: Record<string, string> = {}, url = server.url) => {
    const res = await fetch(`${url}/v1/lint${query}`, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("answers the generation and every finding, as lint() gives them", async () => {
    const all = lint(service.cluster);
    assert.deepEqual(new Set(all.map((f) => f.severity)), new Set(SEVERITIES));
    assert.deepEqual(await get(), { status: 200, body: { generation: service.generation, findings: all } });
  });

  for (const [severity, kept] of [
    ["error", ["error"]],
    ["warning", ["error", "warning"]],
    ["info", ["error", "warning", "info"]],
  ] as const) {
    it(`?severity=${severity} keeps the findings at or above it`, async () => {
      const want = lint(service.cluster).filter((f) => (kept as readonly string[]).includes(f.severity));
      assert.deepEqual(await get(`?severity=${severity}`), { status: 200, body: { generation: service.generation, findings: want } });
    });
  }

  for (const query of ["?severity=fatal", "?severity=", "?severity=Error", "?severity=error&severity=info"]) {
    it(`${query} is 400 naming the field severity`, async () => {
      const r = await get(query);
      assert.equal(r.status, 400);
      assert.equal(r.body.reason, "BadRequest");
      assert.equal(r.body.message, "severity must be one of error, warning, info");
      assert.deepEqual(
        r.body.errors.map((e: { field: string; type: string; detail: string }) => [e.field, e.type, e.detail]),
        [["severity", "FieldValueNotSupported", 'supported values: "error", "warning", "info"']],
      );
    });
  }

  it("follows the model: a write that adds a default deny for egress takes its findings away", async () => {
    const before = await get();
    const fix = ["a", "m"].map((ns) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny-egress", namespace: ns },
      spec: { podSelector: {}, policyTypes: ["Egress"] },
    }));
    const written = await service.applyObjects(SYSTEM, fix);
    const afterWrite = await get();
    assert.equal(afterWrite.body.generation, written.generation);
    assert.notEqual(afterWrite.body.generation, before.body.generation);
    const codes = (b: { findings: Finding[] }) => b.findings.filter((f) => f.code === "no-default-deny-egress").map((f) => f.object);
    assert.deepEqual(codes(before.body), ["Namespace a", "Namespace m"]);
    assert.deepEqual(codes(afterWrite.body), []);
    assert.deepEqual(afterWrite.body.findings, lint(service.cluster));
  });

  it("asks for model:read: a reader may, an agent may not, a caller without credentials is 401", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podwall-lint-auth-"));
    const reader = identity("ops", "reader");
    const agent = identity("node-1", "agent", "node-1");
    writeFileSync(join(dir, "auth.yaml"), authYaml([reader, agent]));
    const auth = Authenticator.fromFile(join(dir, "auth.yaml"));
    const secured = await serveApp(createRestApp(service, { auth }));
    try {
      const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
      assert.equal((await get("", bearer(reader.token), secured.url)).status, 200);
      const forbidden = await get("", bearer(agent.token), secured.url);
      assert.equal(forbidden.status, 403);
      assert.match(forbidden.body.message, /may not model:read/);
      assert.equal((await get("", {}, secured.url)).status, 401);
    } finally {
      await secured.close();
      auth.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
