/**
 * Rejected writes through PodwallService: the error (code, Kubernetes-style
 * message, every field error with its object), and a model that is exactly
 * as before, generation and content, whatever part of the request was valid.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PodwallError, PodwallService, SYSTEM } from "../../server/service/index.js";
import { sansId } from "../api/support.js";
import { DNS_SUBDOMAIN, PORT_RANGE, err } from "./k8s-messages.js";

const CLUSTER = readFileSync(new URL("../fixtures/cluster.yaml", import.meta.url), "utf8");

type Obj = Record<string, unknown>;
const yaml = (...objects: Obj[]): string => objects.map((o) => JSON.stringify(o)).join("\n---\n");
const np = (name: string, namespace: string, spec: Obj): Obj => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec });
const pod = (name: string, namespace: string, status: Obj, spec: Obj = {}): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace },
  spec: { containers: [{ name: "c" }], ...spec },
  status: { phase: "Running", ...status },
});
const ns = (name: string): Obj => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

const NP = 'NetworkPolicy.networking.k8s.io "bad"';
const PEER = "must specify a peer";

interface Case {
  readonly name: string;
  readonly op?: "apply" | "replace";
  readonly text: string;
  readonly code: PodwallError["code"];
  readonly message: string;
  readonly errors: readonly Obj[];
}

const cases: readonly Case[] = [
  {
    name: "one invalid policy: Kubernetes' message for one error",
    text: yaml(np("bad", "prod", { podSelector: {}, ingress: [{ from: [{}] }] })),
    code: "invalid",
    message: `${NP} is invalid: spec.ingress[0].from[0]: Required value: ${PEER}`,
    errors: [{ ...err.required("spec.ingress[0].from[0]", PEER), object: NP }],
  },
  {
    name: "one policy with two errors: bracketed list",
    text: yaml(np("bad", "prod", { podSelector: {}, ingress: [{ from: [{}], ports: [{ port: 0, protocol: "ICMP" }] }] })),
    code: "invalid",
    message:
      `${NP} is invalid: [spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP", ` +
      `spec.ingress[0].ports[0].port: Invalid value: 0: ${PORT_RANGE}, spec.ingress[0].from[0]: Required value: ${PEER}]`,
    errors: [
      { ...err.notSupported("spec.ingress[0].ports[0].protocol", "ICMP", ["TCP", "UDP", "SCTP"]), object: NP },
      { ...err.invalid("spec.ingress[0].ports[0].port", 0, PORT_RANGE), object: NP },
      { ...err.required("spec.ingress[0].from[0]", PEER), object: NP },
    ],
  },
  {
    name: "valid namespace, node and pod first, then an invalid policy: nothing is written",
    text: yaml(
      ns("staging"),
      { apiVersion: "v1", kind: "Node", metadata: { name: "node-3" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.3" }] } },
      pod("web", "prod", { podIP: "10.1.1.99" }),
      pod("api", "staging", { podIP: "10.1.3.1" }),
      np("bad", "prod", { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.0.0.0/8"] } }] }] }),
    ),
    code: "invalid",
    message: `${NP} is invalid: spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of \`cidr\``,
    errors: [{ ...err.invalid("spec.egress[0].to[0].ipBlock.except[0]", "10.0.0.0/8", "must be a strict subset of `cidr`"), object: NP }],
  },
  {
    name: "two invalid objects: both reported, messages joined",
    text: yaml(np("bad", "prod", { podSelector: {}, ingress: [{ from: [{}] }] }), pod("-x", "prod", {})),
    code: "invalid",
    message: `${NP} is invalid: spec.ingress[0].from[0]: Required value: ${PEER}; Pod "-x" is invalid: metadata.name: Invalid value: "-x": ${DNS_SUBDOMAIN}`,
    errors: [
      { ...err.required("spec.ingress[0].from[0]", PEER), object: NP },
      { ...err.invalid("metadata.name", "-x", DNS_SUBDOMAIN), object: 'Pod "-x"' },
    ],
  },
  {
    name: "a pod whose namespace does not exist",
    text: yaml(pod("new", "prod", { podIP: "10.1.1.98" }), pod("api", "ghost", { podIP: "10.9.9.9" })),
    code: "not-found",
    message: 'namespaces "ghost" not found (Pod ghost/api)',
    errors: [],
  },
  {
    name: "a policy whose namespace does not exist",
    text: yaml(np("p", "ghost", { podSelector: {} })),
    code: "not-found",
    message: 'namespaces "ghost" not found (NetworkPolicy ghost/p)',
    errors: [],
  },
  {
    name: "two new pods claiming the same IP",
    text: yaml(pod("a", "dev", { podIP: "10.1.2.90" }), pod("b", "dev", { podIPs: [{ ip: "10.1.2.90" }] })),
    code: "invalid",
    message:
      'the request is invalid: [status.podIPs[0].ip: Duplicate value: "10.1.2.90": also the address of pod dev/b, ' +
      'status.podIPs[0].ip: Duplicate value: "10.1.2.90": also the address of pod dev/a]',
    errors: [
      { ...err.duplicate("status.podIPs[0].ip", "10.1.2.90"), detail: "also the address of pod dev/b", object: "Pod dev/a" },
      { ...err.duplicate("status.podIPs[0].ip", "10.1.2.90"), detail: "also the address of pod dev/a", object: "Pod dev/b" },
    ],
  },
  {
    name: "a new pod claiming the IP of an existing pod",
    text: yaml(pod("copy", "dev", { podIP: "10.1.1.10" })),
    code: "invalid",
    message: 'the request is invalid: status.podIPs[0].ip: Duplicate value: "10.1.1.10": also the address of pod prod/web',
    errors: [{ ...err.duplicate("status.podIPs[0].ip", "10.1.1.10"), detail: "also the address of pod prod/web", object: "Pod dev/copy" }],
  },
  {
    name: "a pod off the host network claiming a node's address",
    text: yaml(pod("copy", "dev", { podIP: "10.0.0.1" })),
    code: "invalid",
    message: 'the request is invalid: status.podIPs[0].ip: Duplicate value: "10.0.0.1": also the address of node node-1',
    errors: [{ ...err.duplicate("status.podIPs[0].ip", "10.0.0.1"), detail: "also the address of node node-1", object: "Pod dev/copy" }],
  },
  {
    name: "replace whose new model has a pod in a missing namespace: the old model stays",
    op: "replace",
    text: yaml(ns("prod"), pod("web", "prod", { podIP: "10.1.1.10" }), pod("api", "staging", {})),
    code: "not-found",
    message: 'namespaces "staging" not found (Pod staging/api)',
    errors: [],
  },
  {
    name: "replace with an invalid object",
    op: "replace",
    text: yaml(ns("prod"), np("bad", "prod", { podSelector: {}, policyTypes: ["Ingress", "Egress", "Ingress"] })),
    code: "invalid",
    message: `${NP} is invalid: spec.policyTypes: Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes`,
    errors: [{ ...err.invalid("spec.policyTypes", ["Ingress", "Egress", "Ingress"], "may not specify more than two policyTypes"), object: NP }],
  },
  {
    name: "malformed YAML",
    text: "kind: [",
    code: "bad-request",
    message: "malformed manifests: document 1: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 8:",
    errors: [],
  },
];

async function loaded(): Promise<PodwallService> {
  const s = await PodwallService.start({ cacheSize: 0 });
  await s.apply(SYSTEM, CLUSTER);
  return s;
}

describe("rejected writes change nothing", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const s = await loaded();
      const before = s.model(SYSTEM, "json");
      const beforeCheck = s.check(SYSTEM, { src: "10.1.1.10", dst: "10.1.1.99", port: 80 });
      let thrown: unknown;
      try {
        if (c.op === "replace") await s.replace(SYSTEM, c.text);
        else await s.apply(SYSTEM, c.text);
      } catch (e) {
        thrown = e;
      }
      assert.ok(thrown instanceof PodwallError, `expected a PodwallError, got ${String(thrown)}`);
      assert.equal(thrown.code, c.code);
      assert.equal(thrown.message, c.message);
      assert.deepEqual(thrown.errors, c.errors);
      const after = s.model(SYSTEM, "json");
      assert.equal(after.generation, before.generation);
      assert.equal(after.text, before.text);
      // The indexes too: the address of prod/web is still prod/web's, 10.1.1.99 still outside.
      assert.deepEqual(sansId(s.check(SYSTEM, { src: "10.1.1.10", dst: "10.1.1.99", port: 80 })), sansId(beforeCheck));
    });
  }

  it("a valid write after rejected ones moves the generation by exactly one", async () => {
    const s = await loaded();
    const g = s.generation;
    for (const c of cases) await assert.rejects(c.op === "replace" ? s.replace(SYSTEM, c.text) : s.apply(SYSTEM, c.text), PodwallError);
    assert.equal(s.generation, g);
    const r = await s.apply(SYSTEM, yaml(pod("new", "dev", { podIP: "10.1.2.90" })));
    assert.deepEqual(r, { generation: g + 1, applied: ["Pod dev/new"], skipped: [] });
  });

  it("the error is a 422 with every field error in the REST body", async () => {
    const s = await loaded();
    const e = await (async () => {
      try {
        await s.apply(SYSTEM, cases[1]!.text);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    assert.ok(e instanceof PodwallError);
    assert.equal(e.httpStatus, 422);
    assert.deepEqual(
      (e.toJSON()["errors"] as Obj[]).map((x) => x["field"]),
      ["spec.ingress[0].ports[0].protocol", "spec.ingress[0].ports[0].port", "spec.ingress[0].from[0]"],
    );
  });
});
