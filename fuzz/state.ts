/**
 * What a rejected request must leave as it was: the model's full text (GET
 * /v1/model) and every node's ruleset version (GET /v1/nodes). Also the
 * server's liveness and readiness, and putting a model back.
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
}

interface ModelList {
  metadata: { generation: number };
  items: { kind: string; metadata: { name: string; namespace?: string } }[];
}

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
    for (const i of list.items) {
      names.add(i.metadata.name);
      if (i.metadata.namespace !== undefined) names.add(i.metadata.namespace);
    }
    return {
      model,
      versions: nodes.nodes.map((x) => `${x.node}=${x.version}`).join("\n"),
      generation: list.metadata.generation,
      namespaces: list.items.filter((i) => i.kind === "Namespace").map((i) => i.metadata.name),
      names,
    };
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
