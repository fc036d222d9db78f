/**
 * The compiled rules never disagree with Check, with the policy tiers: random
 * small models (test/rules/random-model.ts's tieredModelArb) hold one to four
 * cluster-scoped policies of every kind and tier, with every action, subjects
 * of namespaces and of pods, peers of every type (nodes and networks among
 * them) and named ports, beside NetworkPolicies, host-network pods and
 * terminated ones. Each node's ruleset is installed on a simulated node (also
 * over the earlier model's, and reached incrementally from it), and every
 * connection between endpoints is walked through the hooks the kernel sends
 * it to (differential-support.ts): a pod's traffic to its own node through
 * INPUT. The packets come with marks other rules may have set, which the
 * rules must not read as theirs.
 *
 * Besides agreeing with Check, a denial is a DROP exactly when a tier's Deny
 * decided it, and a REJECT when a NetworkPolicy did.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { DirectionView } from "../../server/service/index.js";
import { type Cell, compareCells, incrementally, install, load } from "./differential-support.js";
import { tieredModelArb } from "./random-model.js";
import type { Rule } from "./simulator.js";

const RUNS = Number(process.env["PODWALL_DIFF_TIER_RUNS"] ?? 150);
/** The marks packets come with: none, and every combination of the bits the rules use. */
const MARKS = [0, 0x10000, 0x20000, 0x40000, 0x60000, 0x70000, 0xfff0000];

const stats = { models: 0, cells: 0, allowed: 0, denied: 0, ownNode: 0, features: new Map<string, number>() };

function add(feature: string): void {
  stats.features.set(feature, (stats.features.get(feature) ?? 0) + 1);
}

type Manifest = Record<string, unknown>;

/** The port entry a tier rule's comment names (`Kind/name spec.egress[0] Admin Deny (x) to[1] protocols[2]`), from the model. */
function portEntry(comment: string, objects: readonly Manifest[]): Record<string, unknown> | undefined {
  const m = /^(\w+)\/(\S+) spec\.(ingress|egress)\[(\d+)\] .* (?:protocols|ports)\[(\d+)\]$/.exec(comment);
  if (!m) return undefined;
  const p = objects.find((o) => o["kind"] === m[1] && (o["metadata"] as { name: string }).name === m[2]);
  const rules = (p?.["spec"] as Record<string, Record<string, Record<string, unknown>[]>[]> | undefined)?.[m[3]!];
  const rule = rules?.[Number(m[4])];
  return (rule?.["protocols"] ?? rule?.["ports"])?.[Number(m[5])];
}

/** What the tier rules that matched hold, by the action and the kind of match. */
function tally(hits: readonly Rule[], objects: readonly Manifest[]): void {
  for (const r of hits) {
    const c = r.comment ?? "";
    const action = / (Admin|Baseline) (Accept|Allow|Deny|Pass)\b/.exec(c);
    if (!action || (r.target.kind !== "DROP" && r.target.kind !== "MARK")) continue;
    add(`${action[1]} ${action[2] === "Allow" ? "Accept" : action[2]}`);
    const text = r.args.join(" ");
    if (text.includes("PODWALL-PODS-")) add("pods or namespaces peer");
    if (text.includes("PODWALL-NODES-")) add("nodes peer");
    if (/PODWALL-NETS-\S+ dst/.test(text)) add("networks peer");
    const port = portEntry(c, objects);
    if (port && ("destinationNamedPort" in port || "namedPort" in port)) add(c.includes("spec.ingress") ? "named port ingress" : "named port egress");
    if (/--dport \d+:\d+/.test(text)) add("port range");
    if (r.args.includes("-s") || r.args.includes("src")) add("ingress rule");
  }
}

/** The directions that deny, by Check's answer: the rules stop at whichever they meet first. */
function denying(cell: Cell): DirectionView[] {
  return [cell.answer.egress, cell.answer.ingress].filter((d) => !d.allowed);
}

