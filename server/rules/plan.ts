/**
 * A node's ruleset as data: ipsets, chains and rules, each rule with the
 * policy and field path it came from. Rendering to `ipset restore` and
 * `iptables-restore` text is in render.ts; nothing here runs a command.
 */
import type { Family, NamespaceScope, Protocol, Selector } from "../model/types.js";

export type SetType = "hash:ip" | "hash:net";

export interface SetPlan {
  /** A live identity on the node: `PODWALL-…`, at most 31 characters, derived from the set's definition. */
  readonly name: string;
  readonly family: Family;
  readonly type: SetType;
  /** Sorted; an except is an entry with `nomatch`. */
  readonly entries: readonly SetEntry[];
  /** What the set holds, for people. */
  readonly about: string;
  /** What its members depend on, so that a change of the model finds the sets it touches. */
  readonly source: SetSource;
}

export type SetSource =
  /** The pods a pod peer of a policy in `policyNamespace` selects. */
  | { readonly kind: "pods"; readonly policyNamespace: string; readonly namespaces: NamespaceScope; readonly pods: Selector }
  /** The pods where a named port resolves to one number. */
  | { readonly kind: "port"; readonly protocol: Protocol; readonly name: string }
  /** An ipBlock: depends on nothing in the model. */
  | { readonly kind: "nets" };

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
}

/** Kernel limits on names: 28 characters for a chain, 31 for a set. */
export const MAX_CHAIN_NAME = 28;
export const MAX_SET_NAME = 31;
