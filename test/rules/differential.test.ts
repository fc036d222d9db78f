/**
 * The compiled rules never disagree with Check. For random small models, each
 * node's ruleset is installed on a simulated node through the agent's own
 * apply code (test/rules/simulator.ts), and for every ordered pair of
 * endpoints (pods, node addresses, outside addresses) in each family, on each
 * protocol and a few ports, a first packet is walked through the FORWARD
 * chains it crosses: the source pod's node, then the destination pod's node
 * (once when both are on one node). The verdict must equal Check's `allowed`.
 *
 * Where the kernel sends a packet elsewhere, it never meets our rules: a pod
 * to itself stays in the pod; a pod to its own node's address goes to INPUT;
 * a node (or host-network pod) to a pod on it leaves through OUTPUT.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { applyRuleset } from "../../client/agent/apply.js";
import { isLive } from "../../server/model/types.js";
import { type Ruleset, comment, compileNode } from "../../server/rules/index.js";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { EXTERNALS, PORTS, PROTOCOLS, modelArb } from "./random-model.js";
import { type Family, type FakeNode, FakeRunner, type Packet, type Rule } from "./simulator.js";

const RUNS = Number(process.env["PODWALL_DIFF_RUNS"] ?? 250);

interface End {
  readonly label: string;
  readonly ip: string;
  readonly kind: "pod" | "node" | "external";
  readonly node?: string;
}

async function load(objects: readonly Record<string, unknown>[]): Promise<{ service: PodwallService; rules: RulesService }> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, objects);
  return { service, rules: new RulesService(service) };
}

function endpoints(service: PodwallService, family: Family): End[] {
  const c = service.cluster;
  const out: End[] = [];
  const taken = new Set<string>();
  for (const pod of [...c.pods.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const ip = pod.ips.find((a) => a.family === family);
    if (!ip || !pod.nodeName || pod.hostNetwork) continue;
    // A terminated pod has released its address: it is an outside address now.
    if (!isLive(pod)) continue;
    out.push({ label: pod.key, ip: ip.text, kind: "pod", node: pod.nodeName });
    taken.add(ip.text);
  }
  for (const n of c.nodes.values()) {
    for (const a of n.addresses) if (a.family === family) out.push({ label: `node ${n.name}`, ip: a.text, kind: "node", node: n.name }), taken.add(a.text);
  }
  const outside = [...EXTERNALS[family], ...[...c.pods.values()].filter((p) => !isLive(p)).flatMap((p) => p.ips.filter((a) => a.family === family).map((a) => a.text))];
  for (const ip of new Set(outside)) if (!taken.has(ip)) out.push({ label: ip, ip, kind: "external" });
  return out;
}

/** The nodes whose FORWARD a first packet from `a` to `b` crosses, or a verdict when it crosses none. */
function hopsOf(a: End, b: End): string[] | "never-forwarded" {
  if (a.kind === "pod") {
    if (a.ip === b.ip) return "never-forwarded";
    if (b.kind === "node" && b.node === a.node) return "never-forwarded";
    return b.kind === "pod" && b.node !== a.node ? [a.node!, b.node!] : [a.node!];
  }
  if (b.kind !== "pod") return "never-forwarded";
  if (a.kind === "node" && a.node === b.node) return "never-forwarded";
  return [b.node!];
}

