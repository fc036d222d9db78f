/**
 * A Kubernetes API server double for tests: plain HTTP on loopback, speaking
 * the list/watch protocol the way kube-apiserver does, so that the real
 * `@kubernetes/client-node` informers (ListWatch over Watch) can run against
 * it. It holds Namespaces, Nodes, Pods and NetworkPolicies, and the
 * network-policy-api's custom resources (ClusterNetworkPolicy v1alpha2,
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1) while their
 * CRDs are installed.
 *
 * What it reproduces, because informers depend on it:
 * - one global resourceVersion (etcd's revision): every write bumps it, the
 *   written object carries it, and a list answers the current one;
 * - list items without kind/apiVersion, watch event objects with them;
 * - watches that replay the retained history after the given
 *   resourceVersion and then stream live events, one JSON object per line;
 * - "410 Gone / Expired" for a watch from a compacted resourceVersion, either
 *   as an ERROR event on a 200 stream (what the watch cache does) or as a
 *   plain HTTP 410 (`expiredWatch`), since client-node reaches the relist by
 *   two different code paths;
 * - BOOKMARK events only for watches that asked with allowWatchBookmarks
 *   (unless forced), and `timeoutSeconds` ending a stream normally;
 * - limit/continue chunking over a consistent snapshot, 410 once compacted;
 * - the API defaults a client sees on objects that Podwall reads: the
 *   kubernetes.io/metadata.name label on namespaces, policyTypes and TCP
 *   port protocols on network policies, TCP on container ports, the v1alpha1
 *   CRDs' TCP on `portNumber` and `portRange`;
 * - a custom resource's collection answers 404 while its CRD is not
 *   installed; removing a CRD deletes its objects (DELETED events), then
 *   ends its watches, as the API server's CRD finalizer does;
 * - 403 Forbidden for a kind the test forbids, as RBAC answers.
 *
 * What it does not do: label/field selectors (answered 400, not ignored),
 * writes over HTTP (the test drives writes), admission, graceful pod
 * deletion, cascading deletes of a namespace's objects.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The network-policy-api's kinds: custom resources, served while their CRDs are installed. */
