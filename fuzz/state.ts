/**
 * What a rejected request (and any what-if) must leave as it was: the model's
 * full text (GET /v1/model), every node's ruleset version (GET /v1/nodes),
 * and answers read from the indexes and caches a trial of a change could
 * leave behind: Check of pod pairs, the matrix, the linter's findings and the
 * first nodes' rulesets. Also the server's liveness and readiness, and
 * putting a model back.
 */
import http from "node:http";

interface Answer {
  readonly status: number;
  readonly text: string;
}
export interface Snapshot {
  readonly model: string;
  /** "node=version" lines. */
  readonly versions: string;
  readonly generation: number;
  readonly namespaces: readonly string[];
  /** Every object's name, namespaces and nodes included. */
  readonly names: ReadonlySet<string>;
  /** Every object of the model. */
  readonly objects: readonly ObjectRef[];
  /** Every object of the model as GET /v1/model gives it: it may be applied again. */
  readonly items: readonly Record<string, unknown>[];
  /** The label pairs pods have, each once. */
  readonly labels: readonly (readonly [string, string])[];
  /** Answers of the model, generations and decision ids left out. */
  readonly answers: string;
}

export interface ObjectRef {
  readonly kind: string;
  /** "" for a namespace or a node. */
  readonly namespace: string;
  readonly name: string;
}

interface ModelList {
  metadata: { generation: number };
  items: ({ kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>)[];
}

/** Pods whose pairs are asked of Check (TCP/80) and of the matrix (UDP/81): enough to see a stale index, few enough to be quick. */
const ASKED_PODS = 12;
const ASKED_NODES = 2;

export class ServerState {
  /** `limitMs`: how long the fuzzer's own requests may take; undefined: as long as they take. */
  constructor(
    private url: string,
    private readonly token?: string,
    private readonly limitMs?: number,
  ) {}

  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

