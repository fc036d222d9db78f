/**
 * The request context of a REST request: the principal its credentials name
 * (bearer token, or a client certificate the TLS handshake verified), where it
 * came from, and a signal that fires when the caller goes away.
 */
import { TLSSocket } from "node:tls";
import type { Request, RequestHandler, Response } from "express";
import type { Authenticator } from "../../auth/authenticator.js";
import { OPEN_REQUEST, PodwallError, type RequestContext } from "../../service/index.js";
import { isUiFile } from "./ui-routes.js";

const CONTEXT = Symbol("podwall.context");
type WithContext = Request & { [CONTEXT]?: RequestContext };

/** The context of a request that is answered at once: no signal needed. Its credentials are read once per request. */
export function restContext(auth: Authenticator, req: Request): RequestContext {
  if (!auth.required) return OPEN_REQUEST;
  const r = req as WithContext;
  return (r[CONTEXT] ??= { principal: auth.principal({ authorization: req.headers.authorization, certificateName: certificateName(req) }) });
}

/**
 * With `--auth`, a request without known credentials is answered 401 before
 * its body is read; only the probes and the web page's files stay open (the
 * files hold no data: the page asks the API with the user's token). What a
 * known caller may do is the service's decision.
 */
export function requireCredentials(auth: Authenticator): RequestHandler {
  return (req, _res, next) => {
    if (req.path === "/healthz" || req.path === "/readyz" || isUiFile(req.method, req.path) || restContext(auth, req).principal.role !== undefined) return next();
    next(new PodwallError("unauthenticated", "Unauthorized: no valid credentials were given"));
  };
}

/** The context of a request that waits (a write, a long poll): who asks, from where, and a signal that fires if the caller goes away first. */
export function waitingContext(auth: Authenticator, req: Request, res: Response): RequestContext {
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  const peer = req.socket.remoteAddress;
  return { ...restContext(auth, req), signal: gone.signal, ...(peer !== undefined ? { peer } : {}) };
}

/** The subject common name of a verified client certificate. */
function certificateName(req: Request): string | undefined {
  const s = req.socket;
  if (!(s instanceof TLSSocket) || !s.authorized) return undefined;
  const cn = s.getPeerCertificate().subject?.CN;
  return typeof cn === "string" ? cn : undefined;
}
