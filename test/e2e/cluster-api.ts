/**
 * The truth-table suite's only way into Podwall: the REST API of a real
 * server. Observations are POST /v1/check/batch, one request per table. The
 * model is written through a door: the REST API itself (YAML bodies to PUT
 * /v1/model, POST /v1/apply, DELETE ...), or a cluster the server follows.
 */
import assert from "node:assert/strict";
import { http } from "../helpers/server.js";

type Server = { readonly url: string };
import { baseCluster, toYaml } from "./cluster.js";
import { type Observed, cellKey } from "./matrix-diff.js";

export type Protocol = "TCP" | "UDP" | "SCTP";

/** One decision asked of the server about an address (or pod) pair. */
export interface Cell {
  readonly src: string;
  readonly dst: string;
  readonly protocol: Protocol;
  readonly port: number;
}

type Manifest = Record<string, unknown>;

/** How the model is written; each call resolves once the server decides on what it wrote. */
export interface ModelDoor {
  /** The model becomes exactly these objects. */
  reset(objects: readonly Manifest[]): Promise<void>;
  /** Create or update. */
  apply(objects: readonly Manifest[]): Promise<void>;
  delete(kind: "Pod" | "NetworkPolicy", ns: string, name: string): Promise<void>;
}

/** The REST API's writes: every one answered with a generation that only grows. */
export class RestDoor implements ModelDoor {
  constructor(private readonly server: Server) {}

  /** The generation of the last write: "a number that only grows". */
  private generation = -1;

  private async write(method: string, path: string, body?: string): Promise<void> {
    const res = await http(this.server, method, path, body);
    assert.equal(res.status, 200, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const gen: unknown = res.body.generation;
    assert.equal(typeof gen, "number", `${method} ${path} gave no generation`);
    assert.ok((gen as number) > this.generation, `${method} ${path}: generation ${gen} after ${this.generation}`);
    this.generation = gen as number;
  }

  reset(objects: readonly Manifest[]): Promise<void> {
    return this.write("PUT", "/v1/model", toYaml(objects));
  }

  apply(objects: readonly Manifest[]): Promise<void> {
    return this.write("POST", "/v1/apply", toYaml(objects));
  }

  delete(kind: "Pod" | "NetworkPolicy", ns: string, name: string): Promise<void> {
    return this.write("DELETE", `/v1/namespaces/${ns}/${kind === "Pod" ? "pods" : "networkpolicies"}/${name}`);
  }
}

export class ClusterApi {
  /** Checks answered so far: every one is a compared cell. */
  checksAsked = 0;

  constructor(
    private readonly server: Server,
    private readonly door: ModelDoor = new RestDoor(server),
  ) {}

  /** The base cluster: every scenario starts from here. */
  reset(): Promise<void> {
    return this.door.reset(baseCluster());
  }

  /** Create or update objects (policies, relabelled pods or namespaces). */
  apply(objects: readonly Manifest[]): Promise<void> {
    return this.door.apply(objects);
  }

  deletePolicy(ns: string, name: string): Promise<void> {
    return this.door.delete("NetworkPolicy", ns, name);
  }

  deletePod(ns: string, name: string): Promise<void> {
    return this.door.delete("Pod", ns, name);
  }

  /** Decisions for a list of cells, in one batch request. */
  async decide(cells: readonly Cell[]): Promise<boolean[]> {
    const checks = cells.map((c) => ({ src: c.src, dst: c.dst, protocol: c.protocol, port: c.port }));
    const res = await http(this.server, "POST", "/v1/check/batch", { checks });
    assert.equal(res.status, 200, `POST /v1/check/batch answered ${res.status}: ${JSON.stringify(res.body)}`);
    const results = res.body.results as { allowed: unknown }[];
    assert.equal(results.length, cells.length, "the batch must answer every check, in order");
    this.checksAsked += cells.length;
    return results.map((r, i) => {
      assert.equal(typeof r.allowed, "boolean", `check ${i} has no boolean "allowed"`);
      return r.allowed as boolean;
    });
  }

  /** The observed truth table over `pods` for one protocol and port: |pods|² checks in one request. */
  async observe(pods: readonly string[], protocol: Protocol, port: number): Promise<Observed> {
    const pairs = pods.flatMap((src) => pods.map((dst) => ({ src, dst, protocol, port })));
    const allowed = await this.decide(pairs);
    return new Map(pairs.map((c, i) => [cellKey(c.src, c.dst), allowed[i]!]));
  }

  /** The HTTP status of one check, for pods that must be unknown. */
  async checkStatus(src: string, dst: string): Promise<number> {
    const res = await http(this.server, "POST", "/v1/check", { src, dst, protocol: "TCP", port: 80 });
    return res.status;
  }
}
