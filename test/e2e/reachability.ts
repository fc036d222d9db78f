/**
 * The expected truth table of one scenario, built the way upstream's
 * `Reachability` (test/e2e/network/netpol) builds it: start from "everything
 * may talk to everything", then mark what the scenario's policies deny (and
 * re-allow what a rule lets back in). Rows are sources, columns destinations.
 * A pod can always reach itself, so `finish()` re-allows the diagonal.
 *
 * This knows nothing of Podwall: only pod names, namespaces and booleans.
 */

/** A set of pods: a namespace and/or pod name (or lists of them); missing means any. */
export interface Peer {
  readonly ns?: string | readonly string[];
  readonly pod?: string | readonly string[];
}

/** A Peer, or one pod as "namespace/name". */
export type PeerRef = Peer | string;

function oneOrMany(v: string | readonly string[] | undefined, x: string): boolean {
  if (v === undefined) return true;
  return typeof v === "string" ? v === x : v.includes(x);
}

export function peerMatches(ref: PeerRef, key: string): boolean {
  if (typeof ref === "string") return ref === key;
  const [ns, pod] = key.split("/") as [string, string];
  return oneOrMany(ref.ns, ns) && oneOrMany(ref.pod, pod);
}

/** One peer or a list of peers (a rule's `from`/`to`: any of them). */
export type Peers = PeerRef | readonly PeerRef[];

function anyMatches(peers: Peers, key: string): boolean {
  return Array.isArray(peers) ? peers.some((p: PeerRef) => peerMatches(p, key)) : peerMatches(peers as PeerRef, key);
}

/** Every pod. */
export const ANY: Peer = {};

export class Reachability {
  private readonly cells: boolean[][];

  constructor(
    readonly pods: readonly string[],
    initial = true,
  ) {
    this.cells = pods.map(() => pods.map(() => initial));
  }

  private index(key: string): number {
    const i = this.pods.indexOf(key);
    if (i < 0) throw new Error(`${key} is not a pod of this truth table (${this.pods.join(", ")})`);
    return i;
  }

  get(from: string, to: string): boolean {
    return this.cells[this.index(from)]![this.index(to)]!;
  }

  set(from: string, to: string, allowed: boolean): this {
    this.cells[this.index(from)]![this.index(to)] = allowed;
    return this;
  }

  /** Every connection from a pod of `from` to a pod of `to`. */
  expectPeer(from: PeerRef, to: PeerRef, allowed: boolean): this {
    for (const f of this.pods) {
      if (!peerMatches(from, f)) continue;
      for (const t of this.pods) if (peerMatches(to, t)) this.set(f, t, allowed);
    }
    return this;
  }

  /** Everything into the pods of `to` (upstream's ExpectAllIngress). */
  expectAllIngress(to: PeerRef, allowed: boolean): this {
    return this.expectPeer(ANY, to, allowed);
  }

  /** Everything out of the pods of `from` (upstream's ExpectAllEgress). */
  expectAllEgress(from: PeerRef, allowed: boolean): this {
    return this.expectPeer(from, ANY, allowed);
  }

  /**
   * An isolated destination: everything into `to` is denied except from the
   * peers listed (any of them; none: nothing). It only ever denies, so calls
   * compose as "both sides must allow" does.
   */
  expectIngressOnlyFrom(to: PeerRef, allowedFrom: Peers): this {
    for (const t of this.pods) {
      if (!peerMatches(to, t)) continue;
      for (const f of this.pods) if (!anyMatches(allowedFrom, f)) this.set(f, t, false);
    }
    return this;
  }

  /** An isolated source: everything out of `from` is denied except to the peers listed. */
  expectEgressOnlyTo(from: PeerRef, allowedTo: Peers): this {
    for (const f of this.pods) {
      if (!peerMatches(from, f)) continue;
      for (const t of this.pods) if (!anyMatches(allowedTo, t)) this.set(f, t, false);
    }
    return this;
  }

  /** "A pod cannot block access to itself": the diagonal is always allowed. */
  allowLoopback(): this {
    for (const p of this.pods) this.set(p, p, true);
    return this;
  }

  /** Every (from, to) pair, row by row. */
  pairs(): [string, string][] {
    return this.pods.flatMap((f) => this.pods.map((t): [string, string] => [f, t]));
  }

  counts(): { allowed: number; denied: number } {
    let allowed = 0;
    for (const [f, t] of this.pairs()) if (this.get(f, t)) allowed++;
    return { allowed, denied: this.pods.length ** 2 - allowed };
  }
}

/** Pods of a list that a peer selects (a scenario's own reading of its selectors). */
export function podsOf(pods: readonly string[], ref: PeerRef): string[] {
  return pods.filter((p) => peerMatches(ref, p));
}
