/**
 * A repository of manifests rarely holds pods: it holds the workloads that make
 * them, and seldom its Namespaces. For offline analysis each workload stands
 * for its pods, as one Pod that has what a policy can see of them:
 *
 * | the Pod's          | is                                                                 |
 * |--------------------|--------------------------------------------------------------------|
 * | namespace          | the workload's ("default" when it names none)                      |
 * | name               | the workload's; taken already (a Pod, an earlier workload): `NAME-KIND` |
 * | labels             | the pod template's `metadata.labels`                               |
 * | containers' ports  | the template's `spec.containers[].ports[]` (name, containerPort, protocol) |
 * | hostNetwork        | the template's `spec.hostNetwork`                                  |
 * | phase, address     | Running, at an address of 198.18.0.0/15 (RFC 2544, benchmarking)  |
 *
 * Addresses go to the pods in order of namespace, then name, skipping every
 * address and CIDR the input writes anywhere, so the same input gives the same
 * addresses and none of them is already an object's. A namespace that a Pod,
 * workload or NetworkPolicy names and no Namespace object defines is made, as
 * the API server would hold it (its name only). Pods in the input stay as they
 * are. A served model is never expanded: there the pods are the truth.
 */
import { type FieldError, Path, fieldError } from "../policy/field.js";
import { type Json, Reader } from "../policy/reader.js";
import { validateLabels } from "../policy/selector.js";
import { isDNS1123Label } from "../policy/validate-leaf.js";
import { AddressPool, POOL_TEXT } from "./address-pool.js";
import { Collector, type Refusal } from "./collect.js";
import { decodeObject } from "./decode.js";
import { DEFAULT_MANIFEST_LIMITS } from "./limits.js";
import { duplicateFields, flatten } from "./parse.js";

/** The kinds that stand for pods: where each keeps its pod template, and its name in the API server's errors. */
const WORKLOADS: Readonly<Record<string, { readonly what: string; readonly template: readonly string[] }>> = {
  "apps/v1/Deployment": { what: "Deployment.apps", template: ["spec", "template"] },
  "apps/v1/StatefulSet": { what: "StatefulSet.apps", template: ["spec", "template"] },
  "apps/v1/DaemonSet": { what: "DaemonSet.apps", template: ["spec", "template"] },
  "apps/v1/ReplicaSet": { what: "ReplicaSet.apps", template: ["spec", "template"] },
  "v1/ReplicationController": { what: "ReplicationController", template: ["spec", "template"] },
  "batch/v1/Job": { what: "Job.batch", template: ["spec", "template"] },
  "batch/v1/CronJob": { what: "CronJob.batch", template: ["spec", "jobTemplate", "spec", "template"] },
};

export interface Expanded {
  /** The input, Lists flattened, each workload replaced by its Pod, after the Namespaces made. */
  readonly raws: unknown[];
  /** What was made or renamed, one sentence each. */
  readonly notes: string[];
  /** Why workloads cannot stand for pods, as the API server would refuse them; absent when all can. */
  readonly refusal?: Refusal;
}

/** One workload read: its kind, and the Pod it stands for, without a name of its own yet or an address. */
interface Workload {
  readonly index: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly pod: { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> };
}

