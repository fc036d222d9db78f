/**
 * The compiled rules never disagree with Check. For random small models, each
 * node's ruleset is installed on a simulated node through the agent's own
 * apply code (test/rules/simulator.ts), and for every ordered pair of
 * endpoints (pods, node addresses, outside addresses) in each family, on each
 * protocol and a few ports, a first packet is walked through the hooks it
 * crosses as the kernel routes it (differential-support.ts): the source pod's
 * node, then the destination pod's node (once when both are on one node).
 * The verdict must equal Check's `allowed`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type Cell, compareCells, incrementally, install, load } from "./differential-support.js";
import { modelArb } from "./random-model.js";
import type { Family, Rule } from "./simulator.js";

const RUNS = Number(process.env["PODWALL_DIFF_RUNS"] ?? 250);

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

async function compare(objects: Record<string, unknown>[], earlier: Record<string, unknown>[]): Promise<void> {
  const { service, rules } = await load(objects);
  const names = [...service.cluster.nodes.keys()].sort();
  const { before, compared } = await incrementally(objects, earlier, rules, names);
  stats.incremental += compared;
  const nodes = await install(rules, service, before);
  stats.upgraded += nodes.size;
  stats.models++;
  compareCells(service, nodes, objects, (cell: Cell) => {
    stats.cells++;
    if (cell.allowed) stats.allowed++;
    else stats.denied++;
    if (cell.path.filter((h) => h.hook === "FORWARD").length === 2) stats.twoHops++;
    if (cell.packet.family === "ipv6") stats.ipv6++;
    tally(cell.hits, cell.packet.family, objects);
  });
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
