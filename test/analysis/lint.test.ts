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
import fc from "fast-check";
import { portCovers, selectorCovers } from "../../server/analysis/tier-cover.js";
import type { TierPort } from "../../server/model/tier-types.js";
import type { Operator, Pod, Protocol, Selector } from "../../server/model/types.js";
import { decide } from "../../server/policy/decide.js";
import { describeSelector, matches } from "../../server/policy/selector.js";
import { tierPortAllows } from "../../server/policy/tier-match.js";
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

/** A fixture's paths: a file, or a directory with the directory it is on top of. */
function pathsOf(c: { fixture: string; base?: string }): string[] {
  return [...(c.base ? [join(FIXTURES, c.base)] : []), join(FIXTURES, c.fixture)];
}

async function lintOf(fixture: string, base?: string): Promise<Finding[]> {
  return lint((await loaded(pathsOf({ fixture, base }))).cluster);
}

type Row = readonly [Severity, Finding["code"], string, string, string];

const ALLOW_ALL = (field: string) => `${field} allows every peer on every port, so this rule allows nothing more`;
const NO_DEFAULT_DENY = (dir: string, state: string) => `no policy selects every pod of the namespace (podSelector: {}) for ${dir}: ${state}`;
const IP_BLOCK = (block: string, pods: string) =>
  `ipBlock ${block} holds the addresses of ${pods}: ipBlock is meant for addresses outside the cluster, and pod addresses change; select pods with podSelector and namespaceSelector`;
const HOST_PEER = "(1 host-network pod matches, but a peer never selects a host-network pod)";

/** What every tiers-* fixture has of tiers-base: legacy's default deny is for ingress only. */
const LEGACY_EGRESS: Row = ["info", "no-default-deny-egress", "Namespace legacy", "", NO_DEFAULT_DENY("egress", "its one pod, legacy/app, is not isolated")];
const TIERS = "tiers-base";

/**
 * Each fixture with every finding it has, in order; each `-clean` fixture lacks the finding its name says.
 * A tiers-* fixture is a directory of policies on top of the cluster of tiers-base.
 */
const CASES: readonly { fixture: string; base?: string; findings: readonly Row[] }[] = [
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
  {
    fixture: "tiers-pass-undecided",
    base: TIERS,
    findings: [
      [
        "warning",
        "tier-pass-undecided",
        "ClusterNetworkPolicy delegate",
        "spec.egress[0].action",
        "for legacy/app of the 4 pods the policy selects, nothing after this Pass decides egress: no NetworkPolicy isolates it for egress and " +
          "no Baseline-tier policy selects it for egress, so the Pass behaves as the default allow; write Accept if allowing is meant",
      ],
      LEGACY_EGRESS,
    ],
  },
  { fixture: "tiers-pass-undecided-clean", base: TIERS, findings: [LEGACY_EGRESS] },
  {
    fixture: "tiers-deny-shadowed",
    base: TIERS,
    findings: [
      [
        "warning",
        "tier-deny-shadowed",
        "AdminNetworkPolicy pg-guard",
        "spec.ingress[1]",
        "for the one pod the policy selects, db/pg, AdminNetworkPolicy/pg-guard spec.ingress[0] (Pass) evaluated before this Deny matches every connection it matches, " +
          "so this Deny never decides anything",
      ],
      [
        "warning",
        "tier-deny-shadowed",
        "ClusterNetworkPolicy deny-ops",
        "spec.ingress[0]",
        "for each of the 2 pods the policy selects (e.g. shop/api), ClusterNetworkPolicy/allow-ops spec.ingress[0] (Accept) evaluated before this Deny " +
          "matches every connection it matches, so this Deny never decides anything",
      ],
      LEGACY_EGRESS,
    ],
  },
  { fixture: "tiers-deny-shadowed-clean", base: TIERS, findings: [LEGACY_EGRESS] },
  {
    fixture: "tiers-baseline-overridden",
    base: TIERS,
    findings: [
      [
        "info",
        "baseline-overridden",
        "BaselineAdminNetworkPolicy default",
        "spec.ingress[0]",
        "the 3 pods the policy selects are all isolated for ingress by NetworkPolicies (e.g. db/pg by db/default-deny), which override the Baseline tier: this rule never applies",
      ],
      [
        "info",
        "baseline-overridden",
        "ClusterNetworkPolicy shop-to-db",
        "spec.egress[0]",
        "the 2 pods the policy selects are all isolated for egress by NetworkPolicies (e.g. shop/api by shop/default-deny), which override the Baseline tier: this rule never applies",
      ],
      LEGACY_EGRESS,
    ],
  },
  { fixture: "tiers-baseline-overridden-clean", base: TIERS, findings: [LEGACY_EGRESS] },
  {
    fixture: "tiers-domain-names",
    base: TIERS,
    findings: [
      [
        "warning",
        "tier-domain-names",
        "ClusterNetworkPolicy no-exfiltration",
        "spec.egress[0].to[1].domainNames",
        "domainNames paste.example.com, *.exfil.example.org: domain names cannot be enforced by ipsets of addresses: the peer matches no connection",
      ],
      LEGACY_EGRESS,
    ],
  },
  { fixture: "tiers-domain-names-clean", base: TIERS, findings: [LEGACY_EGRESS] },
];