/** The rule texts the simulated node holds must be exactly the plan's rules: the simulator reads the plan, through its text. */
function assertHoldsPlan(node: FakeNode, service: PodwallService, name: string, r: Ruleset): void {
  const plan = compileNode(service.cluster, name);
  for (const family of ["ipv4", "ipv6"] as const) {
    const held = node.chainArgs(family);
    const ours = [...held.keys()].filter((c) => c.startsWith("PODWALL-")).sort();
    assert.deepEqual(ours, plan.chains[family].map((c) => c.name).sort(), `${name} ${family}: chains`);
    for (const c of plan.chains[family]) {
      assert.deepEqual(
        held.get(c.name),
        c.rules.map((x) => ["-m", "comment", "--comment", comment(x.origin), ...x.match, ...x.target]),
        `${name} ${family}: ${c.name}`,
      );
    }
    assert.deepEqual(
      held.get("FORWARD"),
      r.hooks.filter((h) => h.family === family).map((h) => h.rule.split(" ")),
      `${name} ${family}: hooks`,
    );
  }
  assert.deepEqual([...node.sets.keys()].sort(), plan.sets.map((s) => s.name).sort(), `${name}: sets`);
  for (const s of plan.sets) {
    const members = [...node.sets.get(s.name)!.entries].map(([v, nomatch]) => ({ value: v, nomatch })).sort((x, y) => (x.value < y.value ? -1 : 1));
    const planned = s.entries.map((e) => ({ value: e.value, nomatch: e.nomatch })).sort((x, y) => (x.value < y.value ? -1 : 1));
    assert.deepEqual(members, planned, `${name}: members of ${s.name} (${s.about})`);
  }
}

function snapshot(node: FakeNode): string {
  const sets = [...node.sets]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([n, s]) =>
        `${n} ${s.type} ${s.family} ${[...s.entries]
          .map(([v, m]) => `${v}${m ? "!" : ""}`)
          .sort()
          .join(",")}`,
    );
  return [node.save("ipv4"), node.save("ipv6"), ...sets].join("\n");
}

const stats = { models: 0, cells: 0, allowed: 0, denied: 0, twoHops: 0, ipv6: 0, upgraded: 0, incremental: 0, features: new Map<string, number>() };

/** Whether the port entry a rule comment names (`ns/name spec.ingress[0] from[1] ports[2]`) is a named port. */
function namedPortRule(comment: string | undefined, objects: readonly Record<string, unknown>[]): boolean {
  const m = /^(\S+)\/(\S+) spec\.(ingress|egress)\[(\d+)\] .* ports\[(\d+)\]$/.exec(comment ?? "");
  if (!m) return false;
  const p = objects.find(
    (o) => o["kind"] === "NetworkPolicy" && (o["metadata"] as { namespace: string; name: string }).namespace === m[1] && (o["metadata"] as { name: string }).name === m[2],
  );
  const spec = p?.["spec"] as Record<string, { ports?: { port?: unknown }[] }[] | undefined> | undefined;
  return typeof spec?.[m[3]!]?.[Number(m[4])]?.ports?.[Number(m[5])]?.port === "string";
}

/** What decided an allow: the MARK rule that matched, by the kind of match it holds. */
function tally(hits: readonly Rule[], family: Family, objects: readonly Record<string, unknown>[]): void {
  const add = (x: string) => stats.features.set(x, (stats.features.get(x) ?? 0) + 1);
  for (const r of hits) {
    if (r.target.kind === "REJECT") add(`reject ${r.target.with}`);
    if (r.target.kind !== "MARK" || r.target.value === 0) continue;
    const text = r.args.join(" ");
    const c = r.comment ?? "";
    if (text.includes("PODWALL-PODS-")) add("pod peer");
    if (text.includes("PODWALL-NETS-")) add("ipBlock peer");
    if (namedPortRule(c, objects)) add(c.includes("spec.ingress") ? "named port ingress" : "named port egress");
    if (/--dport \d+:\d+/.test(text)) add("port range");
    if (text.includes("-p sctp")) add("sctp");
    if (text.includes("-p udp")) add("udp");
    if (!text.includes("-p ")) add("all ports");
    if (family === "ipv6") add("ipv6 allow");
    if (c.includes("spec.egress")) add("egress rule");
    if (c.includes("spec.ingress")) add("ingress rule");
  }
}

function keyOf(o: Record<string, unknown>): string {
  const m = o["metadata"] as { namespace?: string; name: string };
  return `${o["kind"]}/${m.namespace ?? ""}/${m.name}`;
}

