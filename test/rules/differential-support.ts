/**
 * What the differential tests share: the endpoints of a model, the path a
 * first packet takes through the nodes' netfilter hooks as the kernel
 * routes it, the rulesets installed on simulated nodes (through the agent's
 * own apply code, fresh and over an earlier version, and reached through the
 * rules service's incremental path), and a walk of each connection compared
 * with Check.
 *
 * Where the kernel sends a packet, and so which of our chains it meets:
 * a pod to itself stays in the pod (none); a pod to its own node's address is
 * delivered to that node (INPUT); a node (or host-network pod) to a pod on it
 * leaves through OUTPUT (none); anything else between a pod and another end
 * is forwarded by the pod's node (FORWARD), then by the other pod's node, or
 * delivered to the other node (INPUT).
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { applyRuleset } from "../../client/agent/apply.js";
import { type Kind, isLive } from "../../server/model/types.js";
import { type Ruleset, comment, compileNode } from "../../server/rules/index.js";
import { type Decision, PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { EXTERNALS, PORTS, PROTOCOLS } from "./random-model.js";
import { type Family, type FakeNode, FakeRunner, type Packet, type Rule } from "./simulator.js";

export interface End {
  readonly label: string;
  readonly ip: string;
  readonly kind: "pod" | "node" | "external";
  readonly node?: string;
}

export interface Hop {
  readonly node: string;
  readonly hook: "FORWARD" | "INPUT";
}

export async function load(objects: readonly Record<string, unknown>[]): Promise<{ service: PodwallService; rules: RulesService }> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, objects);
  return { service, rules: new RulesService(service) };
}

export function endpoints(service: PodwallService, family: Family): End[] {
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

/** The hooks a first packet from `a` to `b` crosses, in order, or none. */
export function pathOf(a: End, b: End): Hop[] {
  if (a.kind === "pod") {
    if (a.ip === b.ip) return [];
    const first: Hop = { node: a.node!, hook: "FORWARD" };
    if (b.kind === "node") return b.node === a.node ? [{ node: a.node!, hook: "INPUT" }] : [first, { node: b.node!, hook: "INPUT" }];
    return b.kind === "pod" && b.node !== a.node ? [first, { node: b.node!, hook: "FORWARD" }] : [first];
  }
  if (b.kind !== "pod" || (a.kind === "node" && a.node === b.node)) return [];
  return [{ node: b.node!, hook: "FORWARD" }];
}

/** The rule texts the simulated node holds must be exactly the plan's rules: the simulator reads the plan, through its text. */
export function assertHoldsPlan(node: FakeNode, service: PodwallService, name: string, r: Ruleset): void {
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
    for (const builtin of ["FORWARD", "INPUT"]) {
      assert.deepEqual(
        held.get(builtin),
        r.hooks.filter((h) => h.family === family && h.chain === builtin).map((h) => h.rule.split(" ")),
        `${name} ${family}: hooks in ${builtin}`,
      );
    }
  }
  assert.deepEqual([...node.sets.keys()].sort(), plan.sets.map((s) => s.name).sort(), `${name}: sets`);
  for (const s of plan.sets) {
    const members = [...node.sets.get(s.name)!.entries].map(([v, nomatch]) => ({ value: v, nomatch })).sort((x, y) => (x.value < y.value ? -1 : 1));
    const planned = s.entries.map((e) => ({ value: e.value, nomatch: e.nomatch })).sort((x, y) => (x.value < y.value ? -1 : 1));
    assert.deepEqual(members, planned, `${name}: members of ${s.name} (${s.about})`);
  }
}

