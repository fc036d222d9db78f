/**
 * The semantics of policy tiers, from the upstream API reference, docs and
 * user stories: every action of every tier in both directions, priorities
 * and ties, Pass chains through the NetworkPolicy tier, subjects, peers,
 * named ports, host-network pods, a pod's own node and itself; then the user
 * stories as truth tables on the e2e cluster (test/e2e/cluster.ts).
 *
 * Every case is written as the manifests users write, decoded by
 * tier-policy.ts, and decided by decide() (decide.ts), with and without
 * explain, which must agree. A verdict reads "Deny ClusterNetworkPolicy/p
 * spec.egress[0]" ("Accept (Allow) ..." for a v1alpha1 kind) or "none".
 *
 * The cluster: nodes node-1 10.0.0.1 and node-2 10.0.0.2; namespaces x, y, z
 * (ns=<name>), each with pods a, b, c (pod=<name>, 10.244.<node>.<ns><pod>,
 * serving 80 and 81 over TCP, UDP, SCTP as serve-PORT-PROTO): x/a, x/c, y/b,
 * z/a, z/c on node-1, the others on node-2; x/h (pod=h) is a host-network
 * pod on node-2.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decodeObject } from "../../server/manifests/decode.js";
import { parseManifests } from "../../server/manifests/parse.js";
import { Cluster } from "../../server/model/cluster.js";
import type { Tier } from "../../server/model/tier-types.js";
import type { Protocol } from "../../server/model/types.js";
import { parseReference, resolveEndpoints } from "../../server/policy/endpoint.js";
import { type Decided, decide as decideAll } from "../../server/policy/decide.js";
import type { ComposedDirection, TierDecider } from "../../server/policy/tier-compose.js";
import { type TierEvaluation, type TierOutcome, type TierVerdict, evaluateTiers, tierOrder } from "../../server/policy/tier-evaluate.js";
import { BASELINE_ADMIN_ORDER, TIE_ORDER, type TierOrder, type TierPrecedence } from "../../server/policy/tier-order.js";
import { ALL_PODS, baseCluster, pod } from "../e2e/cluster.js";

type Obj = Record<string, unknown>;

interface World {
  readonly cluster: Cluster;
  readonly order: TierOrder;
}

const HOST_POD = ((p: Obj) => ({ ...p, spec: { ...(p["spec"] as Obj), hostNetwork: true } }))(pod("x/h", { ip: "10.0.0.2", nodeName: "node-2", labels: { pod: "h" } }));

/** The cluster, with extra labels on namespaces, then the objects of `yaml`, each valid. */
function world(yaml: string, namespaceLabels: Readonly<Record<string, Record<string, string>>> = {}): World {
  const base = baseCluster().map((o) => {
    const meta = o["metadata"] as { name: string; labels?: Record<string, string> };
    const extra = o["kind"] === "Namespace" ? namespaceLabels[meta.name] : undefined;
    return extra ? { ...o, metadata: { ...meta, labels: { ...meta.labels, ...extra } } } : o;
  });
  const cluster = new Cluster();
  cluster.transaction(() => {
    for (const raw of [...base, HOST_POD, ...parseManifests(yaml)]) {
      const d = decodeObject(raw);
      if (d.kind !== "object") assert.fail(JSON.stringify(d));
      cluster.put(d.object);
    }
  });
  return { cluster, order: tierOrder(cluster) };
}

function traffic(t: string): { protocol: Protocol; port: number } {
  const [protocol, port] = t.split("/") as [Protocol, string];
  return { protocol, port: Number(port) };
}

/** The tiers' evaluation and the decision, asked with and without explain: both must agree. */
function decide(w: World, src: string, dst: string, t: string): { tiers: TierEvaluation; decision: { allowed: boolean; egress: ComposedDirection; ingress: ComposedDirection } } {
  const s = parseReference(src);
  const d = parseReference(dst);
  if (s.kind === "invalid" || d.kind === "invalid") assert.fail(`bad reference ${src} or ${dst}`);
  const ends = resolveEndpoints(w.cluster, s, d);
  if ("detail" in ends) assert.fail(ends.detail);
  const explained = decideAll(w.cluster, ends.src, ends.dst, traffic(t), true);
  const quick = decideAll(w.cluster, ends.src, ends.dst, traffic(t), false);
  const answer = (x: Decided) => ({ allowed: x.allowed, reason: x.reason, egress: x.tiers?.egress, ingress: x.tiers?.ingress });
  assert.deepEqual(answer(quick), answer(explained), "the same answer with and without explain");
  if (explained.tiers === undefined) {
    // No tier policy in the model: the NetworkPolicy tier decides where it isolates, the default elsewhere.
    assert.equal(w.cluster.tierPolicies.size, 0);
    const tiers = evaluateTiers(w.cluster, ends.src, ends.dst, traffic(t));
    const np = (v: Decided["np"]["egress"]): ComposedDirection => ({
      allowed: v.allowed || explained.reason !== "policy",
      decidedBy: v.isolated ? "NetworkPolicy" : "default",
      consulted: [],
    });
    return { tiers, decision: { allowed: explained.allowed, egress: np(explained.np.egress), ingress: np(explained.np.ingress) } };
  }
  assert.ok(explained.tiers.evaluation, "with explain, the tiers' traces");
  return { tiers: explained.tiers.evaluation, decision: { allowed: explained.allowed, egress: explained.tiers.egress, ingress: explained.tiers.ingress } };
}

