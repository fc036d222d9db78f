/**
 * The Kubernetes API server double against the real client library: the
 * informers Podwall's Kubernetes source is built on (client-node's
 * makeInformer, a ListWatch over Watch) must see from the double what they
 * would see from kube-apiserver. These tests pin down both the double's
 * protocol and client-node's behaviour on it (what it asks for, how it
 * resumes, how it relists, when it gives up), which the source has to live
 * with.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AbortError,
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  NetworkingV1Api,
  type ObjectCache,
  makeInformer,
} from "@kubernetes/client-node";
import { CUSTOM_KINDS, type Kind, KubeApiError, type KubeApiServer, type RequestRecord, startKubeApiServer, waitUntil } from "../helpers/kube-apiserver.js";

const PATHS: Record<Kind, string> = {
  Namespace: "/api/v1/namespaces",
  Node: "/api/v1/nodes",
  Pod: "/api/v1/pods",
  NetworkPolicy: "/apis/networking.k8s.io/v1/networkpolicies",
  ClusterNetworkPolicy: "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies",
  AdminNetworkPolicy: "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies",
  BaselineAdminNetworkPolicy: "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies",
};

type Verb = "add" | "update" | "delete" | "connect" | "error";

interface Seen {
  readonly verb: Verb;
  /** namespace/name (or name) of the object, for object events. */
  readonly ref?: string;
  readonly rv?: string;
  readonly obj?: KubernetesObject;
  readonly err?: unknown;
}

interface Followed {
  readonly informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  readonly seen: Seen[];
  count(verb: Verb): number;
  refs(verb: Verb): string[];
}

