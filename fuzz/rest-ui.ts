/**
 * Requests for the web page's files under /ui/: the page's own paths answer
 * with its files, /ui redirects, and every other path (traversal with dots,
 * encoded dots and slashes, backslashes, NUL, overlong UTF-8, other files of
 * the checkout) is refused with a JSON 404. No answer under /ui may be a file
 * that is not the page's.
 */
import { type FuzzContext, segment } from "./context.js";
import type { Rng } from "./random.js";
import type { RestRequest } from "./requests.js";
import { oddName } from "./strings.js";

const PAGE = ["/ui/", "/ui/index.html", "/ui/style.css", "/ui/app.js"];

/** Files of the checkout and of the system a path might reach. */
const ELSEWHERE = [
  "package.json",
  "tsconfig.json",
  "server/main.ts",
  ".git/config",
  "etc/passwd",
  ".env",
  "client/ui/main.ts",
  "node_modules/express/package.json",
  "deploy/server.yaml",
];

/** Ways to climb out of /ui/, each to be followed by a file. */
const CLIMBS = [
  "../",
  "%2e%2e/",
  "%2E%2E/",
  ".%2e/",
  "%2e./",
  "..%2f",
  "..%2F",
  "%2e%2e%2f",
  "..%5c",
  "..\\",
  "....//",
  "%252e%252e/",
  "%252e%252e%252f",
  "%c0%ae%c0%ae/",
  "%c0%ae%c0%ae%c0%af",
  "%e0%80%ae%e0%80%ae/",
  "..;/",
  "%u002e%u002e/",
  ".../",
  "..%00/",
  "..%2500/",
  "/",
  "%2f",
  "//",
];

const ODD_PAGE_PATHS = [
  "/ui//",
  "/ui///index.html",
  "/ui/./index.html",
  "/ui/index.html/",
  "/ui/index.html/.",
  "/ui/index.html%00",
  "/ui/index.html%00.png",
  "/ui/index.html;.css",
  "/ui/index.html%2f",
  "/ui/%69ndex.html",
  "/ui/INDEX.HTML",
  "/UI/",
  "/Ui/index.html",
  "/ui%2f",
  "/ui%2findex.html",
  "/ui/app.js.map",
  "/ui/main.ts",
  "/ui/main.js",
  "/ui/api.ts",
  "/ui/~",
  "/ui/.",
  "/ui/..",
  "/ui/%2e",
  "/ui/%2e%2e",
  "/ui/*",
  "/ui/?",
  "/ui/index.html\\",
  "/ui\\index.html",
  "/ui/\u00e9",
  "/ui/%ff",
  "/ui/%",
];

/** The part of a path a router matches: before the query and any fragment. */
const pathname = (p: string) => p.split(/[?#]/u)[0]!;

export function getUi(rng: Rng, _ctx: FuzzContext): RestRequest {
  const [tag, path] = rng.weighted<() => [string, string]>([
    [3, () => ["page", `${rng.pick(PAGE)}${rng.bool(0.3) ? rng.pick(["?", "?x=1", "?../../package.json", "#../package.json", "?%00"]) : ""}`]],
    [1, () => ["redirect", "/ui"]],
    [5, () => ["traversal", `/ui/${rng.pick(CLIMBS).repeat(rng.int(1, 8))}${rng.pick(ELSEWHERE)}`]],
    [1, () => ["traversal", `${rng.pick(PAGE)}${rng.pick(CLIMBS).repeat(rng.int(1, 4))}${rng.pick(ELSEWHERE)}`]],
    [3, () => ["odd-path", rng.pick(ODD_PAGE_PATHS)]],
    [2, () => ["odd-name", `/ui/${segment(rng, oddName(rng).slice(0, 2_000))}`]],
    [1, () => ["long-path", `/ui/${"../".repeat(rng.size(10, 3_000))}package.json`]],
  ])();
  const method = rng.weighted<string>([
    [12, "GET"],
    [2, "HEAD"],
    [1, rng.pick(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])],
  ]);
  const name = pathname(path);
  const page = PAGE.includes(name) && (method === "GET" || method === "HEAD");
  const redirect = name === "/ui" && (method === "GET" || method === "HEAD");
  const headers: Record<string, string> = rng.bool(0.1) ? { "accept-encoding": rng.pick(["gzip", "br", "*", "identity;q=0"]) } : {};
  if (rng.bool(0.1)) headers["range"] = rng.pick(["bytes=0-10", "bytes=-1", "bytes=999999999-", "bytes=5-1", "bytes=a-b"]);
  // The page's own paths answer with its files (or redirect), anything else under /ui is not found, traversal or not.
  // OPTIONS of a path a route has is answered by the router with the methods it takes.
  const routed = PAGE.includes(name) || name === "/ui";
  const write = method !== "GET" && method !== "HEAD";
  const expect = page
    ? { write: false, mustReject: false, status: 200, answer: { kind: "page" as const } }
    : redirect
      ? { write: false, mustReject: false, status: 301 }
      : method === "OPTIONS" && routed
        ? { write, mustReject: false }
        : { write, mustReject: true, ...(path.length <= 12_000 && !/[\\#]/u.test(path) ? { status: 404 } : {}) };
  return { door: "rest", target: "GET /ui/...", tag, method, path, headers, expect };
}
