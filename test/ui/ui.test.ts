/**
 * The web page at /ui/ in a real browser (Debian's chromium), against a
 * server with the example cluster: what it shows must be what the API
 * answers, and an explanation exactly what `podwall check --explain` prints.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { renderDecision } from "../../client/render.js";
import { authYaml, identity } from "../auth/support.js";
import { http, startServer, type TestServer } from "../helpers/server.js";
import { DENY_X_INGRESS, INVALID_CIDR, launchBrowser, matrixReady, openPage, rowHeads, type ShownCell, shownCells } from "./support.js";

/** The example cluster, and three pods alike that the matrix groups. */
const EXAMPLE = ["examples/cluster", "test/ui/replicas.yaml"];

describe("the web page", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    server = await startServer(EXAMPLE);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("is served at /ui/: /ui redirects there, the script is one bundle, the page allows only its own files", async () => {
    const redirect = await fetch(`${server.url}/ui`, { redirect: "manual" });
    assert.equal(redirect.status, 301);
    assert.equal(new URL(redirect.headers.get("location") ?? "", `${server.url}/ui`).href, `${server.url}/ui/`);
    const html = await fetch(`${server.url}/ui/`);
    assert.equal(html.status, 200);
    assert.equal(html.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(html.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(await html.text(), /<script defer src="app.js"><\/script>/);
    const js = await fetch(`${server.url}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    const script = await js.text();
    assert.doesNotMatch(script, /\bimport\s*[{("]|\brequire\(/, "one self-contained script");
    assert.equal((await fetch(`${server.url}/ui/style.css`)).headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal((await fetch(`${server.url}/ui/other.js`)).status, 404);
  });

  it("shows every cell as /v1/check decides it, for the picked protocol and port", async () => {
    page = await openPage(browser, server.url);
    await matrixReady(page, "TCP/80");
    await page.click("#expand-all");
    await page.waitForSelector("#expand-all:text('Collapse all')");
    const pods: string[] = (await http(server, "GET", "/v1/matrix?protocol=TCP&port=80")).body.pods;
    const tcp80 = await shownCells(page);
    assert.deepEqual(await rowHeads(page), pods, "expanded, one row per pod, in the API's order");
    assert.equal(tcp80.length, pods.length * pods.length);
    await assertCellsAsChecked(server, tcp80, "TCP", 80);
    assert.ok(tcp80.some((c) => c.allowed) && tcp80.some((c) => !c.allowed), "the example has cells of both kinds");

    await page.selectOption("#protocol", "UDP");
    await page.fill("#port", "81");
    await page.press("#port", "Enter");
    await matrixReady(page, "UDP/81");
    await assertCellsAsChecked(server, await shownCells(page), "UDP", 81);
  });

  it("shows the picked namespaces only", async () => {
    await page.click("#namespaces summary");
    await page.check("#ns-list input[value='y']");
    await page.check("#ns-list input[value='z']");
    await page.waitForFunction(() => {
      const heads = Array.from(document.querySelectorAll("#matrix tbody th")).map((th) => th.textContent ?? "");
      return document.querySelector("#matrix")?.getAttribute("data-state") === "ready" && heads.length > 0 && heads.every((t) => /^[▾▸ ]*[yz]\//.test(t));
    });
    assert.equal(await page.textContent("#ns-summary"), "y, z");
    await assertCellsAsChecked(server, await shownCells(page), "UDP", 81);
    await page.click("#ns-all");
    await page.click("#namespaces summary");
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#matrix tbody th")).some((th) => /x\/a/.test(th.textContent ?? "")));
    await page.close();
  });

  it("groups pods alike: a group's cells are its pods' cells, and a click on it lists them", async () => {
    page = await openPage(browser, server.url);
    await matrixReady(page, "TCP/80");
    const grouped: { groups: string[][]; allowed: boolean[][] } = (await http(server, "GET", "/v1/matrix?protocol=TCP&port=80&group=true")).body;
    const big = grouped.groups.find((g) => g.length > 1);
    assert.deepEqual(big, ["x/web-0", "x/web-1", "x/web-2"]);
    assert.deepEqual(
      await rowHeads(page),
      grouped.groups.map((g) => g[0]),
    );
    await assertCellsAsChecked(server, await shownCells(page), "TCP", 80);
    await page.click(`#matrix tbody th button[data-group="${big[0]}"]`);
    await page.waitForSelector(`#matrix tbody th button.open[data-group="${big[0]}"]`);
    const heads = await rowHeads(page);
    const at = heads.indexOf(big[0]!);
    assert.deepEqual(heads.slice(at, at + big.length), big, "the group's pods, one row each");
    await assertCellsAsChecked(server, await shownCells(page), "TCP", 80);
    await page.click(`#matrix tbody th button.open[data-group="${big[0]}"]`);
    await page.waitForSelector(`#matrix tbody th button[aria-expanded="false"][data-group="${big[0]}"]`);
  });

  it("explains a clicked cell exactly as podwall check --explain prints it", async () => {
    await page.click("#expand-all");
    for (const [src, dst, allowed] of [
      ["y/b", "x/a", true],
      ["z/b", "x/a", false],
      ["z/c", "y/a", false],
    ] as const) {
      await page.click(`#matrix td[data-src="${src}"][data-dst="${dst}"]`);
      await page.waitForSelector(`#panel-explain[data-state="ready"][data-pair="${src} ${dst} TCP/80"]`);
      const d = (await http(server, "GET", `/v1/check?src=${src}&dst=${dst}&protocol=TCP&port=80&explain=true`)).body;
      assert.equal(d.allowed, allowed);
      assert.equal(await page.textContent("#explanation"), renderDecision(d));
      assert.equal(await page.textContent("#explain-title"), `${src} → ${dst} TCP/80`);
      assert.equal(await page.getAttribute(`#matrix td[data-src="${src}"][data-dst="${dst}"]`, "class").then((c) => c?.includes("selected")), true);
    }
  });

  it("marks exactly the cells a what-if changes, before → after, expanded and grouped", async () => {
    await page.click("#tab-whatif");
    await page.fill("#whatif-apply", DENY_X_INGRESS);
    await page.click("#whatif-form button[type=submit]");
    await page.waitForSelector('#whatif-result[data-state="ready"]');
    const answer = (await http(server, "POST", "/v1/whatif", { apply: DENY_X_INGRESS, delete: [], ports: ["TCP/80"] })).body;
    assert.ok(answer.cells.length > 0, "denying ingress to x changes cells");
    const key = (src: string, dst: string) => `${src} -> ${dst}`;
    const expected = new Map<string, boolean>(answer.cells.map((c: { src: string; dst: string; after: boolean }) => [key(c.src, c.dst), c.after]));

    const marked = await shownCells(page, "#matrix td.changed");
    assert.deepEqual(new Map(marked.map((c) => [key(c.src, c.dst), c.after])), expected);
    for (const c of marked) assert.equal(c.allowed, !c.after, `${key(c.src, c.dst)}: before is the current cell`);
    assert.equal(await page.locator("#whatif-changes li").count(), answer.cells.length);

    // Grouped: a group's cell is marked when any of its pairs changes.
    await page.click("#expand-all");
    await page.waitForSelector("#expand-all:text('Expand all')");
    const grouped: { groups: string[][] } = (await http(server, "GET", "/v1/matrix?protocol=TCP&port=80&group=true")).body;
    const first = new Map(grouped.groups.flatMap((g) => g.map((p) => [p, g[0]!] as const)));
    const groupCells = new Set(answer.cells.map((c: { src: string; dst: string }) => key(first.get(c.src)!, first.get(c.dst)!)));
    const markedGroups = await shownCells(page, "#matrix td.changed");
    assert.deepEqual(new Set(markedGroups.map((c) => key(c.row, c.col))), groupCells);

    await page.click("#whatif-clear");
    await page.waitForSelector("#matrix td.changed", { state: "detached" });
  });

  it("shows the field path of every error in invalid manifests (422)", async () => {
    await page.fill("#whatif-apply", INVALID_CIDR);
    await page.click("#whatif-form button[type=submit]");
    await page.waitForSelector('#whatif-result[data-state="error"]');
    const answer = await http(server, "POST", "/v1/whatif", { apply: INVALID_CIDR, delete: [], ports: ["TCP/80"] });
    assert.equal(answer.status, 422);
    const fields = await page.$$eval("#whatif-errors code.field", (cs) => cs.map((c) => c.textContent));
    assert.deepEqual(
      fields,
      answer.body.errors.map((e: { field: string }) => e.field),
    );
    assert.ok(fields.includes("spec.ingress[0].from[0].ipBlock.cidr"));
    assert.equal(await page.locator("#matrix td.changed").count(), 0);
    await page.close();
  });
});

describe("the web page with --auth", () => {
  const reader = identity("dashboards", "reader");
  let dir: string;
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "podwall-ui-"));
    writeFileSync(join(dir, "auth.yaml"), authYaml([reader]));
    server = await startServer(EXAMPLE, { auth: join(dir, "auth.yaml") });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page's files without credentials, and nothing else", async () => {
    for (const path of ["/ui/", "/ui/index.html", "/ui/app.js", "/ui/style.css"]) assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
    assert.equal((await fetch(`${server.url}/ui`, { redirect: "manual" })).status, 301);
    for (const path of ["/v1/matrix?port=80", "/v1/check?src=y/b&dst=x/a&port=80", "/v1/model"]) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 401, path);
    }
    assert.equal((await fetch(`${server.url}/ui/`, { method: "POST" })).status, 401);
  });

  it("says a token is needed on 401, then sends the token as a bearer on every API call", async () => {
    const page = await openPage(browser, server.url);
    await page.waitForSelector('#matrix[data-state="error"]');
    assert.match((await page.textContent("#message")) ?? "", /^401 Unauthenticated: this server needs credentials\. Paste a bearer token in the Token field\.$/);

    const sent: (string | undefined)[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/v1/")) sent.push(r.headers()["authorization"]);
    });
    await page.fill("#token", "not-a-token");
    await page.press("#token", "Enter");
    await page.waitForSelector("#message:text('the server does not accept this token')");

    await page.fill("#token", reader.token);
    await page.click("#token-form button");
    await matrixReady(page, "TCP/80");
    assert.equal(await page.isHidden("#message"), true);
    await page.click("#expand-all");
    await page.click('#matrix td[data-src="y/b"][data-dst="x/a"]');
    await page.waitForSelector('#panel-explain[data-state="ready"]');
    assert.deepEqual(sent, ["Bearer not-a-token", `Bearer ${reader.token}`, `Bearer ${reader.token}`]);

    // The token lives as long as the tab.
    await page.reload();
    await matrixReady(page, "TCP/80");
    assert.equal(await page.inputValue("#token"), reader.token);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("podwall.token")), reader.token);
    await page.close();
  });
});

/** Each cell as /v1/check/batch decides its pair. */
async function assertCellsAsChecked(server: TestServer, cells: readonly ShownCell[], protocol: string, port: number): Promise<void> {
  assert.ok(cells.length > 0, "the table has cells");
  const checks = cells.map((c) => ({ src: c.src, dst: c.dst, protocol, port }));
  const res = await http(server, "POST", "/v1/check/batch", { checks });
  assert.equal(res.status, 200);
  const wrong = cells.filter((c, i) => res.body.results[i].allowed !== c.allowed).map((c) => `${c.src} -> ${c.dst} shows ${c.allowed}`);
  assert.deepEqual(wrong, [], `${protocol}/${port}: cells that differ from /v1/check`);
}
