// Driving the explorer page with puppeteer-core and Debian's chromium (shared by
// tests/explorer/browser.mjs and bench/explorer_bench.mjs).
import path from "node:path";
import { createRequire } from "node:module";

// puppeteer-core from the build's npm ci of tools/explorer (src/server/explorer.cmake).
export async function launch(nodeModules) {
  const require = createRequire(path.join(nodeModules, "noop.js"));
  const puppeteer = require("puppeteer-core");
  return puppeteer.launch({
    executablePath: process.env.KHIVE_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // --no-sandbox: the tests may run as root, where chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1600,1000"],
    defaultViewport: { width: 1600, height: 1000 },
  });
}

export async function openPage(browser, url) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[14]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.problems = problems;
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.khiveExplorer !== undefined);
  return page;
}

export async function signIn(page, token) {
  await page.$eval("#token", (e) => (e.value = ""));
  await page.type("#token", token);
  await page.click("#signin-button");
}

// Waits until the page has no request pending and `rootId` is the selected node.
export async function waitIdle(page, rootId) {
  await page.waitForFunction(
    (id) => window.khiveExplorer.state.pending === 0 && window.khiveExplorer.state.selected?.id === id &&
      document.getElementById("record").dataset.id === id,
    { timeout: 60000 },
    rootId,
  );
}

// Clicks a node where it is drawn (centring it first when it is off screen). The node is raised
// above the others first, so that another node's label drawn over it cannot take the click.
export async function clickNode(page, id) {
  const at = await page.evaluate((nid) => {
    const cy = window.khiveExplorer.graph.cy;
    const n = cy.getElementById(nid);
    n.style("z-index", 100);
    const box = cy.container().getBoundingClientRect();
    let p = n.renderedPosition();
    if (p.x < 20 || p.y < 20 || p.x > box.width - 20 || p.y > box.height - 20) {
      cy.center(n);
      p = n.renderedPosition();
    }
    return { x: box.left + p.x, y: box.top + p.y };
  }, id);
  await page.mouse.click(at.x, at.y);
}

// Clicks the middle of an edge.
export async function clickEdge(page, id) {
  const at = await page.evaluate((eid) => {
    const cy = window.khiveExplorer.graph.cy;
    const box = cy.container().getBoundingClientRect();
    const p = cy.getElementById(eid).renderedMidpoint();
    return { x: box.left + p.x, y: box.top + p.y };
  }, id);
  await page.mouse.click(at.x, at.y);
}

// The ids of the nodes and edges drawn (not hidden by the relation filter).
export async function graphState(page) {
  return page.evaluate(() => {
    const cy = window.khiveExplorer.graph.cy;
    return { nodeIds: cy.nodes().not(".filtered").map((n) => n.id()), edgeIds: cy.edges().not(".filtered").map((e) => e.id()) };
  });
}

export async function screenshot(page, dir, name) {
  if (page.problems.length) throw new Error(page.problems.join("\n"));
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
