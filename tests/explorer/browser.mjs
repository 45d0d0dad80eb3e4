// The explorer page of `khive serve` in a real browser: Debian's chromium, headless, driven by
// puppeteer-core (tools/explorer/package-lock.json; no browser download). WordNet (Debian
// wordnet-base) is imported into namespace "wordnet"; a read-only token of that namespace signs
// in, searches, opens neighbourhoods, expands a node by clicking it, filters relations and runs
// GQL and SPARQL queries (with explain); every count on the page is checked against the same
// request made to the API directly. A token of another namespace then sees none of it.
// Screenshots go to ARTEFACT_DIR.
//   node browser.mjs KHIVE NODE_MODULES ARTEFACT_DIR
import fs from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { createToken, khiveCli, request, startServer, tmpDir, writeConfig } from "../serve/harness.mjs";
import { launch, openPage, signIn, waitIdle, clickNode, clickEdge, graphState, screenshot } from "./page.mjs";

const [khive, nodeModules, artefacts] = process.argv.slice(2);
fs.mkdirSync(artefacts, { recursive: true });
assert.ok(fs.existsSync("/usr/share/wordnet/data.noun"), "WordNet data missing: apt-get install wordnet-base");

const dir = tmpDir("explorer");
const db = path.join(dir, "wordnet.db");
const config = writeConfig(dir);
khiveCli(khive, ["--db", db, "--namespace", "wordnet", "import", "--format", "wordnet"]);
khiveCli(khive, ["--db", db, "--namespace", "other", "create", "entity", "--kind", "concept", "--name", "other cat"]);
const reader = createToken(khive, config, ["--actor", "reader", "--read", "wordnet", "--read-only"]).token;
const stranger = createToken(khive, config, ["--actor", "stranger", "--write", "other"]).token;
const server = await startServer(khive, config, { args: ["--db", db] });
const api = async (method, p, body, token = reader) => {
  const r = await request(server, method, p, { token, body });
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const step = (what) => console.log(`- ${what}`);

// The distinct nodes and edges of the neighbours of `ids` as the page fetches them.
async function neighbourhood(ids, relations) {
  const nodes = new Set(ids);
  const edges = new Set();
  for (const id of ids) {
    const r = await api("GET", `/v1/records/${id}/neighbors?direction=both&limit=100${relations ? `&relations=${relations}` : ""}`);
    for (const n of r.neighbors) {
      nodes.add(n.id);
      edges.add(n.edge_id);
    }
  }
  return { nodes, edges };
}

let browser;
try {
  // ---- the files -------------------------------------------------------------------------
  step("static files");
  let r = await request(server, "GET", "/");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/html/);
  assert.match(r.headers.get("content-security-policy"), /default-src 'self'/);
  assert.match(r.body, /<title>khive explorer<\/title>/);
  const etag = r.headers.get("etag");
  assert.equal((await request(server, "GET", "/", { headers: { "if-none-match": etag } })).status, 304);
  r = await request(server, "GET", "/explorer/cytoscape.min.js");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/javascript/);
  assert.ok(r.body.length > 100000);
  assert.equal((await request(server, "POST", "/")).status, 405);
  assert.equal((await request(server, "GET", "/explorer/nope.js")).status, 404);

  browser = await launch(nodeModules);
  const page = await openPage(browser, server.url);

  // ---- sign in ---------------------------------------------------------------------------
  step("sign in");
  await signIn(page, "khive_00000000_" + "0".repeat(64));
  await page.waitForFunction(() => document.getElementById("signin-error").textContent.includes("refused"));
  assert.equal(await page.$eval("#app", (e) => e.hidden), true);
  await signIn(page, reader);
  await page.waitForSelector("#app:not([hidden])");
  assert.deepEqual(await page.$$eval("#namespaces .ns", (xs) => xs.map((x) => x.textContent)), (await api("GET", "/v1/stats")).namespaces);
  assert.deepEqual(await page.$$eval("#namespaces .ns", (xs) => xs.map((x) => x.textContent)), ["wordnet"]);
  assert.ok(!page.url().includes(reader.slice(6)), "the token is never in the URL");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("khive.token")), reader);

  // ---- search ----------------------------------------------------------------------------
  step("search dog");
  await page.type("#search-text", "dog");
  await page.click("#search-form button");
  await page.waitForFunction(() => document.querySelectorAll("#hits li").length > 0);
  const hits = (await api("POST", "/v1/search", { text: "dog", limit: 25 })).hits;
  assert.deepEqual(await page.$$eval("#hits li", (xs) => xs.map((x) => x.dataset.id)), hits.map((h) => h.id));
  assert.deepEqual(await page.$$eval("#hits li .name", (xs) => xs.map((x) => x.textContent)), hits.map((h) => h.name));
  await screenshot(page, artefacts, "search-dog");

  // The first hit named "dog": its neighbourhood at depth 1.
  const dogHit = hits.find((h) => h.name === "dog");
  assert.ok(dogHit, "a hit named dog");
  await page.click(`#hits li[data-id="${dogHit.id}"]`);
  await waitIdle(page, dogHit.id);
  let want = await neighbourhood([dogHit.id]);
  let got = await graphState(page);
  assert.deepEqual(got.nodeIds.sort(), [...want.nodes].sort());
  assert.deepEqual(got.edgeIds.sort(), [...want.edges].sort());
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  assert.equal(await page.$eval("#counts", (e) => e.textContent), `${plural(want.nodes.size, "node")} · ${plural(want.edges.size, "edge")}`);

  // ---- the domestic dog ------------------------------------------------------------------
  step("neighbourhood of the domestic dog");
  const dogId = (await api("POST", "/v1/query", { text: "MATCH (d:concept {wordnet_id: '02084071-n'}) RETURN d.id" })).rows[0][0];
  await page.$eval("#search-text", (e) => (e.value = ""));
  await page.type("#search-text", "domestic dog");
  await page.click("#search-form button");
  await page.waitForSelector(`#hits li[data-id="${dogId}"]`);
  await page.click(`#hits li[data-id="${dogId}"]`);
  await waitIdle(page, dogId);
  want = await neighbourhood([dogId]);
  got = await graphState(page);
  assert.deepEqual(got.nodeIds.sort(), [...want.nodes].sort());
  assert.deepEqual(got.edgeIds.sort(), [...want.edges].sort());
  // The record panel: fields and properties of the record as the API returns it.
  const dogRecord = await api("GET", `/v1/records/${dogId}`);
  assert.equal(await page.$eval("#record-title", (e) => e.textContent), dogRecord.name);
  assert.equal(await page.$eval('#record-fields td[data-field="description"]', (e) => e.textContent), dogRecord.description);
  assert.equal(await page.$eval('#record-properties td[data-field="wordnet_id"]', (e) => e.textContent), "02084071-n");
  assert.equal(await page.$eval('#record-properties td[data-field="lemmas"]', (e) => e.textContent), dogRecord.properties.lemmas.join(", "));
  // The legend names every kind on the graph.
  assert.deepEqual(await page.$$eval("#legend .item[data-kind]", (xs) => xs.map((x) => x.dataset.kind)), ["concept"]);
  await screenshot(page, artefacts, "dog-neighbourhood");

  step("click to expand");
  const canine = (await api("GET", `/v1/records/${dogId}/neighbors?direction=both&limit=100`)).neighbors.find((n) => n.name === "canine");
  await clickNode(page, canine.id);
  await page.waitForFunction((id) => window.khiveExplorer.state.expanded.has(id) && window.khiveExplorer.state.pending === 0, {}, canine.id);
  want = await neighbourhood([dogId, canine.id]);
  got = await graphState(page);
  assert.deepEqual(got.nodeIds.sort(), [...want.nodes].sort());
  assert.deepEqual(got.edgeIds.sort(), [...want.edges].sort());
  assert.equal(await page.$eval("#record-title", (e) => e.textContent), "canine");
  await screenshot(page, artefacts, "dog-expanded");

  step("an edge's record");
  const canineEdge = (await api("GET", `/v1/records/${dogId}/neighbors?direction=both&limit=100`)).neighbors.find((n) => n.id === canine.id).edge_id;
  await clickEdge(page, canineEdge);
  await page.waitForFunction((id) => document.getElementById("record").dataset.id === id, {}, canineEdge);
  const edgeRecord = await api("GET", `/v1/records/${canineEdge}`);
  assert.equal(await page.$eval("#record-title", (e) => e.textContent), edgeRecord.relation);
  assert.equal(await page.$eval('#record-fields td[data-field="source_id"]', (e) => e.textContent), edgeRecord.source_id);
  assert.equal(await page.$eval('#record-fields td[data-field="target_id"]', (e) => e.textContent), edgeRecord.target_id);
  assert.equal(await page.$eval('#record-fields td[data-field="target"]', (e) => e.textContent), "canine");
  assert.equal(await page.$eval('#record-fields td[data-field="weight"]', (e) => e.textContent), String(edgeRecord.weight));
  assert.equal(await page.$eval("#record-expand", (e) => e.hidden), true);
  await clickNode(page, canine.id);
  await waitIdle(page, canine.id);

  step("depth 2 and a relation filter");
  await page.select("#depth", "2");
  await page.click("#record-root");  // re-open around canine, now selected
  await waitIdle(page, canine.id);
  const level1 = await neighbourhood([canine.id]);
  want = await neighbourhood([...level1.nodes]);
  got = await graphState(page);
  assert.deepEqual(got.nodeIds.sort(), [...want.nodes].sort());
  assert.deepEqual(got.edgeIds.sort(), [...want.edges].sort());
  await page.select("#depth", "1");
  await page.click("#relations summary");
  await page.$$eval("#relations-list input", (xs) => xs.forEach((x) => { if (x.value !== "part_of" && x.checked) x.click(); }));
  await page.click("#relations summary");
  await page.click("#record-root");
  await waitIdle(page, canine.id);
  want = await neighbourhood([canine.id], "part_of");
  got = await graphState(page);
  assert.deepEqual(got.nodeIds.sort(), [...want.nodes].sort());
  assert.deepEqual(got.edgeIds.sort(), [...want.edges].sort());
  await page.click("#relations summary");
  await page.$$eval("#relations-list input", (xs) => xs.forEach((x) => { if (!x.checked) x.click(); }));
  await page.click("#relations summary");

  // ---- queries ---------------------------------------------------------------------------
  step("GQL query drawn as a graph");
  await page.click('.tabs button[data-tab="query"]');
  const gql = "MATCH (d:concept {wordnet_id: '02084071-n'})-[e]-(x) RETURN d, e, x";
  await page.type("#query-text", gql);
  await page.click("#query-run");
  await page.waitForFunction(() => !document.getElementById("results").hidden);
  const gqlResult = await api("POST", "/v1/query", { text: gql });
  assert.equal(await page.$$eval("#result-table tr", (xs) => xs.length - 1), gqlResult.rows.length);
  assert.deepEqual(await page.$$eval("#result-table th", (xs) => xs.map((x) => x.textContent)), gqlResult.columns);
  got = await graphState(page);
  const col = (name) => gqlResult.columns.indexOf(name);
  assert.deepEqual(got.nodeIds.sort(), [...new Set(gqlResult.rows.flatMap((row) => [row[col("d_id")], row[col("x_id")]]))].sort());
  assert.deepEqual(got.edgeIds.sort(), [...new Set(gqlResult.rows.map((row) => row[col("e_id")]))].sort());
  assert.equal(await page.$eval("#explain", (e) => e.hidden), true);
  await screenshot(page, artefacts, "gql-query");

  step("explain");
  await page.click("#query-explain");
  await page.click("#query-run");
  await page.waitForFunction(() => !document.getElementById("explain").hidden);
  const explained = await api("POST", "/v1/query", { text: gql, explain: true });
  const explainText = await page.$eval("#explain", (e) => e.textContent);
  assert.ok(explainText.includes(explained.explain.sql), "the explain panel shows the SQL");
  await page.click("#query-explain");

  step("SPARQL query");
  const sparql = "SELECT ?w WHERE { ?d :wordnet_id '02084071-n' . ?d :part_of ?w . }";
  await page.$eval("#query-text", (e) => (e.value = ""));
  await page.type("#query-text", sparql);
  await page.select("#query-language", "sparql");
  await page.click("#query-run");
  const sparqlResult = await api("POST", "/v1/query", { text: sparql, language: "sparql" });
  await page.waitForFunction((n) => document.getElementById("query-status").textContent.startsWith(`${n} row`), {}, sparqlResult.rows.length);
  assert.ok(sparqlResult.rows.length > 0);
  assert.equal(await page.$$eval("#result-table tr", (xs) => xs.length - 1), sparqlResult.rows.length);

  // ---- another namespace -----------------------------------------------------------------
  step("a token of another namespace sees none of it");
  await page.click("#signout");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("khive.token")), null);
  await signIn(page, stranger);
  await page.waitForSelector("#app:not([hidden])");
  assert.deepEqual(await page.$$eval("#namespaces .ns", (xs) => xs.map((x) => x.textContent)), ["other"]);
  assert.deepEqual((await graphState(page)).nodeIds, []);
  await page.click('.tabs button[data-tab="search"]');
  await page.$eval("#search-text", (e) => (e.value = ""));
  await page.type("#search-text", "dog");
  await page.click("#search-form button");
  await page.waitForFunction(() => document.getElementById("search-status").textContent.includes("hit"));
  assert.equal(await page.$$eval("#hits li", (xs) => xs.length), 0);
  assert.equal((await api("POST", "/v1/search", { text: "dog", limit: 25 }, stranger)).hits.length, 0);
  await page.evaluate((id) => window.khiveExplorer.openNeighbourhood(id), dogId);
  assert.deepEqual((await graphState(page)).nodeIds, []);
  assert.match(await page.$eval("#graph-status", (e) => e.textContent), /not found/);
  await page.click('.tabs button[data-tab="query"]');
  await page.$eval("#query-text", (e) => (e.value = ""));
  await page.select("#query-language", "gql");
  await page.type("#query-text", "MATCH (n) RETURN n");
  await page.click("#query-run");
  await page.waitForFunction(() => /^\d+ row/.test(document.getElementById("query-status").textContent));
  assert.deepEqual(await page.$$eval("#result-table td", (xs) => xs.map((x) => x.textContent).filter((t) => t === "other cat")), ["other cat"]);
  assert.equal(await page.$$eval("#result-table tr", (xs) => xs.length - 1), 1);
  got = await graphState(page);
  assert.equal(got.nodeIds.length, 1);
  await screenshot(page, artefacts, "other-namespace");
  console.log(`ok: screenshots in ${artefacts}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