export function snapshot(node: FakeNode): string {
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

function keyOf(o: Record<string, unknown>): string {
  const m = o["metadata"] as { namespace?: string; name: string };
  return `${o["kind"]}/${m.namespace ?? ""}/${m.name}`;
}

/** A ruleset as plain data (the texts may be getters). */
export function plain(r: Ruleset): Record<string, unknown> {
  return { node: r.node, version: r.version, ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables, hooks: r.hooks };
}

const POLICY_KINDS = new Set(["NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]);

/**
 * The model's rulesets, reached through the rules service's incremental path
 * in three ways, each checked against a compile from scratch: the earlier
 * model replaced by this one; this model without policies, then one policy per
 * write; and the earlier model updated object by object into this one.
 * Rulesets are read after every write, so each write has memos to undo.
 * Returns the earlier model's rulesets, and how many were compared.
 */
export async function incrementally(
  objects: Record<string, unknown>[],
  earlier: Record<string, unknown>[],
  fresh: RulesService,
  nodes: readonly string[],
): Promise<{ before: Map<string, Ruleset>; compared: number }> {
  const before = new Map<string, Ruleset>();
  const s1 = await PodwallService.start({ cacheSize: 0 });
  const r1 = new RulesService(s1);
  await s1.applyObjects(SYSTEM, earlier, true);
  for (const n of nodes) before.set(n, r1.rules(SYSTEM, n));
  await s1.applyObjects(SYSTEM, objects, true);
  const s2 = await PodwallService.start({ cacheSize: 0 });
  const r2 = new RulesService(s2);
  const isPolicy = (o: Record<string, unknown>) => POLICY_KINDS.has(o["kind"] as string);
  await s2.applyObjects(
    SYSTEM,
    objects.filter((o) => !isPolicy(o)),
  );
  for (const o of objects.filter(isPolicy)) {
    for (const n of nodes) r2.rules(SYSTEM, n);
    await s2.applyObjects(SYSTEM, [o]);
  }
  // The earlier model updated object by object into this one: what this model lacks is deleted,
  // then pods change labels, ports, node and state, namespaces and nodes their labels, policies their spec.
  const s3 = await PodwallService.start({ cacheSize: 0 });
  const r3 = new RulesService(s3);
  await s3.applyObjects(SYSTEM, earlier, true);
  // Deletes first: a pod of the same name in another namespace may hold the same address.
  const keys = new Set(objects.map(keyOf));
  for (const o of earlier) {
    if (keys.has(keyOf(o))) continue;
    for (const n of nodes) r3.rules(SYSTEM, n);
    const m = o["metadata"] as { namespace?: string; name: string };
    await s3.delete(SYSTEM, o["kind"] as Kind, m.namespace ?? "", m.name);
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
  return { before, compared: 3 * nodes.length };
}

/** Each node's ruleset on a fresh simulated node, checked to hold the plan and to equal an apply over `before`'s version. */
export async function install(rules: RulesService, service: PodwallService, before: Map<string, Ruleset>): Promise<Map<string, FakeNode>> {
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
    nodes.set(name, fresh.node);
  }
  return nodes;
}

/** One connection as the rules on its path decide it. */
export interface Cell {
  readonly a: End;
  readonly b: End;
  readonly packet: Packet;
  readonly path: readonly Hop[];
  readonly allowed: boolean;
  /** What Check says. */
  readonly decided: boolean;
  readonly answer: Decision;
  readonly trace: readonly string[];
  readonly hits: readonly Rule[];
}

/**
 * Every ordered pair of endpoints (one at least a pod) in each family, on each
 * protocol and port: the rules on the path and Check must agree; then `visit`
 * sees the cell (for statistics and further checks). `mark` gives the mark a packet comes with.
 */
export function compareCells(
  service: PodwallService,
  nodes: ReadonlyMap<string, FakeNode>,
  objects: readonly Record<string, unknown>[],
  visit: (cell: Cell) => void,
  mark: (i: number) => number = () => 0,
): void {
  let i = 0;
  for (const family of ["ipv4", "ipv6"] as const) {
    const ends = endpoints(service, family);
    for (const a of ends) {
      for (const b of ends) {
        if (a === b || (a.kind !== "pod" && b.kind !== "pod")) continue;
        const path = pathOf(a, b);
        for (const protocol of PROTOCOLS) {
          for (const port of PORTS) {
            const packet: Packet = { family, src: a.ip, dst: b.ip, protocol, dport: port, mark: mark(i++) };
            let allowed = true;
            const trace: string[] = [];
            const hits: Rule[] = [];
            for (const hop of path) {
              const node = nodes.get(hop.node)!;
              const r = hop.hook === "FORWARD" ? node.forward(packet) : node.input(packet);
              trace.push(`${hop.hook} on ${hop.node}:`, ...r.trace.map((t) => `  ${t}`));
              hits.push(...r.hits);
              if (r.verdict !== "ACCEPT") {
                allowed = false;
                break;
              }
            }
            const answer = service.check(SYSTEM, { src: a.ip, dst: b.ip, protocol, port });
            const decided = answer.allowed;
            if (decided === allowed) {
              visit({ a, b, packet, path, allowed, decided, answer, trace, hits });
              continue;
            }
            const why = service.check(SYSTEM, { src: a.ip, dst: b.ip, protocol, port, explain: true });
            assert.fail(
              [
                `${a.label} (${a.ip}) -> ${b.label} (${b.ip}) ${protocol}/${port}: rules say ${allowed ? "allowed" : "denied"}, Check says ${decided ? "allowed" : "denied"}`,
                `path: ${path.length === 0 ? "none of our hooks" : path.map((h) => `${h.hook} on ${h.node}`).join(" -> ")}; mark ${packet.mark}`,
                ...trace,
                `check: ${JSON.stringify({ egress: why.egress, ingress: why.ingress })}`,
                "model:",
                stringify(objects.filter((o) => o["kind"] !== "Node")),
              ].join("\n"),
            );
          }
        }
      }
    }
  }
}
