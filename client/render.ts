/** Text renderings of decisions for people: pure functions over the decision value. */
import { isDelta } from "../server/rules/delta.js";
import type { Ruleset } from "../server/rules/index.js";
import type { Decision, DirectionView, EndpointView } from "../server/service/index.js";

export function renderDecision(d: Decision): string {
  const lines = [
    `${endpoint(d.src)} -> ${endpoint(d.dst)} ${d.protocol}/${d.port}: ${d.allowed ? "ALLOWED" : "DENIED"}${reasonNote(d)}`,
    direction("egress", d.egress, d.src),
    direction("ingress", d.ingress, d.dst),
  ];
  for (const [name, dir] of [
    ["egress", d.egress],
    ["ingress", d.ingress],
  ] as const) {
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

function direction(name: "egress" | "ingress", v: DirectionView, e: EndpointView): string {
  const who = v.subject ?? endpoint(e);
  switch (v.reason) {
    case "not-a-pod":
      return `  ${name}: ${who} is not a pod: no policy applies`;
    case "host-network":
      return `  ${name} of ${who}: host-network pod, not selected by NetworkPolicies`;
    case "not-isolated":
      return `  ${name} of ${who}: not isolated (no policy selects it for ${name})`;
    case "allowed":
      return `  ${name} of ${who}: allowed; isolated by ${v.policies.join(", ")}`;
    case "no-rule-matched":
      return `  ${name} of ${who}: denied; isolated by ${v.policies.join(", ")} and no rule matches`;
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
