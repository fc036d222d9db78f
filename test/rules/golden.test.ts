/**
 * Golden rulesets: for each small model in test/fixtures/rules/models, node-1's
 * ipset, iptables and ip6tables text, hooks and version are pinned in
 * test/fixtures/rules/golden. Any difference fails; `UPDATE_GOLDEN=1 npm test`
 * rewrites them (then read the diff before committing it).
 *
 * Each model also carries a few connections whose answer was checked by hand
 * against the Kubernetes semantics; they are decided by Check and by the
 * golden rules on a simulated node, and both must give the expected answer.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { applyRuleset } from "../../client/agent/apply.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import type { Ruleset } from "../../server/rules/index.js";
import { PodwallService, RulesService, SYSTEM } from "../../server/service/index.js";
import { type Family, FakeRunner, type Protocol } from "./simulator.js";

const MODELS = "test/fixtures/rules/models";
const GOLDEN = "test/fixtures/rules/golden";
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";
const NODE = "node-1";

/** A connection through node-1's FORWARD: allowed or not, as both Check and the rules must say. */
interface Expect {
  readonly src: string;
  readonly dst: string;
  readonly proto: Protocol;
  readonly port: number;
  readonly allowed: boolean;
  readonly why: string;
}

const cases: Record<string, readonly Expect[]> = {
  "dev-default-deny": [
    { src: "10.244.2.100", dst: "10.244.1.100", proto: "TCP", port: 80, allowed: false, why: "default deny: even a pod of dev is refused" },
    { src: "10.244.1.11", dst: "10.244.1.100", proto: "UDP", port: 53, allowed: false, why: "default deny covers every protocol" },
    { src: "10.244.1.100", dst: "10.244.1.11", proto: "TCP", port: 80, allowed: true, why: "ingress-only policy: myapp's egress and x/a's ingress are open" },
    { src: "8.8.8.8", dst: "10.244.1.11", proto: "TCP", port: 80, allowed: true, why: "x/a is not selected" },
  ],
  "ipblock-and-pod-peer": [
    { src: "10.1.2.20", dst: "10.1.1.10", proto: "TCP", port: 443, allowed: true, why: "client matches the pod peer, inside the other peer's except" },
    { src: "10.1.2.21", dst: "10.1.1.10", proto: "TCP", port: 443, allowed: false, why: "in the except, and no pod" },
    { src: "10.2.0.1", dst: "10.1.1.10", proto: "TCP", port: 443, allowed: true, why: "in 10.0.0.0/8 outside the except" },
    { src: "10.2.0.1", dst: "10.1.1.10", proto: "TCP", port: 80, allowed: false, why: "port 443 only" },
    { src: "10.2.0.1", dst: "10.1.1.10", proto: "UDP", port: 443, allowed: false, why: "TCP only" },
    { src: "192.168.0.1", dst: "10.1.1.10", proto: "TCP", port: 443, allowed: false, why: "outside the ipBlock" },
    { src: "10.1.1.30", dst: "10.1.1.10", proto: "TCP", port: 443, allowed: false, why: "prod/other is in the except and not a client" },
  ],
  "named-ports": [
    { src: "10.1.1.20", dst: "10.1.1.11", proto: "TCP", port: 8080, allowed: true, why: "http is 8080 on web-a" },
    { src: "10.1.1.20", dst: "10.1.1.11", proto: "TCP", port: 9090, allowed: false, why: "9090 is http on web-b, not on web-a" },
    { src: "10.1.1.20", dst: "10.1.1.12", proto: "TCP", port: 9090, allowed: true, why: "http is 9090 on web-b" },
    { src: "10.1.1.20", dst: "10.1.1.12", proto: "TCP", port: 8080, allowed: false, why: "8080 is not http on web-b" },
    { src: "10.1.1.20", dst: "10.1.2.30", proto: "TCP", port: 5432, allowed: true, why: "pg on db, through client's egress" },
    { src: "10.1.1.20", dst: "10.1.2.30", proto: "TCP", port: 8080, allowed: false, why: "db has no http" },
    { src: "10.1.1.20", dst: "8.8.8.8", proto: "UDP", port: 53, allowed: false, why: "client's egress reaches db and web only" },
    { src: "10.1.2.30", dst: "10.1.1.11", proto: "TCP", port: 8080, allowed: false, why: "db is not a client" },
  ],
  "ports-and-protocols": [
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "TCP", port: 30000, allowed: true, why: "first port of the range" },
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "TCP", port: 30100, allowed: true, why: "endPort is inclusive" },
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "TCP", port: 30101, allowed: false, why: "past endPort" },
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "UDP", port: 30050, allowed: true, why: "UDP without a port: every UDP port" },
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "SCTP", port: 9999, allowed: true, why: "SCTP 9999" },
    { src: "8.8.8.8", dst: "10.1.1.40", proto: "SCTP", port: 30000, allowed: false, why: "the range is TCP only" },
    { src: "10.1.1.40", dst: "10.96.0.10", proto: "UDP", port: 53, allowed: true, why: "DNS over UDP" },
    { src: "10.1.1.40", dst: "10.96.0.10", proto: "TCP", port: 53, allowed: true, why: "DNS over TCP" },
    { src: "10.1.1.40", dst: "10.96.0.10", proto: "SCTP", port: 53, allowed: false, why: "not SCTP" },
    { src: "10.1.1.40", dst: "10.96.0.11", proto: "UDP", port: 53, allowed: false, why: "the /32 only" },
  ],
  "dual-stack": [
    { src: "2001:db8::1", dst: "fd10::1:50", proto: "TCP", port: 80, allowed: true, why: "in the IPv6 ipBlock" },
    { src: "2001:db8:bad::1", dst: "fd10::1:50", proto: "TCP", port: 80, allowed: false, why: "in its except" },
    { src: "192.168.3.4", dst: "10.1.1.50", proto: "TCP", port: 80, allowed: true, why: "in the IPv4 ipBlock" },
    { src: "192.168.3.4", dst: "10.1.1.51", proto: "TCP", port: 80, allowed: true, why: "legacy is selected too, over IPv4" },
    { src: "fd10::1:50", dst: "fd10::2:50", proto: "TCP", port: 22, allowed: true, why: "egress to a pod of v6, over IPv6" },
    { src: "fd10::1:50", dst: "2001:db8::1", proto: "TCP", port: 443, allowed: false, why: "egress to pods of v6 only" },
    { src: "10.1.1.51", dst: "8.8.8.8", proto: "TCP", port: 443, allowed: false, why: "legacy's egress too" },
  ],
  "world-except": [
    { src: "10.1.1.60", dst: "8.8.8.8", proto: "TCP", port: 443, allowed: true, why: "the low half of 0.0.0.0/0" },
    { src: "10.1.1.60", dst: "200.1.1.1", proto: "UDP", port: 443, allowed: true, why: "the high half of 0.0.0.0/0" },
    { src: "10.1.1.60", dst: "10.9.9.9", proto: "TCP", port: 443, allowed: false, why: "in the except 10.0.0.0/8" },
    { src: "10.1.1.60", dst: "169.254.169.254", proto: "TCP", port: 80, allowed: false, why: "the metadata service is excepted" },
    { src: "10.1.1.60", dst: "169.254.169.253", proto: "TCP", port: 80, allowed: true, why: "its neighbour is not" },
    { src: "fd10::1:60", dst: "2600::1", proto: "TCP", port: 443, allowed: true, why: "::/0, the low half" },
    { src: "fd10::1:60", dst: "fd10::9", proto: "SCTP", port: 1, allowed: true, why: "::/0, the high half, any protocol" },
  ],
};