/** A ruleset as plain data (the texts may be getters). */
function plain(r: Ruleset): Record<string, unknown> {
  return { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks };
}

/**
 * The model's rulesets, reached through the rules service's incremental path
 * in three ways, each checked against a compile from scratch: the earlier
 * model replaced by this one; this model without policies, then one policy per
 * write; and the earlier model updated object by object into this one. Rulesets are read after every write, so each write has memos to undo.
 */
async function incrementally(objects: Record<string, unknown>[], earlier: Record<string, unknown>[], fresh: RulesService, nodes: readonly string[]): Promise<Map<string, Ruleset>> {
  const before = new Map<string, Ruleset>();
  const s1 = await PodwallService.start({ cacheSize: 0 });
  const r1 = new RulesService(s1);
  await s1.applyObjects(SYSTEM, earlier, true);
  for (const n of nodes) before.set(n, r1.rules(SYSTEM, n));
  await s1.applyObjects(SYSTEM, objects, true);
  const s2 = await PodwallService.start({ cacheSize: 0 });
  const r2 = new RulesService(s2);
  await s2.applyObjects(
    SYSTEM,
    objects.filter((o) => o["kind"] !== "NetworkPolicy"),
  );
  for (const o of objects.filter((x) => x["kind"] === "NetworkPolicy")) {
    for (const n of nodes) r2.rules(SYSTEM, n);
    await s2.applyObjects(SYSTEM, [o]);
  }
  // The earlier model updated object by object into this one: what this model lacks is deleted,
  // then pods change labels, ports, node and state, namespaces their labels, policies their spec.
  const s3 = await PodwallService.start({ cacheSize: 0 });
  const r3 = new RulesService(s3);
  await s3.applyObjects(SYSTEM, earlier, true);
  // Deletes first: a pod of the same name in another namespace may hold the same address.
  const keys = new Set(objects.map(keyOf));
  for (const o of earlier) {
    if (keys.has(keyOf(o))) continue;
    for (const n of nodes) r3.rules(SYSTEM, n);
    const m = o["metadata"] as { namespace: string; name: string };
    await s3.delete(SYSTEM, o["kind"] as "Pod" | "NetworkPolicy", m.namespace, m.name);
  }
  for (const o of objects) {
    for (const n of nodes) r3.rules(SYSTEM, n);
    await s3.applyObjects(SYSTEM, [o]);
  }
  for (const n of nodes) {
    const want = plain(fresh.rules(SYSTEM, n));
    assert.deepEqual(plain(r1.rules(SYSTEM, n)), want, `${n}: the earlier model replaced by this one gives another ruleset than a compile from scratch`);
    assert.deepEqual(plain(r2.rules(SYSTEM, n)), want, `${n}: this model written policy by policy gives another ruleset than a compile from scratch`);
    assert.deepEqual(plain(r3.rules(SYSTEM, n)), want, `${n}: the earlier model updated object by object into this one gives another ruleset than a compile from scratch`);
  }
  stats.incremental += 3 * nodes.length;
  return before;
}

async function install(rules: RulesService, service: PodwallService, before: Map<string, Ruleset>): Promise<Map<string, FakeNode>> {
  const nodes = new Map<string, FakeNode>();
  for (const name of [...service.cluster.nodes.keys()].sort()) {
    const r = rules.rules(SYSTEM, name);
    const fresh = new FakeRunner();
    await applyRuleset(fresh, r);
    assertHoldsPlan(fresh.node, service, name, r);
    // Over an earlier version: the same state as on a fresh node.
    const upgraded = new FakeRunner();
    await applyRuleset(upgraded, before.get(name)!);
    await applyRuleset(upgraded, r);
    assert.equal(snapshot(upgraded.node), snapshot(fresh.node), `${name}: applying over an earlier version differs from a fresh apply`);
    stats.upgraded++;
    nodes.set(name, fresh.node);
  }
  return nodes;
}

