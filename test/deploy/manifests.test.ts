/**
 * The manifests in deploy/: every document is a valid object of its kind by
 * the Kubernetes OpenAPI schema (kubernetes-models), with no field the API
 * server does not know (kubectl apply validates strictly and refuses unknown
 * fields), and the properties that the cluster's safety rests on hold: the
 * server may only read the four kinds it follows, runs unprivileged, and is
 * probed where it says whether it is ready; the agent gets the host network and
 * the two network capabilities it needs, and the name of the node it runs on.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import * as k8s from "@kubernetes/client-node";
import type { IDaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import type { IClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { IService } from "kubernetes-models/v1/Service";
import { parseAllDocuments } from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");

type Obj = Record<string, unknown>;
interface Doc {
  readonly where: string;
  readonly object: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every object in deploy/, as `kubectl apply -f deploy/` reads them: .json, .yaml and .yml files, YAML 1.1, `List`s unwrapped. */
function readDeploy(): Doc[] {
  const files = readdirSync(DEPLOY)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort();
  assert.ok(files.length > 0, "deploy/ holds no manifests");
  const out: Doc[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(DEPLOY, file), "utf8"), { version: "1.1" });
    if (!Array.isArray(docs)) assert.fail(`${file}: not YAML documents`);
    docs.forEach((doc, i) => {
      assert.deepEqual(
        doc.errors.map((e) => e.message),
        [],
        `${file} document ${i}: YAML errors`,
      );
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) return;
      assert.ok(isObj(object), `${file} document ${i}: not an object`);
      const where = `${file} document ${i}`;
      if (object.kind === "List" && Array.isArray(object.items)) {
        object.items.forEach((item, j) => {
          assert.ok(isObj(item), `${where} items[${j}]: not an object`);
          out.push({ where: `${where} items[${j}]`, object: item });
        });
      } else out.push({ where, object });
    });
  }
  return out;
}

const TYPE_META = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;

/** The OpenAPI schema's verdict on one object, through the kubernetes-models class of its apiVersion and kind. */
async function schemaProblems(o: Obj): Promise<string[]> {
  const { apiVersion, kind } = o;
  if (typeof apiVersion !== "string" || !TYPE_META.test(apiVersion)) return [`apiVersion ${JSON.stringify(apiVersion)} is not an API version`];
  if (typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return [`kind ${JSON.stringify(kind)} is not a kind`];
  let model: unknown;
  try {
    model = ((await import(`kubernetes-models/${apiVersion}/${kind}`)) as Obj)[kind];
  } catch {
    return [`no schema for ${apiVersion} ${kind}: not a built-in kind`];
  }
  if (typeof model !== "function") return [`no schema for ${apiVersion} ${kind}`];
  const instance = new (model as new (data: Obj) => { validate(): void })(o);
  try {
    instance.validate();
    return [];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

/**
 * Fields the API server does not know, by the field lists of the generated
 * client's models (the schemas above allow any extra property, the API server
 * under `kubectl apply` does not).
 */
function unknownFields(o: Obj): string[] {
  const version = String(o.apiVersion).split("/").pop() ?? "";
  const root = `${version.charAt(0).toUpperCase()}${version.slice(1)}${String(o.kind)}`;
  if (attributesOf(root) === undefined) return [`no field list for ${String(o.apiVersion)} ${String(o.kind)}`];
  const out: string[] = [];
  walk(root, o, "", out);
  return out;
}

function attributesOf(type: string): readonly Attribute[] | undefined {
  const model = (k8s as unknown as Record<string, { attributeTypeMap?: readonly Attribute[] } | undefined>)[type];
  return model?.attributeTypeMap;
}

function walk(type: string, value: unknown, path: string, out: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(array[1]!, v, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value)) for (const [k, v] of Object.entries(value)) walk(map[1]!, v, `${path}[${k}]`, out);
    return;
  }
  const attributes = attributesOf(type);
  if (attributes === undefined || !isObj(value)) return;
  const fields = new Map(attributes.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const at = path === "" ? k : `${path}.${k}`;
    const t = fields.get(k);
    if (t === undefined) out.push(`unknown field "${at}"`);
    else walk(t, v, at, out);
  }
}

/** Everything wrong with one object; none for a valid one. */
async function problems(o: Obj): Promise<string[]> {
  const schema = await schemaProblems(o);
  return schema.length > 0 ? schema : unknownFields(o);
}

const docs = readDeploy();

function one<T>(kind: string, name: string): T {
  const found = docs.filter((d) => d.object.kind === kind && isObj(d.object.metadata) && d.object.metadata.name === name);
  assert.equal(found.length, 1, `deploy/ must hold exactly one ${kind} ${name}, holds ${found.length}`);
  return found[0]!.object as T;
}

function must<T>(v: T | undefined | null, what: string): T {
  assert.ok(v !== undefined && v !== null, `${what} is missing`);
  return v;
}

function onlyContainer(spec: IPodSpec | undefined, what: string): IContainer {
  const containers = must(spec?.containers, `${what} containers`);
  assert.equal(containers.length, 1, `${what}: one container`);
  return containers[0]!;
}

/** What a container runs with: its own security context over the pod's. */
function effective(pod: IPodSpec, c: IContainer): ISecurityContext {
  const p = pod.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    ...s,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    seccompProfile: s.seccompProfile ?? p.seccompProfile,
  };
}