function visit(cell: Cell, objects: readonly Manifest[]): void {
  stats.cells++;
  if (cell.allowed) stats.allowed++;
  else stats.denied++;
  if (cell.path.some((h) => h.hook === "INPUT" && cell.b.node === cell.a.node)) {
    stats.ownNode++;
    add(cell.allowed ? "own node allowed" : "own node denied");
  }
  tally(cell.hits, objects);
  if (cell.allowed) {
    // The guard: an Admin Accept skips the NetworkPolicy chain, which would have been walked otherwise.
    for (const d of [cell.answer.egress, cell.answer.ingress]) if (d.isolated && d.decidedBy === "Admin" && d.subject !== undefined) add("Admin Accept over a NetworkPolicy");
    return;
  }
  const last = cell.hits.at(-1)!;
  const directions = denying(cell);
  const by = directions.map((d) => d.decidedBy);
  const what = `${cell.a.label} -> ${cell.b.label} ${cell.packet.protocol}/${cell.packet.dport}: ${cell.trace.join("\n")}`;
  const passed = (d: DirectionView) => d.tiers?.some((t) => t.tier === "Admin" && t.action === "Pass") === true;
  if (last.target.kind === "DROP") {
    const tier = / (Admin|Baseline) Deny\b/.exec(last.comment ?? "")?.[1];
    assert.ok(tier !== undefined && by.includes(tier as "Admin" | "Baseline"), `dropped by ${last.comment}, but Check says ${by.join(", ")} decided: ${what}`);
    add(`dropped by ${tier}`);
    if (tier === "Baseline" && directions.some((d) => d.decidedBy === "Baseline" && passed(d))) add("Baseline after an Admin Pass");
  } else {
    assert.equal(last.target.kind, "REJECT", what);
    assert.ok(by.includes("NetworkPolicy"), `rejected, but Check says ${by.join(", ")} decided: ${what}`);
    if (directions.some((d) => d.decidedBy === "NetworkPolicy" && passed(d))) add("NetworkPolicy after an Admin Pass");
  }
}

async function compare(objects: Manifest[], earlier: Manifest[]): Promise<void> {
  const { service, rules } = await load(objects);
  const names = [...service.cluster.nodes.keys()].sort();
  const { before } = await incrementally(objects, earlier, rules, names);
  const nodes = await install(rules, service, before);
  stats.models++;
  if (objects.some((o) => (o["spec"] as { hostNetwork?: boolean } | undefined)?.hostNetwork)) add("host-network pods");
  compareCells(
    service,
    nodes,
    objects,
    (cell) => visit(cell, objects),
    (i) => MARKS[i % MARKS.length]!,
  );
}

describe("compiled rules against Check, on random models with policy tiers", () => {
  it(`agree on every pair, protocol and port (${RUNS} models)`, async (t) => {
    await fc.assert(
      fc.asyncProperty(tieredModelArb, tieredModelArb, async (model, earlier) => compare(model, earlier)),
      { numRuns: RUNS, seed: 20261130, includeErrorInReport: true, endOnFailure: process.env["PODWALL_END_ON_FAILURE"] === "1" },
    );
    const f = Object.fromEntries([...stats.features].sort());
    t.diagnostic(`models ${stats.models}, cells ${stats.cells} (allowed ${stats.allowed}, denied ${stats.denied}, to their own node ${stats.ownNode})`);
    t.diagnostic(`tier rules that matched, and outcomes: ${JSON.stringify(f)}`);
    // The generator must keep reaching every kind of tier rule and outcome, or this test proves less than it claims.
    for (const feature of [
      "Admin Accept",
      "Admin Deny",
      "Admin Pass",
      "Baseline Accept",
      "Baseline Deny",
      "Baseline Pass",
      "pods or namespaces peer",
      "nodes peer",
      "networks peer",
      "named port ingress",
      "named port egress",
      "port range",
      "ingress rule",
      "own node allowed",
      "own node denied",
      "dropped by Admin",
      "dropped by Baseline",
      "NetworkPolicy after an Admin Pass",
      "Baseline after an Admin Pass",
      "Admin Accept over a NetworkPolicy",
      "host-network pods",
    ]) {
      assert.ok((stats.features.get(feature) ?? 0) > 0, `no cell met a tier rule or outcome: ${feature}`);
    }
    assert.ok(stats.allowed > stats.cells / 10 && stats.denied > stats.cells / 10, `allowed ${stats.allowed} / denied ${stats.denied}: too lopsided`);
  });
});
