/**
 * The web page's tests and screenshots: Debian's chromium driven by
 * playwright-core, and what a test reads off the page once it has settled.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  // As root, chromium runs only without its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Opens the page and waits for its first matrix. */
export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${url}/ui/`);
  return page;
}

/** Waits until the matrix shows this protocol/port and is no longer loading. */
export async function matrixReady(page: Page, traffic: string): Promise<void> {
  await page.waitForSelector(`#matrix[data-state="ready"][data-query="${traffic}"] table`);
}

export interface ShownCell {
  readonly src: string;
  readonly dst: string;
  /** The first pods of the cell's row and column. */
  readonly row: string;
  readonly col: string;
  readonly allowed: boolean;
  readonly after?: boolean;
}

/** Every cell of the table as the page shows it. */
export function shownCells(page: Page, selector = "#matrix td"): Promise<ShownCell[]> {
  return page.$$eval(selector, (tds) =>
    tds.map((td) => {
      const d = (td as HTMLElement).dataset;
      return {
        src: d["src"]!,
        dst: d["dst"]!,
        row: d["row"]!,
        col: d["col"]!,
        allowed: d["allowed"] === "true",
        ...(d["after"] !== undefined ? { after: d["after"] === "true" } : {}),
      };
    }),
  );
}

/** The row headers' pods (the first pod of each group). */
export function rowHeads(page: Page): Promise<string[]> {
  return page.$$eval("#matrix tbody th", (ths) => ths.map((th) => (th as HTMLElement).querySelector("[data-group]")?.getAttribute("data-group") ?? th.textContent ?? ""));
}

/** A what-if: ingress to every pod of x denied, but for what x/allow-y-to-a allows. */
export const DENY_X_INGRESS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-ingress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
    - Ingress
`;

/** A 422: a CIDR with a prefix longer than 32 bits. */
export const INVALID_CIDR = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad-cidr
  namespace: x
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33
`;
