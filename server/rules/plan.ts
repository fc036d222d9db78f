/**
 * A node's ruleset as data: ipsets, chains and rules, each rule with the
 * policy and field path it came from. Rendering to `ipset restore` and
 * `iptables-restore` text is in render.ts; nothing here runs a command.
 */
import type { Cidr, Family, NamespaceScope, Protocol, Selector } from "../model/types.js";

export type SetType = "hash:ip" | "hash:net";

/** What defines a set: its members follow from this and the model alone. */
export interface SetSpec {
  /** A live identity on the node: `PODWALL-…`, at most 31 characters, derived from the set's definition. */
  readonly name: string;
  readonly family: Family;
  readonly type: SetType;
  /** What the set holds, for people. */
  readonly about: string;
  /** What its members are made of, so that they can be made again when a change of the model touches them. */
  readonly source: SetSource;
}

export interface SetPlan extends SetSpec {
  /** Sorted; an except is an entry with `nomatch`. */
  readonly entries: readonly SetEntry[];
  /** A hash of the set's name, type and members: see members.ts. */
  readonly digest: string;
  /** The length of the set's text in a whole ruleset's `ipset`. */
  readonly textLength: number;
}

export type SetSource =
  /** The pods a pod peer of a policy in `policyNamespace` selects (`policyNamespace` is "" when `namespaces` is a selector: the set is the same for every policy). */
  | { readonly kind: "pods"; readonly policyNamespace: string; readonly namespaces: NamespaceScope; readonly pods: Selector }
  /** The pods where a named port resolves to `port`. */
  | { readonly kind: "port"; readonly protocol: Protocol; readonly name: string; readonly port: number }
  /** An ipBlock: `cidr`, with each `except` as `nomatch` (a tier policy's `networks` CIDR has none). Depends on nothing in the model. */
  | { readonly kind: "nets"; readonly cidr: Cidr; readonly except: readonly Cidr[] }
  /** A tier policy's `nodes` peer: the InternalIPs of the nodes whose labels the selector matches. */
  | { readonly kind: "nodes"; readonly nodes: Selector };

export interface SetEntry {
  readonly value: string;
  readonly nomatch: boolean;
}

/** Where a rule came from: the policy and field path, or the pod it guards. */
export interface Origin {
  readonly policy?: string;
  readonly field?: string;
  readonly pod?: string;
  readonly note: string;
}

export interface RulePlan {
  /** iptables match arguments, e.g. ["-m", "set", "--match-set", "PODWALL-…", "src"]. */
  readonly match: readonly string[];
  /** Target arguments, e.g. ["-j", "ACCEPT"]. */
  readonly target: readonly string[];
  readonly origin: Origin;
}

export interface ChainPlan {
  /** A live identity on the node: `PODWALL-…`, at most 28 characters. */
  readonly name: string;
  readonly rules: readonly RulePlan[];
}

export interface Hook {
  readonly family: Family;
  readonly table: "filter";
  readonly chain: string;
  readonly rule: string;
}

export interface RulesetPlan {
  readonly node: string;
  readonly sets: readonly SetPlan[];
  /** Chains per family, the top chain first. */
  readonly chains: Readonly<Record<Family, readonly ChainPlan[]>>;
  readonly hooks: readonly Hook[];
  /** The named ports (portGroupKey) whose numbers over the cluster shaped the egress rules. */
  readonly portGroups: readonly string[];
}

/** Kernel limits on names: 28 characters for a chain, 31 for a set. */
export const MAX_CHAIN_NAME = 28;
export const MAX_SET_NAME = 31;
