// Drives the demo's chat page (/) in headless Chromium (playwright-core, the
// system's chromium) for the Go specs: two pages log in with a short-lived
// token, one refreshing it when the server asks, one not; after the given
// time each reports its status line and its log. Prints one JSON report per
// line.
//
// usage: node demopage.js <demo url> <token ttl seconds> <watch seconds>
// reports: {"type":"page","refresh":true|false,"status":"…","log":["…",…]}
//          {"type":"driver_error","message":…} {"type":"closed"}
"use strict";
const { chromium } = require("playwright-core");

const [base, ttl, watch] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

async function run(browser, refresh) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => out({ type: "page_error", message: String(e) }));
  await page.goto(base + "/?ttl=" + ttl + (refresh ? "" : "&refresh=off"));
  await page.fill("#name", refresh ? "ann" : "bob");
  await page.click("#login button");
  await page.getByText("connected as").waitFor({ timeout: 10000 });
  await page.waitForTimeout(Number(watch) * 1000);
  const status = await page.textContent("#status");
  const log = await page.locator("#log p").allTextContents();
  out({ type: "page", refresh, status, log });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    await Promise.all([run(browser, true), run(browser, false)]);
  } catch (e) {
    out({ type: "driver_error", message: String((e && e.stack) || e) });
  } finally {
    await browser.close();
    out({ type: "closed" });
  }
})();