function say(v: TierVerdict): string {
  if (v.action === "none") return "none";
  return `${v.action}${v.actionWord !== v.action ? ` (${v.actionWord})` : ""} ${v.policy} ${v.rule}`;
}

function precedence(v: TierVerdict): TierPrecedence | undefined {
  return v.action === "none" ? undefined : v.precedence;
}

interface Row {
  readonly name: string;
  readonly yaml: string;
  readonly src: string;
  readonly dst: string;
  /** "TCP/80" unless given. */
  readonly t?: string;
  /** The verdicts expected, per tier; a tier not given must say none. */
  readonly egress?: Partial<Record<Tier, string>>;
  readonly ingress?: Partial<Record<Tier, string>>;
  /** The tier that decided egress, then ingress. */
  readonly by: readonly [TierDecider, TierDecider];
  readonly allowed: boolean;
  readonly labels?: Readonly<Record<string, Record<string, string>>>;
}

function rows(title: string, table: readonly Row[]): void {
  describe(title, () => {
    for (const r of table) {
      it(`${r.name}: ${r.src} → ${r.dst} ${r.t ?? "TCP/80"} ${r.allowed ? "allowed" : "denied"}`, () => {
        const { tiers, decision } = decide(world(r.yaml, r.labels), r.src, r.dst, r.t ?? "TCP/80");
        for (const dir of ["egress", "ingress"] as const) {
          for (const tier of ["Admin", "Baseline"] as const) assert.equal(say(tiers[dir][tier].verdict), r[dir]?.[tier] ?? "none", `${dir} ${tier}`);
        }
        assert.deepEqual([decision.egress.decidedBy, decision.ingress.decidedBy], r.by, "deciding tiers");
        assert.equal(decision.allowed, r.allowed);
      });
    }
  });
}

// Manifests.
const rule = (dir: "ingress" | "egress", action: string, peer: string, extra = "") =>
  `  ${dir}:\n  - action: ${action}\n    ${dir === "ingress" ? "from" : "to"}: [${peer}]\n${extra ? `    ${extra}\n` : ""}`;
const cnp = (name: string, tier: Tier, priority: number, subject: string, ...rules: string[]) =>
  `---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: "${name}"}\nspec:\n  tier: ${tier}\n  priority: ${priority}\n  subject: ${subject}\n${rules.join("")}`;
const anp = (name: string, priority: number, subject: string, ...rules: string[]) =>
  `---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: "${name}"}\nspec:\n  priority: ${priority}\n  subject: ${subject}\n${rules.join("")}`;
const banp = (subject: string, ...rules: string[]) =>
  `---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: ${subject}\n${rules.join("")}`;
const np = (ns: string, name: string, spec: string) =>
  `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: "${name}", namespace: "${ns}"}\nspec: ${spec}\n`;
const denyAllNp = (ns: string, dir: "ingress" | "egress") => np(ns, `deny-${dir}`, `{podSelector: {}, policyTypes: [${dir === "ingress" ? "Ingress" : "Egress"}]}`);

const NS_X = "{namespaces: {matchLabels: {ns: x}}}";
const ALL = "{namespaces: {}}";
const FROM_NS = (ns: string) => `{namespaces: {matchLabels: {ns: "${ns}"}}}`;
const FROM_POD = (ns: string, p: string) => `{pods: {namespaceSelector: {matchLabels: {ns: "${ns}"}}, podSelector: {matchLabels: {pod: ${p}}}}}`;
const ANY_NS = "{namespaces: {}}";

/**
 * Every action of every tier, in both directions, without and with a
 * NetworkPolicy isolating x/a in that direction. Egress is x/a → y/a,
 * ingress y/a → x/a; the policy's subject is x.
 */
function actionMatrix(): Row[] {
  const out: Row[] = [];
  for (const tier of ["Admin", "Baseline"] as const) {
    for (const action of ["Accept", "Deny", "Pass"] as const) {
      for (const dir of ["egress", "ingress"] as const) {
        for (const isolated of [false, true]) {
          const [src, dst] = dir === "egress" ? ["x/a", "y/a"] : ["y/a", "x/a"];
          const verdict = `${action} ClusterNetworkPolicy/p spec.${dir}[0]`;
          const final = action !== "Pass";
          const decider: TierDecider = tier === "Admin" && final ? "Admin" : isolated ? "NetworkPolicy" : final ? "Baseline" : "default";
          const allowed = decider === "NetworkPolicy" ? false : decider === "default" || action === "Accept";
          out.push({
            name: `${tier} ${action} ${dir}${isolated ? ", a NetworkPolicy isolates x" : ""}`,
            yaml: cnp("p", tier, 10, NS_X, rule(dir, action, FROM_NS("y"))) + (isolated ? denyAllNp("x", dir) : ""),
            src,
            dst,
            [dir]: { [tier]: verdict },
            by: dir === "egress" ? [decider, "default"] : ["default", decider],
            allowed,
          });
        }
      }
    }
  }
  return out;
}

rows("every action of every tier, each direction", actionMatrix());

