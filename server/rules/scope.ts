/**
 * What the chains of one family of one node name and share while they are
 * compiled: the sets their rules match (made once per model and shared by
 * every node, see sets.ts), the policy chains the node uses, and the named
 * ports whose numbers over the cluster shaped its egress rules. The
 * NetworkPolicy chains (compile.ts) and the tier chains (tiers.ts) make their
 * peer and port matches here, so that one definition gives one set, whoever
 * names it.
 */
import type { Cluster } from "../model/cluster.js";
import type { Cidr, Direction, Family, NamespaceScope, Pod, PortMatcher, Protocol, Selector } from "../model/types.js";
import { describeSelector, resolvePortMatcher } from "../policy/index.js";
import { type SetKind, setName } from "./names.js";
import type { ChainPlan, RulePlan, SetPlan, SetSpec } from "./plan.js";
import { type CachedChain, type CompileCache, materialize, namedPortGroups, portGroupKey } from "./sets.js";

/** One peer or port entry as iptables matches, with the field path it came from. */
export interface Fragment {
  readonly match: readonly string[];
  readonly field: string;
}

/** The side of the packet the other end is on: the source for ingress, the destination for egress. */
export type Side = "src" | "dst";

export function sideOf(dir: Direction): Side {
  return dir === "ingress" ? "src" : "dst";
}

export class ChainScope {
  /** The policy chains this node uses, by name. */
  readonly used = new Map<string, ChainPlan>();
  /** While a policy chain is built: the sets its rules name, the named ports it consulted. */
  private specs: SetSpec[] | undefined;
  private consulted: Set<string> | undefined;

  constructor(
    readonly cluster: Cluster,
    readonly family: Family,
    readonly cache: CompileCache,
    private readonly sets: Map<string, SetPlan>,
    private readonly portGroups: Set<string>,
  ) {}

  /** A policy chain's rules, with the sets they name and the named ports whose numbers shaped them. */
  collect(build: () => RulePlan[]): { rules: RulePlan[]; sets: SetSpec[]; portGroups: string[] } {
    const sets: SetSpec[] = [];
    const consulted = new Set<string>();
    this.specs = sets;
    this.consulted = consulted;
    try {
      return { rules: build(), sets, portGroups: [...consulted] };
    } finally {
      this.specs = undefined;
      this.consulted = undefined;
    }
  }

  /** This node uses a policy chain: the chain, its sets, the named ports that shaped it. */
  adopt(c: CachedChain): void {
    if (this.used.get(c.chain.name) === c.chain) return;
    this.used.set(c.chain.name, c.chain);
    for (const spec of c.sets) this.useSet(spec);
    for (const g of c.portGroups) this.portGroups.add(g);
  }

  /** `hash:ip` of the live pods off the host network that `pods` selects in the namespaces `ns` allows. */
  podsSet(policyNamespace: string, ns: NamespaceScope, pods: Selector): string {
    const scope = ns.kind === "same" ? `ns:${policyNamespace}` : `nsSelector:${JSON.stringify(ns.selector)}`;
    return this.addSet(
      "PODS",
      `pods\0${this.family}\0${scope}\0${JSON.stringify(pods)}`,
      "hash:ip",
      { kind: "pods", policyNamespace: ns.kind === "same" ? policyNamespace : "", namespaces: ns, pods },
      `pods ${ns.kind === "same" ? `of namespace ${policyNamespace}` : `of namespaces ${describeSelector(ns.selector)}`} matching ${describeSelector(pods)}`,
    );
  }

  /** `hash:net` of `cidr`, each of `except` (sorted, each once) as `nomatch`. */
  netsSet(cidr: Cidr, except: readonly Cidr[]): string {
    const texts = except.map((c) => c.text);
    return this.addSet(
      "NETS",
      `nets\0${this.family}\0${cidr.text}\0${texts.join(",")}`,
      "hash:net",
      { kind: "nets", cidr, except },
      `${cidr.text}${texts.length ? ` except ${texts.join(", ")}` : ""}`,
    );
  }

