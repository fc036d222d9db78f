/**
 * Wiring: one service, its REST and gRPC front doors, and the manifests it
 * starts from.
 */
import { type Server as HttpServer, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { pino, type Logger } from "pino";
import { createGrpcServer, listen } from "./api/grpc/server.js";
import { createRestApp } from "./api/rest/app.js";
import { readManifestPaths } from "./manifests/files.js";
import { rulesHandlers } from "./api/grpc/rules.js";
import { Metrics, PodwallService, RulesService, toPodwallError } from "./service/index.js";

export interface ServeOptions {
  /** "HOST:PORT", ":PORT" or "PORT"; port 0 picks a free one. */
  readonly listen?: string;
  readonly grpcListen?: string;
  readonly manifests?: readonly string[];
  readonly logger?: Logger;
  readonly cacheSize?: number;
}

export interface Running {
  readonly service: PodwallService;
  readonly rules: RulesService;
  readonly restPort: number;
  readonly grpcPort: number;
  readonly logger: Logger;
  close(): Promise<void>;
}

export function parseListen(text: string, defaultHost = "0.0.0.0"): { host: string; port: number } {
  const i = text.lastIndexOf(":");
  const host = i < 0 ? defaultHost : text.slice(0, i).replace(/^\[(.*)\]$/, "$1") || defaultHost;
  const portText = i < 0 ? text : text.slice(i + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(text)}: want HOST:PORT`);
  return { host, port };
}

export async function serve(opts: ServeOptions = {}): Promise<Running> {
  const logger = opts.logger ?? pino({ name: "podwall" });
  const service = new PodwallService({ metrics: new Metrics(true), ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}) });
  if (opts.manifests && opts.manifests.length > 0) {
    const started = performance.now();
    try {
      const r = service.applyObjects(readManifestPaths(opts.manifests), true);
      logger.info({ objects: r.applied.length, skipped: r.skipped, ms: Math.round(performance.now() - started) }, "model loaded");
    } catch (e) {
      const err = toPodwallError(e);
      throw new Error(`cannot load ${opts.manifests.join(", ")}: ${err.message}`);
    }
  }
  service.markReady();

  const rest = parseListen(opts.listen ?? ":8080");
  const rules = new RulesService(service);
  const app = createRestApp(service, { rules });
  // Node agents hold long polls open and reuse their connections between them:
  // idle connections are kept longer than a poll, and a burst of agents
  // reconnecting at once finds room in the accept queue.
  const http: HttpServer = createServer({ keepAliveTimeout: 75_000, headersTimeout: 80_000, requestTimeout: 0 }, app);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen({ port: rest.port, host: rest.host, backlog: 4096 }, () => resolve());
  });
  const restPort = (http.address() as AddressInfo).port;

  const g = parseListen(opts.grpcListen ?? ":50051");
  const { server: grpcServer } = createGrpcServer(service, rulesHandlers(rules));
  const grpcPort = await listen(grpcServer, `${g.host.includes(":") ? `[${g.host}]` : g.host}:${g.port}`);
  logger.info({ rest: `${rest.host}:${restPort}`, grpc: `${g.host}:${grpcPort}`, generation: service.generation }, "serving");

  return {
    service,
    rules,
    restPort,
    grpcPort,
    logger,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
        new Promise<void>((resolve) => (grpcServer as grpc.Server).tryShutdown(() => resolve())),
      ]);
    },
  };
}