const V1 = { ANP: "AdminNetworkPolicy/p", BANP: "BaselineAdminNetworkPolicy/default" };
rows("the v1alpha1 kinds: Allow is Accept", [
  {
    name: "ANP Allow ingress",
    yaml: anp("p", 1, NS_X, rule("ingress", "Allow", FROM_NS("y"))) + denyAllNp("x", "ingress"),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept (Allow) ${V1.ANP} spec.ingress[0]` },
    by: ["default", "Admin"],
    allowed: true,
  },
  {
    name: "ANP Deny egress",
    yaml: anp("p", 1, NS_X, rule("egress", "Deny", FROM_NS("y"))),
    src: "x/a",
    dst: "y/a",
    egress: { Admin: `Deny ${V1.ANP} spec.egress[0]` },
    by: ["Admin", "default"],
    allowed: false,
  },
  {
    name: "ANP Pass egress",
    yaml: anp("p", 1, NS_X, rule("egress", "Pass", FROM_NS("y"))) + denyAllNp("x", "egress"),
    src: "x/a",
    dst: "y/a",
    egress: { Admin: `Pass ${V1.ANP} spec.egress[0]` },
    by: ["NetworkPolicy", "default"],
    allowed: false,
  },
  {
    name: "BANP Allow egress",
    yaml: banp(NS_X, rule("egress", "Allow", FROM_NS("y"))),
    src: "x/a",
    dst: "y/a",
    egress: { Baseline: `Accept (Allow) ${V1.BANP} spec.egress[0]` },
    by: ["Baseline", "default"],
    allowed: true,
  },
  {
    name: "BANP Deny ingress",
    yaml: banp(NS_X, rule("ingress", "Deny", FROM_NS("y"))),
    src: "y/a",
    dst: "x/a",
    ingress: { Baseline: `Deny ${V1.BANP} spec.ingress[0]` },
    by: ["default", "Baseline"],
    allowed: false,
  },
]);

rows("both directions must allow: an egress Accept leaves the destination's ingress", [
  {
    name: "Admin Accept egress, the destination isolated by a NetworkPolicy",
    yaml: cnp("p", "Admin", 10, NS_X, rule("egress", "Accept", FROM_NS("y"))) + denyAllNp("y", "ingress"),
    src: "x/a",
    dst: "y/a",
    egress: { Admin: "Accept ClusterNetworkPolicy/p spec.egress[0]" },
    by: ["Admin", "NetworkPolicy"],
    allowed: false,
  },
  {
    name: "Admin Accept egress and ingress",
    yaml: cnp("p", "Admin", 10, ALL, rule("egress", "Accept", ANY_NS), rule("ingress", "Accept", ANY_NS)) + denyAllNp("y", "ingress"),
    src: "x/a",
    dst: "y/a",
    egress: { Admin: "Accept ClusterNetworkPolicy/p spec.egress[0]" },
    ingress: { Admin: "Accept ClusterNetworkPolicy/p spec.ingress[0]" },
    by: ["Admin", "Admin"],
    allowed: true,
  },
]);

const deny = (name: string, p: number, tier: Tier = "Admin") => cnp(name, tier, p, NS_X, rule("ingress", "Deny", ANY_NS));
const accept = (name: string, p: number, tier: Tier = "Admin") => cnp(name, tier, p, NS_X, rule("ingress", "Accept", ANY_NS));
const pass = (name: string, p: number, tier: Tier = "Admin") => cnp(name, tier, p, NS_X, rule("ingress", "Pass", ANY_NS));
const IN = "spec.ingress[0]";

rows("priorities: lower first; within a policy, rules in order", [
  {
    name: "Deny 10 before Accept 20",
    yaml: deny("d", 10) + accept("a", 20),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
  {
    name: "Accept 10 before Deny 20",
    yaml: deny("d", 20) + accept("a", 10),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept ClusterNetworkPolicy/a ${IN}` },
    by: ["default", "Admin"],
    allowed: true,
  },
  {
    name: "priority 0 before 1000",
    yaml: deny("d", 1000) + accept("a", 0),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept ClusterNetworkPolicy/a ${IN}` },
    by: ["default", "Admin"],
    allowed: true,
  },
  {
    name: "the first rule that matches",
    yaml: cnp("p", "Admin", 10, NS_X, `  ingress:\n  - {action: Accept, from: [${FROM_POD("y", "a")}]}\n  - {action: Deny, from: [${ANY_NS}]}\n`),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept ClusterNetworkPolicy/p ${IN}` },
    by: ["default", "Admin"],
    allowed: true,
  },
  {
    name: "the next rule when the first does not match",
    yaml: cnp("p", "Admin", 10, NS_X, `  ingress:\n  - {action: Accept, from: [${FROM_POD("y", "a")}]}\n  - {action: Deny, from: [${ANY_NS}]}\n`),
    src: "y/b",
    dst: "x/a",
    ingress: { Admin: "Deny ClusterNetworkPolicy/p spec.ingress[1]" },
    by: ["default", "Admin"],
    allowed: false,
  },
  {
    name: "Admin before Baseline, whatever the priorities",
    yaml: deny("d", 1000) + accept("a", 0, "Baseline"),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}`, Baseline: `Accept ClusterNetworkPolicy/a ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
  {
    name: "a Baseline ClusterNetworkPolicy of priority 1000 before the BaselineAdminNetworkPolicy",
    yaml: banp(NS_X, rule("ingress", "Deny", ANY_NS)) + accept("a", 1000, "Baseline"),
    src: "y/a",
    dst: "x/a",
    ingress: { Baseline: `Accept ClusterNetworkPolicy/a ${IN}` },
    by: ["default", "Baseline"],
    allowed: true,
  },
]);

