/**
 * The truth-table suite's only way into Podwall: the REST API of a real
 * server. Model writes are YAML bodies (PUT /v1/model, POST /v1/apply,
 * DELETE ...), observations are POST /v1/check/batch, one request per table.
 */
import assert from "node:assert/strict";
import { type TestServer, http } from "../helpers/server.js";
import { BASE_CLUSTER_YAML, toYaml } from "./cluster.js";
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

export class ClusterApi {
  /** Checks answered so far: every one is a compared cell. */
  checksAsked = 0;

  constructor(private readonly server: TestServer) {}

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

  /** PUT /v1/model with the base cluster: every scenario starts from here. */
  async reset(): Promise<void> {
    await this.write("PUT", "/v1/model", BASE_CLUSTER_YAML);
  }

  /** POST /v1/apply: create or update objects (policies, relabelled pods or namespaces). */
  async apply(objects: readonly Manifest[]): Promise<void> {
    await this.write("POST", "/v1/apply", toYaml(objects));
  }

  async deletePolicy(ns: string, name: string): Promise<void> {
    await this.write("DELETE", `/v1/namespaces/${ns}/networkpolicies/${name}`);
  }

  async deletePod(ns: string, name: string): Promise<void> {
    await this.write("DELETE", `/v1/namespaces/${ns}/pods/${name}`);
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