const asRow = (f: Finding): Row => [f.severity, f.code, f.object, f.field, f.message];

describe("lint: each finding, with a fixture that has it and one that does not", () => {
  for (const c of CASES) {
    it(`${c.fixture}: ${c.findings.length === 0 ? "no findings" : [...new Set(c.findings.map((r) => r[1]))].join(", ")}`, async () => {
      const findings = await lintOf(c.fixture, c.base);
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
  for (const paths of [...CASES.map(pathsOf), ["examples/cluster"], ["test/fixtures/rules/models/named-ports.yaml"]]) {
    it(paths.join(", "), async () => {
      const cluster = (await loaded(paths)).cluster;
      assertAgreesWithCheck(cluster, lint(cluster));
    });
  }
});

/**
 * What lint says of tier rules, against Check's answers for every ordered
 * pair of pods on several ports: a shadowed Deny never decides, an overridden
 * Baseline rule never decides, and an undecided Pass lets some connection
 * through to the default allow.
 */
function assertTierFindingsAgreeWithCheck(cluster: Cluster, findings: readonly Finding[]): number {
  const deciding = new Set<string>();
  const pods = [...cluster.pods.values()];
  for (const a of pods) {
    for (const b of pods) {
      if (a === b) continue;
      for (const t of TIER_TRAFFIC) {
        const src = { kind: "pod", pod: a, ip: a.ips[0] } as const;
        const dst = { kind: "pod", pod: b, ip: b.ips[0] } as const;
        const tiers = decide(cluster, src, dst, t, false).tiers;
        for (const dir of ["egress", "ingress"] as const) {
          const composed = tiers?.[dir];
          if (composed === undefined) continue;
          // The rules that decided, by tier ("Admin p spec.ingress[0]"), and the Admin Passes, by what decided after them.
          const [admin, baseline] = composed.consulted;
          if (admin !== undefined && admin.action !== "none") deciding.add(`${admin.action === "Pass" ? `Pass ${composed.decidedBy}` : "Admin"} ${admin.policy} ${admin.rule}`);
          if (baseline !== undefined && baseline.action !== "none" && composed.decidedBy === "Baseline") deciding.add(`Baseline ${baseline.policy} ${baseline.rule}`);
        }
      }
    }
  }
  let checked = 0;
  for (const f of findings) {
    const rule = `${f.object.replace(" ", "/")} ${f.field.replace(/\.action$/, "")}`;
    switch (f.code) {
      case "tier-deny-shadowed":
        assert.ok(!deciding.has(`Admin ${rule}`), `${rule} decides`);
        break;
      case "baseline-overridden":
        assert.ok(!deciding.has(`Baseline ${rule}`), `${rule} decides`);
        break;
      case "tier-pass-undecided":
        assert.ok(deciding.has(`Pass default ${rule}`), `${rule} never passes to the default`);
        break;
      default:
        continue;
    }
    checked++;
  }
  return checked;
}

const TIER_TRAFFIC = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 5432 },
  { protocol: "TCP", port: 8080 },
  { protocol: "UDP", port: 53 },
] as const;

describe("tier-cover: what it proves holds", () => {
  const requirement = fc.record({
    key: fc.constantFrom("app", "team"),
    operator: fc.constantFrom<Operator>("In", "NotIn", "Exists", "DoesNotExist"),
    values: fc.uniqueArray(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 2 }).map((v) => v.sort()),
  });
  const selector = fc
    .array(requirement, { maxLength: 2 })
    .map(
      (reqs): Selector =>
        reqs.length === 0
          ? { kind: "everything" }
          : { kind: "match", requirements: reqs.map((r) => (r.operator === "Exists" || r.operator === "DoesNotExist" ? { ...r, values: [] } : r)) },
    );
  const labels = fc
    .record({ app: fc.constantFrom(undefined, "a", "b", "c"), team: fc.constantFrom(undefined, "a", "b") })
    .map((l) => JSON.parse(JSON.stringify(l)) as Record<string, string>);

  it("selectorCovers(outer, inner): every label set inner selects, outer selects; and it proves some covers of unequal selectors", () => {
    let proved = 0;
    fc.assert(
      fc.property(selector, selector, fc.array(labels, { minLength: 8, maxLength: 8 }), (outer, inner, sets) => {
        if (!selectorCovers(outer, inner)) return;
        if (JSON.stringify(outer) !== JSON.stringify(inner)) proved++;
        for (const l of sets) if (matches(inner, l)) assert.ok(matches(outer, l), `${describeSelector(outer)} ⊇ ${describeSelector(inner)} on ${JSON.stringify(l)}`);
      }),
      { numRuns: 2000, seed: 20261130 },
    );
    assert.ok(proved > 50, `${proved} covers proved`);
  });

  const port = fc.oneof(
    fc.constant<TierPort>({ kind: "all", field: "" }),
    fc.constantFrom<Protocol>("TCP", "UDP").map((protocol): TierPort => ({ kind: "protocol", field: "", protocol })),
    fc
      .record({ protocol: fc.constantFrom<Protocol>("TCP", "UDP"), from: fc.integer({ min: 50, max: 90 }), len: fc.nat(40) })
      .map(({ protocol, from, len }): TierPort => ({ kind: "range", field: "", protocol, from, to: from + len })),
    fc.constantFrom("http", "dns").map((name): TierPort => ({ kind: "namedAnyProtocol", field: "", name })),
  );
  const dst = {
    kind: "Pod",
    namespace: "n",
    name: "p",
    key: "n/p",
    labels: {},
    nodeName: undefined,
    hostNetwork: false,
    ips: [],
    phase: "Running",
    ports: [
      { name: "http", port: 80, protocol: "TCP" },
      { name: "dns", port: 53, protocol: "UDP" },
    ],
    manifest: {},
  } as const satisfies Pod;

  it("portCovers(outer, inner): every traffic inner allows towards a pod, outer allows", () => {
    let proved = 0;
    fc.assert(
      fc.property(port, port, (outer, inner) => {
        if (!portCovers(outer, inner)) return;
        proved++;
        for (const protocol of ["TCP", "UDP"] as const) {
          for (let n = 40; n <= 140; n++) {
            if (tierPortAllows(inner, dst, { protocol, port: n }))
              assert.ok(tierPortAllows(outer, dst, { protocol, port: n }), `${JSON.stringify(outer)} ⊇ ${JSON.stringify(inner)} at ${protocol}/${n}`);
          }
        }
      }),
      { numRuns: 2000, seed: 20261131 },
    );
    assert.ok(proved > 100, `${proved} covers proved`);
  });
});

describe("lint's tier findings agree with Check", () => {
  it("on every tiers-* fixture: a shadowed Deny and an overridden Baseline rule never decide; an undecided Pass reaches the default", async () => {
    let checked = 0;
    for (const c of CASES.filter((x) => x.base === TIERS)) {
      const cluster = (await loaded(pathsOf(c))).cluster;
      checked += assertTierFindingsAgreeWithCheck(cluster, lint(cluster));
    }
    assert.equal(checked, 5, "the findings checked");
  });
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
