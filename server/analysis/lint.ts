/**
 * The linter: what in the model's policies does not do what it says, each
 * finding on its object and on the field path the API server would name.
 * Every question goes through the primitives Check decides with (the
 * selection index, peer selection, resolvePortMatcher, ipBlockContains,
 * isolatingPolicies, tierPoliciesSelecting), so lint and Check cannot
 * disagree. The findings on cluster-scoped policies are made in lint-tiers.ts.
 *
 * | code                    | severity | finding                                                    |
 * |-------------------------|----------|------------------------------------------------------------|
 * | named-port-undefined    | error    | a named port that none of the pods it applies to defines   |
 * | policy-selects-no-pod   | warning  | a policy whose podSelector selects no pod                  |
 * | peer-selects-nothing    | warning  | a peer whose namespaceSelector or podSelector selects none |
 * | redundant-rule          | warning  | a rule beside an allow-all rule of the same direction      |
 * | ipblock-contains-pods   | warning  | an ipBlock that holds pod addresses                        |
 * | no-default-deny-ingress | warning  | a namespace with pods and no `podSelector: {}` for ingress |
 * | no-default-deny-egress  | info     | the same for egress                                        |
 * | tier-pass-undecided     | warning  | an Admin Pass after which nothing decides for some pod     |
 * | tier-deny-shadowed      | warning  | an Admin Deny that earlier Accept or Pass rules shadow     |
 * | tier-domain-names       | warning  | a domainNames peer: it matches no connection               |
 * | baseline-overridden     | info     | a Baseline rule whose every pod a NetworkPolicy isolates   |
 */
import { describeObject } from "../manifests/collect.js";
import type { Cluster } from "../model/cluster.js";
import { type Direction, type Peer, type Pod, type PolicyObject, type PortMatcher, type Rule, isLive } from "../model/types.js";
import { ipBlockContains, isolatingPolicies, resolvePortMatcher } from "../policy/match.js";
import { select, selectNamespaces, selectPeerPods } from "../policy/resolve.js";
import { SelectionIndex } from "../policy/selection-index.js";
import { describeSelector } from "../policy/selector.js";
import { lintTierPolicies } from "./lint-tiers.js";
import { byKey, count, list } from "./lint-words.js";

