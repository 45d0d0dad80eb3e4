// `khive serve` at /mcp driven by the official TypeScript SDK client over its Streamable HTTP
// transport: initialize (session id), the tool list, tool calls under the token's grants,
// reindex with progress over SSE, another tenant's ids, a read-only token, the end of the
// session (DELETE), then the transport rules checked on the wire: MCP-Protocol-Version (400),
// Origin (403), no token (401 + WWW-Authenticate), GET (405), unknown session (404).
//   node http-session.mjs KHIVE_BINARY WORK_DIR FASTTEXT_MODEL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createToken, startServer } from "../../tests/serve/harness.mjs";

const [khive, work, model] = process.argv.slice(2);
const dir = path.join(work, "http");
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const config = path.join(dir, "khive.toml");
fs.writeFileSync(config, `[server]\nport = 0\nworkers = 4\n\n[[engines]]\nname = "ft"\nkind = "fasttext"\npath = "${model}"\nembed_on_write = false\n`);
const alice = createToken(khive, config, ["--actor", "alice", "--write", "team-a"]);
const bob = createToken(khive, config, ["--actor", "bob", "--write", "team-b"]);
const rita = createToken(khive, config, ["--actor", "rita", "--read", "team-a", "--read-only"]);
const server = await startServer(khive, config, { args: ["--db", path.join(dir, "http.db")] });
const endpoint = new URL(`${server.url}/mcp`);

async function connect(token) {
  const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: "khive-e2e-http", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}
async function call(client, name, args, options) {
  const r = await client.callTool({ name, arguments: args }, undefined, options);
  if (r.isError) throw new Error(`${name} failed: ${r.content[0].text}`);
  return r.structuredContent;
}

try {
  const { client, transport } = await connect(alice.token);
  assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
  assert.equal(client.getServerVersion().name, "khive");
  const { tools } = await client.listTools();
  assert.equal(tools.length, 16, "the same tools as over stdio");

  const words = ["dog puppy", "canine bark", "boat sail", "harbor anchor", "mast keel"];
  const ids = [];
  for (const [i, w] of words.entries()) ids.push((await call(client, "create_entity", { kind: "concept", name: `e${i}`, description: w })).id);
  assert.equal((await call(client, "get", { id: ids[0] })).namespace, "team-a");
  assert.equal((await call(client, "search", { text: "e1" })).hits[0].id, ids[1]);

  // reindex with progress: an SSE reply carrying notifications/progress before the result.
  const received = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    received.push(message);
    deliver(message, extra);
  };
  const updates = [];
  const sum = await call(client, "reindex", { batch: 2 }, { onprogress: (p) => updates.push(p) });
  assert.equal(sum.entities, 5);
  const response = received.findIndex((m) => "result" in m && m.result.structuredContent?.entities === 5);
  const progress = received.slice(0, response).filter((m) => m.method === "notifications/progress");
  assert.deepEqual(progress.map((m) => m.params.progress), [0, 2, 4, 5], JSON.stringify(received));
  for (const { params: p } of progress) assert.equal(p.total, 5);
  assert.deepEqual(updates, progress.slice(0, updates.length).map(({ params: { progressToken, ...p } }) => p));

  // Another tenant sees none of it and changes none of it: error results, not protocol errors.
  const other = await connect(bob.token);
  for (const [name, args] of [["get", { id: ids[0] }], ["update", { id: ids[0], name: "x" }], ["delete", { id: ids[0] }],
                              ["link", { source: ids[0], relation: "extends", target: ids[1] }], ["neighbors", { id: ids[0] }]]) {
    const r = await other.client.callTool({ name, arguments: args });
    assert.equal(r.isError, true, `${name} across tenants`);
    assert.match(r.content[0].text, /not_found/);
  }
  assert.equal((await call(other.client, "stats", {})).entities, 0);
  assert.equal((await call(other.client, "search", { text: "e1" })).hits.length, 0);
  // A session belongs to its token: bob cannot use alice's session id.
  const stolen = await fetch(endpoint, {
    method: "POST",
    headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json", accept: "application/json, text/event-stream",
               "mcp-session-id": transport.sessionId, "mcp-protocol-version": "2025-06-18" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });
  assert.equal(stolen.status, 404);
  await other.transport.terminateSession();
  await other.client.close();

  // A read-only token: an error result, nothing written.
  const ro = await connect(rita.token);
  const denied = await ro.client.callTool({ name: "create_entity", arguments: { kind: "concept", name: "nope" } });
  assert.equal(denied.isError, true);
  assert.match(denied.content[0].text, /permission_denied/);
  assert.equal((await call(ro.client, "stats", {})).entities, 5);
  await ro.client.close();

  // ---- the wire rules -----------------------------------------------------------------------
  const sid = transport.sessionId;
  const raw = (method, headers = {}, body) =>
    fetch(endpoint, { method, headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body });
  const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
  let r = await raw("POST", { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" }, ping);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { jsonrpc: "2.0", id: 1, result: {} });
  r = await raw("POST", { "mcp-session-id": sid, "mcp-protocol-version": "1999-01-01" }, ping);
  assert.equal(r.status, 400);
  r = await raw("POST", { "mcp-session-id": sid, origin: "https://evil.example" }, ping);
  assert.equal(r.status, 403);
  r = await raw("POST", { "mcp-session-id": sid, origin: "http://localhost:3000" }, ping);
  assert.equal(r.status, 200);
  r = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json", "mcp-session-id": sid }, body: ping });
  assert.equal(r.status, 401);
  assert.match(r.headers.get("www-authenticate"), /^Bearer/);
  r = await raw("GET", { "mcp-session-id": sid, accept: "text/event-stream" });
  assert.equal(r.status, 405);
  r = await raw("POST", {}, ping);
  assert.equal(r.status, 400, "no session id");
  r = await raw("POST", { "mcp-session-id": sid }, "[" + ping + "]");
  assert.equal(r.status, 400, "batches");
  r = await raw("POST", { "mcp-session-id": sid }, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  assert.equal(r.status, 202);

  // The end of the session.
  await transport.terminateSession();
  r = await raw("POST", { "mcp-session-id": sid }, ping);
  assert.equal(r.status, 404, "the session is gone");
  await client.close();
} finally {
  const exit = await server.stop();
  assert.equal(exit.code, 0, server.log());
}
console.log("mcp over streamable http ok");
