/**
 * The network-policy-api conformance suite (kubernetes-sigs/network-policy-api,
 * conformance/tests/*.go), asked of Check: every test and every t.Run case, for
 * ClusterNetworkPolicy (v1alpha2, the suite at 0eec1b0: CNPAdminTier*,
 * CNPBaselineTier*) and for AdminNetworkPolicy and BaselineAdminNetworkPolicy
 * (v1alpha1, the suite at 40eeb18: AdminNetworkPolicy*, BaselineAdminNetworkPolicy*).
 *
 * Upstream applies a test's manifests, runs its cases in order, each on the
 * state the one before left (a case may first "swap rules at index0 and
 * index1", change a rule's action or a policy's priority, rewrite a rule's
 * ports as a named port, put a CIDR rule first, relabel a namespace or delete
 * a NetworkPolicy), pokes a server pod's address from a client pod
 * (`PokeServer(..., shouldConnect)`) and cleans up when the test is done.
 * Here, on one server: the manifests go in with POST /v1/apply; a change to a
 * policy reads it back from GET /v1/model, edits it as upstream does and
 * writes it with POST /v1/apply; a poke is two questions to GET /v1/check,
 * the server pod by name and by address (what upstream pokes), and `allowed`
 * must be what upstream expects. Cleaning up deletes the test's objects
 * (DELETE /v1/{adminnetworkpolicies|baselineadminnetworkpolicies|clusternetworkpolicies}/{name})
 * and the model must be the base cluster again.
 *
 * The cluster: test/fixtures/tiers/eval/conformance-cluster.yaml (the suite's base
 * manifests, scheduled). The policies: test/fixtures/tiers/conformance/{v1alpha1,v1alpha2}/,
 * upstream's files unchanged, with the host-network ports of their templates
 * filled in as the suite fills them. No case is left out: the suite probes no
 * domain name, the one kind of peer Check cannot decide by address.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { type TestServer, http, startServer } from "../helpers/server.js";

const FIXTURES = "test/fixtures/tiers/conformance";
const CLUSTER = "test/fixtures/tiers/eval/conformance-cluster.yaml";
const NAMESPACE_PREFIX = "network-policy-conformance-";

type Version = "v1alpha1" | "v1alpha2";
type Tier = "Admin" | "Baseline";
type Direction = "ingress" | "egress";
type TierKind = "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" | "ClusterNetworkPolicy";
type Obj = Record<string, any>;

const VERSIONS: readonly Version[] = ["v1alpha1", "v1alpha2"];

/** The ShortName of a test is its tier's prefix and its name: AdminNetworkPolicyEgressTCP, CNPAdminTierEgressTCP. */
const SHORT_NAME_PREFIX: Readonly<Record<Version, Readonly<Record<Tier, string>>>> = {
  v1alpha1: { Admin: "AdminNetworkPolicy", Baseline: "BaselineAdminNetworkPolicy" },
  v1alpha2: { Admin: "CNPAdminTier", Baseline: "CNPBaselineTier" },
};

/** conformance/base/<folder>/: the policies of one tier; fixture files are named <folder>--<file>. */
const TIER_FOLDER: Readonly<Record<Version, Readonly<Record<Tier, string>>>> = {
  v1alpha1: { Admin: "admin_network_policy", Baseline: "baseline_admin_network_policy" },
  v1alpha2: { Admin: "admin_tier", Baseline: "baseline_tier" },
};

const TIER_KIND: Readonly<Record<Version, Readonly<Record<Tier, TierKind>>>> = {
  v1alpha1: { Admin: "AdminNetworkPolicy", Baseline: "BaselineAdminNetworkPolicy" },
  v1alpha2: { Admin: "ClusterNetworkPolicy", Baseline: "ClusterNetworkPolicy" },
};

const RESOURCE: Readonly<Record<TierKind, string>> = {
  AdminNetworkPolicy: "adminnetworkpolicies",
  BaselineAdminNetworkPolicy: "baselineadminnetworkpolicies",
  ClusterNetworkPolicy: "clusternetworkpolicies",
};

/** An "Allow" of v1alpha1 is an "Accept" of v1alpha2 (upstream: "[conformance] rename Allow to Accept"). */
const ACCEPT: Readonly<Record<Version, string>> = { v1alpha1: "Allow", v1alpha2: "Accept" };

/**
 * The host-network pods' ports, by index: v1alpha2's suite takes them from a
 * range, "HostNetworkPortRangeStart = 34345" by default, and fills the
 * manifests' `{{ index .HostNetworkPorts N }}` with them; v1alpha1's suite
 * wrote its own ports in those places.
 */
const HOST_NETWORK_PORTS: Readonly<Record<Version, readonly number[]>> = {
  v1alpha1: [36363, 36364, 34345, 34358, 34346, 34357, 9003, 9005],
  v1alpha2: [34345, 34346, 34347, 34348, 34349, 34350, 34351, 34352],
};

/**
 * What a case does to a policy before it pokes, as upstream's `mutate`:
 * - swap: "swap rules at index0 and index1" of one direction;
 * - action: a rule's action, "change ingress rule from "deny" to "pass"";
 * - priority: "change priority from 60 to 40";
 * - named-port: a rule's ports become one named port ("replace the tcp port 8080 rule as named port rule");
 * - prepend-networks: "insert new rule at index0": Accept (Allow) egress to the pods' addresses.
 */
type Edit =
  | { readonly op: "swap"; readonly dir: Direction; readonly i: number; readonly j: number }
  | { readonly op: "action"; readonly dir: Direction; readonly i: number; readonly action: "Pass" }
  | { readonly op: "priority"; readonly priority: number }
  | { readonly op: "named-port"; readonly dir: Direction; readonly i: number; readonly port: string }
  | { readonly op: "prepend-networks"; readonly name: string; readonly pods: readonly string[] };

/** A port, or the index of a host-network port (`s.HostNetworkPorts[N]`). */
type Port = number | { readonly hostNetworkPort: number };