/** Most severe first: the order findings sort in. */
export const SEVERITIES = ["error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Each code has one severity: error, it can never do what it says; warning, a likely mistake; info, hygiene. */
export const CODES = {
  "named-port-undefined": "error",
  "policy-selects-no-pod": "warning",
  "peer-selects-nothing": "warning",
  "redundant-rule": "warning",
  "ipblock-contains-pods": "warning",
  "no-default-deny-ingress": "warning",
  "no-default-deny-egress": "info",
  "tier-pass-undecided": "warning",
  "tier-deny-shadowed": "warning",
  "tier-domain-names": "warning",
  "baseline-overridden": "info",
} as const satisfies Record<string, Severity>;
export type FindingCode = keyof typeof CODES;

export interface Finding {
  readonly severity: Severity;
  readonly code: FindingCode;
  /** "NetworkPolicy x/p", "Namespace x" */
  readonly object: string;
  /** "spec.ingress[0].from[1].namespaceSelector"; "" for a finding about the object as a whole. */
  readonly field: string;
  readonly message: string;
}

export function parseSeverity(v: unknown): Severity | undefined {
  return SEVERITIES.find((s) => s === v);
}

/** Whether `s` is `least` or more severe. */
export function atLeast(s: Severity, least: Severity): boolean {
  return SEVERITIES.indexOf(s) <= SEVERITIES.indexOf(least);
}

/** Severity, then object, then field (indexes in number order), then code. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    compareText(a.object, b.object) ||
    compareText(a.field, b.field) ||
    compareText(a.code, b.code) ||
    compareText(a.message, b.message)
  );
}

/** Every finding of the model, sorted by compareFindings. */
export function lint(cluster: Cluster): Finding[] {
  const out: Finding[] = [];
  // Pods that hold their addresses (live, off the host network), which ipBlocks are compared with.
  const m: Model = { cluster, index: SelectionIndex.of(cluster), addressed: [...cluster.pods.values()].filter((pod) => !pod.hostNetwork && isLive(pod)).sort(byKey) };
  for (const ns of [...new Set([...cluster.namespaces.keys(), ...cluster.namespacesInUse()])].sort()) {
    for (const p of cluster.policiesIn(ns)) lintPolicy(m, p, out);
    lintNamespace(cluster, ns, out);
  }
  for (const f of lintTierPolicies(cluster)) out.push(finding(f.code, f.object, f.field, f.message));
  return out.sort(compareFindings);
}

/** The model linted, with what every policy's findings look up. */
interface Model {
  readonly cluster: Cluster;
  readonly index: SelectionIndex;
  readonly addressed: readonly Pod[];
}

const DIRECTIONS: readonly Direction[] = ["ingress", "egress"];

function finding(code: FindingCode, object: string, field: string, message: string): Finding {
  return { severity: CODES[code], code, object, field, message };
}

function lintPolicy(m: Model, p: PolicyObject, out: Finding[]): void {
  const object = describeObject(p);
  const matched = [...m.index.podsOf(p)];
  // As isolatingPolicies: "host-network pods are never selected".
  const selected = matched.filter((pod) => !pod.hostNetwork).sort(byKey);
  if (selected.length === 0) {
    const host = hostNote(matched.length, "NetworkPolicy never applies to a host-network pod");
    out.push(
      finding("policy-selects-no-pod", object, "spec.podSelector", `podSelector ${describeSelector(p.policy.podSelector)} selects no pod in namespace ${p.namespace}${host}`),
    );
  }
  for (const dir of DIRECTIONS) {
    const rules = p.policy[dir] ?? [];
    const allowAll = rules.find((r) => r.peers.every((x) => x.kind === "all") && r.ports.every((m) => m.kind === "all"));
    for (const rule of rules) {
      if (allowAll !== undefined && rule !== allowAll) {
        out.push(finding("redundant-rule", object, rule.field, `${allowAll.field} allows every peer on every port, so this rule allows nothing more`));
      }
      for (const peer of rule.peers) lintPeer(m, p, peer, object, out);
      const named = rule.ports.filter((x) => x.kind === "named");
      if (named.length === 0) continue;
      // A named port is resolved on the destination: for ingress the selected pod, for egress the peer.
      const targets = dir === "ingress" ? { pods: selected, reported: true } : destinations(m, p, rule);
      for (const x of named) lintNamedPort(x, targets, object, out);
    }
  }
}

function lintPeer({ cluster, addressed }: Model, p: PolicyObject, peer: Peer, object: string, out: Finding[]): void {
  switch (peer.kind) {
    case "all":
      return;
    case "ipBlock": {
      const inside = addressed.filter((pod) => pod.ips.some((ip) => ipBlockContains(peer, ip)));
      const first = inside[0];
      if (first === undefined) return;
      const block = `${peer.cidr.text}${peer.except.length > 0 ? ` except ${peer.except.map((c) => c.text).join(", ")}` : ""}`;
      const ip = first.ips.find((a) => ipBlockContains(peer, a))!.text;
      out.push(
        finding(
          "ipblock-contains-pods",
          object,
          `${peer.field}.ipBlock.cidr`,
          `ipBlock ${block} holds the addresses of ${count(inside.length, "pod")} (e.g. ${first.key} at ${ip}): ` +
            "ipBlock is meant for addresses outside the cluster, and pod addresses change; select pods with podSelector and namespaceSelector",
        ),
      );
      return;
    }
    case "pods": {
      if (selectPeerPods(cluster, p.namespace, peer).length > 0) return;
      const scope = peer.namespaces;
      if (scope.kind === "same") {
        const host = hostNote(matchingHostPods(cluster, [p.namespace], peer), "a peer never selects a host-network pod");
        out.push(
          finding("peer-selects-nothing", object, `${peer.field}.podSelector`, `podSelector ${describeSelector(peer.pods)} selects no pod in namespace ${p.namespace}${host}`),
        );
        return;
      }
      const nsSel = `namespaceSelector ${describeSelector(scope.selector)}`;
      const namespaces = selectNamespaces(cluster, scope.selector)
        .map((n) => n.name)
        .sort();
      if (namespaces.length === 0) {
        out.push(finding("peer-selects-nothing", object, `${peer.field}.namespaceSelector`, `${nsSel} selects no namespace`));
        return;
      }
      const host = hostNote(matchingHostPods(cluster, namespaces, peer), "a peer never selects a host-network pod");
      const one = namespaces.length === 1;
      if (peer.pods.kind === "everything") {
        const where = `${count(namespaces.length, "namespace")} (${list(namespaces)}), which ${one ? "holds" : "hold"} no pod`;
        out.push(finding("peer-selects-nothing", object, `${peer.field}.namespaceSelector`, `${nsSel} selects ${where}${host}`));
      } else {
        const where = `the ${one ? "namespace" : `${namespaces.length} namespaces`} ${nsSel} selects (${list(namespaces)})`;
        out.push(finding("peer-selects-nothing", object, `${peer.field}.podSelector`, `podSelector ${describeSelector(peer.pods)} selects no pod in ${where}${host}`));
      }
      return;
    }
  }
}

/**
 * The pods an egress rule's peers may reach: every pod for a rule without
 * `to`, the pods a pod peer selects, the pods whose addresses an ipBlock
 * holds (an address outside the cluster is no pod, and has no named port).
 * `reported`: the rule has a pod peer, which is reported if it selects nothing.
 */
function destinations({ cluster, addressed }: Model, p: PolicyObject, rule: Rule): Targets {
  const pods = new Set<Pod>();
  let reported = false;
  for (const peer of rule.peers) {
    if (peer.kind === "all") for (const pod of cluster.pods.values()) if (!pod.hostNetwork) pods.add(pod);
    if (peer.kind === "ipBlock") for (const pod of addressed) if (pod.ips.some((ip) => ipBlockContains(peer, ip))) pods.add(pod);
    if (peer.kind === "pods") {
      reported = true;
      for (const pod of selectPeerPods(cluster, p.namespace, peer)) pods.add(pod);
    }
  }
  return { pods: [...pods].sort(byKey), reported };
}

/** The pods a named port is looked up on; `reported`: when there are none, another finding says why. */
interface Targets {
  readonly pods: readonly Pod[];
  readonly reported: boolean;
}

function lintNamedPort(m: PortMatcher & { kind: "named" }, targets: Targets, object: string, out: Finding[]): void {
  const field = `${m.field}.port`;
  const port = `named port "${m.name}" (${m.protocol})`;
  const first = targets.pods[0];
  if (first === undefined) {
    if (targets.reported) return;
    const why = "a named port is resolved on the destination pod, and the rule's peers reach no pod (an address outside the cluster has no named ports)";
    out.push(finding("named-port-undefined", object, field, `${port} can never match: ${why}`));
    return;
  }
  if (targets.pods.some((pod) => resolvePortMatcher(m, pod) !== undefined)) return;
  const other = targets.pods.find((pod) => pod.ports.some((cp) => cp.name === m.name));
  const otherProtocol = other?.ports.find((cp) => cp.name === m.name)?.protocol;
  const hint = other !== undefined ? `; ${other.key} defines "${m.name}" for ${otherProtocol}` : "";
  const which =
    targets.pods.length === 1
      ? `is not defined by ${first.key}, the only pod the rule applies to`
      : `is defined by none of the ${targets.pods.length} pods the rule applies to (e.g. ${first.key})`;
  out.push(finding("named-port-undefined", object, field, `${port} ${which}${hint}`));
}

/**
 * "A namespace with pods and no default deny": no policy of the namespace
 * selects every pod (`podSelector: {}`) and isolates the direction, so every
 * pod no other policy selects is open, and so is every new pod.
 */
function lintNamespace(cluster: Cluster, ns: string, out: Finding[]): void {
  const pods = [...cluster.podsIn(ns)].filter((pod) => !pod.hostNetwork && isLive(pod)).sort(byKey);
  if (pods.length === 0) return;
  const policies = [...cluster.policiesIn(ns)];
  for (const dir of DIRECTIONS) {
    if (policies.some((p) => p.policy.podSelector.kind === "everything" && p.policy[dir] !== undefined)) continue;
    const open = pods.filter((pod) => isolatingPolicies(cluster, pod, dir).length === 0);
    const state =
      open.length === 0
        ? `${pods.length === 1 ? "its pod is isolated by a policy that selects it" : `its ${pods.length} pods are isolated by policies that select them`} by label, but a new pod without those labels would not be`
        : open.length === pods.length
          ? pods.length === 1
            ? `its one pod, ${open[0]!.key}, is not isolated`
            : `none of its ${pods.length} pods is isolated (e.g. ${open[0]!.key})`
          : `${open.length} of its ${count(pods.length, "pod")} ${open.length === 1 ? "is" : "are"} not isolated (e.g. ${open[0]!.key})`;
    const code = dir === "ingress" ? "no-default-deny-ingress" : "no-default-deny-egress";
    out.push(finding(code, `Namespace ${ns}`, "", `no policy selects every pod of the namespace (podSelector: {}) for ${dir}: ${state}`));
  }
}

/** Host-network pods of these namespaces that the peer's pod selector matches. */
function matchingHostPods(cluster: Cluster, namespaces: readonly string[], peer: Peer & { kind: "pods" }): number {
  let n = 0;
  for (const ns of namespaces) {
    const labels = cluster.podLabels(ns);
    if (labels) for (const pod of select(labels, peer.pods)) if (pod.hostNetwork) n++;
  }
  return n;
}

function hostNote(n: number, why: string): string {
  return n === 0 ? "" : ` (${n === 1 ? "1 host-network pod matches" : `${n} host-network pods match`}, but ${why})`;
}

/** Code-unit order, except that runs of digits compare as numbers: `spec.ingress[2]` before `spec.ingress[10]`. */
function compareText(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y) ? Number(x) - Number(y) : 0;
    return numeric || (x < y ? -1 : 1);
  }
  return ta.length - tb.length;
}
