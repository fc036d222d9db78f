/**
 * A server that follows the Kubernetes API server double: starting one, and
 * waiting until its model is the double's objects.
 */
import assert from "node:assert/strict";
import { pino } from "pino";
import { decodeObject } from "../../server/manifests/decode.js";
import { type Running, serve } from "../../server/main.js";
import { eventually } from "../rules/support.js";
import { KINDS, type KubeApiServer } from "./kube-apiserver.js";
import { http } from "./server.js";

/** Only a guard against a hang: conditions are waited for, never timed. */
export const PATIENCE = 120_000;

export type Following = Running & { readonly url: string };

/** `serve --kubernetes` on the double, in this process; ready when `ready` settles. */
export async function follow(double: KubeApiServer): Promise<Following> {
  const running = await serve({
    listen: "127.0.0.1:0",
    grpcListen: "127.0.0.1:0",
    store: { kind: "kubernetes", kubeconfig: double.kubeconfig() },
    logger: pino({ level: "silent" }),
  });
  return { ...running, url: `http://127.0.0.1:${running.restPort}` };
}

/** The objects of the double as the model keeps them: decoded the way the server decodes what it follows. */
export function expectedModel(double: KubeApiServer): string[] {
  const out: string[] = [];
  for (const kind of KINDS) {
    for (const o of double.objects(kind)) {
      const d = decodeObject(o, { cidr: "legacy" });
      assert.equal(d.kind, "object", `the double holds an object the model cannot read: ${JSON.stringify(o)}`);
      if (d.kind === "object") out.push(JSON.stringify(d.object.manifest));
    }
  }
  return out.sort();
}

export async function served(url: string): Promise<{ generation: number; items: string[] }> {
  const r = await http({ url }, "GET", "/v1/model", undefined, { accept: "application/json" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { generation: r.body.metadata.generation as number, items: (r.body.items as unknown[]).map((i) => JSON.stringify(i)).sort() };
}

/** Waits until the server's model is the double's objects, and returns its generation. */
export async function converged(url: string, double: KubeApiServer, what: string): Promise<number> {
  let last: { generation: number; items: string[] } | undefined;
  try {
    return await eventually(
      async () => {
        last = await served(url);
        return JSON.stringify(last.items) === JSON.stringify(expectedModel(double)) ? last.generation : undefined;
      },
      PATIENCE,
      what,
    );
  } catch (e) {
    assert.deepEqual(last?.items, expectedModel(double), `${what}: the model is not the cluster's`);
    throw e;
  }
}
