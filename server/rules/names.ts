/**
 * Names of chains and sets. They are identities on a live node: derived from
 * content by hash, never from time or order, so the same model gives the same
 * names and a renamed object cannot collide with a stale one.
 */
import { hash } from "node:crypto";
import type { Tier } from "../model/tier-types.js";
import type { Family } from "../model/types.js";
import { MAX_CHAIN_NAME, MAX_SET_NAME } from "./plan.js";

export const PREFIX = "PODWALL-";
/** The chain hooked from FORWARD. */
export const TOP_CHAIN = "PODWALL-FORWARD";
/** Suffix of the temporary set that a set's new members are filled into before the swap. */
export const TEMP_SUFFIX = "-T";

/** SHA-256 in hex, one shot: rulesets hash many small parts, where making a Hash object per part would cost more than the hashing. */
export function sha256(text: string): string {
  return hash("sha256", text, "hex");
}

const digests = new Map<string, string>();

function digest(text: string): string {
  let d = digests.get(text);
  if (d === undefined) {
    if (digests.size >= 1_000_000) digests.clear();
    d = sha256(text).slice(0, 12).toUpperCase();
    digests.set(text, d);
  }
  return d;
}

function checked(name: string, max: number): string {
  if (name.length > max) throw new Error(`name ${name} is longer than ${max} characters`);
  return name;
}

/**
 * Each family has its own chain names (an IPv6 chain's digest also names the
 * family), so that a name says which table holds it: a delta's list of chains
 * to remove is then exact in both.
 */
function familyPart(family: Family): string {
  return family === "ipv4" ? "" : `\0${family}`;
}

/** The chain of pods with one list of policies in one direction (`key` names the policy chains it jumps to): `PODWALL-IN-…` / `PODWALL-EG-…`. */
export function podChainName(key: string, dir: "ingress" | "egress", family: Family): string {
  return checked(`${PREFIX}${dir === "ingress" ? "IN" : "EG"}-${digest(`pods\0${key}${familyPart(family)}`)}`, MAX_CHAIN_NAME);
}

/** Pods are spread over this many chains below the top one, so that a change of one pod rewrites a small chain. */
export const SHARDS = 16;

/** The shard a pod's jumps are in: from its key alone, so it stays there. */
export function podShard(podKey: string): number {
  return Number.parseInt(digest(`pod\0${podKey}`).slice(0, 4), 16) % SHARDS;
}

/** The chain of one shard of a node's pods: `PODWALL-FWD-n` (IPv6: `PODWALL-FWD6-n`). */
export function shardChainName(shard: number, family: Family): string {
  return `${PREFIX}FWD${family === "ipv4" ? "" : "6"}-${shard.toString(16).toUpperCase()}`;
}

/** A policy's chain for one direction: `PODWALL-PI-…` / `PODWALL-PE-…`. */
export function policyChainName(policyKey: string, dir: "ingress" | "egress", family: Family): string {
  return checked(`${PREFIX}${dir === "ingress" ? "PI" : "PE"}-${digest(`policy\0${policyKey}${familyPart(family)}`)}`, MAX_CHAIN_NAME);
}

/** The chain hooked from INPUT, when a pod's traffic to its own node is subject to a policy tier: `PODWALL-INPUT` (IPv6: `PODWALL-INPUT6`). */
export function inputChainName(family: Family): string {
  return `${PREFIX}INPUT${family === "ipv4" ? "" : "6"}`;
}

/** The chain of the local pods' traffic to an address of their own node: `PODWALL-NODE` (IPv6: `PODWALL-NODE6`). */
export function ownNodeChainName(family: Family): string {
  return `${PREFIX}NODE${family === "ipv4" ? "" : "6"}`;
}

/**
 * The chain of pods with one list of policies of one tier in one direction
 * (`key` names the policy chains it jumps to): `PODWALL-AI-…` / `PODWALL-AE-…`
 * for the Admin tier, `PODWALL-BI-…` / `PODWALL-BE-…` for the Baseline tier.
 */
export function tierChainName(key: string, tier: Tier, dir: "ingress" | "egress", family: Family): string {
  const kind = `${tier === "Admin" ? "A" : "B"}${dir === "ingress" ? "I" : "E"}`;
  return checked(`${PREFIX}${kind}-${digest(`tier\0${tier}\0${key}${familyPart(family)}`)}`, MAX_CHAIN_NAME);
}

/** A cluster-scoped policy's chain for one direction: `PODWALL-TI-…` / `PODWALL-TE-…`. */
export function tierPolicyChainName(policyKey: string, dir: "ingress" | "egress", family: Family): string {
  return checked(`${PREFIX}${dir === "ingress" ? "TI" : "TE"}-${digest(`tierPolicy\0${policyKey}${familyPart(family)}`)}`, MAX_CHAIN_NAME);
}

export type SetKind = "PODS" | "NETS" | "PORT" | "NODES";

/** A set, named by what defines its members (kind: PODS, NETS, PORT, NODES). */
export function setName(kind: SetKind, definition: string): string {
  return checked(`${PREFIX}${kind}-${digest(definition)}`, MAX_SET_NAME - TEMP_SUFFIX.length);
}
