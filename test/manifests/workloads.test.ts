/**
 * Workloads standing for their pods (expandWorkloads): every kind, the
 * addresses they get, the namespaces made, names taken, and bad templates
 * refused with the API server's field paths.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Refusal } from "../../server/manifests/collect.js";
import { readManifestPaths } from "../../server/manifests/files.js";
import { parseManifests } from "../../server/manifests/parse.js";
import { expandWorkloads } from "../../server/manifests/workloads.js";
import type { FieldError } from "../../server/policy/field.js";
import { PORT_RANGE, err } from "./k8s-messages.js";

type Obj = Record<string, unknown>;

const TEMPLATE: Obj = {
  metadata: { labels: { app: "x" }, annotations: { a: "b" } },
  spec: { restartPolicy: "Always", containers: [{ name: "c", image: "nginx", ports: [{ name: "http", containerPort: 80, hostPort: 8080 }] }] },
};

const API_VERSIONS: Readonly<Record<string, string>> = {
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  ReplicaSet: "apps/v1",
  ReplicationController: "v1",
  Job: "batch/v1",
  CronJob: "batch/v1",
};

/** A workload of `kind` with TEMPLATE (or `template`) where that kind keeps it; a null namespace: none named. */
function workload(kind: string, name: string, namespace: string | null = "ns", template: unknown = TEMPLATE): Obj {
  const spec = kind === "CronJob" ? { schedule: "0 * * * *", jobTemplate: { spec: { template } } } : { replicas: 2, selector: { matchLabels: { app: "x" } }, template };
  return { apiVersion: API_VERSIONS[kind], kind, metadata: { name, ...(namespace !== null ? { namespace } : {}), labels: { tier: "workload" } }, spec };
}

/** The Pod a workload of TEMPLATE stands for. */
function pod(namespace: string, name: string, ip: string, labels: Obj = { app: "x" }): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "c", ports: [{ name: "http", containerPort: 80 }] }] },
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
  };
}

const namespace = (name: string): Obj => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
const plainPod = (ns: string, name: string, ip?: string): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c" }] },
  status: ip ? { podIP: ip } : {},
});
const policy = (ns: string | undefined, name: string, spec: Obj = { podSelector: {} }): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, ...(ns ? { namespace: ns } : {}) },
  spec,
});

/** The address of each pod of the expansion, by namespace/name. */
function addresses(raws: readonly unknown[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const r of raws as Obj[]) {
    if (r["kind"] !== "Pod") continue;
    const m = r["metadata"] as Obj;
    out[`${m["namespace"]}/${m["name"]}`] = (r["status"] as Obj)["podIP"] as string | undefined;
  }
  return out;
}

describe("expandWorkloads: each kind stands for one Pod", () => {
  for (const kind of Object.keys(API_VERSIONS)) {
    it(`${API_VERSIONS[kind]} ${kind}: the template's labels and ports, the workload's namespace and name`, () => {
      const got = expandWorkloads([namespace("ns"), workload(kind, "w")]);
      assert.deepEqual(got.raws, [namespace("ns"), pod("ns", "w", "198.18.0.1")]);
      assert.deepEqual(got.notes, [`1 workload stands for its pods, at addresses of 198.18.0.0/15`]);
      assert.equal(got.refusal, undefined);
    });
  }

  it("hostNetwork is kept; a template without labels gives a pod without labels", () => {
    const template = { metadata: {}, spec: { hostNetwork: true, containers: [{ name: "c" }] } };
    const got = expandWorkloads([namespace("ns"), workload("DaemonSet", "d", "ns", template)]);
    assert.deepEqual(got.raws[1], {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "d", namespace: "ns" },
      spec: { hostNetwork: true, containers: [{ name: "c" }] },
      status: { phase: "Running", podIP: "198.18.0.1", podIPs: [{ ip: "198.18.0.1" }] },
    });
  });

  it("a List's items are expanded in place; pods, policies and other kinds pass as they are", () => {
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "ns" } };
    const old = { ...workload("Deployment", "old"), apiVersion: "apps/v1beta2" };
    const input = [
      namespace("ns"),
      { apiVersion: "v1", kind: "List", items: [workload("Deployment", "a"), service, { kind: "PodList", apiVersion: "v1", items: [plainPod("ns", "p")] }] },
      old,
      policy("ns", "np"),
    ];
    const before = structuredClone(input);
    const got = expandWorkloads(input);
    assert.deepEqual(got.raws, [namespace("ns"), pod("ns", "a", "198.18.0.1"), service, plainPod("ns", "p"), old, policy("ns", "np")]);
    assert.deepEqual(input, before, "the input is not changed");
  });

  it("the fixture repository: every kind, a List, a plain Pod, a name taken, namespaces made", () => {
    const got = expandWorkloads(readManifestPaths(["test/fixtures/workloads/shop"]));
    assert.deepEqual(
      (got.raws as Obj[]).map((r) => `${r["kind"]} ${(r["metadata"] as Obj)["namespace"] ?? ""}/${(r["metadata"] as Obj)["name"]}`),
      [
        "Namespace /monitoring",
        "Namespace /shop",
        "Pod shop/web",
        "Service shop/web",
        "Pod shop/api",
        "Pod shop/cache",
        "Pod shop/db",
        "Pod shop/web-statefulset",
        "Pod shop/migrate",
        "Pod shop/report",
        "Pod monitoring/node-exporter",
        "Pod monitoring/prometheus",
        "NetworkPolicy shop/default-deny-ingress",
        "NetworkPolicy shop/api-from-web",
        "NetworkPolicy shop/db-from-api-and-migrate",
        "NetworkPolicy shop/scrape-from-monitoring",
      ],
    );
    // In order of namespace, then name, past 198.18.0.1 (monitoring/prometheus holds it).
    assert.deepEqual(addresses(got.raws), {
      "monitoring/node-exporter": "198.18.0.2",
      "monitoring/prometheus": "198.18.0.1",
      "shop/api": "198.18.0.3",
      "shop/cache": "198.18.0.4",
      "shop/db": "198.18.0.5",
      "shop/migrate": "198.18.0.6",
      "shop/report": "198.18.0.7",
      "shop/web": "198.18.0.8",
      "shop/web-statefulset": "198.18.0.9",
    });
    assert.deepEqual(got.notes, [
      "StatefulSet shop/web stands for pod shop/web-statefulset: Deployment shop/web has the name web",
      "8 workloads stand for their pods, at addresses of 198.18.0.0/15",
      "namespace monitoring made, as no Namespace object defines it (DaemonSet monitoring/node-exporter names it)",
      "namespace shop made, as no Namespace object defines it (Deployment shop/web names it)",
    ]);
  });
});