/** Pods are "house/name": the namespace network-policy-conformance-<house>. */
type Step = (
  | { readonly kind: "poke"; readonly client: string; readonly protocol: string; readonly server: string; readonly port: Port; readonly connects: boolean }
  | { readonly kind: "patch"; readonly tier: Tier; readonly name: string; readonly edits: readonly Edit[] }
  | { readonly kind: "relabel"; readonly house: string; readonly labels: Readonly<Record<string, string>> }
  | { readonly kind: "delete-network-policy"; readonly house: string; readonly name: string }
) & { readonly only?: Version };

interface Case {
  /** The t.Run name, where the versions word it differently. */
  readonly name: string | Readonly<Record<Version, string>>;
  readonly steps: readonly Step[];
}

interface ConformanceTest {
  readonly tier: Tier;
  /** The ShortName without its tier's prefix. */
  readonly test: string;
  /** conformance/base/<manifest>, "tier/" standing for the tier's folder. */
  readonly manifest: string;
  readonly cases: readonly Case[];
}

const run = (name: Case["name"], steps: readonly Step[]): Case => ({ name, steps });
/** kubernetes.PokeServer(t, ..., clientNamespace, clientPod, protocol, serverPod.Status.PodIP, port, ..., shouldConnect) */
const poke = (client: string, protocol: string, server: string, port: Port, connects: boolean): Step => ({ kind: "poke", client, protocol, server, port, connects });
/** The three servers of a conformance pod, as the suite probes them one after another: TCP 80, UDP 53, SCTP 9003. */
const everyServer = (client: string, server: string, connects: boolean): Step[] => [
  poke(client, "tcp", server, 80, connects),
  poke(client, "udp", server, 53, connects),
  poke(client, "sctp", server, 9003, connects),
];
const hostPort = (i: number): Port => ({ hostNetworkPort: i });
const patch = (tier: Tier, name: string, ...edits: Edit[]): Step => ({ kind: "patch", tier, name, edits });
const relabel = (house: string, labels: Record<string, string>): Step => ({ kind: "relabel", house, labels });
const deleteNetworkPolicy = (house: string, name: string): Step => ({ kind: "delete-network-policy", house, name });
const swap = (dir: Direction, i: number, j: number): Edit => ({ op: "swap", dir, i, j });
const action = (dir: Direction, i: number, a: "Pass"): Edit => ({ op: "action", dir, i, action: a });
const priority = (p: number): Edit => ({ op: "priority", priority: p });
const namedPort = (dir: Direction, i: number, port: string): Edit => ({ op: "named-port", dir, i, port });
const prependNetworks = (name: string, ...pods: string[]): Edit => ({ op: "prepend-networks", name, pods });
/** Steps of one version's suite only. */
const only = (version: Version, steps: readonly Step[]): Step[] => steps.map((s) => ({ ...s, only: version }));