  /** One request of the fuzzer's own, on its own kept-alive connections. */
  private request(method: string, path: string, headers: Record<string, string> = {}, body?: string, limitMs = 30_000): Promise<Answer> {
    const url = new URL(path, this.url);
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers: { ...this.auth(), ...headers }, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (this.limitMs !== undefined) req.setTimeout(Math.max(limitMs, this.limitMs), () => req.destroy(new Error(`no answer in ${Math.max(limitMs, this.limitMs!)} ms`)));
      req.end(body);
    });
  }

  moveTo(url: string): void {
    this.url = url;
    this.agent.destroy();
  }

  close(): void {
    this.agent.destroy();
  }

  private auth(): Record<string, string> {
    return this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {};
  }

  async snapshot(): Promise<Snapshot> {
    const m = await this.request("GET", "/v1/model", { accept: "application/json" });
    const model = m.text;
    if (m.status !== 200) throw new Error(`GET /v1/model answered ${m.status}: ${model.slice(0, 300)}`);
    const n = await this.request("GET", "/v1/nodes");
    const nodesText = n.text;
    if (n.status !== 200) throw new Error(`GET /v1/nodes answered ${n.status}: ${nodesText.slice(0, 300)}`);
    const nodes = JSON.parse(nodesText) as { nodes: { node: string; version: string }[] };
    const list = JSON.parse(model) as ModelList;
    const names = new Set<string>();
    const labels = new Map<string, readonly [string, string]>();
    for (const i of list.items) {
      names.add(i.metadata.name);
      if (i.metadata.namespace !== undefined) names.add(i.metadata.namespace);
      if (i.kind === "Pod") for (const [k, v] of Object.entries(i.metadata.labels ?? {})) labels.set(`${k}=${v}`, [k, v]);
    }
    const objects = list.items.map((i) => ({ kind: i.kind, namespace: i.metadata.namespace ?? "", name: i.metadata.name }));
    const namespaces = objects.filter((o) => o.kind === "Namespace").map((o) => o.name);
    return {
      model,
      versions: nodes.nodes.map((x) => `${x.node}=${x.version}`).join("\n"),
      generation: list.metadata.generation,
      namespaces,
      names,
      objects,
      items: list.items,
      labels: [...labels.values()],
      answers: await this.answers(
        objects.filter((o) => o.kind === "Pod").map((o) => `${o.namespace}/${o.name}`),
        nodes.nodes.map((x) => x.node),
      ),
    };
  }

  /**
   * Check of every pair of the first pods, the matrix of their namespaces,
   * the linter's findings and the first nodes' rulesets, as one text.
   */
  private async answers(pods: readonly string[], nodes: readonly string[]): Promise<string> {
    const asked = [...pods].sort().slice(0, ASKED_PODS);
    const checks = asked.flatMap((src) => asked.map((dst) => ({ src, dst, protocol: "TCP", port: 80, explain: true })));
    const namespaces = [...new Set(asked.map((p) => p.split("/")[0]!))];
    const reads: [string, Promise<Answer>][] = [
      ["check", this.request("POST", "/v1/check/batch", { "content-type": "application/json" }, JSON.stringify({ checks }))],
      ["matrix", this.request("GET", `/v1/matrix?protocol=UDP&port=81&format=table&namespaces=${namespaces.map(encodeURIComponent).join(",")}`)],
      ["lint", this.request("GET", "/v1/lint")],
      ...nodes.slice(0, ASKED_NODES).map((n): [string, Promise<Answer>] => [`rules ${n}`, this.request("GET", `/v1/nodes/${encodeURIComponent(n)}/rules`)]),
    ];
    const parts: string[] = [];
    for (const [what, read] of reads) {
      const a = await read;
      if (a.status !== 200) throw new Error(`${what} answered ${a.status}: ${a.text.slice(0, 300)}`);
      parts.push(`${what}: ${withoutGeneration(a.text)}`);
    }
    return parts.join("\n");
  }

  /** undefined when the same; otherwise what changed, in a line. */
  static difference(before: Snapshot, after: Snapshot): string | undefined {
    const what: string[] = [];
    if (before.generation !== after.generation) what.push(`generation ${before.generation} → ${after.generation}`);
    if (before.model !== after.model) {
      const count = (s: string) => (JSON.parse(s) as ModelList).items.length;
      what.push(`model text changed (${count(before.model)} → ${count(after.model)} objects)`);
    }
    if (before.versions !== after.versions)
      what.push(`ruleset versions changed (${before.versions.replaceAll("\n", ", ")} → ${after.versions.replaceAll("\n", ", ") || "no nodes"})`);
    if (what.length === 0 && before.answers !== after.answers) what.push(`the same model answers differently (${firstDifference(before.answers, after.answers)})`);
    return what.length > 0 ? what.join("; ") : undefined;
  }

  /** "ok", or why the process does not answer /healthz. */
  async health(): Promise<string> {
    try {
      const r = await this.request("GET", "/healthz", {}, undefined, 0);
      return r.status === 200 ? "ok" : `/healthz answered ${r.status}`;
    } catch (e) {
      return `/healthz did not answer: ${(e as Error).message}`;
    }
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.request("GET", "/readyz")).status === 200;
    } catch {
      return false;
    }
  }

  /** Replaces the model with a snapshot's objects. */
  async restore(to: Snapshot): Promise<void> {
    const r = await this.request("PUT", "/v1/model?allowEmpty=true", { "content-type": "application/json" }, to.model);
    if (r.status !== 200) throw new Error(`restoring the model: PUT /v1/model answered ${r.status}: ${r.text.slice(0, 300)}`);
  }
}

/** An answer's text without what differs between equal models (generation, decision ids, the matrix's heading). */
function withoutGeneration(text: string): string {
  if (!text.startsWith("{")) return text.replace(/ at generation \d+/, "");
  return JSON.stringify(JSON.parse(text) as unknown, (k, v: unknown) => (k === "generation" || k === "decisionId" ? undefined : v));
}

/** Where two answer texts part: the answer, and the text around the first character that differs in each. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const line = a.lastIndexOf("\n", i - 1) + 1;
  const what = a.slice(line, a.indexOf(":", line));
  const around = (s: string) => JSON.stringify(s.slice(Math.max(line, i - 60), i + 60));
  return `${what}: ${around(a)} → ${around(b)}`;
}
