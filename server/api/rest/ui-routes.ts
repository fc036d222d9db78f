/**
 * The web page at /ui/: its HTML and stylesheet as client/ui/ holds them, and
 * its script bundled by esbuild on the first request, then kept. Under tsx
 * the bundle is made from the TypeScript sources; in the image, from the
 * compiled JavaScript in dist/client/ui/ (the Dockerfile puts the HTML and the
 * stylesheet beside it). The files hold no data: the page asks the API for
 * everything it shows, with the caller's credentials.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";
import express, { type Response, type Router } from "express";

type PageFile = "index.html" | "style.css" | "app.js";

/** Each path of the page, the file it answers with. */
const PATHS: Readonly<Record<string, PageFile>> = {
  "/ui/": "index.html",
  "/ui/index.html": "index.html",
  "/ui/style.css": "style.css",
  "/ui/app.js": "app.js",
};

const TYPES: Readonly<Record<PageFile, string>> = {
  "index.html": "text/html; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
};

/** The page's own files and nothing else; everything they show comes from the API. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Whether a request asks for one of the page's files (or /ui, which redirects): those need no credentials. */
export function isUiFile(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && (path === "/ui" || Object.hasOwn(PATHS, path));
}

export interface UiOptions {
  /** The directory of the page's sources; where this module finds them when not given. */
  readonly dir?: string;
}

export function uiRoutes(opts: UiOptions = {}): Router {
  const files = new PageFiles(opts.dir ?? pageDir());
  const router = express.Router({ strict: true, caseSensitive: true });
  // Relative, so that the page also works behind a proxy that serves it under a prefix.
  router.get("/ui", (_req, res) => res.redirect(301, "ui/"));
  for (const [path, file] of Object.entries(PATHS)) {
    router.get(path, async (_req, res) => send(res, file, await files.get(file)));
  }
  return router;
}

function send(res: Response, file: PageFile, body: Buffer): void {
  res.set({ "Content-Type": TYPES[file], "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });
  if (file === "index.html") res.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.send(body);
}

/** The page's files, each read (or bundled) once; a failed read is tried again on the next request. */
class PageFiles {
  private readonly cache = new Map<PageFile, Promise<Buffer>>();

  constructor(private readonly dir: string) {}

  get(file: PageFile): Promise<Buffer> {
    let p = this.cache.get(file);
    if (p === undefined) {
      p = file === "app.js" ? bundle(this.dir) : readFile(this.path(file));
      p.catch(() => this.cache.delete(file));
      this.cache.set(file, p);
    }
    return p;
  }

  /** The HTML and stylesheet: beside the script's sources, or for a local `npm run build`, in the checkout's client/ui/. */
  private path(file: PageFile): string {
    const here = `${this.dir}/${file}`;
    const checkout = fileURLToPath(new URL(`../../../../client/ui/${file}`, import.meta.url));
    return existsSync(here) || !existsSync(checkout) ? here : checkout;
  }
}

/** client/ui/ beside this module's server/ (in the checkout, or in dist/). */
function pageDir(): string {
  return fileURLToPath(new URL("../../../client/ui", import.meta.url));
}

/**
 * The page's script, one file: its entry with the client code it imports
 * (`renderDecision`, so that the page explains exactly as the CLI prints).
 * esbuild is loaded only when a page is asked for.
 */
async function bundle(dir: string): Promise<Buffer> {
  const entry = [`${dir}/main.ts`, `${dir}/main.js`].find((f) => existsSync(f));
  if (entry === undefined) throw new Error(`the web page's script is missing: no main.ts or main.js in ${dir}`);
  const esbuild = await import("esbuild");
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
    plugins: [noNodeBuiltins],
  });
  const js = out.outputFiles[0];
  if (js === undefined) throw new Error("esbuild wrote no script for the web page");
  return Buffer.from(js.contents);
}

/**
 * Modules the page reaches import Node built-ins for code the page never runs
 * (client/render.ts's ruleset rendering reaches the rules' hashing); in the
 * browser each is an empty module, and what uses it is left out of the bundle.
 */
const noNodeBuiltins: Plugin = {
  name: "no-node-builtins",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "node-builtin", sideEffects: false }));
    build.onLoad({ filter: /.*/, namespace: "node-builtin" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};