const TESTS: readonly ConformanceTest[] = [
  {
    tier: "Admin",
    test: "IngressTCP",
    manifest: "tier/standard-ingress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
      run("Should support an 'allow-ingress' policy for TCP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "tcp", "gryffindor/harry-potter-1", 80, true),
        poke("hufflepuff/cedric-diggory-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
      ]),
      run("Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-tcp", swap("ingress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-1", 80, false),
        poke("ravenclaw/luna-lovegood-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
      ]),
      run("Should support a 'deny-ingress' policy for TCP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
      run("Should support an 'pass-ingress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-tcp", swap("ingress", 0, 2)),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
      run("Should support a 'pass-ingress' policy for TCP protocol at the specified port", [
        patch("Admin", "ingress-tcp", swap("ingress", 3, 4)),
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "IngressUDP",
    manifest: "tier/standard-ingress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "udp", "hufflepuff/cedric-diggory-0", 53, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "hufflepuff/cedric-diggory-0", 5353, true),
      ]),
      run("Should support an 'allow-ingress' policy for UDP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "udp", "hufflepuff/cedric-diggory-1", 53, true),
        poke("gryffindor/harry-potter-1", "udp", "hufflepuff/cedric-diggory-1", 5353, false),
      ]),
      run("Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-udp", swap("ingress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "udp", "hufflepuff/cedric-diggory-1", 53, false),
        poke("ravenclaw/luna-lovegood-1", "udp", "hufflepuff/cedric-diggory-1", 5353, false),
      ]),
      run("Should support a 'deny-ingress' policy for UDP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "udp", "hufflepuff/cedric-diggory-0", 5353, false),
        poke("slytherin/draco-malfoy-1", "udp", "hufflepuff/cedric-diggory-0", 53, true),
      ]),
      run("Should support an 'pass-ingress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-udp", swap("ingress", 0, 2)),
        poke("ravenclaw/luna-lovegood-0", "udp", "hufflepuff/cedric-diggory-1", 5353, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "hufflepuff/cedric-diggory-1", 53, true),
      ]),
      run("Should support a 'pass-ingress' policy for UDP protocol at the specified port", [
        patch("Admin", "ingress-udp", swap("ingress", 3, 4)),
        poke("slytherin/draco-malfoy-0", "udp", "hufflepuff/cedric-diggory-0", 5353, true),
        poke("slytherin/draco-malfoy-1", "udp", "hufflepuff/cedric-diggory-0", 53, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "IngressSCTP",
    manifest: "tier/standard-ingress-sctp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected", [
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "ravenclaw/luna-lovegood-0", 9005, true),
      ]),
      run("Should support an 'allow-ingress' policy for SCTP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, true),
        poke("hufflepuff/cedric-diggory-1", "sctp", "ravenclaw/luna-lovegood-1", 9005, false),
      ]),
      run("Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-sctp", swap("ingress", 0, 1)),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, false),
        poke("gryffindor/harry-potter-1", "sctp", "ravenclaw/luna-lovegood-1", 9005, false),
      ]),
      run("Should support a 'deny-ingress' policy for SCTP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, false),
        poke("slytherin/draco-malfoy-1", "sctp", "ravenclaw/luna-lovegood-0", 9005, true),
      ]),
      run("Should support an 'pass-ingress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Admin", "ingress-sctp", swap("ingress", 0, 2)),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "ravenclaw/luna-lovegood-1", 9005, true),
      ]),
      run("Should support a 'pass-ingress' policy for SCTP protocol at the specified port", [
        patch("Admin", "ingress-sctp", swap("ingress", 3, 4)),
        poke("slytherin/draco-malfoy-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("slytherin/draco-malfoy-1", "sctp", "ravenclaw/luna-lovegood-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "EgressTCP",
    manifest: "tier/standard-egress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected", [
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "ravenclaw/luna-lovegood-0", 8080, true),
      ]),
      run("Should support an 'allow-egress' policy for TCP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "tcp", "hufflepuff/cedric-diggory-1", 8080, true),
        poke("gryffindor/harry-potter-1", "tcp", "hufflepuff/cedric-diggory-1", 80, false),
      ]),
      run("Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-tcp", swap("egress", 0, 1)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-1", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "ravenclaw/luna-lovegood-1", 8080, false),
      ]),
      run("Should support a 'deny-egress' policy for TCP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
      ]),
      run("Should support an 'pass-egress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-tcp", swap("egress", 0, 2)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "ravenclaw/luna-lovegood-0", 8080, true),
      ]),
      run("Should support a 'pass-egress' policy for TCP protocol at the specified port", [
        patch("Admin", "egress-tcp", swap("egress", 3, 4)),
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "EgressUDP",
    manifest: "tier/standard-egress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected", [
        poke("hufflepuff/cedric-diggory-0", "udp", "ravenclaw/luna-lovegood-0", 53, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "ravenclaw/luna-lovegood-0", 5353, true),
      ]),
      run("Should support an 'allow-egress' policy for UDP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "udp", "gryffindor/harry-potter-1", 53, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "gryffindor/harry-potter-1", 5353, false),
      ]),
      run("Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-udp", swap("egress", 0, 1)),
        poke("hufflepuff/cedric-diggory-0", "udp", "ravenclaw/luna-lovegood-1", 53, false),
        poke("hufflepuff/cedric-diggory-1", "udp", "ravenclaw/luna-lovegood-1", 5353, false),
      ]),
      run("Should support a 'deny-egress' policy for UDP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "udp", "slytherin/draco-malfoy-0", 5353, false),
        poke("hufflepuff/cedric-diggory-1", "udp", "slytherin/draco-malfoy-0", 53, true),
      ]),
      run("Should support an 'pass-egress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-udp", swap("egress", 0, 2)),
        poke("hufflepuff/cedric-diggory-0", "udp", "ravenclaw/luna-lovegood-1", 5353, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "ravenclaw/luna-lovegood-1", 53, true),
      ]),
      run("Should support a 'pass-egress' policy for UDP protocol at the specified port", [
        patch("Admin", "egress-udp", swap("egress", 3, 4)),
        poke("hufflepuff/cedric-diggory-0", "udp", "slytherin/draco-malfoy-0", 5353, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "slytherin/draco-malfoy-0", 53, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "EgressSCTP",
    manifest: "tier/standard-egress-sctp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "gryffindor/harry-potter-0", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-0", 9005, true),
      ]),
      run("Should support an 'allow-egress' policy for SCTP protocol at the specified port", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "hufflepuff/cedric-diggory-1", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "hufflepuff/cedric-diggory-1", 9005, false),
      ]),
      run("Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-sctp", swap("egress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "sctp", "gryffindor/harry-potter-1", 9003, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-1", 9005, false),
      ]),
      run("Should support a 'deny-egress' policy for SCTP protocol at the specified port", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "slytherin/draco-malfoy-0", 9003, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
      ]),
      run("Should support an 'pass-egress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Admin", "egress-sctp", swap("egress", 0, 2)),
        poke("ravenclaw/luna-lovegood-0", "sctp", "gryffindor/harry-potter-1", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-1", 9005, true),
      ]),
      run("Should support a 'pass-egress' policy for SCTP protocol at the specified port", [
        patch("Admin", "egress-sctp", swap("egress", 3, 4)),
        poke("ravenclaw/luna-lovegood-0", "sctp", "slytherin/draco-malfoy-0", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "Gress",
    manifest: "tier/standard-gress-rules-combined.yaml",
    cases: [
      run("Should support an 'allow-gress' policy across different protocols", [
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-1", "udp", "ravenclaw/luna-lovegood-0", 53, true),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "gryffindor/harry-potter-0", 53, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-0", 9003, true),
      ]),
      run("Should support an 'allow-gress' policy across different protocols at the specified ports", [
        poke("gryffindor/harry-potter-0", "tcp", "hufflepuff/cedric-diggory-1", 8080, true),
        poke("gryffindor/harry-potter-1", "tcp", "hufflepuff/cedric-diggory-1", 80, false),
        poke("gryffindor/harry-potter-0", "udp", "hufflepuff/cedric-diggory-1", 5353, true),
        poke("gryffindor/harry-potter-1", "udp", "hufflepuff/cedric-diggory-1", 53, false),
        poke("gryffindor/harry-potter-0", "sctp", "hufflepuff/cedric-diggory-1", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "hufflepuff/cedric-diggory-1", 9005, false),
        poke("hufflepuff/cedric-diggory-0", "tcp", "gryffindor/harry-potter-1", 80, true),
        poke("hufflepuff/cedric-diggory-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
        poke("hufflepuff/cedric-diggory-0", "udp", "gryffindor/harry-potter-1", 5353, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "gryffindor/harry-potter-1", 53, false),
        poke("hufflepuff/cedric-diggory-0", "sctp", "gryffindor/harry-potter-1", 9003, true),
        poke("hufflepuff/cedric-diggory-1", "sctp", "gryffindor/harry-potter-1", 9005, false),
      ]),
      run("Should support an 'deny-gress' policy across different protocols", [
        patch("Admin", "gress-rules", swap("egress", 0, 1), swap("ingress", 0, 1)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-1", 80, false),
        poke("gryffindor/harry-potter-1", "udp", "ravenclaw/luna-lovegood-1", 53, false),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, false),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-1", 80, false),
        poke("ravenclaw/luna-lovegood-1", "udp", "gryffindor/harry-potter-1", 53, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-1", 9003, false),
      ]),
      run("Should support a 'deny-gress' policy across different protocols at the specified ports", [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
        poke("gryffindor/harry-potter-0", "udp", "slytherin/draco-malfoy-0", 53, false),
        poke("gryffindor/harry-potter-1", "udp", "slytherin/draco-malfoy-0", 5353, true),
        poke("gryffindor/harry-potter-0", "sctp", "slytherin/draco-malfoy-0", 9003, false),
        poke("gryffindor/harry-potter-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
        poke("slytherin/draco-malfoy-0", "udp", "gryffindor/harry-potter-0", 53, false),
        poke("slytherin/draco-malfoy-1", "udp", "gryffindor/harry-potter-0", 5353, true),
        poke("slytherin/draco-malfoy-0", "sctp", "gryffindor/harry-potter-0", 9003, false),
        poke("slytherin/draco-malfoy-1", "sctp", "gryffindor/harry-potter-0", 9005, true),
      ]),
      run("Should support an 'pass-gress' policy across different protocols", [
        patch("Admin", "gress-rules", swap("egress", 0, 2), swap("ingress", 0, 2)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-0", "udp", "ravenclaw/luna-lovegood-0", 5353, true),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "gryffindor/harry-potter-0", 53, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-0", 9003, true),
      ]),
      run("Should support a 'pass-gress' policy across different protocols at the specified ports", [
        patch("Admin", "gress-rules", swap("egress", 3, 4), swap("ingress", 3, 4)),
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
        poke("gryffindor/harry-potter-0", "udp", "slytherin/draco-malfoy-0", 53, true),
        poke("gryffindor/harry-potter-1", "udp", "slytherin/draco-malfoy-0", 5353, true),
        poke("gryffindor/harry-potter-0", "sctp", "slytherin/draco-malfoy-0", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
        poke("slytherin/draco-malfoy-0", "udp", "gryffindor/harry-potter-0", 53, true),
        poke("slytherin/draco-malfoy-1", "udp", "gryffindor/harry-potter-0", 5353, true),
        poke("slytherin/draco-malfoy-0", "sctp", "gryffindor/harry-potter-0", 9003, true),
        poke("slytherin/draco-malfoy-1", "sctp", "gryffindor/harry-potter-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "PriorityField",
    manifest: "tier/standard-priority-field.yaml",
    cases: [
      run({ v1alpha1: "Should Deny traffic from slytherin to gryffindor respecting ANP", v1alpha2: "Should Deny traffic from slytherin to gryffindor respecting admin CNP" }, [
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, false),
      ]),
      run({ v1alpha1: "Should Deny traffic to slytherin from gryffindor respecting ANP", v1alpha2: "Should Deny traffic to slytherin from gryffindor respecting admin CNP" }, [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, false),
      ]),
      run(
        {
          v1alpha1: "Should respect ANP priority field; thus passing both ingress and egress traffic over to BANP",
          v1alpha2: "Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP",
        },
        [
          patch("Admin", "old-priority-60-new-priority-40-example", priority(40)),
          poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, true),
          poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
          poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, true),
          poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
        ],
      ),
    ],
  },
  {
    tier: "Admin",
    test: "Integration",
    manifest: "api_integration/standard-anp-np-banp.yaml",
    cases: [
      run({ v1alpha1: "Should Deny traffic from slytherin to gryffindor respecting ANP", v1alpha2: "Should Deny traffic from slytherin to gryffindor respecting admin CNP" }, [
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, false),
      ]),
      run({ v1alpha1: "Should Deny traffic to slytherin from gryffindor respecting ANP", v1alpha2: "Should Deny traffic to slytherin from gryffindor respecting admin CNP" }, [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, false),
      ]),
      run(
        {
          v1alpha1: "Should support a 'pass-ingress' policy for ANP and respect the match for network policy",
          v1alpha2: "Should support a 'pass-ingress' policy for admin CNP and respect the match for network policy",
        },
        [
          patch("Admin", "pass-example", action("ingress", 0, "Pass")),
          poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, true),
          poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
        ],
      ),
      run(
        {
          v1alpha1: "Should support a 'pass-egress' policy for ANP and respect the match for network policy",
          v1alpha2: "Should support a 'pass-egress' policy for admin CNP and respect the match for network policy",
        },
        [
          patch("Admin", "pass-example", action("egress", 0, "Pass")),
          poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, true),
          poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
        ],
      ),
      run(
        {
          v1alpha1: "Should support a 'pass-ingress' policy for ANP and respect the match for baseline admin network policy",
          v1alpha2: "Should support a 'pass-ingress' policy for admin CNP and respect the match for baseline cluster network policy",
        },
        [
          deleteNetworkPolicy("gryffindor", "allow-gress-from-to-slytherin-to-gryffindor"),
          poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
          poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, false),
        ],
      ),
      run(
        {
          v1alpha1: "Should support a 'pass-egress' policy for ANP and respect the match for baseline admin network policy",
          v1alpha2: "Should support a 'pass-egress' policy for admin CNP and respect the match for baseline cluster network policy",
        },
        [poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false), poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, false)],
      ),
    ],
  },
  {
    tier: "Admin",
    test: "EgressInlineCIDRPeers",
    manifest: "tier/standard-egress-inline-cidr-rules.yaml",
    cases: [
      run("Should support a 'deny-egress' rule policy for egress-cidr-peer", [
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-0", false),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-0", false),
        ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", true),
        // v1alpha2's suite also relabels slytherin, so that the Accept rule no longer selects it, and back.
        ...only("v1alpha2", [
          relabel("slytherin", { "conformance-house": "denied-namespace-label" }),
          ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", false),
          relabel("slytherin", { "conformance-house": "slytherin" }),
          ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", true),
        ]),
      ]),
      run("Should support an 'allow-egress' rule policy for egress-cidr-peer", [
        patch("Admin", "inline-cidr-as-peers-example", prependNetworks("allow-egress-to-specific-podIPs", "ravenclaw/luna-lovegood-0", "hufflepuff/cedric-diggory-0")),
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-0", true),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-0", true),
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-1", false),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-1", false),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "IngressNamedPort",
    manifest: "tier/standard-ingress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for named port", [
        patch("Admin", "ingress-udp", namedPort("ingress", 5, "dns")),
        poke("gryffindor/harry-potter-0", "udp", "hufflepuff/cedric-diggory-1", 53, true),
        poke("gryffindor/harry-potter-1", "udp", "hufflepuff/cedric-diggory-1", 5353, false),
      ]),
    ],
  },
  {
    tier: "Admin",
    test: "EgressNamedPort",
    manifest: "tier/standard-egress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for named port", [
        patch("Admin", "egress-tcp", namedPort("egress", 5, "web")),
        poke("gryffindor/harry-potter-0", "tcp", "hufflepuff/cedric-diggory-1", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "hufflepuff/cedric-diggory-1", 8080, false),
      ]),
    ],
  },
  // centaur-1 is a host-network pod on kind-worker2, as is harry-potter-1: the Admin tier's Deny holds towards
  // a pod's own node too (the own-node exception is the NetworkPolicy tier's).
  {
    tier: "Admin",
    test: "EgressNodePeers",
    manifest: "tier/experimental-egress-selector-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' rule policy for egress-node-peer", [
        // v1alpha1's suite pokes from harry-potter-0 (another node), v1alpha2's from harry-potter-1 (the server's node).
        ...only("v1alpha1", [poke("gryffindor/harry-potter-0", "tcp", "forbidden-forrest/centaur-1", hostPort(0), true)]),
        ...only("v1alpha2", [poke("gryffindor/harry-potter-1", "tcp", "forbidden-forrest/centaur-1", hostPort(0), true)]),
      ]),
      run("Should support a 'pass-egress' rule policy for egress-node-peer", [poke("gryffindor/harry-potter-1", "udp", "forbidden-forrest/centaur-1", hostPort(2), true)]),
      run("Should support a 'deny-egress' rule policy for egress-node-peer", [
        poke("gryffindor/harry-potter-1", "tcp", "forbidden-forrest/centaur-1", hostPort(1), false),
        poke("gryffindor/harry-potter-1", "udp", "forbidden-forrest/centaur-1", hostPort(4), false),
        poke("gryffindor/harry-potter-1", "sctp", "forbidden-forrest/centaur-1", hostPort(6), false),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "IngressTCP",
    manifest: "tier/standard-ingress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
      run("Should support an 'allow-ingress' policy for TCP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "tcp", "gryffindor/harry-potter-1", 80, true),
        poke("hufflepuff/cedric-diggory-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
      ]),
      run("Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("ingress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-1", 80, false),
        poke("ravenclaw/luna-lovegood-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
      ]),
      run("Should support a 'deny-ingress' policy for TCP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "IngressUDP",
    manifest: "tier/standard-ingress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "udp", "hufflepuff/cedric-diggory-0", 53, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "hufflepuff/cedric-diggory-0", 5353, true),
      ]),
      run("Should support an 'allow-ingress' policy for UDP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "udp", "hufflepuff/cedric-diggory-1", 53, true),
        poke("gryffindor/harry-potter-1", "udp", "hufflepuff/cedric-diggory-1", 5353, false),
      ]),
      run("Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("ingress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "udp", "hufflepuff/cedric-diggory-1", 53, false),
        poke("ravenclaw/luna-lovegood-1", "udp", "hufflepuff/cedric-diggory-1", 5353, false),
      ]),
      run("Should support a 'deny-ingress' policy for UDP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "udp", "hufflepuff/cedric-diggory-0", 5353, false),
        poke("slytherin/draco-malfoy-1", "udp", "hufflepuff/cedric-diggory-0", 53, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "IngressSCTP",
    manifest: "tier/standard-ingress-sctp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected", [
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "ravenclaw/luna-lovegood-0", 9005, true),
      ]),
      run("Should support an 'allow-ingress' policy for SCTP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, true),
        poke("hufflepuff/cedric-diggory-1", "sctp", "ravenclaw/luna-lovegood-1", 9005, false),
      ]),
      run("Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("ingress", 0, 1)),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, false),
        poke("gryffindor/harry-potter-1", "sctp", "ravenclaw/luna-lovegood-1", 9005, false),
      ]),
      run("Should support a 'deny-ingress' policy for SCTP protocol at the specified port", [
        poke("slytherin/draco-malfoy-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, false),
        poke("slytherin/draco-malfoy-1", "sctp", "ravenclaw/luna-lovegood-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressTCP",
    manifest: "tier/standard-egress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected", [
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-1", "tcp", "ravenclaw/luna-lovegood-0", 8080, true),
      ]),
      run("Should support an 'allow-egress' policy for TCP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "tcp", "hufflepuff/cedric-diggory-1", 8080, true),
        poke("gryffindor/harry-potter-1", "tcp", "hufflepuff/cedric-diggory-1", 80, false),
      ]),
      run("Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("egress", 0, 1)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-1", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "ravenclaw/luna-lovegood-1", 8080, false),
      ]),
      run("Should support a 'deny-egress' policy for TCP protocol at the specified port", [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressUDP",
    manifest: "tier/standard-egress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected", [
        poke("hufflepuff/cedric-diggory-0", "udp", "ravenclaw/luna-lovegood-0", 53, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "ravenclaw/luna-lovegood-0", 5353, true),
      ]),
      run("Should support an 'allow-egress' policy for UDP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "udp", "gryffindor/harry-potter-1", 53, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "gryffindor/harry-potter-1", 5353, false),
      ]),
      run("Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("egress", 0, 1)),
        poke("hufflepuff/cedric-diggory-0", "udp", "ravenclaw/luna-lovegood-1", 53, false),
        poke("hufflepuff/cedric-diggory-1", "udp", "ravenclaw/luna-lovegood-1", 5353, false),
      ]),
      run("Should support a 'deny-egress' policy for UDP protocol at the specified port", [
        poke("hufflepuff/cedric-diggory-0", "udp", "slytherin/draco-malfoy-0", 5353, false),
        poke("hufflepuff/cedric-diggory-1", "udp", "slytherin/draco-malfoy-0", 53, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressSCTP",
    manifest: "tier/standard-egress-sctp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "gryffindor/harry-potter-0", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-0", 9005, true),
      ]),
      run("Should support an 'allow-egress' policy for SCTP protocol at the specified port", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "hufflepuff/cedric-diggory-1", 9003, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "hufflepuff/cedric-diggory-1", 9005, false),
      ]),
      run("Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected", [
        patch("Baseline", "default", swap("egress", 0, 1)),
        poke("ravenclaw/luna-lovegood-0", "sctp", "gryffindor/harry-potter-1", 9003, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-1", 9005, false),
      ]),
      run("Should support a 'deny-egress' policy for SCTP protocol at the specified port", [
        poke("ravenclaw/luna-lovegood-0", "sctp", "slytherin/draco-malfoy-0", 9003, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "Gress",
    manifest: "tier/standard-gress-rules-combined.yaml",
    cases: [
      run("Should support an 'allow-gress' policy across different protocols", [
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-0", 80, true),
        poke("gryffindor/harry-potter-1", "udp", "ravenclaw/luna-lovegood-0", 53, true),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-0", 9003, true),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-0", 80, true),
        poke("ravenclaw/luna-lovegood-1", "udp", "gryffindor/harry-potter-0", 53, true),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-0", 9003, true),
      ]),
      run("Should support an 'allow-gress' policy across different protocols at the specified ports", [
        poke("gryffindor/harry-potter-0", "tcp", "hufflepuff/cedric-diggory-1", 8080, true),
        poke("gryffindor/harry-potter-1", "tcp", "hufflepuff/cedric-diggory-1", 80, false),
        poke("gryffindor/harry-potter-0", "udp", "hufflepuff/cedric-diggory-1", 5353, true),
        poke("gryffindor/harry-potter-1", "udp", "hufflepuff/cedric-diggory-1", 53, false),
        poke("gryffindor/harry-potter-0", "sctp", "hufflepuff/cedric-diggory-1", 9003, true),
        poke("gryffindor/harry-potter-1", "sctp", "hufflepuff/cedric-diggory-1", 9005, false),
        poke("hufflepuff/cedric-diggory-0", "tcp", "gryffindor/harry-potter-1", 80, true),
        poke("hufflepuff/cedric-diggory-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
        poke("hufflepuff/cedric-diggory-0", "udp", "gryffindor/harry-potter-1", 5353, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "gryffindor/harry-potter-1", 53, false),
        poke("hufflepuff/cedric-diggory-0", "sctp", "gryffindor/harry-potter-1", 9003, true),
        poke("hufflepuff/cedric-diggory-1", "sctp", "gryffindor/harry-potter-1", 9005, false),
      ]),
      run("Should support an 'deny-gress' policy across different protocols", [
        patch("Baseline", "default", swap("egress", 0, 1), swap("ingress", 0, 1)),
        poke("gryffindor/harry-potter-0", "tcp", "ravenclaw/luna-lovegood-1", 80, false),
        poke("gryffindor/harry-potter-1", "udp", "ravenclaw/luna-lovegood-1", 53, false),
        poke("gryffindor/harry-potter-0", "sctp", "ravenclaw/luna-lovegood-1", 9003, false),
        poke("ravenclaw/luna-lovegood-0", "tcp", "gryffindor/harry-potter-1", 80, false),
        poke("ravenclaw/luna-lovegood-1", "udp", "gryffindor/harry-potter-1", 53, false),
        poke("ravenclaw/luna-lovegood-1", "sctp", "gryffindor/harry-potter-1", 9003, false),
      ]),
      run("Should support a 'deny-gress' policy across different protocols at the specified ports", [
        poke("gryffindor/harry-potter-0", "tcp", "slytherin/draco-malfoy-0", 80, false),
        poke("gryffindor/harry-potter-1", "tcp", "slytherin/draco-malfoy-0", 8080, true),
        poke("gryffindor/harry-potter-0", "udp", "slytherin/draco-malfoy-0", 53, false),
        poke("gryffindor/harry-potter-1", "udp", "slytherin/draco-malfoy-0", 5353, true),
        poke("gryffindor/harry-potter-0", "sctp", "slytherin/draco-malfoy-0", 9003, false),
        poke("gryffindor/harry-potter-1", "sctp", "slytherin/draco-malfoy-0", 9005, true),
        poke("slytherin/draco-malfoy-0", "tcp", "gryffindor/harry-potter-0", 80, false),
        poke("slytherin/draco-malfoy-1", "tcp", "gryffindor/harry-potter-0", 8080, true),
        poke("slytherin/draco-malfoy-0", "udp", "gryffindor/harry-potter-0", 53, false),
        poke("slytherin/draco-malfoy-1", "udp", "gryffindor/harry-potter-0", 5353, true),
        poke("slytherin/draco-malfoy-0", "sctp", "gryffindor/harry-potter-0", 9003, false),
        poke("slytherin/draco-malfoy-1", "sctp", "gryffindor/harry-potter-0", 9005, true),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressInlineCIDRPeers",
    manifest: "tier/standard-egress-inline-cidr-rules.yaml",
    cases: [
      run("Should support a 'deny-egress' rule policy for egress-cidr-peer", [
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-0", false),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-0", false),
        ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", true),
        // v1alpha2's suite also relabels slytherin, so that the Accept rule no longer selects it, and back.
        ...only("v1alpha2", [
          relabel("slytherin", { "conformance-house": "denied-namespace-label" }),
          ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", false),
          relabel("slytherin", { "conformance-house": "slytherin" }),
          ...everyServer("gryffindor/harry-potter-1", "slytherin/draco-malfoy-0", true),
        ]),
      ]),
      run("Should support an 'allow-egress' rule policy for egress-cidr-peer", [
        patch("Baseline", "default", prependNetworks("allow-egress-to-specific-podIPs", "ravenclaw/luna-lovegood-0", "hufflepuff/cedric-diggory-0")),
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-0", true),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-0", true),
        ...everyServer("gryffindor/harry-potter-1", "ravenclaw/luna-lovegood-1", false),
        ...everyServer("gryffindor/harry-potter-1", "hufflepuff/cedric-diggory-1", false),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "IngressNamedPort",
    manifest: "tier/standard-ingress-tcp-rules.yaml",
    cases: [
      run("Should support an 'allow-ingress' policy for named port", [
        patch("Baseline", "default", namedPort("ingress", 3, "web")),
        poke("hufflepuff/cedric-diggory-0", "tcp", "gryffindor/harry-potter-1", 80, true),
        poke("hufflepuff/cedric-diggory-1", "tcp", "gryffindor/harry-potter-1", 8080, false),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressNamedPort",
    manifest: "tier/standard-egress-udp-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' policy for named port", [
        patch("Baseline", "default", namedPort("egress", 3, "dns")),
        poke("hufflepuff/cedric-diggory-0", "udp", "gryffindor/harry-potter-1", 53, true),
        poke("hufflepuff/cedric-diggory-1", "udp", "gryffindor/harry-potter-1", 5353, false),
      ]),
    ],
  },
  {
    tier: "Baseline",
    test: "EgressNodePeers",
    manifest: "tier/experimental-egress-selector-rules.yaml",
    cases: [
      run("Should support an 'allow-egress' rule policy for egress-node-peer", [
        poke("gryffindor/harry-potter-0", "tcp", "forbidden-forrest/centaur-1", hostPort(0), true),
        poke("gryffindor/harry-potter-1", "tcp", "forbidden-forrest/centaur-1", hostPort(1), true),
      ]),
      run("Should support a 'deny-egress' rule policy for egress-node-peer", [
        poke("gryffindor/harry-potter-1", "udp", "forbidden-forrest/centaur-1", hostPort(4), false),
        poke("gryffindor/harry-potter-1", "sctp", "forbidden-forrest/centaur-1", hostPort(6), false),
      ]),
    ],
  },
];

const shortName = (v: Version, t: ConformanceTest) => `${SHORT_NAME_PREFIX[v][t.tier]}${t.test}`;
const caseName = (v: Version, c: Case) => (typeof c.name === "string" ? c.name : c.name[v]);
const namespace = (house: string) => `${NAMESPACE_PREFIX}${house}`;
/** "house/name" → the pod's reference, "network-policy-conformance-house/name". */
const podRef = (pod: string) => `${NAMESPACE_PREFIX}${pod}`;

/** The test's manifest file as the suite applies it: templates filled with the host-network ports. */
function manifestText(v: Version, t: ConformanceTest): string {
  const file = t.manifest.replace(/^tier\//, `${TIER_FOLDER[v][t.tier]}/`).replace("/", "--");
  const text = readFileSync(`${FIXTURES}/${v}/${file}`, "utf8").replace(/\{\{ index \.HostNetworkPorts (\d+) \}\}/g, (_, i: string) => String(HOST_NETWORK_PORTS[v][Number(i)]));
  assert.doesNotMatch(text, /\{\{/, `${file}: a template left unfilled`);
  return text;
}

function portOf(v: Version, p: Port): number {
  if (typeof p === "number") return p;
  const port = HOST_NETWORK_PORTS[v][p.hostNetworkPort];
  assert.ok(port !== undefined, `no host-network port ${p.hostNetworkPort}`);
  return port;
}

/** The conformance cluster on one server, with what a test needs to read and change it. */
class Conformance {
  /** Questions asked of Check. */
  asked = 0;
  private constructor(
    private readonly server: TestServer,
    /** The base cluster's objects, as GET /v1/model lists them. */
    private readonly base: readonly Obj[],
    /** "namespace/name" → status.podIP. */
    private readonly podIPs: ReadonlyMap<string, string>,
  ) {}

  static async start(): Promise<Conformance> {
    const server = await startServer([CLUSTER]);
    const base = await Conformance.items(server);
    const ips = new Map(base.filter((o) => o["kind"] === "Pod").map((o) => [`${o["metadata"].namespace}/${o["metadata"].name}`, o["status"].podIP as string]));
    return new Conformance(server, base, ips);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private static async items(server: TestServer): Promise<Obj[]> {
    const res = await http(server, "GET", "/v1/model");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as Obj[];
  }

  podIP(pod: string): string {
    const ip = this.podIPs.get(podRef(pod));
    assert.ok(ip, `no pod ${pod} in the cluster`);
    return ip;
  }

  /** POST /v1/apply; what the server says it created or updated ("Kind name", "Kind namespace/name"). */
  async apply(body: string | Obj): Promise<string[]> {
    const res = await http(this.server, "POST", "/v1/apply", body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.skipped, []);
    return res.body.applied as string[];
  }

  async delete(path: string): Promise<void> {
    const res = await http(this.server, "DELETE", path);
    assert.equal(res.status, 200, `DELETE ${path}: ${JSON.stringify(res.body)}`);
  }

  /** One object as the model holds it now, as upstream's GetClusterNetworkPolicy and GetNamespace read it. */
  async get(kind: string, name: string): Promise<Obj> {
    const found = (await Conformance.items(this.server)).find((o) => o["kind"] === kind && o["metadata"].name === name);
    assert.ok(found, `the model holds no ${kind} ${name}`);
    return found;
  }

  /** Asks Check about one poke, the server by name and by address; a reason for each answer upstream does not expect. */
  async poke(v: Version, s: Extract<Step, { kind: "poke" }>): Promise<string[]> {
    const port = portOf(v, s.port);
    const wrong: string[] = [];
    for (const dst of [podRef(s.server), this.podIP(s.server)]) {
      const q = new URLSearchParams({ src: podRef(s.client), dst, protocol: s.protocol, port: String(port) });
      const res = await http(this.server, "GET", `/v1/check?${q}`);
      this.asked++;
      assert.equal(res.status, 200, `${q}: ${JSON.stringify(res.body)}`);
      if (res.body.allowed !== s.connects) {
        const d = res.body;
        const to = dst === podRef(s.server) ? s.server : `${s.server} at ${dst}`;
        wrong.push(`${s.client} -> ${to} ${s.protocol}/${port}: allowed ${d.allowed}, upstream expects ${s.connects} (egress ${decided(d.egress)}; ingress ${decided(d.ingress)})`);
      }
    }
    return wrong;
  }

  /**
   * Deletes what the test applied and left (upstream's cleanup), then checks
   * that the model is the base cluster again; if it is not, puts the base
   * back before failing, so that the tests after it start from the base.
   */
  async cleanUp(applied: readonly string[], deleted: ReadonlySet<string>): Promise<void> {
    for (const a of [...applied].reverse()) {
      if (deleted.has(a)) continue;
      const [kind, ref] = a.split(" ") as [string, string];
      if (kind === "NetworkPolicy") {
        const [ns, name] = ref.split("/") as [string, string];
        await this.delete(`/v1/namespaces/${ns}/networkpolicies/${name}`);
      } else {
        await this.delete(`/v1/${RESOURCE[kind as TierKind]}/${ref}`);
      }
    }
    const now = await Conformance.items(this.server);
    const same = now.length === this.base.length && this.base.every((o) => now.some((n) => isDeepStrictEqual(n, o)));
    if (!same) {
      const res = await http(this.server, "PUT", "/v1/model", { apiVersion: "v1", kind: "List", items: this.base });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    assert.ok(same, "after the test's clean-up, the model is not the base cluster");
  }
}

/** "Admin (Deny ClusterNetworkPolicy/egress-tcp spec.egress[6])", from an answer's direction. */
function decided(d: Obj): string {
  const verdicts = (d["tiers"] as Obj[] | undefined) ?? [];
  const said = verdicts.filter((t) => t["action"] !== "none").map((t) => `${t["tier"]} ${t["action"]} ${t["policy"]} ${t["rule"]}`);
  return `${d["decidedBy"] ?? d["reason"]}${said.length > 0 ? ` [${said.join(", ")}]` : ""}`;
}

/** Applies one of upstream's mutations to a policy's spec, as that version spells it. */
function edit(v: Version, spec: Obj, e: Edit, ips: (pod: string) => string): void {
  const rule = (dir: Direction, i: number): Obj => {
    const r = (spec[dir] as Obj[] | undefined)?.[i];
    assert.ok(r, `no spec.${dir}[${i}]`);
    return r;
  };
  switch (e.op) {
    case "swap": {
      const rules = spec[e.dir] as Obj[];
      const [a, b] = [rule(e.dir, e.i), rule(e.dir, e.j)];
      rules[e.i] = b;
      rules[e.j] = a;
      return;
    }
    case "action":
      rule(e.dir, e.i)["action"] = e.action;
      return;
    case "priority":
      spec["priority"] = e.priority;
      return;
    case "named-port": {
      const r = rule(e.dir, e.i);
      if (v === "v1alpha1") r["ports"] = [{ namedPort: e.port }];
      else r["protocols"] = [{ destinationNamedPort: e.port }];
      return;
    }
    case "prepend-networks": {
      const networks = e.pods.map((p) => ips(p)).map((ip) => `${ip}${ip.includes(":") ? "/128" : "/32"}`);
      spec["egress"] = [{ name: e.name, action: ACCEPT[v], to: [{ networks }] }, ...((spec["egress"] as Obj[] | undefined) ?? [])];
      return;
    }
  }
}

describe("the network-policy-api conformance suite, asked of Check", () => {
  let c: Conformance;
  before(async () => {
    c = await Conformance.start();
  });
  after(() => c.close());

  for (const v of VERSIONS) {
    for (const t of TESTS) {
      describe(shortName(v, t), () => {
        let applied: string[] = [];
        const deleted = new Set<string>();
        before(async () => {
          applied = await c.apply(manifestText(v, t));
        });
        after(() => c.cleanUp(applied, deleted));

        for (const k of t.cases) {
          it(caseName(v, k), async () => {
            const wrong: string[] = [];
            for (const s of k.steps) {
              if (s.only !== undefined && s.only !== v) continue;
              switch (s.kind) {
                case "poke":
                  wrong.push(...(await c.poke(v, s)));
                  break;
                case "patch": {
                  const policy = structuredClone(await c.get(TIER_KIND[v][s.tier], s.name));
                  for (const e of s.edits) edit(v, policy["spec"], e, (p) => c.podIP(p));
                  assert.deepEqual(await c.apply(policy), [`${TIER_KIND[v][s.tier]} ${s.name}`]);
                  break;
                }
                case "relabel": {
                  const ns = structuredClone(await c.get("Namespace", namespace(s.house)));
                  ns["metadata"].labels = { ...s.labels };
                  await c.apply(ns);
                  break;
                }
                case "delete-network-policy":
                  await c.delete(`/v1/namespaces/${namespace(s.house)}/networkpolicies/${s.name}`);
                  deleted.add(`NetworkPolicy ${namespace(s.house)}/${s.name}`);
                  break;
              }
            }
            assert.deepEqual(wrong, []);
          });
        }
      });
    }
  }

  it("asked Check every question of every case", (t) => {
    const pokes = VERSIONS.flatMap((v) => TESTS.flatMap((x) => x.cases.flatMap((k) => k.steps.filter((s) => s.kind === "poke" && (s.only ?? v) === v))));
    assert.equal(c.asked, 2 * pokes.length);
    t.diagnostic(`${VERSIONS.length * TESTS.length} tests, ${c.asked} questions (${pokes.length} pokes, each by name and by address)`);
  });
});