export function expandWorkloads(input: readonly unknown[]): Expanded {
  const raws: unknown[] = [];
  for (const v of input) flatten(v, raws);
  const notes: string[] = [];
  const refusals = new Collector({ maxErrors: 100, maxWarnings: DEFAULT_MANIFEST_LIMITS.maxWarnings });
  let refused = false;
  const workloads: Workload[] = [];
  raws.forEach((raw, index) => {
    const kind = workloadKind(raw);
    if (kind === undefined) return;
    const read = readWorkload(raw as Json, kind, index);
    if ("pod" in read) workloads.push(read);
    else {
      refused = true;
      refusals.add({ decoded: read, moreErrors: 0, moreWarnings: 0 });
    }
  });

  // Pods of the input keep their names; workloads take theirs in input order.
  const holders = new Map<string, string>();
  for (const raw of raws) if (apiKind(raw) === "v1/Pod") holders.set(`${namespaceOf(raw)}/${nameOf(raw)}`, `Pod ${namespaceOf(raw)}/${nameOf(raw)}`);
  const named = workloads.map((w) => {
    const name = freeName(holders, w);
    const what = `${w.kind} ${w.namespace}/${w.name}`;
    if (name !== w.name) notes.push(`${what} stands for pod ${w.namespace}/${name}: ${holders.get(`${w.namespace}/${w.name}`)} has the name ${w.name}`);
    holders.set(`${w.namespace}/${name}`, what);
    return { ...w, name };
  });

  const pool = new AddressPool(raws);
  const pods = new Map<number, unknown>();
  for (const w of [...named].sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name))) {
    const ip = pool.next();
    if (ip === undefined) notes.push(`pod ${w.namespace}/${w.name} has no address: every address of ${POOL_TEXT} is taken`);
    const addresses = ip === undefined ? {} : { podIP: ip, podIPs: [{ ip }] };
    pods.set(w.index, { apiVersion: "v1", kind: "Pod", ...w.pod, metadata: { ...w.pod.metadata, name: w.name }, status: { ...w.pod.status, ...addresses } });
  }
  if (named.length > 0) notes.push(`${count(named.length, "workload")} ${named.length === 1 ? "stands for its" : "stand for their"} pods, at addresses of ${POOL_TEXT}`);
  const expanded = raws.map((raw, i) => pods.get(i) ?? raw);

  const made = madeNamespaces(expanded, raws);
  for (const [ns, by] of made) notes.push(`namespace ${ns} made, as no Namespace object defines it (${by} names it)`);
  const namespaces = [...made.keys()].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  const refusal = refused ? refusals.collected().refusal : undefined;
  return { raws: [...namespaces, ...expanded], notes, ...(refusal ? { refusal } : {}) };
}

/** `apps/v1/Deployment`, or undefined for a value that is not an object with both. */
function apiKind(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const o = raw as Json;
  return typeof o["apiVersion"] === "string" && typeof o["kind"] === "string" ? `${o["apiVersion"]}/${o["kind"]}` : undefined;
}

function workloadKind(raw: unknown): string | undefined {
  const k = apiKind(raw);
  return k !== undefined && k in WORKLOADS ? k : undefined;
}

function metadataOf(raw: unknown): Json {
  const m = (raw as Json)["metadata"];
  return typeof m === "object" && m !== null && !Array.isArray(m) ? (m as Json) : {};
}

/** The namespace an object names ("default" when none), or undefined when it is not a string. */
function namespaceOf(raw: unknown): string | undefined {
  const ns = metadataOf(raw)["namespace"];
  if (ns === undefined || ns === null || ns === "") return "default";
  return typeof ns === "string" ? ns : undefined;
}

function nameOf(raw: unknown): unknown {
  return metadataOf(raw)["name"];
}

/**
 * The Pod a workload stands for, or why it cannot: the template's fields read
 * and validated as the API server does, each error at the workload's own path
 * (`spec.template.metadata.labels`, `spec.jobTemplate.spec.template.spec.containers[0].ports[0].containerPort`).
 */
