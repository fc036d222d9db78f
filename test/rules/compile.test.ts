/**
 * Properties of the ruleset compiler: determinism, names, what the texts may
 * write, which pods get chains, how peers, ports and protocols become rules,
 * and that rule count grows with policies, not with pairs of pods.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { applyRuleset } from "../../client/agent/apply.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import { type ChainPlan, type RulesetPlan, type Ruleset, compileNode } from "../../server/rules/index.js";
import { MAX_CHAIN_NAME, MAX_SET_NAME } from "../../server/rules/plan.js";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { modelArb, tieredModelArb } from "./random-model.js";
import { FakeRunner, tokenize } from "./simulator.js";
import { type Manifest, load, namespace, node, pod, policy } from "./support.js";

const GOLDEN_MODELS = ["dev-default-deny", "ipblock-and-pod-peer", "named-ports", "ports-and-protocols", "dual-stack", "world-except"].map(
  (m) => readManifestPaths([`test/fixtures/rules/models/${m}.yaml`]) as Manifest[],
);

function allRulesets(rules: RulesService, service: PodwallService): Ruleset[] {
  return [...service.cluster.nodes.keys()].sort().map((n) => rules.rules(SYSTEM, n));
}

/** A ruleset as plain data (its texts may be getters). */
function plain(r: Ruleset): Record<string, unknown> {
  return { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks };
}

async function planOf(objects: readonly Manifest[], nodeName = "node-1"): Promise<RulesetPlan> {
  return compileNode((await load(objects)).service.cluster, nodeName);
}

function chain(plan: RulesetPlan, family: "ipv4" | "ipv6", prefix: string): ChainPlan[] {
  return plan.chains[family].filter((c) => c.name.startsWith(prefix));
}

/** The pod chain a pod's jump in its shard names, for one direction. */
function podChainOf(plan: RulesetPlan, family: "ipv4" | "ipv6", podKey: string, dir: "ingress" | "egress"): ChainPlan {
  const jump = chain(plan, family, family === "ipv4" ? "PODWALL-FWD-" : "PODWALL-FWD6-")
    .flatMap((c) => c.rules)
    .find((r) => r.origin.pod === podKey && r.origin.note === dir);
  assert.ok(jump, `${podKey} has no ${dir} jump`);
  return plan.chains[family].find((c) => c.name === jump.target[1])!;
}

/** The rules' arguments of a chain, joined, without the comment. */
function ruleTexts(c: ChainPlan): string[] {
  return c.rules.map((r) => [...r.match, ...r.target].join(" "));
}

const base = [namespace("app", { team: "a" }), node("node-1", "10.0.0.1", "fd00::1"), node("node-2", "10.0.0.2", "fd00::2")];