  /** `hash:ip` of the InternalIPs of the nodes `nodes` selects. */
  nodesSet(nodes: Selector): string {
    return this.addSet("NODES", `nodes\0${this.family}\0${JSON.stringify(nodes)}`, "hash:ip", { kind: "nodes", nodes }, `nodes matching ${describeSelector(nodes)}`);
  }

  /**
   * A named port towards any pod of the cluster: for each number the name
   * takes with this protocol, the pods where it does and that number.
   */
  namedPortToAnyPod(protocol: Protocol, name: string, field: string): Fragment[] {
    this.consulted?.add(portGroupKey(protocol, name));
    const ports = [...namedPortGroups(this.cluster, this.cache, protocol, name).keys()].sort((a, b) => a - b);
    return ports.map((port) => {
      const set = this.addSet(
        "PORT",
        `port\0${this.family}\0${protocol}\0${name}\0${port}`,
        "hash:ip",
        { kind: "port", protocol, name, port },
        `pods where ${protocol} port ${name} is ${port}`,
      );
      return { match: ["-m", "set", "--match-set", set, "dst", ...proto(protocol), "--dport", `${port}`], field };
    });
  }

  /** A NetworkPolicy port entry (a tier policy's too, but for its named ports of any protocol). */
  portMatch(m: PortMatcher, dir: Direction, subject: Pod): Fragment[] {
    switch (m.kind) {
      case "all":
        return [{ match: [], field: m.field }];
      case "protocol":
        return [{ match: proto(m.protocol), field: m.field }];
      case "range":
        return [{ match: [...proto(m.protocol), "--dport", m.from === m.to ? `${m.from}` : `${m.from}:${m.to}`], field: m.field }];
      case "named": {
        if (dir === "ingress") {
          const r = resolvePortMatcher(m, subject);
          return r ? [{ match: [...proto(m.protocol), "--dport", `${r.from}`], field: m.field }] : [];
        }
        // Egress: the destination is any pod of the cluster where the name resolves.
        return this.namedPortToAnyPod(m.protocol, m.name, m.field);
      }
    }
  }

  private addSet(kind: SetKind, definition: string, type: SetSpec["type"], source: SetSpec["source"], about: string): string {
    const spec: SetSpec = { name: setName(kind, definition), family: this.family, type, about, source };
    this.specs?.push(spec);
    this.useSet(spec);
    return spec.name;
  }

  private useSet(spec: SetSpec): void {
    if (!this.sets.has(spec.name)) this.sets.set(spec.name, materialize(this.cluster, this.cache, spec));
  }
}

/** A fragment's field path below its rule's (`from[1]`, `ports[0]`), or `whole` when it is the rule's own. */
export function fieldPart(f: Fragment, ruleField: string, whole: string): string {
  return f.field.slice(ruleField.length + 1) || whole;
}

/** `-p tcp -m tcp`: the protocol and its match module, which `--dport` needs. */
export function proto(p: Protocol): string[] {
  const lower = p.toLowerCase();
  return ["-p", lower, "-m", lower];
}

/**
 * A pod's chain for one list of policies (of a tier, or NetworkPolicies) in
 * one direction, from the cache when the pod object, its policies (objects,
 * in order) and the numbers their named ports take stand; else made. Then the
 * policy chains it jumps to are used again too.
 */
export function podChainOf(
  scope: ChainScope,
  pod: Pod,
  key: string,
  policies: readonly object[],
  numbers: string,
  make: () => { chain: ChainPlan; jumps: readonly CachedChain[] },
): ChainPlan {
  const cache = scope.cache;
  let byPod = cache.podResults.get(pod);
  if (!byPod) cache.podResults.set(pod, (byPod = new Map()));
  const known = byPod.get(key);
  if (known && known.numbers === numbers && known.policies.length === policies.length && known.policies.every((p, i) => p === policies[i])) {
    for (const c of known.jumps) scope.adopt(c);
    return known.chain;
  }
  const { chain, jumps } = make();
  byPod.set(key, { chain, policies, numbers, jumps });
  return chain;
}
