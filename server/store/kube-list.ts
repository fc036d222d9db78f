/**
 * Lists of the API server as it sends them, for the informers: page by page
 * with the kubeconfig's credentials and TLS settings.
 */
import http from "node:http";
import https from "node:https";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";

/** Items a list page holds at most: a cluster's pods come in pages, as kubectl and client-go ask for them. */
const LIST_PAGE = 500;

export interface ObjectList {
  items: KubernetesObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * A whole list, page by page, as the API server sends it. The typed list
 * calls of client-node are not used: they deserialize into models that
 * rename fields (`from` becomes `_from`) and drop the ones they do not know,
 * while the watch delivers objects as the API server wrote them.
 */
export async function listAll(kc: KubeConfig, path: string): Promise<ObjectList> {
  const items: KubernetesObject[] = [];
  let page: ObjectList;
  let cont: string | undefined;
  do {
    page = (await getJson(kc, `${path}?limit=${LIST_PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`)) as ObjectList;
    items.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { items, metadata: { ...(page.metadata?.resourceVersion ? { resourceVersion: page.metadata.resourceVersion } : {}) } };
}

/** One GET with the kubeconfig's credentials and TLS settings; an HTTP error carries its status as the informer expects. */
async function getJson(kc: KubeConfig, path: string): Promise<unknown> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig names no cluster");
  const url = new URL(server.replace(/\/$/, "") + path);
  const opts: https.RequestOptions = { method: "GET", headers: { accept: "application/json" } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? https : http).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) {
          let message = `GET ${path}: HTTP ${res.statusCode}`;
          try {
            message += `: ${(JSON.parse(text) as { message?: string }).message ?? ""}`;
          } catch {
            // not a Status: the code says enough
          }
          return reject(Object.assign(new Error(message), { statusCode: res.statusCode, code: res.statusCode }));
        }
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}
