/**
 * The policy tiers in a node's ruleset, on one small model
 * (test/fixtures/rules/tiers/guardrail.yaml): an Admin guardrail (Accept,
 * Pass, Deny), a Baseline default deny and a NetworkPolicy. node-1's ruleset
 * is pinned in a golden file (`UPDATE_GOLDEN=1` rewrites it; read the diff),
 * its chains are asserted rule by rule, and hand-checked connections are
 * decided by Check and by both nodes' rules on simulated nodes, on the path
 * the kernel gives them (a pod's traffic to its own node through INPUT).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { applyRuleset } from "../../client/agent/apply.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import { ACCEPTED_MARK, ALLOW_MARK, type ChainPlan, PASSED_MARK, type RulesetPlan, compileNode } from "../../server/rules/index.js";
import { SYSTEM } from "../../server/service/index.js";
import { endpoints, load, pathOf } from "./differential-support.js";
import { type FakeNode, FakeRunner, type Protocol } from "./simulator.js";
import { namespace, node, pod } from "./support.js";

const MODEL = "test/fixtures/rules/tiers/guardrail.yaml";
const GOLDEN = "test/fixtures/rules/tiers/guardrail.node-1.txt";
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

const WEB = "10.1.1.10";
const APP = "10.1.1.30";
const PROM = "10.1.2.20";

async function model() {
  return load(readManifestPaths([MODEL]) as Record<string, unknown>[]);
}

/** A chain's rules as `match target` text, without the comment. */
function texts(c: ChainPlan | undefined): string[] {
  assert.ok(c, "no such chain");
  return c.rules.map((r) => [...r.match, ...r.target].join(" "));
}

function chainOf(plan: RulesetPlan, name: string | undefined): ChainPlan {
  const c = plan.chains.ipv4.find((x) => x.name === name);
  assert.ok(c, `no chain ${name}`);
  return c;
}

/** The chain a rule of `from` whose text contains `match` jumps to. */
function jumpOf(plan: RulesetPlan, from: ChainPlan, match: string): ChainPlan {
  const r = from.rules.find((x) => [...x.match, ...x.target].join(" ").includes(match) && x.target[0] === "-j" && x.target[1]!.startsWith("PODWALL-"));
  assert.ok(r, `${from.name} has no jump with ${match}`);
  return chainOf(plan, r.target[1]);
}