rows("equal priorities: by kind (ClusterNetworkPolicy first), then name", [
  {
    name: "by name",
    yaml: deny("b", 10) + accept("a", 10),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept ClusterNetworkPolicy/a ${IN}` },
    by: ["default", "Admin"],
    allowed: true,
  },
  {
    name: "ClusterNetworkPolicy before AdminNetworkPolicy",
    yaml: accept("z", 10) + anp("a", 10, NS_X, rule("ingress", "Deny", "{namespaces: {}}")),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: `Accept ClusterNetworkPolicy/z ${IN}` },
    by: ["default", "Admin"],
    allowed: true,
  },
]);

describe("orderTierPolicies", () => {
  it("splits the tiers; orders by priority, then kind, then name; the BaselineAdminNetworkPolicy last", () => {
    const yaml =
      banp(NS_X, rule("ingress", "Deny", ANY_NS)) +
      deny("b", 10) +
      anp("a", 10, NS_X, rule("ingress", "Deny", ANY_NS)) +
      deny("a", 10) +
      deny("c", 5) +
      deny("z", 1000, "Baseline") +
      deny("y", 0, "Baseline");
    const { order } = world(yaml);
    assert.deepEqual(
      order.Admin.map((p) => p.key),
      ["ClusterNetworkPolicy/c", "ClusterNetworkPolicy/a", "ClusterNetworkPolicy/b", "AdminNetworkPolicy/a"],
    );
    assert.deepEqual(
      order.Baseline.map((p) => p.key),
      ["ClusterNetworkPolicy/y", "ClusterNetworkPolicy/z", V1.BANP],
    );
  });
});

describe("the explanation of a tie, and of the BaselineAdminNetworkPolicy's place", () => {
  it("a tie names the other policies and the order applied", () => {
    const { tiers } = decide(world(deny("b", 10) + accept("a", 10) + deny("c", 20)), "y/a", "x/a", "TCP/80");
    assert.equal(say(tiers.ingress.Admin.verdict), `Accept ClusterNetworkPolicy/a ${IN}`);
    assert.deepEqual(precedence(tiers.ingress.Admin.verdict), { kind: "tie", priority: 10, tiedWith: ["ClusterNetworkPolicy/b"], order: TIE_ORDER });
  });
  it("no tie with a policy of the same priority that does not select the pod", () => {
    const other = cnp("b", "Admin", 10, "{namespaces: {matchLabels: {ns: z}}}", rule("ingress", "Deny", ANY_NS));
    const { tiers } = decide(world(other + accept("a", 10)), "y/a", "x/a", "TCP/80");
    assert.deepEqual(precedence(tiers.ingress.Admin.verdict), { kind: "priority", priority: 10 });
  });
  it("no tie with a policy of the same priority without rules in the direction", () => {
    const other = cnp("b", "Admin", 10, NS_X, rule("egress", "Deny", ANY_NS));
    const { tiers } = decide(world(other + accept("a", 10)), "y/a", "x/a", "TCP/80");
    assert.deepEqual(precedence(tiers.ingress.Admin.verdict), { kind: "priority", priority: 10 });
  });
  it("the BaselineAdminNetworkPolicy comes last, and says so", () => {
    const { tiers } = decide(world(banp(NS_X, rule("ingress", "Deny", ANY_NS)) + cnp("p", "Baseline", 0, NS_X, rule("ingress", "Deny", FROM_NS("z")))), "y/a", "x/a", "TCP/80");
    assert.deepEqual(tiers.ingress.Baseline, {
      verdict: {
        action: "Deny",
        tier: "Baseline",
        policy: V1.BANP,
        priority: undefined,
        rule: IN,
        name: undefined,
        actionWord: "Deny",
        precedence: { kind: "last", order: BASELINE_ADMIN_ORDER },
      },
      policies: [
        {
          policy: "ClusterNetworkPolicy/p",
          precedence: { kind: "priority", priority: 0 },
          rules: [{ field: IN, result: "peer-mismatch", detail: "no peer of the rule matches the other end", name: undefined, actionWord: "Deny" }],
        },
        {
          policy: V1.BANP,
          precedence: { kind: "last", order: BASELINE_ADMIN_ORDER },
          rules: [{ field: IN, result: "matched", peer: `${IN}.from[0]`, port: IN, name: undefined, actionWord: "Deny" }],
        },
      ],
    } satisfies TierOutcome);
  });
});

const NP_ALLOW_FROM_Y = np("x", "allow-from-y", `{podSelector: {}, policyTypes: [Ingress], ingress: [{from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]}]}`);
const NP_ALLOW_FROM_Z = np("x", "allow-from-z", `{podSelector: {}, policyTypes: [Ingress], ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]}`);
const PASS_IN = `Pass ClusterNetworkPolicy/pass ${IN}`;
const BASE_DENY_IN = `Deny ClusterNetworkPolicy/base ${IN}`;

rows("Pass: the rest of the tier is skipped, the next tier decides", [
  {
    name: "Admin Pass, no NetworkPolicy, no Baseline: default allow",
    yaml: pass("pass", 10) + deny("d", 20),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: PASS_IN },
    by: ["default", "default"],
    allowed: true,
  },
  {
    name: "Admin Pass, no NetworkPolicy: Baseline decides",
    yaml: pass("pass", 10) + deny("d", 20) + deny("base", 10, "Baseline"),
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: PASS_IN, Baseline: BASE_DENY_IN },
    by: ["default", "Baseline"],
    allowed: false,
  },
  {
    name: "Admin Pass, a NetworkPolicy allows: it decides, over a Baseline Deny",
    yaml: pass("pass", 10) + deny("d", 20) + deny("base", 10, "Baseline") + NP_ALLOW_FROM_Y,
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: PASS_IN, Baseline: BASE_DENY_IN },
    by: ["default", "NetworkPolicy"],
    allowed: true,
  },
  {
    name: "Admin Pass, a NetworkPolicy isolates and does not allow",
    yaml: pass("pass", 10) + accept("base", 10, "Baseline") + NP_ALLOW_FROM_Z,
    src: "y/a",
    dst: "x/a",
    ingress: { Admin: PASS_IN, Baseline: `Accept ClusterNetworkPolicy/base ${IN}` },
    by: ["default", "NetworkPolicy"],
    allowed: false,
  },
  {
    name: "Baseline Deny, a NetworkPolicy isolates and allows",
    yaml: deny("base", 10, "Baseline") + NP_ALLOW_FROM_Y,
    src: "y/a",
    dst: "x/a",
    ingress: { Baseline: BASE_DENY_IN },
    by: ["default", "NetworkPolicy"],
    allowed: true,
  },
  {
    name: "Baseline Deny, a NetworkPolicy isolates the other direction only",
    yaml: deny("base", 10, "Baseline") + denyAllNp("x", "egress"),
    src: "y/a",
    dst: "x/a",
    ingress: { Baseline: BASE_DENY_IN },
    by: ["default", "Baseline"],
    allowed: false,
  },
  {
    name: "Baseline Pass skips the rest of the Baseline tier: default allow",
    yaml: pass("pass", 10, "Baseline") + deny("base", 20, "Baseline"),
    src: "y/a",
    dst: "x/a",
    ingress: { Baseline: PASS_IN },
    by: ["default", "default"],
    allowed: true,
  },
]);

rows("subjects: namespaces, or namespaces AND pods", [
  {
    name: "namespaces: a pod of x",
    yaml: deny("d", 10),
    src: "y/a",
    dst: "x/b",
    ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
  { name: "namespaces: not a pod of y", yaml: deny("d", 10), src: "y/a", dst: "y/b", by: ["default", "default"], allowed: true },
  ...(["x/a", "x/b", "z/a"] as const).map(
    (dst): Row => ({
      name: "pods: pod=a of x",
      yaml: cnp("d", "Admin", 10, "{pods: {namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}}", rule("ingress", "Deny", ANY_NS)),
      src: "y/a",
      dst,
      ...(dst === "x/a" ? { ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}` } } : {}),
      by: dst === "x/a" ? ["default", "Admin"] : ["default", "default"],
      allowed: dst !== "x/a",
    }),
  ),
  {
    name: "pods without namespaceSelector: pod=a of every namespace",
    yaml: cnp("d", "Admin", 10, "{pods: {podSelector: {matchLabels: {pod: a}}}}", rule("ingress", "Deny", ANY_NS)),
    src: "y/b",
    dst: "z/a",
    ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
]);