describe("expandWorkloads: addresses", () => {
  const workloads = ["c", "a", "b"].map((n) => workload("Deployment", n));

  it("are given in order of namespace, then name, whatever the input's order", () => {
    const forward = expandWorkloads([namespace("ns"), namespace("a-ns"), ...workloads, workload("Job", "z", "a-ns")]);
    const backward = expandWorkloads([namespace("a-ns"), workload("Job", "z", "a-ns"), ...[...workloads].reverse(), namespace("ns")]);
    const want = { "a-ns/z": "198.18.0.1", "ns/a": "198.18.0.2", "ns/b": "198.18.0.3", "ns/c": "198.18.0.4" };
    assert.deepEqual(addresses(forward.raws), want);
    assert.deepEqual(addresses(backward.raws), want);
    assert.deepEqual(expandWorkloads([namespace("ns"), ...workloads]).raws, expandWorkloads([namespace("ns"), ...workloads]).raws);
  });

  it("skip every address the input uses and every CIDR that holds part of the range", () => {
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, status: { addresses: [{ type: "ExternalIP", address: "198.18.0.2" }] } };
    const cases: { name: string; others: Obj[]; want: string[] }[] = [
      { name: "nothing in the way", others: [], want: ["198.18.0.1", "198.18.0.2", "198.18.0.3"] },
      { name: "a pod's address and a node's", others: [plainPod("ns", "p", "198.18.0.1"), node], want: ["198.18.0.3", "198.18.0.4", "198.18.0.5"] },
      { name: "an address written with leading zeros", others: [plainPod("ns", "p", "198.018.000.001")], want: ["198.18.0.2", "198.18.0.3", "198.18.0.4"] },
      {
        name: "an ipBlock inside the range, and its except",
        others: [policy("ns", "np", { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "198.18.0.0/30", except: ["198.18.0.4/31"] } }] }] })],
        want: ["198.18.0.6", "198.18.0.7", "198.18.0.8"],
      },
      {
        name: "an ipBlock that holds the whole range cannot be kept clear of",
        others: [policy("ns", "np", { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "198.16.0.0/12" } }, { ipBlock: { cidr: "0.0.0.0/0" } }] }] })],
        want: ["198.18.0.1", "198.18.0.2", "198.18.0.3"],
      },
      {
        name: "an address anywhere, such as an annotation",
        others: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m", annotations: { ip: "198.18.0.2" } } }],
        want: ["198.18.0.1", "198.18.0.3", "198.18.0.4"],
      },
    ];
    for (const c of cases) {
      const got = addresses(expandWorkloads([namespace("ns"), ...c.others, ...workloads]).raws);
      assert.deepEqual(
        ["ns/a", "ns/b", "ns/c"].map((k) => got[k]),
        c.want,
        c.name,
      );
    }
  });
});