function readWorkload(o: Json, key: string, index: number): Workload | { kind: "invalid"; what: string; message: string; errors: FieldError[]; strict?: boolean } {
  const { what, template } = WORKLOADS[key]!;
  const kind = key.slice(key.lastIndexOf("/") + 1);
  const rawName = nameOf(o);
  const named = `${what} ${JSON.stringify(typeof rawName === "string" ? rawName : "")}`;
  const duplicates = duplicateFields(o);
  if (duplicates.length > 0) {
    // With strict field validation (kubectl's default) the API server refuses a field given twice before anything else.
    const fields = duplicates.slice(0, 100).map((f) => `duplicate field ${JSON.stringify(f)}`);
    const version = key.slice(0, key.lastIndexOf("/")).split("/").pop()!;
    const message = `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: strict decoding error: ${fields.join(", ")}`;
    return { kind: "invalid", what: named, message, strict: true, errors: fields.map((detail, i) => ({ field: duplicates[i]!, type: "FieldValueDuplicate", detail })) };
  }
  const r = new Reader();
  const meta = r.object(o["metadata"], Path.root("metadata")) ?? {};
  let at: Json = o;
  let p = Path.root();
  for (const segment of template) {
    p = p.child(segment);
    const next = r.object(at[segment], p);
    if (next === undefined) {
      if (r.errors.length === 0) r.add(fieldError.required(p));
      return { kind: "invalid", what: named, message: `${named} is invalid`, errors: r.errors };
    }
    at = next;
  }
  const tmeta = r.object(at["metadata"], p.child("metadata")) ?? {};
  const tspec = r.object(at["spec"], p.child("spec")) ?? {};
  const labels = r.stringMap(tmeta["labels"], p.child("metadata").child("labels"));
  validateLabels(r, labels, p.child("metadata").child("labels"));
  const containers = tspec["containers"];
  if (containers === undefined || containers === null || (Array.isArray(containers) && containers.length === 0)) r.add(fieldError.required(p.child("spec").child("containers")));
  const metadata = { name: rawName, ...(meta["namespace"] !== undefined ? { namespace: meta["namespace"] } : {}) };
  const spec = {
    ...(tspec["hostNetwork"] !== undefined ? { hostNetwork: tspec["hostNetwork"] } : {}),
    containers: Array.isArray(containers) ? containers.map(container) : containers,
  };
  // The rest is what a Pod's decoding checks: its errors move under the template, the name and namespace stay the workload's.
  const d = decodeObject({ apiVersion: "v1", kind: "Pod", metadata, spec });
  if (d.kind === "invalid") r.add(...d.errors.map((e) => (e.field.startsWith("spec") ? { ...e, field: `${p}.${e.field}` } : e)));
  if (r.errors.length > 0) return { kind: "invalid", what: named, message: `${named} is invalid`, errors: r.errors };
  const namespace = namespaceOf(o)!;
  const pod = { metadata: { name: rawName, namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) }, spec, status: { phase: "Running" } };
  return { index, kind, namespace, name: rawName as string, pod };
}

/** What a policy can see of a container: its name and ports. */
function container(c: unknown): unknown {
  if (typeof c !== "object" || c === null || Array.isArray(c)) return c;
  const o = c as Json;
  const ports = Array.isArray(o["ports"]) ? o["ports"].map((x) => pick(x, ["name", "containerPort", "protocol"])) : o["ports"];
  return pick({ name: o["name"], ports }, ["name", "ports"]);
}

function pick(v: unknown, keys: readonly string[]): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const o = v as Json;
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** The workload's name when no one holds it in its namespace, else `NAME-KIND` (then `NAME-KIND-2`, ...). */
function freeName(holders: ReadonlyMap<string, string>, w: Workload): string {
  if (!holders.has(`${w.namespace}/${w.name}`)) return w.name;
  const base = `${w.name}-${w.kind.toLowerCase()}`;
  let name = base;
  for (let i = 2; holders.has(`${w.namespace}/${name}`); i++) name = `${base}-${i}`;
  return name;
}

/**
 * The namespaces that Pods and NetworkPolicies name and no Namespace object
 * defines, sorted, each with the first object that names it. A name that is
 * no namespace's (not a DNS label) is left for the object's own validation to report.
 */
function madeNamespaces(objects: readonly unknown[], originals: readonly unknown[]): Map<string, string> {
  const defined = new Set(objects.filter((o) => apiKind(o) === "v1/Namespace").map(nameOf));
  const made = new Map<string, string>();
  objects.forEach((o, i) => {
    const kind = apiKind(o);
    if (kind !== "v1/Pod" && kind !== "networking.k8s.io/v1/NetworkPolicy") return;
    const ns = namespaceOf(o);
    if (ns === undefined || defined.has(ns) || made.has(ns) || isDNS1123Label(ns).length > 0) return;
    const by = originals[i];
    made.set(ns, `${String((by as Json)["kind"])} ${ns}/${String(nameOf(by))}`);
  });
  return new Map([...made].sort(([a], [b]) => compare(a, b)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
