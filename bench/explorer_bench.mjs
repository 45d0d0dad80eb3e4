// Click-to-expand time of the explorer page with 2,000 nodes on screen, in headless Debian
// chromium (bench/explorer_bench.sh runs it). A GQL query over WordNet draws at least 2,000
// nodes; then nodes are clicked one after another and the time from the click to the frame
// that shows their neighbours is measured in the page (tap handler to the second animation
// frame after the nodes are added: the neighbours request, the graph update and the paint) and
// from puppeteer (mouse click to the page reporting it, one more round trip). Prints medians.
//   node explorer_bench.mjs KHIVE NODE_MODULES [CLICKS]
import fs from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { createToken, khiveCli, startServer, tmpDir, writeConfig } from "../tests/serve/harness.mjs";
import { launch, openPage, signIn } from "../tests/explorer/page.mjs";

const [khive, nodeModules, clicksArg] = process.argv.slice(2);
const clicks = Number(clicksArg || 15);
const dir = tmpDir("explorer-bench");
const db = path.join(dir, "wordnet.db");
const config = writeConfig(dir);
khiveCli(khive, ["--db", db, "--namespace", "wordnet", "import", "--format", "wordnet"]);
const token = createToken(khive, config, ["--actor", "bench", "--read", "wordnet", "--read-only"]).token;
const server = await startServer(khive, config, { args: ["--db", db] });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
let browser;
try {
  browser = await launch(nodeModules);
  const page = await openPage(browser, server.url);
  await signIn(page, token);
  await page.waitForSelector("#app:not([hidden])");
  await page.click('.tabs button[data-tab="query"]');
  await page.$eval("#query-cap", (e) => (e.value = "10000"));
  let nodes = 0;
  let drawMs = 0;
  for (let limit = 1100; nodes < 2000; limit += 100) {
    await page.$eval("#query-text", (e, text) => (e.value = text), `MATCH (a:concept)-[e:instance_of]->(b) RETURN a, e, b LIMIT ${limit}`);
    const t0 = Date.now();
    await page.click("#query-run");
    await page.waitForFunction((l) => document.getElementById("query-status").textContent.startsWith(`${l} rows`), { timeout: 120000 }, limit);
    drawMs = Date.now() - t0;
    nodes = await page.evaluate(() => window.khiveExplorer.counts().nodes);
  }
  const start = await page.evaluate(() => window.khiveExplorer.counts());
  console.log(`graph: ${start.nodes} nodes, ${start.edges} edges (query, table and ring layout: ${drawMs} ms)`);

  // The hubs of the query's stars first: WordNet gives them the most neighbours to add (up to
  // the page's 100 per node).
  const candidates = await page.evaluate(() =>
    window.khiveExplorer.graph.cy.nodes().sort((a, b) => b.degree() - a.degree()).map((n) => n.id()));
  const inPage = [];
  const wall = [];
  const added = [];
  for (const id of candidates) {
    if (inPage.length === clicks) break;
    if (await page.evaluate((nid) => window.khiveExplorer.state.expanded.has(nid), id)) continue;
    const at = await page.evaluate((nid) => {
      const cy = window.khiveExplorer.graph.cy;
      const n = cy.getElementById(nid);
      cy.zoom(1);
      cy.center(n);
      const box = cy.container().getBoundingClientRect();
      const p = n.renderedPosition();
      return { x: box.left + p.x, y: box.top + p.y, before: cy.nodes().length, expanded: window.khiveExplorer.state.expanded.size };
    }, id);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await page.mouse.click(at.x, at.y);
    // The node clicked may be another one drawn on top of it: any expansion counts.
    await page.waitForFunction((n) => window.khiveExplorer.state.expanded.size > n && window.khiveExplorer.state.pending === 0,
                               { timeout: 30000 }, at.expanded);
    wall.push(performance.now() - t0);
    const after = await page.evaluate(() => ({ ms: window.khiveExplorer.state.lastExpandMs, nodes: window.khiveExplorer.graph.cy.nodes().length }));
    inPage.push(after.ms);
    added.push(after.nodes - at.before);
  }
  assert.ok(inPage.length > 0);
  const end = await page.evaluate(() => window.khiveExplorer.counts());
  console.log(`clicks: ${inPage.length}, nodes added per click: median ${median(added)}, graph now ${end.nodes} nodes, ${end.edges} edges`);
  console.log(`click to painted (in page): median ${median(inPage).toFixed(1)} ms, max ${Math.max(...inPage).toFixed(1)} ms`);
  console.log(`click to reported (puppeteer): median ${median(wall).toFixed(1)} ms, max ${Math.max(...wall).toFixed(1)} ms`);
} finally {
  if (browser) await browser.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