describe("expandWorkloads: namespaces", () => {
  it("are made for Pods, workloads and NetworkPolicies that name one no Namespace object defines", () => {
    const got = expandWorkloads([
      namespace("defined"),
      plainPod("defined", "p"),
      { ...plainPod("x", "q"), metadata: { name: "q" } },
      workload("CronJob", "w", "jobs"),
      policy("policies", "np"),
      policy("Bad_NS", "np2"),
    ]);
    assert.deepEqual((got.raws as Obj[]).slice(0, 4), [namespace("default"), namespace("jobs"), namespace("policies"), namespace("defined")]);
    assert.deepEqual(got.notes, [
      "1 workload stands for its pods, at addresses of 198.18.0.0/15",
      "namespace default made, as no Namespace object defines it (Pod default/q names it)",
      "namespace jobs made, as no Namespace object defines it (CronJob jobs/w names it)",
      "namespace policies made, as no Namespace object defines it (NetworkPolicy policies/np names it)",
    ]);
  });

  it("a workload that names no namespace stands for a pod of default", () => {
    const got = expandWorkloads([workload("Deployment", "w", null)]);
    assert.deepEqual(got.raws, [namespace("default"), pod("default", "w", "198.18.0.1")]);
  });

  it("nothing is made when every namespace is defined", () => {
    const got = expandWorkloads([namespace("ns"), plainPod("ns", "p"), policy("ns", "np")]);
    assert.deepEqual(got, { raws: [namespace("ns"), plainPod("ns", "p"), policy("ns", "np")], notes: [] });
  });
});

describe("expandWorkloads: names", () => {
  const cases: { name: string; input: Obj[]; want: string[]; notes: string[] }[] = [
    {
      name: "workloads of one namespace sharing a name: the first keeps it, the later take NAME-KIND",
      input: [workload("Deployment", "web"), workload("StatefulSet", "web"), workload("DaemonSet", "web")],
      want: ["ns/web", "ns/web-statefulset", "ns/web-daemonset"],
      notes: [
        "StatefulSet ns/web stands for pod ns/web-statefulset: Deployment ns/web has the name web",
        "DaemonSet ns/web stands for pod ns/web-daemonset: Deployment ns/web has the name web",
      ],
    },
    {
      name: "a Pod of the input keeps its name, wherever it stands",
      input: [workload("Job", "web"), plainPod("ns", "web")],
      want: ["ns/web-job", "ns/web"],
      notes: ["Job ns/web stands for pod ns/web-job: Pod ns/web has the name web"],
    },
    {
      name: "NAME-KIND taken too: a number follows",
      input: [workload("Deployment", "web"), workload("Deployment", "web"), workload("Deployment", "web")],
      want: ["ns/web", "ns/web-deployment", "ns/web-deployment-2"],
      notes: [
        "Deployment ns/web stands for pod ns/web-deployment: Deployment ns/web has the name web",
        "Deployment ns/web stands for pod ns/web-deployment-2: Deployment ns/web has the name web",
      ],
    },
    {
      name: "the same name in two namespaces is no clash",
      input: [workload("Deployment", "web"), workload("StatefulSet", "web", "other")],
      want: ["ns/web", "other/web"],
      notes: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = expandWorkloads([namespace("ns"), namespace("other"), ...c.input]);
      assert.deepEqual(
        (got.raws as Obj[]).slice(2).map((r) => `${(r["metadata"] as Obj)["namespace"]}/${(r["metadata"] as Obj)["name"]}`),
        c.want,
      );
      assert.deepEqual(
        got.notes.filter((n) => n.includes(" stands for pod ")),
        c.notes,
      );
    });
  }
});

