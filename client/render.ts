/** Text renderings of decisions for people: pure functions over the decision value. */
import { isDelta } from "../server/rules/delta.js";
import type { Ruleset } from "../server/rules/index.js";
import type { Decision, DirectionView, EndpointView, TierView } from "../server/service/index.js";

export function renderDecision(d: Decision): string {
  const lines = [
    `${endpoint(d.src)} -> ${endpoint(d.dst)} ${d.protocol}/${d.port}: ${d.allowed ? "ALLOWED" : "DENIED"}${reasonNote(d)}`,
    ...tiered("egress", d.egress, d.src),
    ...tiered("ingress", d.ingress, d.dst),
  ];
  for (const [name, dir] of [
    ["egress", d.egress],
    ["ingress", d.ingress],
  ] as const) {
    for (const t of dir.tiers ?? []) {
      for (const p of t.policies ?? []) {
        lines.push(`  ${name} ${t.tier} tier policy ${p.policy}:`);
        for (const r of p.rules) {
          const rule = `${r.field}${r.name ? ` "${r.name}"` : ""} (${r.actionWord})`;
          lines.push(r.result === "matched" ? `    ${rule}: matched (peer ${r.peer}, port ${r.port})` : `    ${rule}: ${r.result}: ${r.detail}`);
        }
      }
    }
    for (const v of dir.verdicts ?? []) {
      lines.push(`  ${name} policy ${v.policy}: ${v.allowed ? "allows" : "does not allow"}`);
      if (v.rules.length === 0) lines.push(`    no ${name} rules: allows nothing`);
      for (const r of v.rules) {
        lines.push(r.result === "matched" ? `    ${r.field}: matched (peer ${r.peer}, port ${r.port})` : `    ${r.field}: ${r.result}: ${r.detail}`);
      }
    }
  }
  lines.push(`  (generation ${d.generation})`);
  return `${lines.join("\n")}\n`;
}

function endpoint(e: EndpointView): string {
  switch (e.kind) {
    case "pod":
      return `${e.name}${e.ip ? ` (${e.ip})` : ""}`;
    case "node":
      return `node ${e.name} (${e.ip})`;
    case "external":
      return `${e.ip} (outside the cluster)`;
  }
}

function reasonNote(d: Decision): string {
  switch (d.reason) {
    case "policy":
      return "";
    case "same-pod":
      return " (a pod may always reach itself)";
    case "own-node":
      return " (traffic between a pod and its own node is always allowed)";
  }
}

/**
 * A direction: one line when the model holds no cluster-scoped policy;
 * otherwise its answer and the tier that decided it, then each tier
 * consulted, in order (Admin, NetworkPolicy, Baseline, the default).
 */
function tiered(name: "egress" | "ingress", v: DirectionView, e: EndpointView): string[] {
  // No tier has a subject that is not a pod, or a host-network pod.
  if (v.decidedBy === undefined || v.tiers === undefined || v.reason === "not-a-pod" || v.reason === "host-network") return [direction(name, v, e)];
  const who = v.subject ?? endpoint(e);
  if (v.decidedBy === "default" && v.tiers.every((t) => t.action === "none")) {
    return [`  ${name} of ${who}: allowed by the default: no Admin or Baseline rule matches, no NetworkPolicy selects it for ${name}`];
  }
  const by = v.decidedBy === "default" ? "the default (no tier decided)" : `the ${v.decidedBy} tier`;
  const lines = [`  ${name} of ${who}: ${v.allowed ? "allowed" : "denied"} by ${by}`];
  const [admin, baseline] = v.tiers;
  if (admin) lines.push(`    Admin: ${tierText(admin)}`);
  if (v.decidedBy !== "Admin")
    lines.push(`    NetworkPolicy: ${v.reason === "not-isolated" ? `not isolated (no NetworkPolicy selects it for ${name})` : networkPolicyText(name, v)}`);
  if (baseline) lines.push(`    Baseline: ${tierText(baseline)}`);
  if (v.decidedBy === "default") lines.push("    default: allowed");
  return lines;
}

function tierText(t: TierView): string {
  if (t.action === "none") return "no rule matches";
  const rule = `${t.rule}${t.name ? ` "${t.name}"` : ""}`;
  const word = t.actionWord ? ` (${t.actionWord})` : "";
  const next = t.action === "Pass" ? (t.tier === "Admin" ? ": on to the NetworkPolicy tier" : ": on to the default") : "";
  return `${t.action}${word} by ${t.policy} ${precedenceText(t)}, rule ${rule}${next}`;
}

function precedenceText(t: TierView): string {
  const p = t.precedence;
  switch (p?.kind) {
    case "tie":
      return `(priority ${p.priority ?? "none"}, tied with ${p.tiedWith.join(", ")}: ${p.order})`;
    case "last":
      return "(no priority: last in the Baseline tier)";
    default:
      return `(priority ${t.priority})`;
  }
}

function direction(name: "egress" | "ingress", v: DirectionView, e: EndpointView): string {
  const who = v.subject ?? endpoint(e);
  return v.reason === "not-a-pod" ? `  ${name}: ${who} ${networkPolicyText(name, v)}` : `  ${name} of ${who}: ${networkPolicyText(name, v)}`;
}

/** What the NetworkPolicy tier says of one direction. */
function networkPolicyText(name: "egress" | "ingress", v: DirectionView): string {
  switch (v.reason) {
    case "not-a-pod":
      return "is not a pod: no policy applies";
    case "host-network":
      return "host-network pod, not selected by NetworkPolicies";
    case "not-isolated":
      return `not isolated (no policy selects it for ${name})`;
    case "allowed":
      return `allowed; isolated by ${v.policies.join(", ")}`;
    case "no-rule-matched":
      return `denied; isolated by ${v.policies.join(", ")} and no rule matches`;
  }
}

/** A ruleset for people: version and hooks, then each text under a heading. */
export function renderRuleset(r: Ruleset): string {
  const sets = (r.ipset.match(/^create \S+ /gm) ?? []).length / 2;
  const rules = (t: string) => (t.match(/^-A /gm) ?? []).length;
  const delta = isDelta(r);
  return [
    `# node ${r.node}, version ${r.version}${delta ? `, a delta from ${r.base}` : ""}`,
    ...(delta
      ? [
          `# ${(r.ipset.match(/^add /gm) ?? []).length} set members to add, ${(r.ipset.match(/^del /gm) ?? []).length} to delete`,
          `# then remove chains: ${r.remove.chains.join(" ") || "none"}; sets: ${r.remove.sets.join(" ") || "none"}`,
        ]
      : []),
    `# ${sets} ipsets, ${rules(r.iptables)} iptables rules, ${rules(r.ip6tables)} ip6tables rules`,
    ...r.hooks.map((h) => `# hook (${h.family}): ${h.table}/${h.chain} ${h.rule}`),
    "",
    "## ipset restore",
    r.ipset.trimEnd(),
    "",
    "## iptables-restore --noflush",
    r.iptables.trimEnd(),
    "",
    "## ip6tables-restore --noflush",
    r.ip6tables.trimEnd(),
    "",
  ].join("\n");
}
