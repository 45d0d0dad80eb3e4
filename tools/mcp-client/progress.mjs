// `khive mcp` reindex with progress, driven by the official TypeScript SDK client: a call with
// onprogress carries a progressToken, and the server sends notifications/progress per batch
// before the result; a call without one gets the result alone.
//   node progress.mjs /path/to/khive /path/to/khive.toml /path/to/db
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import assert from "node:assert/strict";

const [khive, config, db] = process.argv.slice(2);
if (!khive || !config || !db) {
  console.error("usage: node progress.mjs KHIVE_BINARY CONFIG DATABASE");
  process.exit(2);
}

const transport = new StdioClientTransport({ command: khive, args: ["--config", config, "--db", db, "mcp"], stderr: "pipe" });
const client = new Client({ name: "khive-e2e-progress", version: "1.0.0" });
const transportErrors = [];
client.onerror = (e) => transportErrors.push(e);
await client.connect(transport);
// Every message as it arrives, in order. The SDK hands notifications to their handlers a
// microtask later but settles a response at once, so progress that arrives in the same read
// as the result reaches onprogress after the call has finished and is dropped ("unknown
// token"); what the server sent is checked here.
const received = [];
const deliver = transport.onmessage;
transport.onmessage = (message, extra) => {
  received.push(message);
  deliver(message, extra);
};

async function call(name, args, options) {
  const r = await client.callTool({ name, arguments: args }, undefined, options);
  if (r.isError) throw new Error(`${name} failed: ${r.content[0].text}`);
  return r.structuredContent;
}

const words = ["dog puppy", "canine bark", "boat sail", "harbor anchor", "mast keel"];
for (const [i, w] of words.entries()) await call("create_entity", { kind: "concept", name: `e${i}`, description: w });

const updates = [];
const sum = await call("reindex", { batch: 2 }, { onprogress: (p) => updates.push(p) });
assert.equal(sum.entities, 5);
assert.equal(sum.dimensions, 16);
const response = received.findIndex((m) => "result" in m && m.result.structuredContent?.entities === 5);
const progress = received.slice(0, response).filter((m) => m.method === "notifications/progress");
assert.deepEqual(progress.map((m) => m.params.progress), [0, 2, 4, 5], JSON.stringify(received));
for (const { params: p } of progress) {
  assert.equal(p.progressToken, received[response].id, "progress under the SDK's token (the request id)");
  assert.equal(p.total, 5);
  assert.match(p.message, /^reindexed \d+ of 5 records$/);
}
// What reached onprogress is a prefix of what the server sent. It may be nothing: when the
// whole reindex arrives in one read, the SDK settles the call before it delivers any of it.
assert.deepEqual(updates, progress.slice(0, updates.length).map(({ params: { progressToken, ...p } }) => p));

// Without onprogress the SDK sends no token, and the server sends no notification.
const before = received.length;
const quiet = await call("reindex", {});
assert.equal(quiet.entities, 5);
assert.deepEqual(received.slice(before).filter((m) => m.method === "notifications/progress"), []);

const others = transportErrors.filter((e) => !/progress notification for an unknown token/.test(e.message));
assert.deepEqual(others, [], "stdout carried protocol messages only");
await client.close();
console.log("mcp progress ok: %d notifications, %d through onprogress", progress.length, updates.length);