describe("expandWorkloads: a bad template is refused with the API server's field paths", () => {
  const spec = (extra: Obj) => ({ ...TEMPLATE, spec: { containers: [{ name: "c" }], ...extra } });
  const cases: { name: string; workload: Obj; what: string; errors: FieldError[] }[] = [
    {
      name: "labels that are not a map",
      workload: workload("Deployment", "w", "ns", { metadata: { labels: "app=web" }, spec: { containers: [{ name: "c" }] } }),
      what: 'Deployment.apps "w"',
      errors: [{ field: "spec.template.metadata.labels", type: "FieldValueTypeInvalid", value: "app=web", detail: "must be an object" }],
    },
    {
      name: "a label value that YAML read as a boolean",
      workload: workload("StatefulSet", "w", "ns", { metadata: { labels: { enabled: true } }, spec: { containers: [{ name: "c" }] } }),
      what: 'StatefulSet.apps "w"',
      errors: [
        {
          field: "spec.template.metadata.labels",
          type: "FieldValueTypeInvalid",
          value: true,
          detail: "json: cannot unmarshal bool into Go struct field ObjectMeta.spec.template.metadata.labels of type string",
        },
      ],
    },
    {
      name: "a label key that is no qualified name",
      workload: workload("ReplicaSet", "w", "ns", { metadata: { labels: { "a b": "x" } }, spec: { containers: [{ name: "c" }] } }),
      what: 'ReplicaSet.apps "w"',
      errors: [
        err.invalid(
          "spec.template.metadata.labels",
          "a b",
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
      ],
    },
    {
      name: "a CronJob without a job template",
      workload: { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "w", namespace: "ns" }, spec: { schedule: "0 * * * *" } },
      what: 'CronJob.batch "w"',
      errors: [err.required("spec.jobTemplate")],
    },
    {
      name: "a CronJob's container port out of range",
      workload: workload("CronJob", "w", "ns", spec({ containers: [{ name: "c", ports: [{ containerPort: 70000 }] }] })),
      what: 'CronJob.batch "w"',
      errors: [err.invalid("spec.jobTemplate.spec.template.spec.containers[0].ports[0].containerPort", 70000, PORT_RANGE)],
    },
    {
      name: "a template that is not an object",
      workload: { ...workload("Job", "w"), spec: { template: [] } },
      what: 'Job.batch "w"',
      errors: [{ field: "spec.template", type: "FieldValueTypeInvalid", value: [], detail: "must be an object" }],
    },
    {
      name: "no containers",
      workload: workload("DaemonSet", "w", "ns", { metadata: {}, spec: {} }),
      what: 'DaemonSet.apps "w"',
      errors: [err.required("spec.template.spec.containers")],
    },
    {
      name: "hostNetwork that is not a boolean, a protocol not supported",
      workload: workload("ReplicationController", "w", "ns", spec({ hostNetwork: "yes", containers: [{ name: "c", ports: [{ containerPort: 53, protocol: "ICMP" }] }] })),
      what: 'ReplicationController "w"',
      errors: [
        { field: "spec.template.spec.hostNetwork", type: "FieldValueTypeInvalid", value: "yes", detail: "must be a boolean" },
        err.notSupported("spec.template.spec.containers[0].ports[0].protocol", "ICMP", ["SCTP", "TCP", "UDP"]),
      ],
    },
    {
      name: "the workload's own name and namespace stay at metadata",
      workload: workload("Deployment", "Web", "Bad_NS"),
      what: 'Deployment.apps "Web"',
      errors: [
        err.invalid(
          "metadata.name",
          "Web",
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        err.invalid(
          "metadata.namespace",
          "Bad_NS",
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = expandWorkloads([namespace("ns"), c.workload]);
      assert.deepEqual(
        got.refusal?.errors.map(({ object, ...e }) => e),
        c.errors,
      );
      assert.ok(got.refusal?.errors.every((e) => e.object === c.what));
      assert.equal(got.refusal?.strict, false);
    });
  }

  it("the message names the object and its errors as the API server's does; good workloads beside it still expand", () => {
    const bad = workload("Deployment", "w", "ns", { metadata: { labels: "app=web" }, spec: { containers: [{ name: "c", ports: [{ containerPort: 0 }] }] } });
    const got = expandWorkloads([namespace("ns"), bad, workload("Job", "ok")]);
    assert.deepEqual(got.refusal, {
      strict: false,
      message:
        'Deployment.apps "w" is invalid: [spec.template.metadata.labels: Invalid value: "app=web": must be an object, spec.template.spec.containers[0].ports[0].containerPort: Required value]',
      errors: [
        { field: "spec.template.metadata.labels", type: "FieldValueTypeInvalid", value: "app=web", detail: "must be an object", object: 'Deployment.apps "w"' },
        { field: "spec.template.spec.containers[0].ports[0].containerPort", type: "FieldValueRequired", detail: "", object: 'Deployment.apps "w"' },
      ],
      omitted: 0,
    } satisfies Refusal);
    assert.deepEqual(addresses(got.raws), { "ns/ok": "198.18.0.1" });
  });

  it("a field given twice is refused before anything else, as strict decoding refuses it", () => {
    const [raw] = parseManifests("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\n  name: v\nspec:\n  template: {}\n");
    const got = expandWorkloads([raw]);
    assert.deepEqual(got.refusal, {
      strict: true,
      message: 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name"',
      errors: [{ field: "metadata.name", type: "FieldValueDuplicate", detail: 'duplicate field "metadata.name"', object: 'Deployment.apps "v"' }],
      omitted: 0,
    } satisfies Refusal);
  });
});