export type CustomKind = "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy";
export const CUSTOM_KINDS: readonly CustomKind[] = ["ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"];
export type Kind = "Namespace" | "Node" | "Pod" | "NetworkPolicy" | CustomKind;
export const KINDS: readonly Kind[] = ["Namespace", "Node", "Pod", "NetworkPolicy", ...CUSTOM_KINDS];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** An object as stored and served: kind, apiVersion and server-set metadata filled in. */
export interface KubeObject {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** An ordinary manifest, as a test writes it. */
export interface Manifest {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RequestRecord {
  readonly method: string;
  /** The URL path, e.g. /api/v1/pods. */
  readonly path: string;
  /** The query parameters (the last value of a repeated one). */
  readonly query: Readonly<Record<string, string>>;
  readonly kind: Kind | undefined;
  readonly verb: "list" | "watch" | "get" | "other";
  /** The HTTP status answered, once the response has started. */
  readonly status: number | undefined;
}

export type ExpiredWatch = "event" | "status";

export interface KubeApiServerOptions {
  /** How a watch from a compacted resourceVersion is refused; "event" unless set. */
  readonly expiredWatch?: ExpiredWatch;
  /** The CRDs installed at start; all of them unless set. */
  readonly crds?: readonly CustomKind[];
}

export interface KubeApiServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The bearer token every request must carry (the kubeconfig's user has it). */
  readonly token: string;
  /**
   * "event": a 200 watch stream with one ERROR event (Status code 410, reason
   * Expired), then the end of the stream. "status": an HTTP 410 response with
   * that Status as its body. Can be changed between requests.
   */
  expiredWatch: ExpiredWatch;
  /** Every request received, in order of arrival. */
  readonly requests: readonly RequestRecord[];
  /** The current global resourceVersion. */
  resourceVersion(): string;
  /** Stores a new object; throws KubeApiError 409 if it exists. */
  create(obj: Manifest): KubeObject;
  /**
   * Replaces an object; throws 404 if it does not exist, 409 if the manifest
   * names a resourceVersion other than the stored one. An update that changes
   * nothing is a no-op, as on the real server: same resourceVersion, no event.
   */
  update(obj: Manifest): KubeObject;
  /** Removes an object and returns it at the resourceVersion of its deletion; throws 404. */
  delete(kind: Kind, namespace: string | undefined, name: string): KubeObject;
  /** The stored objects of a kind, in the order a list serves them. */
  objects(kind: Kind): KubeObject[];
  /** Forgets all history up to now; returns the resourceVersion compacted at. */
  compact(): string;
  /**
   * Ends every open watch mid-way; returns how many. "end" finishes the
   * chunked response properly (an API server shutting down); "reset" destroys
   * the connection without the final chunk (a crash, a load balancer reset).
   */
  closeWatches(how?: "end" | "reset"): number;
  /**
   * Sends a BOOKMARK at the current resourceVersion to the open watches of a
   * kind (every kind if none is given) that asked for bookmarks, or to all of
   * them with `unrequested`; returns how many got one.
   */
  bookmark(kind?: Kind, opts?: { unrequested?: boolean }): number;
  /**
   * The next list or watch of the kind (or only the next of `on`) answers this
   * HTTP status with a Status body. Calls queue up: each is used once.
   */
  failNext(kind: Kind, status: number, on?: "list" | "watch"): void;
  /** Lists arriving from now on wait until every release returned so far has been called. */
  holdLists(): () => void;
  /** How many watches of the kind are open. */
  watchers(kind: Kind): number;
  /** Installs the kind's CRD: its collection is served from now on, empty. */
  installCrd(kind: CustomKind): void;
  /**
   * Removes the kind's CRD: each of its objects is deleted (a DELETED event
   * each), its watches end, and its collection answers 404 from now on.
   */
  removeCrd(kind: CustomKind): void;
  /** Lists and watches of the kind answer 403 Forbidden from now on (or again not, with `forbidden` false). */
  forbid(kind: Kind, forbidden?: boolean): void;
  /** Writes a kubeconfig for this server (context "double") into dir, or a fresh temp dir; returns its path. */
  kubeconfig(dir?: string): string;
  /** Ends every watch and connection, closes the server, removes the temp dirs it made. */
  close(): Promise<void>;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** Polls a predicate until it holds; the guard only stops a hang, it measures nothing. */
export async function waitUntil(predicate: () => boolean, what: string, guardMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + guardMs;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface ResourceInfo {
  readonly kind: Kind;
  readonly apiVersion: string;
  readonly prefix: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const RESOURCES: Record<Kind, ResourceInfo> = {
  Namespace: { kind: "Namespace", apiVersion: "v1", prefix: "/api/v1", plural: "namespaces", namespaced: false },
  Node: { kind: "Node", apiVersion: "v1", prefix: "/api/v1", plural: "nodes", namespaced: false },
  Pod: { kind: "Pod", apiVersion: "v1", prefix: "/api/v1", plural: "pods", namespaced: true },
  NetworkPolicy: { kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1", prefix: "/apis/networking.k8s.io/v1", plural: "networkpolicies", namespaced: true },
  ClusterNetworkPolicy: custom("ClusterNetworkPolicy", "v1alpha2", "clusternetworkpolicies"),
  AdminNetworkPolicy: custom("AdminNetworkPolicy", "v1alpha1", "adminnetworkpolicies"),
  BaselineAdminNetworkPolicy: custom("BaselineAdminNetworkPolicy", "v1alpha1", "baselineadminnetworkpolicies"),
};

function custom(kind: CustomKind, version: string, plural: string): ResourceInfo {
  const apiVersion = `policy.networking.k8s.io/${version}`;
  return { kind, apiVersion, prefix: `/apis/${apiVersion}`, plural, namespaced: false };
}

const PREFIXES = [...new Set(Object.values(RESOURCES).map((r) => r.prefix))];

function isCustom(kind: Kind): kind is CustomKind {
  return (CUSTOM_KINDS as readonly string[]).includes(kind);
}

type EventType = "ADDED" | "MODIFIED" | "DELETED";

interface HistoryEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly kind: Kind;
  readonly object: KubeObject;
}

interface Watcher {
  readonly kind: Kind;
  /** Only this namespace's objects, for a namespaced path. */
  readonly namespace: string | undefined;
  /** Only this object, for a watch on an object's path. */
  readonly name: string | undefined;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

/** Which resource a path names: a collection (all or one namespace's) or one object. */
interface Route {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** Where the real server starts is of no consequence; far from 0 keeps "0" (any version) distinct from a real one. */
const FIRST_RESOURCE_VERSION = 1000;

function status(code: number, message: string, reason = REASONS[code] ?? ""): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function keyOf(info: ResourceInfo, namespace: string, name: string): string {
  return info.namespaced ? `${namespace}/${name}` : name;
}

/** JSON with sorted keys, to tell a no-op update from a change whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function defaultPortProtocols(ports: unknown): void {
  if (!Array.isArray(ports)) return;
  for (const port of ports) if (isRecord(port) && port.protocol === undefined) port.protocol = "TCP";
}

/** The defaulting kube-apiserver applies on write to the fields Podwall reads. */
function applyDefaults(obj: KubeObject): void {
  const spec = isRecord(obj.spec) ? obj.spec : undefined;
  switch (obj.kind) {
    case "Namespace": {
      obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name };
      if (obj.spec === undefined) obj.spec = { finalizers: ["kubernetes"] };
      if (obj.status === undefined) obj.status = { phase: "Active" };
      break;
    }
    case "NetworkPolicy": {
      if (!spec) break;
      const egress = Array.isArray(spec.egress) ? spec.egress : [];
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
        spec.policyTypes = egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
      }
      for (const rule of [...(Array.isArray(spec.ingress) ? spec.ingress : []), ...egress]) {
        if (isRecord(rule)) defaultPortProtocols(rule.ports);
      }
      break;
    }
    case "Pod": {
      if (!spec) break;
      for (const list of [spec.containers, spec.initContainers]) {
        if (!Array.isArray(list)) continue;
        for (const c of list) if (isRecord(c)) defaultPortProtocols(c.ports);
      }
      break;
    }
    case "Node":
      break;
    case "AdminNetworkPolicy":
    case "BaselineAdminNetworkPolicy": {
      // The v1alpha1 CRDs: `protocol` of portNumber and portRange has "default: TCP".
      if (!spec) break;
      for (const rule of [...(Array.isArray(spec.ingress) ? spec.ingress : []), ...(Array.isArray(spec.egress) ? spec.egress : [])]) {
        if (!isRecord(rule) || !Array.isArray(rule.ports)) continue;
        for (const port of rule.ports) {
          if (!isRecord(port)) continue;
          for (const key of ["portNumber", "portRange"]) {
            const p = port[key];
            if (isRecord(p) && p.protocol === undefined) p.protocol = "TCP";
          }
        }
      }
      break;
    }
    case "ClusterNetworkPolicy":
      break;
  }
}

function routeOf(path: string): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  for (const prefix of PREFIXES) {
    if (!trimmed.startsWith(`${prefix}/`)) continue;
    const segments = trimmed
      .slice(prefix.length + 1)
      .split("/")
      .map(decodeURIComponent);
    const byPlural = (plural: string | undefined) => Object.values(RESOURCES).find((r) => r.prefix === prefix && r.plural === plural);
    const [a, b, c, d, ...rest] = segments;
    if (rest.length > 0) return undefined;
    if (a === "namespaces" && b !== undefined && c !== undefined) {
      const info = byPlural(c);
      if (!info?.namespaced) return undefined;
      return { info, namespace: b, name: d };
    }
    if (d !== undefined || c !== undefined) return undefined;
    const info = byPlural(a);
    if (!info) return undefined;
    // /api/v1/pods/NAME does not exist: a namespaced object is only reachable under its namespace.
    if (info.namespaced && b !== undefined) return undefined;
    return { info, namespace: undefined, name: b };
  }
  return undefined;
}

function kindOf(value: string): Kind {
  const kind = KINDS.find((k) => k === value);
  if (!kind) throw new KubeApiError(400, "BadRequest", `the double serves ${KINDS.join(", ")}, not ${JSON.stringify(value)}`);
  return kind;
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const token = randomBytes(16).toString("hex");
  let revision = FIRST_RESOURCE_VERSION;
  /** Watches and continue tokens from before this resourceVersion are refused. */
  let compactedAt = FIRST_RESOURCE_VERSION;
  const store = new Map<Kind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
  const crds = new Set<CustomKind>(options.crds ?? CUSTOM_KINDS);
  const forbidden = new Set<Kind>();
  /** Whether the kind's collection is served: a built-in kind always, a custom one while its CRD is installed. */
  const served = (kind: Kind) => !isCustom(kind) || crds.has(kind);
  const history: HistoryEvent[] = [];
  /** What a chunked list saw at its first page, so its later pages stay consistent. */
  const snapshots = new Map<string, KubeObject[]>();
  const watchers = new Set<Watcher>();
  const failures: { kind: Kind; status: number; on: "list" | "watch" | undefined }[] = [];
  const holds = new Set<symbol>();
  let held: (() => void)[] = [];
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const tempDirs: string[] = [];
  let closed = false;

  const storeOf = (kind: Kind) => store.get(kind) as Map<string, KubeObject>;

  const sorted = (kind: Kind, namespace: string | undefined): KubeObject[] =>
    // In etcd's key order, which is the order a real list comes in.
    [...storeOf(kind).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);

  const matches = (w: Watcher, kind: Kind, obj: KubeObject): boolean =>
    w.kind === kind && (w.namespace === undefined || w.namespace === (obj.metadata.namespace ?? "")) && (w.name === undefined || w.name === obj.metadata.name);

  const write = (w: Watcher, event: unknown): void => {
    if (!w.res.destroyed && !w.res.writableEnded) w.res.write(`${JSON.stringify(event)}\n`);
  };

  const endWatch = (w: Watcher, how: "end" | "reset"): void => {
    clearTimeout(w.timer);
    watchers.delete(w);
    if (how === "reset") w.res.socket?.destroy();
    else if (!w.res.writableEnded) w.res.end();
  };

  const bookmarkObject = (kind: Kind) => ({ kind, apiVersion: RESOURCES[kind].apiVersion, metadata: { resourceVersion: String(revision) } });

  const record = (type: EventType, obj: KubeObject): void => {
    const event: HistoryEvent = { rv: revision, type, kind: obj.kind, object: structuredClone(obj) };
    history.push(event);
    for (const w of watchers) if (matches(w, event.kind, event.object)) write(w, { type, object: event.object });
  };

  const normalize = (obj: Manifest): { info: ResourceInfo; value: KubeObject; key: string } => {
    if (!isRecord(obj) || !isRecord(obj.metadata) || typeof obj.metadata.name !== "string" || obj.metadata.name === "") {
      throw new KubeApiError(422, "Invalid", "metadata.name: Required value");
    }
    const kind = kindOf(obj.kind);
    const info = RESOURCES[kind];
    const value = structuredClone(obj) as unknown as KubeObject;
    value.kind = kind;
    value.apiVersion = info.apiVersion;
    if (info.namespaced) value.metadata.namespace = obj.metadata.namespace || "default";
    else delete value.metadata.namespace;
    return { info, value, key: keyOf(info, value.metadata.namespace ?? "", value.metadata.name) };
  };

  const notFound = (info: ResourceInfo, name: string) => new KubeApiError(404, "NotFound", `${info.plural} "${name}" not found`);

  /** What the API server answers a write of a custom resource whose CRD is not installed. */
  const requireServed = (info: ResourceInfo): void => {
    if (!served(info.kind)) throw new KubeApiError(404, "NotFound", "the server could not find the requested resource");
  };

  const double: KubeApiServer = {
    url: "",
    token,
    expiredWatch: options.expiredWatch ?? "event",
    requests,
    resourceVersion: () => String(revision),

    create(obj) {
      const { info, value, key } = normalize(obj);
      requireServed(info);
      if (storeOf(info.kind).has(key)) {
        throw new KubeApiError(409, "AlreadyExists", `${info.plural} "${value.metadata.name}" already exists`);
      }
      revision++;
      value.metadata.uid = randomUUID();
      value.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      value.metadata.resourceVersion = String(revision);
      applyDefaults(value);
      storeOf(info.kind).set(key, value);
      record("ADDED", value);
      return structuredClone(value);
    },

    update(obj) {
      const { info, value, key } = normalize(obj);
      requireServed(info);
      const current = storeOf(info.kind).get(key);
      if (!current) throw notFound(info, value.metadata.name);
      const asked = obj.metadata.resourceVersion;
      if (asked !== undefined && asked !== "" && asked !== current.metadata.resourceVersion) {
        throw new KubeApiError(
          409,
          "Conflict",
          `Operation cannot be fulfilled on ${info.plural} "${value.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      value.metadata.uid = current.metadata.uid;
      value.metadata.creationTimestamp = current.metadata.creationTimestamp;
      value.metadata.resourceVersion = current.metadata.resourceVersion;
      applyDefaults(value);
      if (canonical(value) === canonical(current)) return structuredClone(current);
      revision++;
      value.metadata.resourceVersion = String(revision);
      storeOf(info.kind).set(key, value);
      record("MODIFIED", value);
      return structuredClone(value);
    },

    delete(kind, namespace, name) {
      const info = RESOURCES[kindOf(kind)];
      requireServed(info);
      const key = keyOf(info, namespace || "default", name);
      const current = storeOf(info.kind).get(key);
      if (!current) throw notFound(info, name);
      storeOf(info.kind).delete(key);
      revision++;
      // The DELETED event carries the object at the revision of its deletion, as etcd's watch does.
      current.metadata.resourceVersion = String(revision);
      record("DELETED", current);
      return structuredClone(current);
    },

    objects: (kind) => sorted(kindOf(kind), undefined).map((o) => structuredClone(o)),

    compact() {
      compactedAt = revision;
      history.length = 0;
      snapshots.clear();
      return String(revision);
    },

    closeWatches(how = "end") {
      const open = [...watchers];
      for (const w of open) endWatch(w, how);
      return open.length;
    },

    bookmark(kind, opts = {}) {
      let sent = 0;
      for (const w of watchers) {
        if ((kind === undefined || w.kind === kind) && (w.bookmarks || opts.unrequested)) {
          write(w, { type: "BOOKMARK", object: bookmarkObject(w.kind) });
          sent++;
        }
      }
      return sent;
    },

    failNext(kind, code, on) {
      failures.push({ kind: kindOf(kind), status: code, on });
    },

    holdLists() {
      const hold = Symbol("hold");
      holds.add(hold);
      return () => {
        holds.delete(hold);
        if (holds.size > 0) return;
        const waiting = held;
        held = [];
        for (const go of waiting) go();
      };
    },

    watchers: (kind) => [...watchers].filter((w) => w.kind === kind).length,

    installCrd(kind) {
      crds.add(kindOf(kind) as CustomKind);
    },

    removeCrd(kind) {
      if (!crds.has(kind)) return;
      for (const o of sorted(kind, undefined)) double.delete(kind, undefined, o.metadata.name);
      crds.delete(kind);
      for (const w of [...watchers]) if (w.kind === kind) endWatch(w, "end");
    },

    forbid(kind, yes = true) {
      if (yes) forbidden.add(kindOf(kind));
      else forbidden.delete(kindOf(kind));
    },

    kubeconfig(dir) {
      let target = dir;
      if (target === undefined) {
        target = mkdtempSync(join(tmpdir(), "podwall-kubeconfig-"));
        tempDirs.push(target);
      }
      const file = join(target, "kubeconfig.yaml");
      // client-node refuses an http: server unless the cluster skips TLS verification.
      const yaml = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: double",
        "    cluster:",
        `      server: ${double.url}`,
        "      insecure-skip-tls-verify: true",
        "users:",
        "  - name: double",
        "    user:",
        `      token: ${token}`,
        "contexts:",
        "  - name: double",
        "    context:",
        "      cluster: double",
        "      user: double",
        "current-context: double",
        "",
      ].join("\n");
      writeFileSync(file, yaml);
      return file;
    },

    async close() {
      if (closed) return;
      closed = true;
      double.closeWatches("end");
      holds.clear();
      const waiting = held;
      held = [];
      for (const go of waiting) go();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };

  const takeFailure = (kind: Kind, verb: "list" | "watch"): number | undefined => {
    const i = failures.findIndex((f) => f.kind === kind && (f.on === undefined || f.on === verb));
    if (i < 0) return undefined;
    const [failure] = failures.splice(i, 1);
    return failure?.status;
  };

  const send = (res: ServerResponse, entry: { status: number | undefined }, code: number, body: unknown, headers: Record<string, string> = {}): void => {
    entry.status = code;
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const fail = (res: ServerResponse, entry: { status: number | undefined }, code: number, message: string): void => {
    send(res, entry, code, status(code, message), code === 429 || code === 503 ? { "retry-after": "1" } : {});
  };

  const serveList = (res: ServerResponse, entry: { status: number | undefined }, route: Route, query: URLSearchParams): void => {
    const { info } = route;
    const listMeta: Record<string, unknown> = {};
    let items: KubeObject[];
    let start = 0;
    let snapshotRv = revision;
    const cont = query.get("continue");
    if (cont) {
      let parsed: { rv?: unknown; start?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(cont, "base64").toString("utf8")) as typeof parsed;
      } catch {
        return fail(res, entry, 400, "continue key is not valid: invalid continue token");
      }
      const snapshot = typeof parsed.rv === "number" ? snapshots.get(`${info.kind}|${route.namespace ?? ""}|${parsed.rv}`) : undefined;
      if (typeof parsed.rv !== "number" || parsed.rv < compactedAt || !snapshot) {
        return fail(res, entry, 410, "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
      }
      items = snapshot;
      start = typeof parsed.start === "number" ? parsed.start : 0;
      snapshotRv = parsed.rv;
    } else {
      items = sorted(info.kind, route.namespace).map((o) => structuredClone(o));
    }
    const limitText = query.get("limit");
    const limit = limitText ? Number.parseInt(limitText, 10) : 0;
    let page = items.slice(start);
    if (limit > 0 && page.length > limit) {
      snapshots.set(`${info.kind}|${route.namespace ?? ""}|${snapshotRv}`, items);
      page = page.slice(0, limit);
      listMeta.continue = Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: snapshotRv, start: start + limit })).toString("base64");
      listMeta.remainingItemCount = items.length - start - limit;
    }
    // List items come without kind/apiVersion: the list's own kind says what they are.
    const body = {
      kind: `${info.kind}List`,
      apiVersion: info.apiVersion,
      metadata: { resourceVersion: String(snapshotRv), ...listMeta },
      items: page.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
    };
    send(res, entry, 200, body);
  };

  const serveWatch = (res: ServerResponse, entry: { status: number | undefined }, route: Route, query: URLSearchParams): void => {
    const { info } = route;
    const rvText = query.get("resourceVersion") ?? "";
    let from: number | undefined;
    if (rvText !== "" && rvText !== "0") {
      if (!/^\d+$/.test(rvText)) return fail(res, entry, 400, `resourceVersion: Invalid value: "${rvText}": invalid resource version`);
      from = Number.parseInt(rvText, 10);
    }
    const expired = from !== undefined && from < compactedAt;
    if (expired && double.expiredWatch === "status") {
      return fail(res, entry, 410, `too old resource version: ${rvText} (${compactedAt})`);
    }
    entry.status = 200;
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private", "transfer-encoding": "chunked" });
    res.flushHeaders();
    const w: Watcher = {
      kind: info.kind,
      namespace: route.namespace,
      name: route.name,
      bookmarks: /^(true|1)$/.test(query.get("allowWatchBookmarks") ?? ""),
      res,
      timer: undefined,
    };
    if (expired) {
      write(w, { type: "ERROR", object: status(410, `too old resource version: ${rvText} (${compactedAt})`) });
      res.end();
      return;
    }
    if (from === undefined) {
      // No resourceVersion (or "0"): the current state as ADDED events, then what follows.
      for (const o of sorted(info.kind, route.namespace)) if (matches(w, info.kind, o)) write(w, { type: "ADDED", object: o });
    } else {
      for (const e of history) if (e.rv > from && matches(w, e.kind, e.object)) write(w, { type: e.type, object: e.object });
    }
    watchers.add(w);
    res.on("close", () => {
      clearTimeout(w.timer);
      watchers.delete(w);
    });
    const timeout = Number.parseInt(query.get("timeoutSeconds") ?? "", 10);
    if (timeout > 0) {
      w.timer = setTimeout(() => {
        if (w.bookmarks) write(w, { type: "BOOKMARK", object: bookmarkObject(w.kind) });
        endWatch(w, "end");
      }, timeout * 1000);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://double");
    const route = routeOf(url.pathname);
    const isWatch = /^(true|1)$/.test(url.searchParams.get("watch") ?? "");
    const verb: RequestRecord["verb"] = req.method !== "GET" || !route ? "other" : isWatch ? "watch" : route.name !== undefined ? "get" : "list";
    const entry: { -readonly [K in keyof RequestRecord]: RequestRecord[K] } = {
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      kind: route?.info.kind,
      verb,
      status: undefined,
    };
    requests.push(entry);

    if (req.headers.authorization !== `Bearer ${token}`) return fail(res, entry, 401, "Unauthorized");
    if (!route || !served(route.info.kind)) return fail(res, entry, 404, "the server could not find the requested resource");
    if (req.method !== "GET") return fail(res, entry, 405, `the double takes writes from the test, not over HTTP (${req.method ?? ""})`);
    for (const unsupported of ["labelSelector", "fieldSelector", "sendInitialEvents"]) {
      if (url.searchParams.get(unsupported)) return fail(res, entry, 400, `${unsupported} is not supported by the double`);
    }

    if (verb === "get") {
      const name = route.name ?? "";
      const found = storeOf(route.info.kind).get(keyOf(route.info, route.namespace ?? "", name));
      return found ? send(res, entry, 200, found) : fail(res, entry, 404, `${route.info.plural} "${name}" not found`);
    }
    if (verb === "list" || verb === "watch") {
      if (forbidden.has(route.info.kind)) {
        const scope = route.namespace !== undefined ? ` in the namespace "${route.namespace}"` : " at the cluster scope";
        const group = route.info.apiVersion.includes("/") ? route.info.apiVersion.split("/")[0] : "";
        return fail(
          res,
          entry,
          403,
          `${route.info.plural}${group ? `.${group}` : ""} is forbidden: User "podwall" cannot ${verb} resource "${route.info.plural}" in API group "${group}"${scope}`,
        );
      }
      const failure = takeFailure(route.info.kind, verb);
      if (verb === "list" && holds.size > 0) await new Promise<void>((resolve) => held.push(resolve));
      if (closed) return;
      if (failure !== undefined) return fail(res, entry, failure, `injected failure of ${verb} ${route.info.plural}`);
      return verb === "list" ? serveList(res, entry, route, url.searchParams) : serveWatch(res, entry, route, url.searchParams);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        const code = err instanceof KubeApiError ? err.status : 500;
        const text = JSON.stringify(status(code, err instanceof Error ? err.message : String(err)));
        res.writeHead(code, { "content-type": "application/json" });
        res.end(text);
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  (double as { url: string }).url = `http://127.0.0.1:${port}`;
  return double;
}
