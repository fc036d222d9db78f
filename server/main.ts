/**
 * Wiring: one service on its store, its REST and gRPC front doors, and the
 * manifests it starts from. The doors open first and answer 503 until the
 * store's model is loaded and the manifests applied on top of it.
 */
import { type Server as HttpServer, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { pino, type Logger } from "pino";
import { Authenticator } from "./auth/authenticator.js";
import { TlsFiles, type TlsPaths } from "./auth/tls.js";
import { GrpcDoor, HEALTH_NAMES, createGrpcServer, listen } from "./api/grpc/server.js";
import { createRestApp } from "./api/rest/app.js";
import { DEFAULT_LIMITS, type Limits } from "./api/rest/body.js";
import { readManifestPaths } from "./manifests/files.js";
import { analysisHandlers } from "./api/grpc/analysis.js";
import { rulesHandlers } from "./api/grpc/rules.js";
import { type AnalysisLimits, AnalysisService, DecisionLog, Metrics, PodwallService, type RulesLimits, RulesService, toPodwallError } from "./service/index.js";
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
  /** The auth file (`--auth`): without it the server is open to every caller. */
  readonly auth?: string;
  /** Serve REST and gRPC over TLS; with `clientCa`, client certificates are verified and name identities. */
  readonly tls?: TlsPaths;
  /** `--decision-log`: a file, or "-" for standard output. */
  readonly decisionLog?: string;
  /** The most questions one batch may ask. */
  readonly maxBatch?: number;
  readonly rulesLimits?: Partial<RulesLimits>;
  /** The most pods one matrix may have, where it differs from the default. */
  readonly analysisLimits?: Partial<AnalysisLimits>;
  /** How long a stopping server waits for requests in flight before it closes what is left (default 5 s). */
  readonly shutdownTimeoutMs?: number;
  /** What one request may ask (body size and depth, manifests, status reports, the time to send a body), where it differs from DEFAULT_LIMITS. */
  readonly limits?: Partial<Limits>;
}

export interface Running {
  readonly service: PodwallService;
  readonly rules: RulesService;
  readonly restPort: number;
  readonly grpcPort: number;
  readonly logger: Logger;
  /** Settles once the model is loaded and served; rejects when the store or the manifests cannot be loaded. */
  readonly ready: Promise<void>;
  /** Re-reads the auth file and the TLS files (SIGHUP). */
  reload(): void;
  /**
   * Stops gracefully: not ready at once (/readyz 503, gRPC health NOT_SERVING),
   * long polls answered 304 and watch streams ended UNAVAILABLE so that agents
   * move to another replica, requests in flight finished; whatever is still
   * open after the shutdown timeout is cut. Then the store is closed.
   */
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
  const auth = opts.auth !== undefined ? Authenticator.fromFile(opts.auth, { logger, metrics }) : Authenticator.open();
  let tls: TlsFiles | undefined;
  try {
    tls = opts.tls ? new TlsFiles(opts.tls, { logger, metrics }) : undefined;
  } catch (e) {
    auth.close();
    throw e;
  }
  const store = createStore(opts.store ?? { kind: "memory" }, { logger, registry: metrics.registry });
  const service = new PodwallService({
    store,
    logger,
    metrics,
    ...(opts.legacyCidr ? { legacyCidr: true } : {}),
    ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
    ...(opts.decisionLog !== undefined ? { decisionLog: DecisionLog.open(opts.decisionLog, metrics, logger) } : {}),
    ...(opts.maxBatch !== undefined ? { maxBatch: opts.maxBatch } : {}),
  });

