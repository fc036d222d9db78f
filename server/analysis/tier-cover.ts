/**
 * Whether one rule of a cluster-scoped policy matches every connection
 * another matches, where that can be proved from the rules alone: each peer
 * of the one is covered by a peer of the other (the same or a broader
 * selector, a containing network), and each port entry by a port entry.
 * "False" means "not proved", never "proved not": the linter reports only
 * what it can prove.
 */
import type { TierPeer, TierPort, TierRule } from "../model/tier-types.js";
import type { Cidr, Requirement, Selector } from "../model/types.js";
import { isStrictSubset } from "../policy/address.js";

/**
 * Every connection `inner` matches, `outer` matches: "If any element matches
 * ... then the specified action is applied", a peer and a port entry both.
 * Domain-name peers match no connection (tier-match.ts), so they need no cover.
 */
export function ruleCovers(outer: TierRule, inner: TierRule): boolean {
  return inner.peers.every((q) => q.kind === "domainNames" || outer.peers.some((p) => peerCovers(p, q))) && inner.ports.every((m) => outer.ports.some((n) => portCovers(n, m)));
}

/** Every other end `inner` matches, `outer` matches. */
export function peerCovers(outer: TierPeer, inner: TierPeer): boolean {
  switch (inner.kind) {
    case "namespaces":
      return outer.kind === "namespaces" && selectorCovers(outer.namespaces, inner.namespaces);
    case "pods":
      return (
        (outer.kind === "namespaces" && selectorCovers(outer.namespaces, inner.namespaces)) ||
        (outer.kind === "pods" && selectorCovers(outer.namespaces, inner.namespaces) && selectorCovers(outer.pods, inner.pods))
      );
    case "nodes":
      return outer.kind === "nodes" && selectorCovers(outer.nodes, inner.nodes);
    case "networks":
      return outer.kind === "networks" && inner.networks.every((c) => outer.networks.some((o) => cidrWithin(c, o)));
    case "domainNames":
      return true;
  }
}

/** Every traffic `inner` matches towards any pod, `outer` matches. */
export function portCovers(outer: TierPort, inner: TierPort): boolean {
  switch (outer.kind) {
    case "all":
      return true;
    case "protocol":
      return (inner.kind === "protocol" || inner.kind === "range" || inner.kind === "named") && inner.protocol === outer.protocol;
    case "range":
      return inner.kind === "range" && inner.protocol === outer.protocol && inner.from >= outer.from && inner.to <= outer.to;
    case "named":
      return inner.kind === "named" && inner.protocol === outer.protocol && inner.name === outer.name;
    case "namedAnyProtocol":
      // A container port of that name, whatever its protocol: a named entry of one protocol is a part of it.
      return (inner.kind === "namedAnyProtocol" || inner.kind === "named") && inner.name === outer.name;
  }
}

/** Every label set `inner` selects, `outer` selects: each requirement of `outer` follows from one of `inner`. */
export function selectorCovers(outer: Selector, inner: Selector): boolean {
  if (outer.kind === "everything") return true;
  if (inner.kind === "everything") return outer.requirements.length === 0;
  return outer.requirements.every((o) => inner.requirements.some((i) => implies(i, o)));
}

/** Whether labels that meet `i` meet `o` ("NotIn and DoesNotExist match an object that lacks the key"). */
function implies(i: Requirement, o: Requirement): boolean {
  if (i.key !== o.key) return false;
  switch (o.operator) {
    case "In":
      return i.operator === "In" && i.values.every((v) => o.values.includes(v));
    case "NotIn":
      return (
        i.operator === "DoesNotExist" ||
        (i.operator === "NotIn" && o.values.every((v) => i.values.includes(v))) ||
        (i.operator === "In" && i.values.every((v) => !o.values.includes(v)))
      );
    case "Exists":
      return i.operator === "In" || i.operator === "Exists";
    case "DoesNotExist":
      return i.operator === "DoesNotExist";
  }
}

function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (inner.family === outer.family && inner.prefix === outer.prefix && inner.text === outer.text) || isStrictSubset(inner, outer);
}
