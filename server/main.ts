/**
 * Wiring: one service on its store, its REST and gRPC front doors, and the
 * manifests it starts from. The doors open first and answer 503 until the
 * store's model is loaded and the manifests applied on top of it.
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
import { type StoreSpec, createStore } from "./store/index.js";

export interface ServeOptions {
  /** "HOST:PORT", ":PORT" or "PORT"; port 0 picks a free one. */
  readonly listen?: string;
  readonly grpcListen?: string;
  readonly manifests?: readonly string[];
  /** Where the model lives; in memory when not given. */
  readonly store?: StoreSpec;
  /** Accept the IP and CIDR forms of older API servers in written manifests. */
  readonly legacyCidr?: boolean;
  readonly logger?: Logger;
  readonly cacheSize?: number;
}

export interface Running {
  readonly service: PodwallService;
  readonly rules: RulesService;
  readonly restPort: number;
  readonly grpcPort: number;
  readonly logger: Logger;
  /** Settles once the model is loaded and served; rejects when the store or the manifests cannot be loaded. */
  readonly ready: Promise<void>;
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
  const manifests = opts.manifests && opts.manifests.length > 0 ? readStartupManifests(opts.manifests) : undefined;
  const metrics = new Metrics(true);
  const store = createStore(opts.store ?? { kind: "memory" }, { logger, registry: metrics.registry });
  const service = new PodwallService({
    store,
    logger,
    metrics,
    ...(opts.legacyCidr ? { legacyCidr: true } : {}),
    ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
  });

  let doors: Awaited<ReturnType<typeof openDoors>>;
  try {
    doors = await openDoors(opts, service);
  } catch (e) {
    await store.close();
    throw e;
  }
  const { rules, restPort, grpcPort, http, grpcServer } = doors;
  const rest = parseListen(opts.listen ?? ":8080");
  const g = parseListen(opts.grpcListen ?? ":50051");
  logger.info({ rest: `${rest.host}:${restPort}`, grpc: `${g.host}:${grpcPort}`, store: store.kind, location: store.location }, "listening");

  const ready = (async () => {
    await service.load();
    if (manifests) {
      const started = performance.now();
      try {
        const r = await service.applyStartupManifests(manifests.objects);
        logger.info({ objects: r.applied.length, skipped: r.skipped, generation: r.generation, ms: Math.round(performance.now() - started) }, "manifests applied");
      } catch (e) {
        throw new Error(`cannot load ${manifests.paths.join(", ")}: ${toPodwallError(e).message}`);
      }
    }
    service.markReady();
    logger.info({ generation: service.generation }, "ready");
  })();
  ready.catch(() => undefined);

  return {
    service,
    rules,
    restPort,
    grpcPort,
    logger,
    ready,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
        new Promise<void>((resolve) => (grpcServer as grpc.Server).tryShutdown(() => resolve())),
      ]);
      await service.close();
    },
  };
}

function readStartupManifests(paths: readonly string[]): { paths: readonly string[]; objects: unknown[] } {
  try {
    return { paths, objects: readManifestPaths(paths) };
  } catch (e) {
    throw new Error(`cannot load ${paths.join(", ")}: ${toPodwallError(e).message}`);
  }
}

/** The REST and gRPC front doors of a service, listening. */
async function openDoors(opts: ServeOptions, service: PodwallService) {
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
  let grpcPort: number;
  try {
    grpcPort = await listen(grpcServer, `${g.host.includes(":") ? `[${g.host}]` : g.host}:${g.port}`);
  } catch (e) {
    http.close();
    throw e;
  }
  return { rules, restPort, grpcPort, http, grpcServer };
}