/** The container port number a probe or Service names (by number or by name). */
function portNumber(c: IContainer, port: number | string | undefined, what: string): number {
  if (typeof port === "number") return port;
  const found = (c.ports ?? []).find((p) => p.name === port);
  return must(found, `${what}: container port named ${String(port)}`).containerPort;
}

function httpProbe(c: IContainer, probe: IProbe | undefined, what: string): { path: string | undefined; port: number } {
  const get = must(probe?.httpGet, `${what} httpGet`);
  return { path: get.path, port: portNumber(c, get.port, what) };
}

describe("deploy/ manifests", () => {
  it("are all valid objects by the Kubernetes OpenAPI schema, with no unknown field", async () => {
    assert.ok(docs.length >= 7, `only ${docs.length} objects in deploy/`);
    for (const d of docs) assert.deepEqual(await problems(d.object), [], `${d.where} (${String(d.object.kind)})`);
  });

  it("rejects invalid manifests", async () => {
    const deployment = one<IDeployment>("Deployment", "podwall") as unknown as Obj;
    assert.deepEqual(await problems(deployment), []);

    const wrongType = structuredClone(deployment);
    (wrongType.spec as Obj).replicas = "two";
    const wrongTypeProblems = await problems(wrongType);
    assert.equal(wrongTypeProblems.length, 1, 'replicas: "two" is rejected');
    assert.match(wrongTypeProblems[0]!, /replicas/);

    const typo = structuredClone(deployment) as unknown as IDeployment;
    const container = onlyContainer(typo.spec?.template.spec, "typo") as unknown as Obj;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    assert.deepEqual(await problems(typo as unknown as Obj), ['unknown field "spec.template.spec.containers[0].readinesProbe"']);

    const badSelector = structuredClone(deployment);
    (badSelector.spec as Obj).selector = "app=podwall";
    assert.equal((await problems(badSelector)).length, 1, "a selector that is a string is rejected");

    assert.match((await problems({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }))[0] ?? "", /no schema/);
    assert.match((await problems({ apiVersion: "v1", kind: "../../x", metadata: { name: "w" } }))[0] ?? "", /not a kind/);
  });

  it("put every namespaced object in the podwall namespace, which admits the agent", () => {
    const ns = one<INamespace>("Namespace", "podwall");
    // The agent's host network and NET_ADMIN are admitted only at the privileged level.
    assert.equal(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
    const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);
    for (const d of docs) {
      const meta = d.object.metadata as Obj;
      if (clusterScoped.has(String(d.object.kind))) assert.equal(meta.namespace, undefined, `${d.where}: cluster-scoped`);
      else assert.equal(meta.namespace, "podwall", `${d.where}: namespace`);
    }
  });

  it("grant the server exactly get, list and watch on namespaces, nodes, pods, networkpolicies and the policy tiers' kinds", () => {
    const role = one<IClusterRole>("ClusterRole", "podwall");
    assert.equal(role.aggregationRule, undefined, "an aggregated role grants what other roles say");
    const granted = new Set<string>();
    for (const rule of role.rules ?? []) {
      assert.equal(rule.nonResourceURLs, undefined, "no non-resource URLs");
      assert.equal(rule.resourceNames, undefined, "no per-name grants");
      for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) granted.add(`${group}/${resource}:${verb}`);
    }
    const expected = new Set<string>();
    const tiers = ["clusternetworkpolicies", "adminnetworkpolicies", "baselineadminnetworkpolicies"].map((r) => `policy.networking.k8s.io/${r}`);
    for (const resource of ["/namespaces", "/nodes", "/pods", "networking.k8s.io/networkpolicies", ...tiers])
      for (const verb of ["get", "list", "watch"]) expected.add(`${resource}:${verb}`);
    assert.deepEqual([...granted].sort(), [...expected].sort());

    const binding = one<IClusterRoleBinding>("ClusterRoleBinding", "podwall");
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "podwall" });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "podwall", namespace: "podwall" }]);
    one("ServiceAccount", "podwall");
    // Nothing else in deploy/ grants anything.
    for (const d of docs) assert.ok(!["Role", "RoleBinding"].includes(String(d.object.kind)), `${d.where}: an extra grant`);
  });

  it("run the server as two unprivileged replicas that follow the cluster, probed at /readyz and /healthz", () => {
    const dep = one<IDeployment>("Deployment", "podwall");
    const spec = must(dep.spec, "Deployment spec");
    assert.equal(spec.replicas, 2);
    const pod = must(spec.template.spec, "Deployment pod spec");
    assert.equal(pod.serviceAccountName, "podwall");
    assert.notEqual(pod.automountServiceAccountToken, false, "the server needs its token to list and watch");
    assert.notEqual(pod.hostNetwork, true);
    const c = onlyContainer(pod, "server");
    assert.deepEqual(c.args, ["serve", "--kubernetes", "--listen", ":8080", "--grpc-listen", ":50051"]);
    assert.deepEqual(c.command, undefined, "the image's entrypoint runs podwall");

    const sc = effective(pod, c);
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(typeof sc.runAsUser, "number", "a numeric user, which runAsNonRoot can verify");
    assert.ok((sc.runAsUser ?? 0) > 0, "not root");
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.privileged ?? false, false);
    assert.deepEqual(sc.capabilities?.drop, ["ALL"]);
    assert.deepEqual(sc.capabilities?.add ?? [], []);
    assert.equal(sc.seccompProfile?.type, "RuntimeDefault");
    // The image runs as the same user, so that it also runs where runAsUser is not set.
    const users = [...readFileSync(join(ROOT, "Dockerfile"), "utf8").matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.equal(users.at(-1)?.split(":")[0], String(sc.runAsUser), "the Dockerfile's last USER is the Deployment's runAsUser");

    assert.deepEqual(httpProbe(c, c.readinessProbe, "readinessProbe"), { path: "/readyz", port: 8080 });
    assert.deepEqual(httpProbe(c, c.livenessProbe, "livenessProbe"), { path: "/healthz", port: 8080 });
    assert.equal(portNumber(c, "grpc", "gRPC port"), 50051);

    for (const kind of ["requests", "limits"] as const) {
      const r = must(c.resources?.[kind], `server resources.${kind}`);
      assert.ok(r.cpu !== undefined && r.memory !== undefined, `server resources.${kind} names cpu and memory`);
    }

    // Spread over nodes, so that one node going down leaves a replica.
    const labels = spec.template.metadata?.labels ?? {};
    const selects = (sel: { matchLabels?: Record<string, string> } | undefined) =>
      sel?.matchLabels !== undefined && Object.entries(sel.matchLabels).every(([k, v]) => labels[k] === v);
    const spread = (pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname" && t.maxSkew === 1 && selects(t.labelSelector));
    const anti = [
      ...(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.podAffinityTerm),
    ].some((t) => t.topologyKey === "kubernetes.io/hostname" && selects(t.labelSelector));
    assert.ok(spread || anti, "replicas spread across nodes");
    assert.ok(selects(spec.selector), "the Deployment selects its own pods");
  });

  it("expose the server's REST and gRPC ports through the Service the agents use", () => {
    const svc = one<IService>("Service", "podwall");
    const dep = one<IDeployment>("Deployment", "podwall");
    const labels = dep.spec?.template.metadata?.labels ?? {};
    const selector = must(svc.spec?.selector, "Service selector");
    assert.ok(Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v), "the Service selects the server pods");
    const c = onlyContainer(dep.spec?.template.spec, "server");
    const ports = (svc.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, target: portNumber(c, p.targetPort ?? p.port, `Service port ${p.name}`) }));
    assert.deepEqual(ports, [
      { name: "http", port: 8080, target: 8080 },
      { name: "grpc", port: 50051, target: 50051 },
    ]);
  });

  it("run the agent on every node, on the host network, with NET_ADMIN and NET_RAW and its node's name", () => {
    const ds = one<IDaemonSet>("DaemonSet", "podwall-agent");
    const pod = must(ds.spec?.template.spec, "DaemonSet pod spec");
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet", "a host-network pod resolves Service names only with this policy");
    assert.equal(pod.priorityClassName, "system-node-critical");
    assert.equal(pod.automountServiceAccountToken, false, "the agent needs no Kubernetes credentials");
    assert.ok(
      (pod.tolerations ?? []).some((t) => t.operator === "Exists" && t.key === undefined && t.effect === undefined),
      "tolerates every taint, control plane included",
    );

    const c = onlyContainer(pod, "agent");
    const sc = effective(pod, c);
    assert.deepEqual([...(sc.capabilities?.add ?? [])].sort(), ["NET_ADMIN", "NET_RAW"]);
    assert.deepEqual(sc.capabilities?.drop, ["ALL"]);
    assert.equal(sc.privileged ?? false, false, "capabilities, not a privileged container");
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.seccompProfile?.type, "RuntimeDefault");

    const args = must(c.args, "agent args");
    const flag = (name: string) => {
      const i = args.indexOf(name);
      assert.ok(i >= 0 && i + 1 < args.length, `agent ${name}`);
      return args[i + 1]!;
    };
    const node = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(flag("--node"));
    assert.ok(node, "--node is an environment variable reference");
    const env = (c.env ?? []).find((e) => e.name === node[1]);
    assert.equal(env?.valueFrom?.fieldRef?.fieldPath, "spec.nodeName", `${node[1]} comes from the downward API`);

    assert.equal(flag("--server"), "http://podwall.podwall.svc:8080");
    const svc = one<IService>("Service", "podwall");
    assert.equal(svc.metadata?.namespace, "podwall");
    assert.ok(
      (svc.spec?.ports ?? []).some((p) => p.port === 8080),
      "the Service serves the port the agent asks",
    );

    const requests = must(c.resources?.requests, "agent resources.requests");
    assert.ok(requests.cpu !== undefined && requests.memory !== undefined, "agent requests cpu and memory");
  });
});