async function compare(objects: Record<string, unknown>[], earlier: Record<string, unknown>[]): Promise<void> {
  const { service, rules } = await load(objects);
  const names = [...service.cluster.nodes.keys()].sort();
  const nodes = await install(rules, service, await incrementally(objects, earlier, rules, names));
  stats.models++;
  for (const family of ["ipv4", "ipv6"] as const) {
    const ends = endpoints(service, family);
    for (const a of ends) {
      for (const b of ends) {
        if (a === b || (a.kind !== "pod" && b.kind !== "pod")) continue;
        const hops = hopsOf(a, b);
        for (const protocol of PROTOCOLS) {
          for (const port of PORTS) {
            const pkt: Packet = { family, src: a.ip, dst: b.ip, protocol, dport: port };
            let allowed = true;
            const trace: string[] = [];
            const hits: Rule[] = [];
            if (hops !== "never-forwarded") {
              for (const hop of hops) {
                const r = nodes.get(hop)!.forward(pkt);
                trace.push(`on ${hop}:`, ...r.trace.map((t) => `  ${t}`));
                hits.push(...r.hits);
                if (r.verdict !== "ACCEPT") {
                  allowed = false;
                  break;
                }
              }
            }
            const decided = service.check(SYSTEM, { src: a.ip, dst: b.ip, protocol, port });
            stats.cells++;
            if (allowed) stats.allowed++;
            else stats.denied++;
            if (hops !== "never-forwarded" && hops.length === 2) stats.twoHops++;
            if (family === "ipv6") stats.ipv6++;
            tally(hits, family, objects);
            if (decided.allowed !== allowed) {
              const why = service.check(SYSTEM, { src: a.ip, dst: b.ip, protocol, port, explain: true });
              assert.fail(
                [
                  `${a.label} (${a.ip}) -> ${b.label} (${b.ip}) ${protocol}/${port}: rules say ${allowed ? "allowed" : "denied"}, Check says ${decided.allowed ? "allowed" : "denied"}`,
                  `path: ${hops === "never-forwarded" ? "never forwarded" : hops.join(" -> ")}`,
                  ...trace,
                  `check: ${JSON.stringify({ egress: why.egress, ingress: why.ingress })}`,
                  "model:",
                  stringify(objects.filter((o) => o["kind"] === "Pod" || o["kind"] === "NetworkPolicy" || o["kind"] === "Namespace")),
                ].join("\n"),
              );
            }
          }
        }
      }
    }
  }
}

describe("compiled rules against Check, on random models", () => {
  it(`agree on every pair, protocol and port (${RUNS} models)`, async (t) => {
    await fc.assert(
      fc.asyncProperty(modelArb, modelArb, async (model, earlier) => compare(model, earlier)),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    const f = Object.fromEntries([...stats.features].sort());
    t.diagnostic(
      `models ${stats.models}, cells ${stats.cells} (allowed ${stats.allowed}, denied ${stats.denied}, two nodes ${stats.twoHops}, ipv6 ${stats.ipv6}), applies over an earlier version ${stats.upgraded}, incremental rulesets checked ${stats.incremental}`,
    );
    t.diagnostic(`allow decided by: ${JSON.stringify(f)}`);
    // The generator must keep reaching every kind of rule, or this test proves less than it claims.
    for (const feature of [
      "pod peer",
      "ipBlock peer",
      "named port ingress",
      "named port egress",
      "port range",
      "sctp",
      "udp",
      "all ports",
      "ipv6 allow",
      "egress rule",
      "ingress rule",
      "reject tcp-reset",
      "reject icmp-port-unreachable",
      "reject icmp6-port-unreachable",
    ]) {
      assert.ok((stats.features.get(feature) ?? 0) > 0, `no cell was decided by a rule with ${feature}`);
    }
    assert.ok(stats.allowed > stats.cells / 10 && stats.denied > stats.cells / 10, `allowed ${stats.allowed} / denied ${stats.denied}: too lopsided`);
    assert.ok(stats.twoHops > 0 && stats.ipv6 > 0);
  });
});