describe("determinism", () => {
  for (const [what, arb, runs] of [
    ["", modelArb, { numRuns: 60 }],
    [" (with policy tiers)", tieredModelArb, { numRuns: 30, seed: 1130 }],
  ] as const) {
    it(`gives byte-identical texts and versions for one model written in any order, in one write or many${what}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          arb.chain((objs) => fc.tuple(fc.constant(objs), fc.shuffledSubarray(objs, { minLength: objs.length, maxLength: objs.length }))),
          async ([objects, shuffled]) => {
            const a = await load(objects);
            const b = await load(shuffled);
            // Many writes: namespaces and nodes first (pods need their namespace), then one object per write,
            // with a policy written and deleted on the way: the history must not show.
            // The rules service lives through every write and is read after each, as a server's would be.
            const c = await PodwallService.start({ cacheSize: 0 });
            const cRules = new RulesService(c);
            const first = shuffled.filter((o) => o["kind"] === "Namespace" || o["kind"] === "Node");
            await c.applyObjects(SYSTEM, first);
            await c.applyObjects(SYSTEM, [policy("ns-a/transient", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] })]);
            for (const o of shuffled) {
              if (first.includes(o)) continue;
              allRulesets(cRules, c);
              await c.applyObjects(SYSTEM, [o]);
            }
            allRulesets(cRules, c);
            await c.delete(SYSTEM, "NetworkPolicy", "ns-a", "transient");
            const expected = allRulesets(a.rules, a.service).map(plain);
            assert.deepEqual(allRulesets(b.rules, b.service).map(plain), expected);
            assert.deepEqual(allRulesets(cRules, c).map(plain), expected);
          },
        ),
        runs,
      );
    });
  }

  it("gives the same version for the same content, and another one when the content changes", async () => {
    const objects = GOLDEN_MODELS[1]!;
    const v1 = (await load(objects)).rules.rules(SYSTEM, "node-1").version;
    assert.equal((await load([...objects].reverse())).rules.rules(SYSTEM, "node-1").version, v1);
    const changed = await load([...objects, pod("prod/client-2", { labels: { app: "client" }, node: "node-2", ips: ["10.1.2.21"] })]);
    assert.notEqual(changed.rules.rules(SYSTEM, "node-1").version, v1, "a new member of a peer set changes the version");
  });
});

describe("names and what the texts may write", () => {
  const cases = [...GOLDEN_MODELS.map((m, i) => ({ name: `golden model ${i}`, objects: m }))];
  const samples = [
    ...fc.sample(modelArb, { numRuns: 40, seed: 42 }).map((objects, i) => ({ name: `random model ${i}`, objects })),
    ...fc.sample(tieredModelArb, { numRuns: 20, seed: 42 }).map((objects, i) => ({ name: `random model with tiers ${i}`, objects })),
  ];

  for (const { name, objects } of [...cases, ...samples]) {
    it(`${name}: PODWALL-* names within the kernel limits, no built-in chain declared or written`, async () => {
      const { service, rules } = await load(objects);
      for (const r of allRulesets(rules, service)) {
        for (const [family, text] of [
          ["ipv4", r.iptables],
          ["ipv6", r.ip6tables],
        ] as const) {
          const declared = new Set<string>();
          const lines = text.trimEnd().split("\n");
          assert.equal(lines[0], "*filter");
          assert.equal(lines.at(-1), "COMMIT");
          for (const line of lines.slice(1, -1)) {
            const w = tokenize(line);
            if (line.startsWith(":")) {
              assert.match(line, /^:PODWALL-[A-Z0-9-]+ - \[0:0\]$/, `${family}: ${line}`);
              const c = line.slice(1).split(" ")[0]!;
              assert.ok(c.length <= MAX_CHAIN_NAME, `${c} is longer than ${MAX_CHAIN_NAME}`);
              declared.add(c);
              continue;
            }
            assert.equal(w[0], "-A", `${family}: only -A lines after the declarations: ${line}`);
            assert.ok(declared.has(w[1]!), `${family}: ${w[1]} is written but not declared`);
            const j = w.indexOf("-j");
            const target = w[j + 1]!;
            assert.ok(["ACCEPT", "RETURN", "REJECT", "DROP", "MARK"].includes(target) || declared.has(target), `${family}: jump to ${target}`);
          }
          for (const builtin of ["FORWARD", "INPUT", "OUTPUT"]) {
            assert.ok(!text.includes(`:${builtin} `), `${family} declares ${builtin}`);
            assert.ok(!text.includes(`-A ${builtin} `), `${family} writes ${builtin}`);
          }
        }
        for (const line of r.ipset
          .trimEnd()
          .split("\n")
          .filter((l) => l && !l.startsWith("#"))) {
          const w = line.split(" ");
          const names = w[0] === "swap" ? [w[1]!, w[2]!] : [w[1]!];
          for (const n of names) {
            assert.ok(n.startsWith("PODWALL-"), `set ${n}`);
            assert.ok(n.length <= MAX_SET_NAME, `set ${n} is longer than ${MAX_SET_NAME}`);
          }
          assert.ok(["create", "flush", "add", "swap", "destroy"].includes(w[0]!), line);
        }
        // The temporary set of the longest name fits too.
        for (const s of compileNode(service.cluster, r.node).sets) assert.ok(`${s.name}-T`.length <= MAX_SET_NAME);
        for (const h of r.hooks) assert.match(h.rule, /^-j PODWALL-[A-Z0-9-]+$/);
      }
    });
  }
});

describe("which pods get chains", () => {
  const all = { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] };
  const objects = [
    ...base,
    pod("app/running", { node: "node-1", ips: ["10.1.1.1", "fd10::1:1"] }),
    pod("app/pending", { node: "node-1", ips: ["10.1.1.2"], phase: "Pending" }),
    pod("app/v4-only", { node: "node-1", ips: ["10.1.1.3"] }),
    pod("app/host", { node: "node-1", ips: ["10.0.0.1"], hostNetwork: true }),
    pod("app/no-ip", { node: "node-1", phase: "Pending" }),
    pod("app/done", { node: "node-1", ips: ["10.1.1.4"], phase: "Succeeded" }),
    pod("app/failed", { node: "node-1", ips: ["10.1.1.5"], phase: "Failed" }),
    pod("app/elsewhere", { node: "node-2", ips: ["10.1.2.1"] }),
    pod("app/unscheduled", { ips: ["10.1.9.1"], phase: "Pending" }),
    policy("app/all", all),
  ];
  let plan: RulesetPlan;
  before(async () => {
    plan = await planOf(objects);
  });
  const table = [
    { family: "ipv4", pods: ["app/pending", "app/running", "app/v4-only"] },
    { family: "ipv6", pods: ["app/running"] },
  ] as const;
  for (const { family, pods } of table) {
    it(`${family}: only live local pods with an ${family} address and off the host network`, async () => {
      const jumps = chain(plan, family, family === "ipv4" ? "PODWALL-FWD-" : "PODWALL-FWD6-")
        .flatMap((c) => c.rules)
        .filter((r) => r.origin.note === "ingress" || r.origin.note === "egress");
      assert.deepEqual(jumps.map((r) => r.origin.pod).sort(), pods.flatMap((p) => [p, p]).sort());
      // One policy selects them all: they share one chain per direction.
      assert.deepEqual(
        chain(plan, family, "PODWALL-IN-").map((c) => c.name),
        [podChainOf(plan, family, pods[0], "ingress").name],
      );
      assert.deepEqual(
        chain(plan, family, "PODWALL-EG-").map((c) => c.name),
        [podChainOf(plan, family, pods[0], "egress").name],
      );
      const top = plan.chains[family][0]!;
      assert.equal(top.name, "PODWALL-FORWARD");
      assert.deepEqual(
        top.rules.slice(3).map((r) => r.target[1]),
        chain(plan, family, family === "ipv4" ? "PODWALL-FWD-" : "PODWALL-FWD6-").map((c) => c.name),
      );
    });
  }

  it("puts no host-network, terminated or unscheduled pod into a peer set", async () => {
    const members = plan.sets.flatMap((s) => s.entries.map((e) => e.value));
    for (const ip of ["10.0.0.1", "10.1.1.4", "10.1.1.5"]) assert.ok(!members.includes(ip), `${ip} is a member`);
    for (const ip of ["10.1.1.1", "10.1.1.2", "10.1.1.3", "10.1.2.1", "fd10::1:1"]) assert.ok(members.includes(ip), `${ip} is not a member`);
  });

  it("gives a node without guarded pods only its top chain: replies, and its own addresses", async () => {
    const p = await planOf([...base, pod("app/x", { node: "node-1", ips: ["10.1.1.1"] })], "node-2");
    for (const [family, own] of [
      ["ipv4", "10.0.0.2"],
      ["ipv6", "fd00::2"],
    ] as const) {
      assert.deepEqual(
        p.chains[family].map((c) => c.name),
        ["PODWALL-FORWARD"],
      );
      assert.deepEqual(ruleTexts(p.chains[family][0]!), ["-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", `-s ${own} -j RETURN`, `-d ${own} -j RETURN`]);
    }
    assert.deepEqual(p.sets, []);
  });
});

describe("rules from peers, ports and protocols", () => {
  it("keeps one peer's except to its own set: another peer is never cut", async () => {
    const objects = [
      ...base,
      pod("app/api", { labels: { app: "api" }, node: "node-1", ips: ["10.1.1.10"] }),
      policy("app/api", {
        podSelector: { matchLabels: { app: "api" } },
        ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }, { ipBlock: { cidr: "10.1.0.0/16" } }] }],
      }),
    ];
    const { service, rules } = await load(objects);
    const plan = compileNode(service.cluster, "node-1");
    const nets = plan.sets.filter((s) => s.type === "hash:net");
    assert.deepEqual(nets.map((s) => s.entries.map((e) => `${e.value}${e.nomatch ? " nomatch" : ""}`)).sort(), [["10.0.0.0/8", "10.1.0.0/16 nomatch"], ["10.1.0.0/16"]]);
    const pi = chain(plan, "ipv4", "PODWALL-PI-")[0]!;
    assert.equal(pi.rules.length, 2, "one rule per peer");
    assert.notEqual(pi.rules[0]!.match[3], pi.rules[1]!.match[3], "each peer matches its own set");
    const run = new FakeRunner();
    await applyRuleset(run, rules.rules(SYSTEM, "node-1"));
    const r = run.node.forward({ family: "ipv4", src: "10.1.7.7", dst: "10.1.1.10", protocol: "TCP", dport: 80 });
    assert.equal(r.verdict, "ACCEPT", "excepted by the first peer, allowed by the second");
    assert.equal(service.check(SYSTEM, { src: "10.1.7.7", dst: "10.1.1.10", port: 80 }).allowed, true);
  });

  it("resolves named ports per destination pod: egress PORT sets, ingress chains per resolution", async () => {
    const objects = [
      ...base,
      pod("app/web-a", { labels: { app: "web" }, node: "node-1", ips: ["10.1.1.11"], ports: [{ name: "http", containerPort: 8080 }] }),
      pod("app/web-b", { labels: { app: "web" }, node: "node-1", ips: ["10.1.1.12"], ports: [{ name: "http", containerPort: 9090 }] }),
      pod("app/web-c", { labels: { app: "web" }, node: "node-2", ips: ["10.1.2.13"], ports: [{ name: "http", containerPort: 8080 }] }),
      pod("app/web-d", { labels: { app: "web" }, node: "node-1", ips: ["10.1.1.14"], ports: [{ name: "http", containerPort: 8080, protocol: "UDP" }] }),
      pod("app/client", { labels: { app: "client" }, node: "node-1", ips: ["10.1.1.20"] }),
      policy("app/web-in", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: "http" }] }] }),
      policy("app/client-out", { podSelector: { matchLabels: { app: "client" } }, policyTypes: ["Egress"], egress: [{ ports: [{ port: "http" }] }] }),
    ];
    const plan = await planOf(objects);
    const ports = plan.sets.filter((s) => s.name.startsWith("PODWALL-PORT-"));
    assert.deepEqual(
      ports.map((s) => ({ about: s.about, members: s.entries.map((e) => e.value) })).sort((a, b) => (a.about < b.about ? -1 : 1)),
      [
        { about: "pods where TCP port http is 8080", members: ["10.1.1.11", "10.1.2.13"] },
        { about: "pods where TCP port http is 9090", members: ["10.1.1.12"] },
      ],
    );
    const pe = chain(plan, "ipv4", "PODWALL-PE-")[0]!;
    const byName = new Map(ports.map((s) => [s.about.split(" ").at(-1)!, s.name]));
    assert.deepEqual(ruleTexts(pe), [
      `-m set --match-set ${byName.get("8080")} dst -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x10000/0x10000`,
      `-m set --match-set ${byName.get("9090")} dst -p tcp -m tcp --dport 9090 -j MARK --set-xmark 0x10000/0x10000`,
    ]);
    // Ingress: each pod's chain jumps to a policy chain holding its own number; web-d's http is UDP, so TCP http resolves to nothing there.
    const jumpOf = (p: string) => podChainOf(plan, "ipv4", p, "ingress").rules.find((r) => r.origin.policy === "app/web-in" && r.origin.note === "ingress")!.target[1]!;
    const rulesOf = (p: string) => ruleTexts(plan.chains.ipv4.find((c) => c.name === jumpOf(p))!);
    assert.deepEqual(rulesOf("app/web-a"), ["-p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x10000/0x10000"]);
    assert.deepEqual(rulesOf("app/web-b"), ["-p tcp -m tcp --dport 9090 -j MARK --set-xmark 0x10000/0x10000"]);
    assert.deepEqual(rulesOf("app/web-d"), []);
    assert.notEqual(jumpOf("app/web-a"), jumpOf("app/web-b"));
  });

  const portTable: { entry: Record<string, unknown>; match: string }[] = [
    { entry: { port: 80 }, match: "-p tcp -m tcp --dport 80" },
    { entry: { protocol: "TCP", port: 80, endPort: 80 }, match: "-p tcp -m tcp --dport 80" },
    { entry: { protocol: "TCP", port: 30000, endPort: 30100 }, match: "-p tcp -m tcp --dport 30000:30100" },
    { entry: { protocol: "UDP", port: 53 }, match: "-p udp -m udp --dport 53" },
    { entry: { protocol: "UDP", port: 5000, endPort: 5010 }, match: "-p udp -m udp --dport 5000:5010" },
    { entry: { protocol: "SCTP", port: 9999 }, match: "-p sctp -m sctp --dport 9999" },
    { entry: { protocol: "SCTP" }, match: "-p sctp -m sctp" },
    { entry: { protocol: "UDP" }, match: "-p udp -m udp" },
  ];
  for (const { entry, match } of portTable) {
    it(`renders the port entry ${JSON.stringify(entry)} as ${match}`, async () => {
      const plan = await planOf([...base, pod("app/x", { node: "node-1", ips: ["10.1.1.1"] }), policy("app/p", { podSelector: {}, ingress: [{ ports: [entry] }] })]);
      assert.deepEqual(ruleTexts(chain(plan, "ipv4", "PODWALL-PI-")[0]!), [`${match} -j MARK --set-xmark 0x10000/0x10000`]);
    });
  }

  it("rejects with a TCP reset for TCP and port unreachable of the family otherwise, as the last two rules of each pod chain", async () => {
    const plan = await planOf([...base, pod("app/x", { node: "node-1", ips: ["10.1.1.1", "fd10::1"] }), policy("app/p", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })]);
    for (const [family, icmp] of [
      ["ipv4", "icmp-port-unreachable"],
      ["ipv6", "icmp6-port-unreachable"],
    ] as const) {
      const pods = plan.chains[family].filter((c) => /^PODWALL-(IN|EG)-/.test(c.name));
      assert.equal(pods.length, 2);
      for (const c of pods) {
        assert.deepEqual(ruleTexts(c).slice(-2), ["-p tcp -j REJECT --reject-with tcp-reset", `-j REJECT --reject-with ${icmp}`]);
        assert.ok(!ruleTexts(c).some((t) => t.includes("DROP")), "denied traffic is rejected, never dropped");
      }
    }
  });

  it("names the policy and the field path in each rule's comment, and accepts replies first", async () => {
    const r = (
      await load([
        ...base,
        pod("app/x", { node: "node-1", ips: ["10.1.1.1", "fd10::1"] }),
        policy("app/p", {
          podSelector: {},
          policyTypes: ["Ingress", "Egress"],
          ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: "192.168.0.0/16" } }], ports: [{ port: 80 }, { protocol: "UDP", port: 53 }] }],
          egress: [{}, { to: [{ namespaceSelector: {} }] }],
        }),
      ])
    ).rules.rules(SYSTEM, "node-1");
    const comments = (text: string, prefix: string) =>
      text
        .split("\n")
        .filter((l) => l.startsWith(`-A ${prefix}`))
        .map((l) => tokenize(l)[5]);
    assert.deepEqual(comments(r.iptables, "PODWALL-PI-"), [
      "app/p spec.ingress[0] from[0] ports[0]",
      "app/p spec.ingress[0] from[0] ports[1]",
      "app/p spec.ingress[0] from[1] ports[0]",
      "app/p spec.ingress[0] from[1] ports[1]",
    ]);
    assert.deepEqual(comments(r.iptables, "PODWALL-PE-"), ["app/p spec.egress[0] all peers all ports", "app/p spec.egress[1] to[0] all ports"]);
    // The IPv4 ipBlock has no IPv6 rule.
    assert.deepEqual(comments(r.ip6tables, "PODWALL-PI-"), ["app/p spec.ingress[0] from[0] ports[0]", "app/p spec.ingress[0] from[0] ports[1]"]);
    for (const text of [r.iptables, r.ip6tables]) {
      const rules = text.split("\n").filter((l) => l.startsWith("-A "));
      assert.equal(rules[0], '-A PODWALL-FORWARD -m comment --comment "replies of allowed connections" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
      for (const l of rules) assert.match(l, /^-A \S+ -m comment --comment "[^"]+" /, "every rule has a comment");
      assert.ok(
        rules.some((l) => l.includes('--comment "app/p ingress" -j PODWALL-PI-')),
        "the pod chain's jump names the policy",
      );
    }
  });
});

describe("rule count grows with policies and rules, not with pairs of pods", () => {
  async function scaled(n: number): Promise<RulesetPlan> {
    const objects: Manifest[] = [...base];
    for (let i = 0; i < n; i++) {
      objects.push(
        pod(`app/p${i}`, { labels: { app: i % 2 ? "web" : "client" }, node: "node-1", ips: [`10.1.${1 + (i >> 8)}.${i & 255}`], ports: [{ name: "http", containerPort: 8080 }] }),
      );
    }
    objects.push(
      policy("app/from-clients", { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }], ports: [{ port: 80 }, { port: "http" }] }] }),
      policy("app/to-web", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }] }] }),
      policy("app/from-office", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.1.0/24"] } }] }] }),
    );
    return await planOf(objects);
  }
  const count = (p: RulesetPlan, re: RegExp) => p.chains.ipv4.filter((c) => re.test(c.name)).reduce((n, c) => n + c.rules.length, 0);
  const members = (p: RulesetPlan) => p.sets.reduce((n, s) => n + s.entries.length, 0);
  const sizes = [10, 50, 200];
  let plans: RulesetPlan[];
  before(async () => {
    plans = [];
    for (const n of sizes) plans.push(await scaled(n));
  });

  it("keeps the policy chains' rules constant", async () => {
    const policyRules = plans.map((p) => count(p, /^PODWALL-P[IE]-/));
    assert.ok(policyRules[0]! > 0);
    assert.deepEqual(
      policyRules,
      sizes.map(() => policyRules[0]),
    );
    assert.deepEqual(
      plans.map((p) => p.sets.length),
      sizes.map(() => plans[0]!.sets.length),
      "the same sets, with more members",
    );
  });

  it("keeps the pod chains' rules constant: pods with the same policies share them", async () => {
    const podRules = plans.map((p) => count(p, /^PODWALL-(IN|EG)-/));
    assert.ok(podRules[0]! > 0);
    assert.deepEqual(
      podRules,
      sizes.map(() => podRules[0]),
    );
  });

  it("grows the shards' rules linearly with the local pods (three each), and the set members with the pods", async () => {
    const perPod = plans.map((p, i) => count(p, /^PODWALL-FWD-/) / sizes[i]!);
    assert.deepEqual(
      perPod,
      sizes.map(() => 3),
      "an egress jump, itself, an ingress jump",
    );
    const m = plans.map(members);
    assert.ok(m[0]! < m[1]! && m[1]! < m[2]!, `members ${m.join(", ")}`);
    // Pod peers: every client in one set, every web in the PORT set: members are linear in N too.
    assert.equal(m[2]! - m[1]!, (m[1]! - m[0]!) * ((200 - 50) / (50 - 10)));
  });
});