function refOf(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ""}` : (m.name ?? "");
}

function kubeConfig(double: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(double.kubeconfig());
  return kc;
}

function listFn(kc: KubeConfig, kind: Kind): () => Promise<KubernetesListObject<KubernetesObject>> {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const customList = () => {
    const [, , group, version, plural] = PATHS[kind].split("/") as [string, string, string, string, string];
    return custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<KubernetesObject>>;
  };
  switch (kind) {
    case "Namespace":
      return () => core.listNamespace();
    case "Node":
      return () => core.listNode();
    case "Pod":
      return () => core.listPodForAllNamespaces();
    case "NetworkPolicy":
      return () => net.listNetworkPolicyForAllNamespaces();
    case "ClusterNetworkPolicy":
    case "AdminNetworkPolicy":
    case "BaselineAdminNetworkPolicy":
      return customList;
  }
}

/** An informer of the kind (not started) that records every callback in order. */
function follow(kc: KubeConfig, kind: Kind): Followed {
  const informer = makeInformer(kc, PATHS[kind], listFn(kc, kind));
  const seen: Seen[] = [];
  for (const verb of ["add", "update", "delete"] as const) {
    informer.on(verb, (obj) => seen.push({ verb, ref: refOf(obj), rv: obj.metadata?.resourceVersion ?? "", obj }));
  }
  informer.on("connect", () => seen.push({ verb: "connect" }));
  informer.on("error", (err) => seen.push({ verb: "error", err }));
  return {
    informer,
    seen,
    count: (verb) => seen.filter((s) => s.verb === verb).length,
    refs: (verb) => seen.filter((s) => s.verb === verb).map((s) => s.ref ?? ""),
  };
}

/** The informer's cache and the double's store, as ref@resourceVersion. */
function cacheOf(f: Followed): string[] {
  return f.informer
    .list()
    .map((o) => `${refOf(o)}@${o.metadata?.resourceVersion ?? ""}`)
    .sort();
}

function storeOf(double: KubeApiServer, kind: Kind): string[] {
  return double
    .objects(kind)
    .map((o) => `${refOf(o)}@${o.metadata.resourceVersion}`)
    .sort();
}

function inSync(f: Followed, double: KubeApiServer, kind: Kind): () => boolean {
  return () => JSON.stringify(cacheOf(f)) === JSON.stringify(storeOf(double, kind));
}

function requestsOf(double: KubeApiServer, kind: Kind, verb?: RequestRecord["verb"]): RequestRecord[] {
  return double.requests.filter((r) => r.kind === kind && (verb === undefined || r.verb === verb));
}

function pod(namespace: string, name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: { nodeName: "node-1", containers: [{ name: "c", image: "nginx", ports: [{ containerPort: 80, name: "http" }] }] },
    status: { phase: "Running", podIP: "10.0.0.1" },
  };
}

/** Runs a test body against a fresh double and stops the informers and the double whatever happens. */
async function withDouble(
  opts: Parameters<typeof startKubeApiServer>[0],
  body: (double: KubeApiServer, kc: KubeConfig, track: (f: Followed) => Followed) => Promise<void>,
): Promise<void> {
  const double = await startKubeApiServer(opts);
  const followed: Followed[] = [];
  try {
    await body(double, kubeConfig(double), (f) => {
      followed.push(f);
      return f;
    });
  } finally {
    await Promise.all(followed.map((f) => f.informer.stop()));
    await double.close();
  }
}

describe("client-node informers against the API server double", () => {
  test("the first list: 'connect', then an add per object in list order, then a watch from the list's resourceVersion", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "b" } });
      double.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a", labels: { team: "x" } } });
      double.create({ apiVersion: "v1", kind: "Node", metadata: { name: "node-1" }, status: { addresses: [{ type: "InternalIP", address: "192.168.0.1" }] } });
      double.create(pod("b", "web-1"));
      double.create(pod("a", "web-2"));
      double.create(pod("a", "db-1"));
      double.create({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny", namespace: "a" },
        spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] },
      });
      const listRv = double.resourceVersion();

      const all = Object.fromEntries((Object.keys(PATHS) as Kind[]).map((k) => [k, track(follow(kc, k))])) as Record<Kind, Followed>;
      await Promise.all(Object.values(all).map((f) => f.informer.start()));

      // 'connect' comes first: ListWatch announces it before it lists, not after.
      assert.deepEqual(
        all.Pod.seen.map((s) => (s.verb === "connect" ? "connect" : `${s.verb} ${s.ref}`)),
        ["connect", "add a/db-1", "add a/web-2", "add b/web-1"],
      );
      assert.deepEqual(all.Namespace.refs("add"), ["a", "b"]);
      assert.deepEqual(all.Node.refs("add"), ["node-1"]);
      assert.deepEqual(all.NetworkPolicy.refs("add"), ["a/deny"]);
      for (const kind of Object.keys(PATHS) as Kind[]) {
        assert.deepEqual(cacheOf(all[kind]), storeOf(double, kind), kind);
        assert.equal(double.watchers(kind), 1, `${kind} watching once start() resolved`);
        // Exactly these two requests, with exactly these parameters: no limit, no bookmarks, no timeout.
        assert.deepEqual(
          requestsOf(double, kind).map((r) => ({ method: r.method, path: r.path, query: r.query, status: r.status })),
          [
            { method: "GET", path: PATHS[kind], query: {}, status: 200 },
            { method: "GET", path: PATHS[kind], query: { watch: "true", resourceVersion: listRv }, status: 200 },
          ],
          kind,
        );
      }

      // Listed objects went through client-node's deserializer: no kind/apiVersion (the server omits them), Date timestamps.
      const listed = all.Pod.informer.get("web-1", "b");
      assert.ok(listed);
      assert.equal(listed.kind, undefined);
      assert.equal(listed.apiVersion, undefined);
      assert.ok(listed.metadata?.creationTimestamp instanceof Date);
      // API defaults the double applies, as kube-apiserver does.
      assert.equal(all.Namespace.informer.get("a")?.metadata?.labels?.["kubernetes.io/metadata.name"], "a");
      assert.equal(all.Namespace.informer.get("a")?.metadata?.labels?.team, "x");
      const policy = all.NetworkPolicy.informer.get("deny", "a") as { spec?: { policyTypes?: string[]; ingress?: { ports?: { protocol?: string }[] }[] } };
      assert.deepEqual(policy.spec?.policyTypes, ["Ingress"]);
      assert.equal(policy.spec?.ingress?.[0]?.ports?.[0]?.protocol, "TCP");
    });
  });

  test("live ADDED, MODIFIED and DELETED reach the add, update and delete handlers; a no-op update sends nothing", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const f = track(follow(kc, "Pod"));
      await f.informer.start();
      await waitUntil(() => double.watchers("Pod") === 1, "the pod watch");

      const p2 = double.create(pod("a", "p2"));
      await waitUntil(() => f.count("add") === 2, "add of p2");
      const added = f.seen.at(-1)?.obj;
      // Watched objects are the raw JSON of the event: kind included, timestamps as strings.
      assert.equal(added?.kind, "Pod");
      assert.equal(added?.apiVersion, "v1");
      assert.equal(added?.metadata?.creationTimestamp as unknown, p2.metadata.creationTimestamp);

      const p1 = double.update({ ...pod("a", "p1", { role: "web" }) });
      await waitUntil(() => f.count("update") === 1, "update of p1");
      assert.deepEqual(f.informer.get("p1", "a")?.metadata?.labels, { role: "web" });
      assert.equal(f.informer.get("p1", "a")?.metadata?.resourceVersion, p1.metadata.resourceVersion);

      const same = double.update({ ...pod("a", "p1", { role: "web" }) });
      assert.equal(same.metadata.resourceVersion, p1.metadata.resourceVersion, "a no-op update keeps the resourceVersion");
      double.create(pod("a", "p3"));
      await waitUntil(() => f.count("add") === 3, "add of p3");

      const gone = double.delete("Pod", "a", "p2");
      await waitUntil(() => f.count("delete") === 1, "delete of p2");
      const deleted = f.seen.at(-1);
      assert.equal(deleted?.ref, "a/p2");
      assert.equal(deleted?.rv, gone.metadata.resourceVersion, "the DELETED object carries the deletion's resourceVersion");

      assert.deepEqual(
        f.seen.map((s) => (s.verb === "connect" ? "connect" : `${s.verb} ${s.ref}`)),
        ["connect", "add a/p1", "add a/p2", "update a/p1", "add a/p3", "delete a/p2"],
      );
      assert.deepEqual(cacheOf(f), storeOf(double, "Pod"));
      assert.equal(requestsOf(double, "Pod", "list").length, 1);
    });
  });

  test("a watch ended mid-stream is resumed from the last resourceVersion seen: no relist, nothing lost or repeated", async () => {
    await withDouble({}, async (double, kc, track) => {
      for (let i = 0; i < 3; i++) double.create(pod("a", `p${i}`));
      const f = track(follow(kc, "Pod"));
      await f.informer.start();
      let created = 3;
      let updated = 0;
      let deleted = 0;
      const resumedFrom: string[] = [];
      for (let round = 0; round < 5; round++) {
        await waitUntil(() => double.watchers("Pod") === 1, `the watch, round ${round}`);
        await waitUntil(inSync(f, double, "Pod"), `the cache in sync, round ${round}`);
        resumedFrom.push(double.resourceVersion());
        assert.equal(double.closeWatches("end"), 1);
        // In the same turn, before the informer can be back: these only reach it through the resumed watch's replay.
        double.create(pod("a", `q${round}`));
        created++;
        double.update(pod("a", "p0", { round: String(round) }));
        updated++;
        if (round < 2) {
          double.delete("Pod", "a", `p${round + 1}`);
          deleted++;
        }
      }
      await waitUntil(() => double.watchers("Pod") === 1, "the last watch");
      await waitUntil(inSync(f, double, "Pod"), "the cache in sync");

      assert.equal(f.count("add"), created);
      assert.equal(f.count("update"), updated);
      assert.equal(f.count("delete"), deleted);
      assert.equal(f.count("error"), 0);
      assert.equal(f.count("connect"), 6, "one 'connect' per (re)started watch");
      assert.equal(requestsOf(double, "Pod", "list").length, 1, "no relist");
      assert.deepEqual(
        requestsOf(double, "Pod", "watch").map((r) => r.query.resourceVersion),
        [resumedFrom[0], ...resumedFrom],
        "each watch resumes at the last resourceVersion the previous one delivered",
      );
    });
  });

  test("a connection reset mid-watch is an 'error' (premature close) and the informer stops; start() resumes without a relist", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const f = track(follow(kc, "Pod"));
      await f.informer.start();
      const rv = double.resourceVersion();
      double.closeWatches("reset");
      double.create(pod("a", "p2"));
      await waitUntil(() => f.count("error") === 1, "the informer's error");
      const err = f.seen.find((s) => s.verb === "error")?.err as { code?: string; message?: string };
      assert.equal(err.code, "ERR_STREAM_PREMATURE_CLOSE");
      assert.equal(double.watchers("Pod"), 0);
      assert.equal(f.count("add"), 1);

      // It does not come back by itself; the caller restarts it, and it resumes the watch where it was.
      await f.informer.start();
      await waitUntil(inSync(f, double, "Pod"), "the cache in sync");
      assert.deepEqual(
        requestsOf(double, "Pod").map((r) => `${r.verb} ${r.query.resourceVersion ?? ""}`),
        ["list ", `watch ${rv}`, `watch ${rv}`],
      );
      assert.deepEqual(f.refs("add"), ["a/p1", "a/p2"]);
    });
  });

  for (const expiredWatch of ["event", "status"] as const) {
    test(`after compaction a resumed watch is refused with 410 (${expiredWatch === "event" ? "ERROR event" : "HTTP 410"}); the informer relists and reports what went meanwhile`, async () => {
      await withDouble({ expiredWatch }, async (double, kc, track) => {
        for (const name of ["p1", "p2", "p3"]) double.create(pod("a", name));
        double.create(pod("b", "only"));
        const f = track(follow(kc, "Pod"));
        await f.informer.start();
        const rv = double.resourceVersion();
        const before = f.informer.get("p1", "a")?.metadata?.resourceVersion;

        double.closeWatches("end");
        double.delete("Pod", "a", "p1");
        double.delete("Pod", "b", "only");
        double.update(pod("a", "p2", { changed: "yes" }));
        double.create(pod("c", "p4"));
        const compactedAt = double.compact();

        await waitUntil(() => requestsOf(double, "Pod", "watch").length === 3, "the watch after the relist");
        await waitUntil(inSync(f, double, "Pod"), "the cache in sync");
        assert.deepEqual(
          requestsOf(double, "Pod").map((r) => `${r.verb} ${r.query.resourceVersion ?? ""} ${r.status ?? ""}`),
          ["list  200", `watch ${rv} 200`, `watch ${rv} ${expiredWatch === "event" ? 200 : 410}`, "list  200", `watch ${compactedAt} 200`],
        );
        // The relist's diff: vanished objects are deleted (with their last known state), changed ones updated, new ones added.
        const after = f.seen.slice(f.seen.findLastIndex((s) => s.verb === "connect") + 1);
        assert.deepEqual(after.map((s) => `${s.verb} ${s.ref}`).sort(), ["add c/p4", "delete a/p1", "delete b/only", "update a/p2"]);
        assert.equal(after.find((s) => s.ref === "a/p1")?.rv, before);
        assert.equal(f.count("error"), 0, "a 410 is not reported as an error");
        assert.equal(f.count("connect"), 3);
        assert.equal(double.watchers("Pod"), 1);
      });
    });
  }

  test("an error status on a list is the informer's 'error', and it stays stopped until start() is called again", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const f = track(follow(kc, "Pod"));
      double.failNext("Pod", 500);
      await f.informer.start();
      assert.equal(f.count("error"), 1);
      const err = f.seen.find((s) => s.verb === "error")?.err;
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 500);
      // The Status comes as its JSON text, unparsed.
      assert.equal(typeof err.body, "string");
      assert.equal((JSON.parse(err.body as string) as { reason?: string }).reason, "InternalError");
      assert.equal(f.count("add"), 0);
      assert.equal(double.watchers("Pod"), 0);
      assert.deepEqual(
        requestsOf(double, "Pod").map((r) => `${r.verb} ${r.status ?? ""}`),
        ["list 500"],
      );

      await f.informer.start();
      assert.deepEqual(cacheOf(f), storeOf(double, "Pod"));
      assert.equal(double.watchers("Pod"), 1);
    });
  });

  test("an error status on a watch is the informer's 'error' too (statusCode, no body); start() resumes the watch without a relist", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const f = track(follow(kc, "Pod"));
      double.failNext("Pod", 503, "watch");
      await f.informer.start();
      await waitUntil(() => f.count("error") === 1, "the informer's error");
      const err = f.seen.find((s) => s.verb === "error")?.err as { statusCode?: number; message?: string };
      assert.equal(err.statusCode, 503);
      assert.equal(err.message, "Service Unavailable");
      assert.deepEqual(f.refs("add"), ["a/p1"], "the list's objects stay in the cache");
      assert.equal(double.watchers("Pod"), 0);

      double.create(pod("a", "p2"));
      await f.informer.start();
      await waitUntil(inSync(f, double, "Pod"), "the cache in sync");
      assert.deepEqual(
        requestsOf(double, "Pod").map((r) => `${r.verb} ${r.status ?? ""}`),
        ["list 200", "watch 503", "watch 200"],
      );
    });
  });

  test("holdLists() keeps the first list waiting until release, with no timer involved", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const release = double.holdLists();
      const f = track(follow(kc, "Pod"));
      let started = false;
      const starting = f.informer.start().then(() => {
        started = true;
      });
      await waitUntil(() => requestsOf(double, "Pod", "list").length === 1, "the list to arrive");
      double.create(pod("a", "p2"));
      // Nothing has come back while the list is held.
      assert.equal(started, false);
      assert.equal(f.count("add"), 0);
      assert.equal(requestsOf(double, "Pod", "list")[0]?.status, undefined);
      assert.equal(requestsOf(double, "Pod", "watch").length, 0);

      release();
      await starting;
      assert.deepEqual(f.refs("add"), ["a/p1", "a/p2"], "the list is served as of its release");
      assert.equal(requestsOf(double, "Pod", "watch")[0]?.query.resourceVersion, double.resourceVersion());
    });
  });

  test("stop() aborts the watch, and the informer reports that abort as an 'error' (AbortError)", async () => {
    await withDouble({}, async (double, kc) => {
      const f = follow(kc, "Pod");
      await f.informer.start();
      await f.informer.stop();
      await waitUntil(() => double.watchers("Pod") === 0, "the watch to close");
      await waitUntil(() => f.count("error") === 1, "the abort reported");
      assert.ok(f.seen.find((s) => s.verb === "error")?.err instanceof AbortError);
      double.create(pod("a", "p1"));
      assert.equal(requestsOf(double, "Pod", "watch").length, 1, "no restart after stop()");
    });
  });

  test("BOOKMARK: client-node never asks for bookmarks; a forced one moves its resourceVersion, so a resume after compaction needs no relist", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(pod("a", "p1"));
      const f = track(follow(kc, "Pod"));
      await f.informer.start();
      assert.ok(f.informer instanceof ListWatch);
      const lw = f.informer as ListWatch<KubernetesObject>;
      assert.equal(double.bookmark("Pod"), 0, "no watch asked for bookmarks");
      double.create({ kind: "Namespace", metadata: { name: "elsewhere" } });
      assert.equal(double.bookmark("Pod", { unrequested: true }), 1);
      const bookmarkRv = double.resourceVersion();
      await waitUntil(() => lw.latestResourceVersion() === bookmarkRv, "the bookmark taken in");
      double.closeWatches("end");
      double.compact();
      await waitUntil(() => requestsOf(double, "Pod", "watch").length === 2, "the resumed watch");
      assert.equal(requestsOf(double, "Pod", "watch")[1]?.query.resourceVersion, bookmarkRv);
      await waitUntil(() => double.watchers("Pod") === 1, "the resumed watch open");
      assert.equal(requestsOf(double, "Pod", "list").length, 1);
      assert.equal(f.count("add") + f.count("update") + f.count("delete"), 1, "a bookmark is no object event");
    });
  });
});

/** A raw watch: the status, the events as they come, and whether the stream ended. */
async function openWatch(double: KubeApiServer, pathAndQuery: string) {
  const res = await fetch(`${double.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${double.token}` } });
  const events: { type: string; object: Record<string, any> }[] = [];
  let ended = false;
  let body: unknown;
  if (res.status !== 200 || !res.body) {
    body = await res.json();
    ended = true;
  } else {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            events.push(JSON.parse(buffered.slice(0, nl)) as (typeof events)[number]);
            buffered = buffered.slice(nl + 1);
          }
        }
      } catch {
        // an aborted or reset stream just ends
      }
      ended = true;
    })();
  }
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    body,
    events,
    ended: () => ended,
  };
}

async function get(double: KubeApiServer, pathAndQuery: string, token = double.token) {
  const res = await fetch(`${double.url}${pathAndQuery}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe("the API server double's protocol", () => {
  test("requests without the kubeconfig's token are 401; unknown paths 404; selectors 400 rather than ignored", async () => {
    await withDouble({}, async (double) => {
      assert.equal((await get(double, "/api/v1/pods", "")).status, 401);
      assert.equal((await get(double, "/api/v1/pods", "wrong")).status, 401);
      const missing = await get(double, "/api/v1/services");
      assert.equal(missing.status, 404);
      assert.equal(missing.body.kind, "Status");
      assert.equal((await get(double, "/api/v1/pods?labelSelector=app%3Dweb")).status, 400);
      assert.equal((await get(double, "/api/v1/pods")).status, 200);
    });
  });

  test("namespaced paths list, get and watch one namespace", async () => {
    await withDouble({}, async (double) => {
      double.create(pod("a", "p1"));
      double.create(pod("b", "p2"));
      double.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } });
      const list = await get(double, "/api/v1/namespaces/a/pods");
      assert.equal(list.body.kind, "PodList");
      assert.deepEqual(
        list.body.items.map((i: any) => i.metadata.name),
        ["p1"],
      );
      assert.equal((await get(double, "/api/v1/namespaces/a/pods/p1")).body.kind, "Pod");
      assert.equal((await get(double, "/api/v1/namespaces/b/pods/p1")).status, 404);
      assert.equal((await get(double, "/api/v1/pods/p1")).status, 404);
      assert.equal((await get(double, "/api/v1/namespaces/a")).body.status.phase, "Active");
      assert.equal((await get(double, "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies")).body.kind, "NetworkPolicyList");

      const w = await openWatch(double, `/api/v1/namespaces/b/pods?watch=1&resourceVersion=${double.resourceVersion()}`);
      const one = await openWatch(double, `/api/v1/namespaces/a/pods/p3?watch=1&resourceVersion=${double.resourceVersion()}`);
      assert.equal(w.contentType, "application/json");
      double.create(pod("a", "p3"));
      double.create(pod("a", "p5"));
      double.create(pod("b", "p4"));
      await waitUntil(() => w.events.length === 1, "the event of namespace b");
      assert.equal(w.events[0]?.object.metadata.name, "p4");
      await waitUntil(() => one.events.length === 1, "the event of a/p3");
      assert.equal(one.events[0]?.object.metadata.name, "p3");
      double.closeWatches();
      await waitUntil(w.ended, "the stream to end");
    });
  });

  test("a watch replays history after its resourceVersion; without one it starts with the current state as ADDED", async () => {
    await withDouble({}, async (double) => {
      const from = double.resourceVersion();
      double.create(pod("a", "p1"));
      double.update(pod("a", "p1", { x: "1" }));
      double.create(pod("a", "p2"));
      double.delete("Pod", "a", "p2");
      const replay = await openWatch(double, `/api/v1/pods?watch=true&resourceVersion=${from}`);
      await waitUntil(() => replay.events.length === 4, "the replay");
      assert.deepEqual(
        replay.events.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.kind}`),
        ["ADDED p1 Pod", "MODIFIED p1 Pod", "ADDED p2 Pod", "DELETED p2 Pod"],
      );
      const rvs = replay.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual(
        rvs,
        [...rvs].sort((a, b) => a - b),
      );
      assert.equal(new Set(rvs).size, 4);

      const fresh = await openWatch(double, "/api/v1/pods?watch=true");
      await waitUntil(() => fresh.events.length === 1, "the current state");
      assert.equal(fresh.events[0]?.type, "ADDED");
      assert.equal(fresh.events[0]?.object.metadata.labels.x, "1");
    });
  });

  test("a watch from a compacted resourceVersion: an ERROR event with a 410 Expired Status that ends the stream, or an HTTP 410", async () => {
    await withDouble({}, async (double) => {
      const old = double.resourceVersion();
      double.create(pod("a", "p1"));
      double.compact();
      const viaEvent = await openWatch(double, `/api/v1/pods?watch=true&resourceVersion=${old}`);
      assert.equal(viaEvent.status, 200);
      await waitUntil(viaEvent.ended, "the stream to end");
      assert.equal(viaEvent.events.length, 1);
      assert.equal(viaEvent.events[0]?.type, "ERROR");
      assert.deepEqual(
        { kind: viaEvent.events[0]?.object.kind, code: viaEvent.events[0]?.object.code, reason: viaEvent.events[0]?.object.reason },
        { kind: "Status", code: 410, reason: "Expired" },
      );

      double.expiredWatch = "status";
      const viaStatus = await openWatch(double, `/api/v1/pods?watch=true&resourceVersion=${old}`);
      assert.equal(viaStatus.status, 410);
      assert.deepEqual((viaStatus.body as any).reason, "Expired");

      const current = await openWatch(double, `/api/v1/pods?watch=true&resourceVersion=${double.resourceVersion()}`);
      assert.equal(current.status, 200);
      assert.equal(double.watchers("Pod"), 1);
    });
  });

  test("bookmarks go to watches that allow them, and timeoutSeconds ends a stream normally after one", async () => {
    await withDouble({}, async (double) => {
      const rv = double.resourceVersion();
      const plain = await openWatch(double, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
      const marked = await openWatch(double, `/api/v1/nodes?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
      double.create({ kind: "Namespace", metadata: { name: "a" } });
      assert.equal(double.bookmark(), 1);
      await waitUntil(() => marked.events.length === 1, "the bookmark");
      assert.deepEqual(marked.events[0], { type: "BOOKMARK", object: { kind: "Node", apiVersion: "v1", metadata: { resourceVersion: double.resourceVersion() } } });
      assert.equal(plain.events.length, 0);

      const timed = await openWatch(double, `/api/v1/nodes?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
      await waitUntil(timed.ended, "the timeout to end the stream");
      assert.deepEqual(
        timed.events.map((e) => e.type),
        ["BOOKMARK"],
      );
    });
  });

  test("limit/continue pages come from one snapshot; a continue token from before a compaction is 410", async () => {
    await withDouble({}, async (double) => {
      for (const name of ["p1", "p2", "p3", "p4", "p5"]) double.create(pod("a", name));
      const first = await get(double, "/api/v1/pods?limit=2");
      assert.deepEqual(
        first.body.items.map((i: any) => i.metadata.name),
        ["p1", "p2"],
      );
      assert.equal(first.body.metadata.remainingItemCount, 3);
      assert.equal(first.body.items[0].kind, undefined, "list items carry no kind");
      const snapshotRv = first.body.metadata.resourceVersion;
      double.delete("Pod", "a", "p3");
      double.create(pod("a", "p6"));
      const second = await get(double, `/api/v1/pods?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
      assert.deepEqual(
        second.body.items.map((i: any) => i.metadata.name),
        ["p3", "p4"],
      );
      assert.equal(second.body.metadata.resourceVersion, snapshotRv);
      const third = await get(double, `/api/v1/pods?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
      assert.deepEqual(
        third.body.items.map((i: any) => i.metadata.name),
        ["p5"],
      );
      assert.equal(third.body.metadata.continue, undefined);

      double.compact();
      const stale = await get(double, `/api/v1/pods?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
      assert.equal(stale.status, 410);
      assert.equal(stale.body.reason, "Expired");
    });
  });

  test("failNext answers one request of the kind with a Status of that code, then serves normally", async () => {
    await withDouble({}, async (double) => {
      double.failNext("Node", 503);
      double.failNext("Node", 500, "watch");
      const failed = await get(double, "/api/v1/nodes");
      assert.equal(failed.status, 503);
      assert.deepEqual({ kind: failed.body.kind, reason: failed.body.reason, code: failed.body.code }, { kind: "Status", reason: "ServiceUnavailable", code: 503 });
      assert.equal((await get(double, "/api/v1/nodes")).status, 200, "the watch failure waits for a watch");
      assert.equal((await openWatch(double, "/api/v1/nodes?watch=true")).status, 500);
      assert.equal((await openWatch(double, "/api/v1/nodes?watch=true")).status, 200);
      assert.equal((await get(double, "/api/v1/pods")).status, 200);
    });
  });

  test("writes: uid, creationTimestamp and a resourceVersion on create; conflicts, no-op updates and missing objects as the API server has them", async () => {
    await withDouble({}, async (double) => {
      const created = double.create(pod("a", "p1"));
      assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.match(created.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(created.metadata.resourceVersion, double.resourceVersion());
      assert.throws(
        () => double.create(pod("a", "p1")),
        (e: unknown) => e instanceof KubeApiError && e.status === 409,
      );
      const stale = { ...pod("a", "p1", { v: "2" }), metadata: { name: "p1", namespace: "a", resourceVersion: "1" } };
      assert.throws(
        () => double.update(stale),
        (e: unknown) => e instanceof KubeApiError && e.reason === "Conflict",
      );
      const updated = double.update({
        ...pod("a", "p1", { v: "2" }),
        metadata: { name: "p1", namespace: "a", labels: { v: "2" }, resourceVersion: created.metadata.resourceVersion },
      });
      assert.equal(updated.metadata.uid, created.metadata.uid);
      assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      assert.throws(
        () => double.update(pod("a", "nope")),
        (e: unknown) => e instanceof KubeApiError && e.status === 404,
      );
      assert.throws(
        () => double.delete("Pod", "a", "nope"),
        (e: unknown) => e instanceof KubeApiError && e.status === 404,
      );
      const policy = double.create({
        kind: "NetworkPolicy",
        metadata: { name: "np", namespace: "a" },
        spec: { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: "UDP" }, { port: 443 }] }] },
      });
      assert.deepEqual((policy.spec as any).policyTypes, ["Ingress", "Egress"]);
      assert.deepEqual(
        (policy.spec as any).egress[0].ports.map((p: any) => p.protocol),
        ["UDP", "TCP"],
      );
      assert.equal(policy.apiVersion, "networking.k8s.io/v1");
      assert.deepEqual(
        double.objects("Pod").map((o) => o.metadata.name),
        ["p1"],
      );
    });
  });

  test("a custom resource is served while its CRD is installed: 404 before, list and watch after, and its removal deletes its objects, then ends its watches", async () => {
    await withDouble({ crds: [] }, async (double) => {
      const cnps = PATHS.ClusterNetworkPolicy;
      for (const kind of CUSTOM_KINDS) {
        const absent = await get(double, PATHS[kind]);
        assert.deepEqual({ status: absent.status, kind: absent.body.kind, reason: absent.body.reason }, { status: 404, kind: "Status", reason: "NotFound" }, kind);
        assert.equal((await openWatch(double, `${PATHS[kind]}?watch=true`)).status, 404, kind);
      }
      assert.throws(
        () => double.create(cnp("early")),
        (e: unknown) => e instanceof KubeApiError && e.status === 404,
        "no object of a kind the API server does not serve",
      );

      double.installCrd("ClusterNetworkPolicy");
      const empty = await get(double, cnps);
      assert.deepEqual({ status: empty.status, kind: empty.body.kind, items: empty.body.items }, { status: 200, kind: "ClusterNetworkPolicyList", items: [] });
      assert.equal((await get(double, PATHS.AdminNetworkPolicy)).status, 404, "another CRD is still missing");
      const w = await openWatch(double, `${cnps}?watch=true&resourceVersion=${double.resourceVersion()}`);
      double.create(cnp("a"));
      double.create(cnp("b"));
      const listed = await get(double, cnps);
      assert.deepEqual(
        listed.body.items.map((i: any) => [i.kind, i.metadata.name, i.metadata.namespace]),
        [
          [undefined, "a", undefined],
          [undefined, "b", undefined],
        ],
        "cluster-scoped, and list items without their kind",
      );
      assert.equal((await get(double, `${cnps}/a`)).body.apiVersion, "policy.networking.k8s.io/v1alpha2");

      double.removeCrd("ClusterNetworkPolicy");
      await waitUntil(w.ended, "the watch to end");
      assert.deepEqual(
        w.events.map((e) => `${e.type} ${e.object.kind} ${e.object.metadata.name}`),
        ["ADDED ClusterNetworkPolicy a", "ADDED ClusterNetworkPolicy b", "DELETED ClusterNetworkPolicy a", "DELETED ClusterNetworkPolicy b"],
      );
      assert.equal((await get(double, cnps)).status, 404);
      assert.deepEqual(double.objects("ClusterNetworkPolicy"), []);
    });
  });

  test("a kind forbidden to the account answers 403 to lists and watches until allowed again; the v1alpha1 CRDs default a port's protocol to TCP", async () => {
    await withDouble({}, async (double) => {
      double.forbid("AdminNetworkPolicy");
      const refused = await get(double, PATHS.AdminNetworkPolicy);
      assert.deepEqual({ status: refused.status, reason: refused.body.reason }, { status: 403, reason: "Forbidden" });
      assert.match(
        refused.body.message,
        /^adminnetworkpolicies\.policy\.networking\.k8s\.io is forbidden: User "podwall" cannot list resource "adminnetworkpolicies" in API group "policy\.networking\.k8s\.io" at the cluster scope$/,
      );
      assert.equal((await openWatch(double, `${PATHS.AdminNetworkPolicy}?watch=true`)).status, 403);
      assert.equal((await get(double, PATHS.ClusterNetworkPolicy)).status, 200, "only the forbidden kind");
      double.forbid("AdminNetworkPolicy", false);
      assert.equal((await get(double, PATHS.AdminNetworkPolicy)).status, 200);

      const anp = double.create({
        apiVersion: "policy.networking.k8s.io/v1alpha1",
        kind: "AdminNetworkPolicy",
        metadata: { name: "ports" },
        spec: {
          priority: 1,
          subject: { namespaces: {} },
          egress: [
            { action: "Allow", to: [{ namespaces: {} }], ports: [{ portNumber: { port: 80 } }, { portRange: { start: 1, end: 2, protocol: "UDP" } }, { namedPort: "http" }] },
          ],
        },
      });
      assert.deepEqual((anp.spec as any).egress[0].ports, [
        { portNumber: { port: 80, protocol: "TCP" } },
        { portRange: { start: 1, end: 2, protocol: "UDP" } },
        { namedPort: "http" },
      ]);
    });
  });

  test("an informer of a custom resource: its first list, then live events; the removal of its CRD is its 'error' (404) after the deletes", async () => {
    await withDouble({}, async (double, kc, track) => {
      double.create(cnp("a"));
      const f = track(follow(kc, "ClusterNetworkPolicy"));
      await f.informer.start();
      assert.deepEqual(f.refs("add"), ["a"]);
      double.create(cnp("b"));
      double.update(cnp("a", 7));
      double.delete("ClusterNetworkPolicy", undefined, "b");
      await waitUntil(inSync(f, double, "ClusterNetworkPolicy"), "the informer to follow the live events");
      assert.deepEqual(f.refs("update"), ["a"]);
      assert.deepEqual(f.refs("delete"), ["b"]);

      double.removeCrd("ClusterNetworkPolicy");
      await waitUntil(() => f.count("error") > 0, "the informer to fail");
      assert.deepEqual(f.refs("delete"), ["b", "a"]);
      const err = f.seen.find((x) => x.verb === "error")?.err as { statusCode?: number };
      assert.equal(err.statusCode, 404, "the watch resumed after the end of the stream finds the collection gone");
    });
  });
});

function cnp(name: string, priority = 1) {
  return {
    apiVersion: "policy.networking.k8s.io/v1alpha2",
    kind: "ClusterNetworkPolicy",
    metadata: { name },
    spec: { tier: "Admin", priority, subject: { namespaces: {} }, ingress: [{ action: "Deny", from: [{ namespaces: {} }] }] },
  };
}
