/**
 * `npm run screenshots`: one PNG of each view of the web page, on the example
 * cluster with three pods alike, at 1280x800, in client/ui/screenshots/ (the
 * README shows them).
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServer } from "../helpers/server.js";
import { DENY_X_INGRESS, launchBrowser, matrixReady, openPage } from "./support.js";

const OUT = fileURLToPath(new URL("../../client/ui/screenshots/", import.meta.url));

const server = await startServer(["examples/cluster", "test/ui/replicas.yaml"]);
const browser = await launchBrowser();
try {
  mkdirSync(OUT, { recursive: true });
  const page = await openPage(browser, server.url);
  await matrixReady(page, "TCP/80");
  await page.screenshot({ path: `${OUT}matrix.png` });

  // The group open, so that the picture shows its pods.
  await page.click('#matrix tbody th button[data-group="x/web-0"]');
  await page.waitForSelector('#matrix tbody th button.open[data-group="x/web-0"]');
  await page.click('#matrix td[data-src="z/c"][data-dst="y/a"]');
  await page.waitForSelector('#panel-explain[data-state="ready"]');
  await page.screenshot({ path: `${OUT}explain.png` });

  await page.click("#tab-whatif");
  await page.fill("#whatif-apply", DENY_X_INGRESS);
  await page.click("#whatif-form button[type=submit]");
  await page.waitForSelector('#whatif-result[data-state="ready"]');
  await page.waitForSelector("#matrix td.changed");
  await page.screenshot({ path: `${OUT}whatif.png` });
  for (const view of ["matrix", "explain", "whatif"]) console.log(`${OUT}${view}.png`);
} finally {
  await browser.close();
  await server.close();
}