describe("policy tiers in a node's ruleset", () => {
  it("node-1's ruleset is byte for byte the golden one", async () => {
    const { rules } = await model();
    const r = rules.rules(SYSTEM, "node-1");
    const text = [
      `# Golden ruleset of node-1 for ${MODEL}. Regenerate with UPDATE_GOLDEN=1 and read the diff.`,
      `version: ${r.version}`,
      `hooks: ${JSON.stringify(r.hooks)}`,
      "===== ipset =====",
      r.ipset.trimEnd(),
      "===== iptables =====",
      r.iptables.trimEnd(),
      "===== ip6tables =====",
      r.ip6tables.trimEnd(),
      "",
    ].join("\n");
    if (UPDATE) writeFileSync(GOLDEN, text);
    assert.ok(existsSync(GOLDEN), `${GOLDEN} is missing: run with UPDATE_GOLDEN=1`);
    assert.equal(text, readFileSync(GOLDEN, "utf8"), `${GOLDEN} differs: if the change is meant, run with UPDATE_GOLDEN=1 and review the diff`);
  });

  it("sends each pod through the Admin tier, then the NetworkPolicy or the Baseline tier unless the Admin tier accepted", async () => {
    const { service } = await model();
    const plan = compileNode(service.cluster, "node-1");
    const guard = `-m mark --mark 0x0/${ACCEPTED_MARK.split("/")[1]}`;
    const top = chainOf(plan, "PODWALL-FORWARD");
    const shardOf = (ip: string) => plan.chains.ipv4.find((c) => c.name.startsWith("PODWALL-FWD-") && c.rules.some((r) => r.match.includes(ip)))!;
    const web = shardOf(WEB);
    const adminIn = jumpOf(plan, web, `-d ${WEB} -j PODWALL-AI-`);
    const adminOut = jumpOf(plan, web, `-s ${WEB} -j PODWALL-AE-`);
    const npIn = jumpOf(plan, web, `-d ${WEB} ${guard} -j PODWALL-IN-`);
    assert.deepEqual(texts(web), [`-s ${WEB} -j ${adminOut.name}`, `-s ${WEB} -d ${WEB} -j RETURN`, `-d ${WEB} -j ${adminIn.name}`, `-d ${WEB} ${guard} -j ${npIn.name}`]);
    // dev/app: no NetworkPolicy isolates it, so the Baseline tier follows; it shares the Admin tier's chains with web.
    const app = shardOf(APP);
    const baselineIn = jumpOf(plan, app, `-d ${APP} ${guard} -j PODWALL-BI-`);
    assert.deepEqual(texts(app), [`-s ${APP} -j ${adminOut.name}`, `-s ${APP} -d ${APP} -j RETURN`, `-d ${APP} -j ${adminIn.name}`, `-d ${APP} ${guard} -j ${baselineIn.name}`]);
    assert.ok(texts(top).includes(`-j ${web.name}`) && texts(top).includes(`-j ${app.name}`));

    // The tier chains: clear both verdict bits, jump to each policy, return once one is set.
    const guardrailIn = jumpOf(plan, adminIn, "-j PODWALL-TI-");
    assert.deepEqual(texts(adminIn), ["-j MARK --set-xmark 0x0/0x60000", `-j ${guardrailIn.name}`, "-m mark ! --mark 0x0/0x60000 -j RETURN"]);
    const defaultDeny = jumpOf(plan, baselineIn, "-j PODWALL-TI-");
    assert.deepEqual(texts(baselineIn), ["-j MARK --set-xmark 0x0/0x60000", `-j ${defaultDeny.name}`, "-m mark ! --mark 0x0/0x60000 -j RETURN"]);
    // Accept and Pass set their bits and stop the policy; Deny drops.
    const set = (name: string) => plan.sets.find((s) => s.about === `pods of namespaces kubernetes.io/metadata.name=${name} matching <all>`)!.name;
    assert.deepEqual(texts(guardrailIn), [
      `-m set --match-set ${set("monitoring")} src -j MARK --set-xmark ${ACCEPTED_MARK}`,
      "-m mark ! --mark 0x0/0x60000 -j RETURN",
      `-m set --match-set ${set("dev")} src -j MARK --set-xmark ${PASSED_MARK}`,
      "-m mark ! --mark 0x0/0x60000 -j RETURN",
    ]);
    assert.deepEqual(
      guardrailIn.rules.map((r) => r.origin.field),
      ["spec.ingress[0]", "spec.ingress[0]", "spec.ingress[1]", "spec.ingress[1]"],
    );
    assert.match(guardrailIn.rules[2]!.origin.note, /^Admin Pass \(dev-to-networkpolicy\) from\[0\] all ports$/);
    const all = plan.sets.find((s) => s.about === "pods of namespaces <all> matching <all>")!.name;
    assert.deepEqual(texts(defaultDeny), [`-m set --match-set ${all} src -j DROP`]);
    const guardrailOut = jumpOf(plan, adminOut, "-j PODWALL-TE-");
    const metadata = plan.sets.find((s) => s.about === "169.254.169.254/32")!;
    const controlPlane = plan.sets.find((s) => s.about === "nodes matching node-role.kubernetes.io/control-plane")!;
    assert.deepEqual(texts(guardrailOut), [`-m set --match-set ${metadata.name} dst -j DROP`, `-m set --match-set ${controlPlane.name} dst -j DROP`]);
    assert.deepEqual(
      controlPlane.entries.map((e) => e.value),
      ["10.0.0.1"],
      "the InternalIPs of the control-plane nodes",
    );
    // The NetworkPolicy chain is as it is without tiers: its own allow mark, REJECT.
    assert.ok(texts(npIn).includes(`-m mark --mark ${ALLOW_MARK} -j RETURN`));
    assert.ok(texts(npIn).at(-1)!.includes("-j REJECT"));

    // A pod's traffic to its own node: INPUT, through the Admin tier alone (web is isolated for ingress only; app by nothing).
    assert.deepEqual(
      plan.hooks.filter((h) => h.chain === "INPUT"),
      [{ family: "ipv4", table: "filter", chain: "INPUT", rule: "-j PODWALL-INPUT" }],
    );
    assert.deepEqual(texts(chainOf(plan, "PODWALL-INPUT")), ["-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN", "-d 10.0.0.1 -j PODWALL-NODE"]);
    assert.deepEqual(texts(chainOf(plan, "PODWALL-NODE")), [`-s ${APP} -j ${adminOut.name}`, `-s ${WEB} -j ${adminOut.name}`]);
    assert.ok(!plan.chains.ipv6.some((c) => c.name.startsWith("PODWALL-INPUT")), "no IPv6 address, no IPv6 INPUT chain");
  });

  const cases: { src: string; dst: string; proto: Protocol; port: number; allowed: boolean; by: "DROP" | "REJECT" | ""; why: string }[] = [
    { src: PROM, dst: WEB, proto: "TCP", port: 9999, allowed: true, by: "", why: "Admin Accept: the NetworkPolicy, which takes dev alone, is skipped" },
    { src: PROM, dst: APP, proto: "UDP", port: 53, allowed: true, by: "", why: "Admin Accept: the Baseline deny is skipped" },
    { src: APP, dst: WEB, proto: "TCP", port: 8080, allowed: true, by: "", why: "Admin Pass, then the NetworkPolicy allows http from dev" },
    { src: APP, dst: WEB, proto: "TCP", port: 9090, allowed: false, by: "REJECT", why: "Admin Pass, then the NetworkPolicy rejects" },
    { src: APP, dst: WEB, proto: "UDP", port: 8080, allowed: false, by: "REJECT", why: "http is TCP" },
    { src: WEB, dst: APP, proto: "TCP", port: 80, allowed: false, by: "DROP", why: "no Admin rule matches; app is not isolated: the Baseline deny drops" },
    { src: "8.8.8.8", dst: APP, proto: "TCP", port: 80, allowed: true, by: "", why: "the Baseline deny is for pods only" },
    { src: "10.0.0.2", dst: APP, proto: "TCP", port: 80, allowed: true, by: "", why: "nor for nodes" },
    { src: "8.8.8.8", dst: WEB, proto: "TCP", port: 8080, allowed: false, by: "REJECT", why: "the NetworkPolicy takes dev alone" },
    { src: WEB, dst: "169.254.169.254", proto: "TCP", port: 80, allowed: false, by: "DROP", why: "Admin Deny of the metadata service" },
    { src: WEB, dst: "8.8.8.8", proto: "UDP", port: 53, allowed: true, by: "", why: "no rule for it" },
    { src: WEB, dst: "10.0.0.1", proto: "TCP", port: 6443, allowed: false, by: "DROP", why: "Admin Deny of the control-plane nodes, its own node among them (INPUT)" },
    { src: APP, dst: "10.0.0.1", proto: "TCP", port: 10250, allowed: false, by: "DROP", why: "the same for a pod that no NetworkPolicy isolates" },
    { src: WEB, dst: "10.0.0.2", proto: "TCP", port: 10250, allowed: true, by: "", why: "node-2 is no control-plane node" },
  ];

  it("decides hand-checked connections alike in Check and in the rules of both nodes", async () => {
    const { service, rules } = await model();
    const nodes = new Map<string, FakeNode>();
    for (const n of ["node-1", "node-2"]) {
      const run = new FakeRunner();
      await applyRuleset(run, rules.rules(SYSTEM, n));
      nodes.set(n, run.node);
    }
    const ends = endpoints(service, "ipv4");
    for (const c of cases) {
      const what = `${c.src} -> ${c.dst} ${c.proto}/${c.port} (${c.why})`;
      assert.equal(service.check(SYSTEM, { src: c.src, dst: c.dst, protocol: c.proto, port: c.port }).allowed, c.allowed, `Check: ${what}`);
      const a = ends.find((e) => e.ip === c.src)!;
      const b = ends.find((e) => e.ip === c.dst) ?? { label: c.dst, ip: c.dst, kind: "external" as const };
      let verdict = "ACCEPT";
      const trace: string[] = [];
      for (const hop of pathOf(a, b)) {
        const pkt = { family: "ipv4" as const, src: c.src, dst: c.dst, protocol: c.proto, dport: c.port };
        const r = hop.hook === "FORWARD" ? nodes.get(hop.node)!.forward(pkt) : nodes.get(hop.node)!.input(pkt);
        trace.push(`${hop.hook} on ${hop.node}:`, ...r.trace);
        verdict = r.verdict;
        if (verdict !== "ACCEPT") break;
      }
      assert.equal(verdict === "ACCEPT", c.allowed, `rules: ${what}\n${trace.join("\n")}`);
      if (!c.allowed) assert.equal(verdict, c.by, `${what}: a tier's Deny drops, a NetworkPolicy rejects\n${trace.join("\n")}`);
    }
  });

  it("keeps today's ruleset, to the byte, while the model holds no cluster-scoped policy", async () => {
    const objects = readManifestPaths([MODEL]) as Record<string, unknown>[];
    const without = objects.filter((o) => o["kind"] !== "ClusterNetworkPolicy");
    const plan = compileNode((await load(without)).service.cluster, "node-1");
    assert.deepEqual(
      plan.hooks.map((h) => h.chain),
      ["FORWARD", "FORWARD"],
    );
    for (const c of plan.chains.ipv4) assert.match(c.name, /^PODWALL-(FORWARD|FWD-.|IN-.*|PI-.*)$/);
    // A policy that selects no pod adds nothing either, but the tiers' INPUT chain needs a subject.
    const idle = {
      apiVersion: "policy.networking.k8s.io/v1alpha2",
      kind: "ClusterNetworkPolicy",
      metadata: { name: "idle" },
      spec: { tier: "Admin", priority: 1, subject: { namespaces: { matchLabels: { none: "x" } } }, egress: [{ action: "Deny", to: [{ networks: ["0.0.0.0/0"] }] }] },
    };
    const withIdle = compileNode((await load([...without, idle])).service.cluster, "node-1");
    assert.deepEqual(withIdle.chains, plan.chains);
    assert.deepEqual(withIdle.hooks, plan.hooks);
  });

  it("gives each family its own INPUT chains, and none to a node without an address of the family", async () => {
    const cnp = {
      apiVersion: "policy.networking.k8s.io/v1alpha2",
      kind: "ClusterNetworkPolicy",
      metadata: { name: "no-nodes" },
      spec: { tier: "Baseline", priority: 1, subject: { namespaces: {} }, egress: [{ action: "Deny", to: [{ nodes: {} }] }] },
    };
    const objects = [
      namespace("app"),
      node("node-1", "10.0.0.1", "fd00::1"),
      node("node-2", "10.0.0.2"),
      pod("app/a", { node: "node-1", ips: ["10.1.1.1", "fd10::1:1"] }),
      pod("app/b", { node: "node-2", ips: ["10.1.2.1", "fd10::2:1"] }),
      cnp,
    ];
    const { service } = await load(objects);
    const one = compileNode(service.cluster, "node-1");
    assert.deepEqual(
      one.hooks.map((h) => `${h.family} ${h.chain} ${h.rule}`),
      ["ipv4 FORWARD -j PODWALL-FORWARD", "ipv6 FORWARD -j PODWALL-FORWARD", "ipv4 INPUT -j PODWALL-INPUT", "ipv6 INPUT -j PODWALL-INPUT6"],
    );
    assert.deepEqual(texts(one.chains.ipv6.find((c) => c.name === "PODWALL-INPUT6")), ["-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN", "-d fd00::1 -j PODWALL-NODE6"]);
    const two = compileNode(service.cluster, "node-2");
    assert.deepEqual(
      two.hooks.filter((h) => h.chain === "INPUT").map((h) => h.family),
      ["ipv4"],
    );
  });
});
