// Drives the real Socket.IO Admin UI in headless Chromium (playwright-core,
// the system's chromium) for the Go specs; prints one JSON report per line.
//
// usage: node adminui.js <ui url> <server url> <session id> <server id> <socket nsp> <socket id> <screenshot path>
// reports: {"type":"server_row"} {"type":"socket_row"} {"type":"clicked"} {"type":"screenshot","path":…}
//          {"type":"driver_error","message":…}
"use strict";
const { chromium } = require("playwright-core");

const [uiUrl, serverUrl, sessionId, serverId, nsp, socketId, shot] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  let page;
  try {
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (e) => out({ type: "page_error", message: String(e) }));
    // The UI reads its connection from localStorage when it starts: seed
    // it before any of the page's scripts run.
    await page.addInitScript(([url, id]) => {
      localStorage.setItem("server_url", url);
      localStorage.setItem("namespace", "/admin");
      localStorage.setItem("session_id", id);
      localStorage.setItem("ws_only", "true");
    }, [serverUrl, sessionId]);
    await page.goto(uiUrl + "#/servers/");
    await page.getByText(serverId).first().waitFor({ timeout: 15000 });
    out({ type: "server_row" });
    await page.goto(uiUrl + "#/n/" + encodeURIComponent(nsp) + "/sockets/" + socketId);
    await page.getByText(socketId).first().waitFor({ timeout: 15000 });
    out({ type: "socket_row" });
    await page.screenshot({ path: shot, fullPage: true });
    out({ type: "screenshot", path: shot });
    // the socket's disconnect button, next to its status (an icon button)
    await page.locator("button:has(i.mdi-logout)").first().click();
    out({ type: "clicked" });
  } catch (e) {
    out({ type: "driver_error", message: String((e && e.stack) || e) });
    if (page) await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
    out({ type: "closed" });
  }
})();