function models(): string[] {
  return readdirSync(MODELS)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

async function rulesOf(model: string): Promise<{ service: PodwallService; ruleset: Ruleset }> {
  const service = await PodwallService.start({ cacheSize: 0 });
  await service.applyObjects(SYSTEM, readManifestPaths([join(MODELS, `${model}.yaml`)]), true);
  return { service, ruleset: new RulesService(service).rules(SYSTEM, NODE) };
}

function goldenText(model: string, r: Ruleset): string {
  return [
    `# Golden ruleset of ${r.node} for ${MODELS}/${model}.yaml. Regenerate with UPDATE_GOLDEN=1 and read the diff.`,
    `version: ${r.version}`,
    `hooks: ${JSON.stringify(r.hooks)}`,
    "===== ipset =====",
    r.ipset.trimEnd(),
    "===== iptables =====",
    r.iptables.trimEnd(),
    "===== ip6tables =====",
    r.ip6tables.trimEnd(),
    "",
  ].join("\n");
}

describe("golden rulesets", () => {
  it("has a golden file and hand-checked connections for each model, and nothing else", () => {
    const names = models();
    assert.ok(names.length >= 4 && names.length <= 6, `${names.length} models`);
    assert.deepEqual(Object.keys(cases).sort(), names);
    if (!UPDATE) {
      const goldens = readdirSync(GOLDEN).sort();
      assert.deepEqual(
        goldens,
        names.map((n) => `${n}.${NODE}.txt`),
      );
    }
  });

  for (const model of models()) {
    it(`${model}: node-1's ruleset is byte for byte the golden one`, async () => {
      const { ruleset } = await rulesOf(model);
      const file = join(GOLDEN, `${model}.${NODE}.txt`);
      const text = goldenText(model, ruleset);
      if (UPDATE) writeFileSync(file, text);
      assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`);
      assert.equal(text, readFileSync(file, "utf8"), `${file} differs: if the change is meant, run with UPDATE_GOLDEN=1 and review the diff`);
      // The version is the hash of the content: the same model compiled again gives it again.
      assert.equal((await rulesOf(model)).ruleset.version, ruleset.version);
      assert.match(ruleset.version, /^[0-9a-f]{20}$/);
    });

    it(`${model}: hand-checked connections, by Check and by the golden rules`, async () => {
      const { service, ruleset } = await rulesOf(model);
      const run = new FakeRunner();
      await applyRuleset(run, ruleset);
      for (const c of cases[model] ?? []) {
        const what = `${c.src} -> ${c.dst} ${c.proto}/${c.port} (${c.why})`;
        assert.equal(service.check(SYSTEM, { src: c.src, dst: c.dst, protocol: c.proto, port: c.port }).allowed, c.allowed, `Check: ${what}`);
        const family: Family = c.src.includes(":") ? "ipv6" : "ipv4";
        const r = run.node.forward({ family, src: c.src, dst: c.dst, protocol: c.proto, dport: c.port });
        assert.equal(r.verdict === "ACCEPT", c.allowed, `rules: ${what}\n${r.trace.join("\n")}`);
        if (!c.allowed) {
          const reject = r.hits.at(-1)?.target;
          assert.equal(reject?.kind, "REJECT", `denied traffic is rejected, not dropped: ${what}`);
          const want = c.proto === "TCP" ? "tcp-reset" : family === "ipv4" ? "icmp-port-unreachable" : "icmp6-port-unreachable";
          assert.equal(reject.kind === "REJECT" ? reject.with : "", want, what);
        }
      }
    });
  }
});