  let draining = false;
  let doors: Awaited<ReturnType<typeof openDoors>>;
  try {
    doors = await openDoors(opts, service, { auth, tls, draining: () => draining });
  } catch (e) {
    auth.close();
    tls?.close();
    await service.close();
    throw e;
  }
  const { rules, restPort, grpcPort, http, grpcServer, health } = doors;
  const rest = parseListen(opts.listen ?? ":8080");
  const g = parseListen(opts.grpcListen ?? ":50051");
  logger.info(
    {
      rest: `${rest.host}:${restPort}`,
      grpc: `${g.host}:${grpcPort}`,
      store: store.kind,
      location: store.location,
      tls: tls !== undefined,
      clientCertificates: opts.tls?.clientCa !== undefined,
    },
    "listening",
  );
  if (auth.required) logger.info({ file: opts.auth, ...auth.size }, "requests need credentials");
  else logger.warn("no --auth: the server is open, every caller may read and replace the model");

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
    reload: () => {
      auth.reload();
      tls?.reload();
    },
    close: async () => {
      if (draining) return;
      draining = true;
      const started = performance.now();
      service.drain();
      for (const name of HEALTH_NAMES) health.setStatus(name, "NOT_SERVING");
      rules.drain();
      const timeout = opts.shutdownTimeoutMs ?? 5_000;
      const restDone = new Promise<void>((resolve) => http.close(() => resolve()));
      // A connection whose last request is answered is closed as soon as it is idle, not at its keep-alive timeout.
      const idle = setInterval(() => http.closeIdleConnections(), 50);
      http.closeIdleConnections();
      const grpcDone = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<"cut">((resolve) => {
        timer = setTimeout(() => resolve("cut"), timeout);
      });
      if ((await Promise.race([Promise.all([restDone, grpcDone]), cut])) === "cut") {
        logger.warn({ timeoutMs: timeout }, "requests still in flight at the shutdown timeout are cut");
        http.closeAllConnections();
        grpcServer.forceShutdown();
      }
      clearTimeout(timer);
      clearInterval(idle);
      auth.close();
      tls?.close();
      await service.close();
      logger.info({ ms: Math.round(performance.now() - started) }, "stopped");
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
async function openDoors(opts: ServeOptions, service: PodwallService, with_: { auth: Authenticator; tls: TlsFiles | undefined; draining: () => boolean }) {
  const { auth, tls } = with_;
  const rest = parseListen(opts.listen ?? ":8080");
  const rules = new RulesService(service, opts.rulesLimits);
  const analysis = new AnalysisService(service, rules, opts.analysisLimits);
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = createRestApp(service, { rules, analysis, auth, draining: with_.draining, limits });
  // Node agents hold long polls open and reuse their connections between them:
  // idle connections are kept longer than a poll, and a burst of agents
  // reconnecting at once finds room in the accept queue.
  const requestTimeout = limits.requestTimeoutMs;
  const httpOptions = {
    keepAliveTimeout: 75_000,
    // Node requires headersTimeout <= requestTimeout, and checks both every connectionsCheckingInterval.
    headersTimeout: requestTimeout > 0 ? Math.min(80_000, requestTimeout) : 80_000,
    requestTimeout,
    connectionsCheckingInterval: requestTimeout > 0 ? Math.min(30_000, Math.max(50, Math.floor(requestTimeout / 4))) : 30_000,
  };
  let http: HttpServer;
  if (tls) {
    const https = createHttpsServer({ ...httpOptions, ...tls.serverOptions() }, app);
    tls.onChange(() => https.setSecureContext(tls.secureContext()));
    http = https;
  } else {
    http = createServer(httpOptions, app);
  }
  http.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen({ port: rest.port, host: rest.host, backlog: 4096 }, () => resolve());
  });
  const restPort = (http.address() as AddressInfo).port;

  const g = parseListen(opts.grpcListen ?? ":50051");
  const door = new GrpcDoor(auth, service.metrics);
  const { server: grpcServer, health } = createGrpcServer(service, door, { ...rulesHandlers(rules, door), ...analysisHandlers(analysis, door) }, limits);
  // One certificate provider serves both the server's identity and the CA that verifies clients.
  const credentials = tls ? grpc.experimental.createCertificateProviderServerCredentials(tls, tls, false) : grpc.ServerCredentials.createInsecure();
  let grpcPort: number;
  try {
    grpcPort = await listen(grpcServer, `${g.host.includes(":") ? `[${g.host}]` : g.host}:${g.port}`, credentials);
  } catch (e) {
    http.close();
    throw e;
  }
  return { rules, restPort, grpcPort, http, grpcServer, health };
}

/**
 * A request node's HTTP parser refused (a malformed request line, headers
 * too large, a body that stopped arriving) is answered in the usual error
 * shape, then its connection closed.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "RequestHeaderFieldsTooLarge", "request headers too large"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Timeout", "the request was not received in time"]
        : [400, "BadRequest", `malformed request: ${err.code ?? "unreadable"}`];
  const body = JSON.stringify({ code: status, reason, message, errors: [] });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