const EG = "spec.egress[0]";
const denyTo = (peer: string, extra = "") => cnp("d", "Admin", 10, NS_X, rule("egress", "Deny", peer, extra));
const DENIED_TO = { Admin: `Deny ClusterNetworkPolicy/d ${EG}` };

rows("peers", [
  { name: "pods: pod=b of y", yaml: denyTo(FROM_POD("y", "b")), src: "x/a", dst: "y/b", egress: DENIED_TO, by: ["Admin", "default"], allowed: false },
  { name: "pods: not pod=a of y", yaml: denyTo(FROM_POD("y", "b")), src: "x/a", dst: "y/a", by: ["default", "default"], allowed: true },
  { name: "namespaces: every pod of z", yaml: denyTo(FROM_NS("z")), src: "x/a", dst: "z/c", egress: DENIED_TO, by: ["Admin", "default"], allowed: false },
  {
    name: "nodes: an InternalIP of a selected node",
    yaml: denyTo("{nodes: {matchLabels: {kubernetes.io/hostname: node-2}}}"),
    src: "x/a",
    dst: "10.0.0.2",
    egress: DENIED_TO,
    by: ["Admin", "default"],
    allowed: false,
  },
  {
    name: "nodes: a node not selected",
    yaml: denyTo("{nodes: {matchLabels: {kubernetes.io/hostname: node-2}}}"),
    src: "x/a",
    dst: "10.0.0.1",
    by: ["default", "default"],
    allowed: true,
  },
  { name: "nodes: not a pod on the node", yaml: denyTo("{nodes: {}}"), src: "x/a", dst: "y/a", by: ["default", "default"], allowed: true },
  {
    name: "networks: an address outside the cluster",
    yaml: denyTo("{networks: [8.8.8.0/24]}"),
    src: "x/a",
    dst: "8.8.8.8",
    egress: DENIED_TO,
    by: ["Admin", "default"],
    allowed: false,
  },
  { name: "networks: another address", yaml: denyTo("{networks: [8.8.8.0/24]}"), src: "x/a", dst: "9.9.9.9", by: ["default", "default"], allowed: true },
  {
    name: "networks: a pod's address is checked too",
    yaml: denyTo("{networks: [10.244.0.0/16]}"),
    src: "x/a",
    dst: "y/a",
    egress: DENIED_TO,
    by: ["Admin", "default"],
    allowed: false,
  },
  {
    name: "networks: a node's address is checked too",
    yaml: denyTo("{networks: [10.0.0.0/24]}"),
    src: "x/a",
    dst: "10.0.0.2",
    egress: DENIED_TO,
    by: ["Admin", "default"],
    allowed: false,
  },
  { name: "networks: ::/0 holds no IPv4 address", yaml: denyTo('{networks: ["::/0"]}'), src: "x/a", dst: "8.8.8.8", by: ["default", "default"], allowed: true },
  {
    name: "domainNames: never matched by address",
    yaml: cnp("d", "Admin", 10, NS_X, `  egress:\n  - {action: Accept, to: [{domainNames: [dns.google]}]}\n  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n`),
    src: "x/a",
    dst: "8.8.8.8",
    egress: { Admin: "Deny ClusterNetworkPolicy/d spec.egress[1]" },
    by: ["Admin", "default"],
    allowed: false,
  },
]);

const NAMED_IN = (name: string) => cnp("d", "Admin", 10, NS_X, rule("ingress", "Deny", ANY_NS, `protocols: [{destinationNamedPort: ${name}}]`));
const NAMED_OUT = (name: string) => denyTo(FROM_NS("y"), `protocols: [{destinationNamedPort: ${name}}]`);

rows("ports: numbers, ranges, named ports of any protocol", [
  {
    name: "named, ingress: resolved on the subject",
    yaml: NAMED_IN("serve-80-udp"),
    src: "y/a",
    dst: "x/a",
    t: "UDP/80",
    ingress: { Admin: `Deny ClusterNetworkPolicy/d ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
  { name: "named: the container port's protocol only", yaml: NAMED_IN("serve-80-udp"), src: "y/a", dst: "x/a", t: "TCP/80", by: ["default", "default"], allowed: true },
  { name: "named: the container port's number only", yaml: NAMED_IN("serve-80-udp"), src: "y/a", dst: "x/a", t: "UDP/81", by: ["default", "default"], allowed: true },
  {
    name: "named, egress: resolved on the destination",
    yaml: NAMED_OUT("serve-81-sctp"),
    src: "x/a",
    dst: "y/a",
    t: "SCTP/81",
    egress: DENIED_TO,
    by: ["Admin", "default"],
    allowed: false,
  },
  { name: "named: a name no container port has", yaml: NAMED_OUT("metrics"), src: "x/a", dst: "y/a", t: "TCP/80", by: ["default", "default"], allowed: true },
  {
    name: "named, v1alpha1 namedPort",
    yaml: anp("d", 10, NS_X, rule("ingress", "Deny", FROM_NS("y"), "ports: [{namedPort: serve-81-tcp}]")),
    src: "y/a",
    dst: "x/a",
    t: "TCP/81",
    ingress: { Admin: `Deny AdminNetworkPolicy/d ${IN}` },
    by: ["default", "Admin"],
    allowed: false,
  },
  ...(["TCP/80", "TCP/81", "TCP/82", "UDP/80"] as const).map(
    (t): Row => ({
      name: "a TCP range 80-81",
      yaml: denyTo(FROM_NS("y"), "protocols: [{tcp: {destinationPort: {range: {start: 80, end: 81}}}}]"),
      src: "x/a",
      dst: "y/a",
      t,
      ...(t === "TCP/80" || t === "TCP/81" ? { egress: DENIED_TO, by: ["Admin", "default"], allowed: false } : { by: ["default", "default"], allowed: true }),
    }),
  ),
  {
    name: "v1alpha1 portNumber without protocol: TCP",
    yaml: anp("d", 10, NS_X, rule("ingress", "Deny", FROM_NS("y"), "ports: [{portNumber: {port: 80}}]")),
    src: "y/a",
    dst: "x/a",
    t: "UDP/80",
    by: ["default", "default"],
    allowed: true,
  },
]);

const DENY_ALL_BOTH = cnp("d", "Admin", 10, ALL, rule("ingress", "Deny", ANY_NS), rule("egress", "Deny", ANY_NS));
const DENY_NODES = (tier: Tier) => cnp("to-nodes", tier, 10, NS_X, rule("egress", "Deny", "{nodes: {}}"));

rows("host-network pods are neither subjects nor namespace and pod peers", [
  { name: "no egress subject", yaml: DENY_ALL_BOTH, src: "x/h", dst: "10.0.0.1", by: ["default", "default"], allowed: true },
  { name: "no ingress subject, no namespaces peer", yaml: DENY_ALL_BOTH, src: "x/a", dst: "x/h", by: ["default", "default"], allowed: true },
  {
    name: "not a namespaces peer of ingress",
    yaml: cnp("d", "Admin", 10, ALL, rule("ingress", "Deny", ANY_NS)),
    src: "x/h",
    dst: "y/a",
    by: ["default", "default"],
    allowed: true,
  },
  {
    name: "reached as its node by a nodes peer",
    yaml: DENY_NODES("Admin"),
    src: "x/a",
    dst: "x/h",
    egress: { Admin: `Deny ClusterNetworkPolicy/to-nodes ${EG}` },
    by: ["Admin", "default"],
    allowed: false,
  },
]);

rows("a pod's own node and the pod itself", [
  { name: "itself: not subject to tiers", yaml: DENY_ALL_BOTH, src: "x/a", dst: "x/a", by: ["default", "default"], allowed: true },
  {
    name: "own node: an Admin Deny of nodes",
    yaml: DENY_NODES("Admin"),
    src: "x/a",
    dst: "10.0.0.1",
    egress: { Admin: `Deny ClusterNetworkPolicy/to-nodes ${EG}` },
    by: ["Admin", "default"],
    allowed: false,
  },
  { name: "own node: a NetworkPolicy that isolates allows it", yaml: denyAllNp("x", "egress"), src: "x/a", dst: "10.0.0.1", by: ["NetworkPolicy", "default"], allowed: true },
  { name: "another node: the NetworkPolicy denies it", yaml: denyAllNp("x", "egress"), src: "x/a", dst: "10.0.0.2", by: ["NetworkPolicy", "default"], allowed: false },
  {
    name: "own node: a Baseline Deny, under a NetworkPolicy that isolates",
    yaml: DENY_NODES("Baseline") + denyAllNp("x", "egress"),
    src: "x/a",
    dst: "10.0.0.1",
    egress: { Baseline: `Deny ClusterNetworkPolicy/to-nodes ${EG}` },
    by: ["NetworkPolicy", "default"],
    allowed: true,
  },
  {
    name: "own node: a Baseline Deny alone",
    yaml: DENY_NODES("Baseline"),
    src: "x/a",
    dst: "10.0.0.1",
    egress: { Baseline: `Deny ClusterNetworkPolicy/to-nodes ${EG}` },
    by: ["Baseline", "default"],
    allowed: false,
  },
  { name: "from the node: no ingress peer is a node", yaml: DENY_ALL_BOTH, src: "10.0.0.1", dst: "x/a", by: ["default", "default"], allowed: true },
]);

describe("the explanation: every rule evaluated, by field path, until one decides", () => {
  const yaml =
    cnp("early-egress-only", "Admin", 5, NS_X, rule("egress", "Deny", ANY_NS)) +
    cnp(
      "p",
      "Admin",
      10,
      NS_X,
      "  ingress:\n",
      `  - {name: from-z, action: Deny, from: [${FROM_NS("z")}]}\n`,
      `  - {action: Deny, from: [${FROM_NS("y")}], protocols: [{tcp: {destinationPort: {number: 81}}}]}\n`,
      `  - {action: Deny, from: [${FROM_NS("y")}], protocols: [{udp: {destinationPort: {number: 80}}}]}\n`,
      `  - {name: web, action: Accept, from: [${FROM_NS("z")}, ${FROM_POD("y", "a")}], protocols: [{udp: {destinationPort: {number: 80}}}, {tcp: {destinationPort: {number: 80}}}]}\n`,
      `  - {action: Deny, from: [${ANY_NS}]}\n`,
    ) +
    deny("later", 20);
  it("matched, peer mismatch, port mismatch, protocol mismatch; later policies not evaluated", () => {
    const { tiers } = decide(world(yaml), "y/a", "x/a", "TCP/80");
    const r = (i: number) => `spec.ingress[${i}]`;
    assert.deepEqual(tiers.ingress.Admin, {
      verdict: {
        action: "Accept",
        tier: "Admin",
        policy: "ClusterNetworkPolicy/p",
        priority: 10,
        rule: r(3),
        name: "web",
        actionWord: "Accept",
        precedence: { kind: "priority", priority: 10 },
      },
      policies: [
        {
          policy: "ClusterNetworkPolicy/p",
          precedence: { kind: "priority", priority: 10 },
          rules: [
            { field: r(0), result: "peer-mismatch", detail: "no peer of the rule matches the other end", name: "from-z", actionWord: "Deny" },
            { field: r(1), result: "port-mismatch", detail: "the rule matches no TCP port 80 on x/a", name: undefined, actionWord: "Deny" },
            { field: r(2), result: "protocol-mismatch", detail: "the rule matches no TCP port", name: undefined, actionWord: "Deny" },
            { field: r(3), result: "matched", peer: `${r(3)}.from[1]`, port: `${r(3)}.protocols[1]`, name: "web", actionWord: "Accept" },
          ],
        },
      ],
    } satisfies TierOutcome);
    assert.deepEqual(tiers.ingress.Baseline, { verdict: { action: "none", tier: "Baseline" }, policies: [] });
    assert.equal(tiers.egress.subject, "y/a");
    assert.equal(tiers.egress.reason, "evaluated");
  });
  it("a domain name peer says why it does not match", () => {
    const { tiers } = decide(world(cnp("d", "Admin", 10, NS_X, rule("egress", "Accept", "{domainNames: [dns.google]}"))), "x/a", "8.8.8.8", "UDP/53");
    assert.deepEqual(tiers.egress.Admin.policies[0]?.rules, [
      { field: EG, result: "peer-mismatch", detail: "no peer of the rule matches the other end (domain names are not matched by address)", name: undefined, actionWord: "Accept" },
    ]);
    assert.equal(tiers.egress.Admin.verdict.action, "none");
  });
  it("the reasons a direction is not evaluated", () => {
    const w = world(DENY_ALL_BOTH);
    const reasons = (src: string, dst: string) => {
      const { tiers } = decide(w, src, dst, "TCP/80");
      return [tiers.egress.subject, tiers.egress.reason, tiers.ingress.subject, tiers.ingress.reason];
    };
    assert.deepEqual(reasons("x/a", "x/a"), ["x/a", "same-pod", "x/a", "same-pod"]);
    assert.deepEqual(reasons("x/h", "8.8.8.8"), ["x/h", "host-network", undefined, "not-a-pod"]);
    assert.deepEqual(reasons("10.0.0.1", "x/h"), [undefined, "not-a-pod", "x/h", "host-network"]);
  });
});

/**
 * A truth table: one row per source, one column per destination, grouped by
 * namespace (x y z, pods a b c): "." allowed, "X" denied.
 */
function table(w: World, t: string): string[] {
  return ALL_PODS.map((src) => {
    const cells = ALL_PODS.map((dst) => (decide(w, src, dst, t).decision.allowed ? "." : "X")).join("");
    return `${src} ${cells.slice(0, 3)} ${cells.slice(3, 6)} ${cells.slice(6)}`;
  });
}

const story = (file: string): string => readFileSync(new URL(`../fixtures/tiers/eval/${file}`, import.meta.url), "utf8");
const TENANTS = { x: { tenant: "foo" }, y: { tenant: "foo" }, z: { tenant: "bar" } };

interface Story {
  readonly name: string;
  readonly yaml: string;
  readonly labels?: Readonly<Record<string, Record<string, string>>>;
  readonly tables: Readonly<Record<string, readonly string[]>>;
}

const STORY_1 = [
  "x/a .XX ... ...",
  "x/b X.X ... ...",
  "x/c XX. ... ...",
  "y/a XXX ... ...",
  "y/b XXX ... ...",
  "y/c XXX ... ...",
  "z/a XXX ... ...",
  "z/b XXX ... ...",
  "z/c XXX ... ...",
];
const STORY_5 = [
  "x/a .XX ... XXX",
  "x/b X.X ... XXX",
  "x/c XX. ... XXX",
  "y/a XXX .XX XXX",
  "y/b XXX X.X XXX",
  "y/c XXX XX. XXX",
  "z/a XXX XXX .XX",
  "z/b XXX XXX X.X",
  "z/c XXX XXX XX.",
];

const STORIES: readonly Story[] = [
  { name: "Story 1: Deny traffic at a cluster level (x is sensitive)", yaml: story("story-1.yaml"), tables: { "TCP/80": STORY_1, "UDP/81": STORY_1 } },
  {
    name: "Story 2: Allow traffic at a cluster level (z monitors, y/c serves DNS), over a NetworkPolicy isolating x",
    yaml: story("story-2.yaml"),
    tables: {
      "TCP/80": [
        "x/a .XX XX. XXX",
        "x/b X.X XX. XXX",
        "x/c XX. XX. XXX",
        "y/a XXX ... ...",
        "y/b XXX ... ...",
        "y/c XXX ... ...",
        "z/a ... ... ...",
        "z/b ... ... ...",
        "z/c ... ... ...",
      ],
    },
  },
  {
    name: "Story 3: Explicitly delegate traffic to NetworkPolicy (egress to y/b)",
    yaml: story("story-3.yaml"),
    tables: {
      "TCP/80": [
        "x/a ..X X.X X.X",
        "x/b X.X X.X X.X",
        "x/c X.. X.X X.X",
        "y/a ... ..X ...",
        "y/b ... X.X ...",
        "y/c ... X.. ...",
        "z/a ... X.X ...",
        "z/b ... X.X ...",
        "z/c ... X.X ...",
      ],
      "TCP/81": [
        "x/a .XX XXX XXX",
        "x/b X.X XXX XXX",
        "x/c XX. XXX XXX",
        "y/a ... .XX ...",
        "y/b ... X.X ...",
        "y/c ... XX. ...",
        "z/a ... XXX ...",
        "z/b ... XXX ...",
        "z/c ... XXX ...",
      ],
      "UDP/81": [
        "x/a .XX XXX XXX",
        "x/b X.X XXX XXX",
        "x/c XX. XXX XXX",
        "y/a ... ..X ...",
        "y/b ... X.X ...",
        "y/c ... X.. ...",
        "z/a ... X.X ...",
        "z/b ... X.X ...",
        "z/c ... X.X ...",
      ],
    },
  },
  {
    name: "Story 4: Create and isolate multiple tenants (x, y: foo; z: bar)",
    yaml: story("story-4.yaml"),
    labels: TENANTS,
    tables: {
      "TCP/80": [
        "x/a ... ... XXX",
        "x/b ... ... XXX",
        "x/c ... ... XXX",
        "y/a ... ... XXX",
        "y/b ... ... XXX",
        "y/c ... ... XXX",
        "z/a XXX XXX ...",
        "z/b XXX XXX ...",
        "z/c XXX XXX ...",
      ],
    },
  },
  {
    name: "Story 4, with a NetworkPolicy of x taking passed traffic from x only",
    yaml: story("story-4.yaml") + np("x", "from-x", "{podSelector: {}, policyTypes: [Ingress], ingress: [{from: [{podSelector: {}}]}]}"),
    labels: TENANTS,
    tables: {
      "TCP/80": [
        "x/a ... ... XXX",
        "x/b ... ... XXX",
        "x/c ... ... XXX",
        "y/a XXX ... XXX",
        "y/b XXX ... XXX",
        "y/c XXX ... XXX",
        "z/a XXX XXX ...",
        "z/b XXX XXX ...",
        "z/c XXX XXX ...",
      ],
    },
  },
  { name: "Story 5: Cluster wide default guardrails, overridden in y by a NetworkPolicy", yaml: story("story-5.yaml"), tables: { "TCP/80": STORY_5, "SCTP/81": STORY_5 } },
  { name: "Story 5 as a BaselineAdminNetworkPolicy", yaml: story("story-5-v1alpha1.yaml"), tables: { "TCP/80": STORY_5 } },
];

describe("user stories as truth tables", () => {
  for (const s of STORIES) {
    for (const [t, want] of Object.entries(s.tables)) {
      it(`${s.name}: ${t}`, () => {
        assert.deepEqual(table(world(s.yaml, s.labels), t), want);
      });
    }
  }
});
