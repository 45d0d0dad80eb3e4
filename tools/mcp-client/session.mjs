// End-to-end MCP session against `khive mcp`, driven by the official TypeScript SDK client.
//   node session.mjs /path/to/khive /path/to/db
// Exits non-zero (with the failed check on stderr) on any deviation.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import assert from "node:assert/strict";

const [khive, db] = process.argv.slice(2);
if (!khive || !db) {
  console.error("usage: node session.mjs KHIVE_BINARY DATABASE");
  process.exit(2);
}

const transport = new StdioClientTransport({ command: khive, args: ["--db", db, "mcp"], stderr: "pipe" });
const client = new Client({ name: "khive-e2e", version: "1.0.0" });
await client.connect(transport);

const version = client.getServerVersion();
assert.equal(version.name, "khive");

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
for (const t of ["create_entity", "create_note", "link", "search", "query", "traverse", "get", "neighbors", "path", "delete", "merge", "update", "list", "stats", "reindex", "doctor"])
  assert.ok(names.includes(t), `tool ${t} listed`);
for (const t of tools) assert.equal(t.inputSchema.type, "object", `${t.name} has an object schema`);

async function call(name, args) {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name} failed: ${r.content[0].text}`);
  assert.equal(r.content[0].type, "text");
  return r.structuredContent;
}

const dog = await call("create_entity", { kind: "concept", name: "dog", description: "a domesticated canine" });
const canine = await call("create_entity", { kind: "concept", name: "canine", description: "a carnivore of the dog family" });
const animal = await call("create_entity", { kind: "concept", name: "animal" });
assert.match(dog.id, /^[0-9a-f-]{36}$/);
assert.equal(dog.namespace, "default");
const e1 = await call("link", { source: dog.id, relation: "instance_of", target: canine.id.slice(0, 36) });
assert.equal(e1.relation, "instance_of");
await call("link", { source: canine.id, relation: "instance_of", target: animal.id, weight: 0.9 });
const note = await call("create_note", { kind: "observation", content: "dogs are loyal", salience: 0.7 });
await call("link", { source: note.id, relation: "annotates", target: dog.id });

const got = await call("get", { id: dog.id });
assert.equal(got.name, "dog");
assert.equal(got.type, "entity");

const found = await call("search", { text: "canine" });
assert.ok(found.hits.length >= 2, "search finds both canine documents");
assert.ok(found.hits.every((h) => h.signals && "text" in h.signals && "vector" in h.signals));

const q = await call("query", { text: "MATCH (a:concept {name:'dog'})-[:instance_of*1..3]->(b) RETURN b.name" });
assert.deepEqual(q.columns, ["b_name"]);
assert.deepEqual(q.rows.map((r) => r[0]).sort(), ["animal", "canine"]);
assert.equal(q.truncated, false);
const sq = await call("query", { text: "SELECT ?b WHERE { ?a :name 'dog' . ?a :instance_of+ ?b . }" });
assert.equal(sq.rows.length, 2);

const walk = await call("traverse", { roots: [dog.id], depth: 3, relations: ["instance_of"] });
assert.deepEqual(walk.paths[0].nodes.map((n) => n.name), ["dog", "canine", "animal"]);
assert.equal(walk.paths[0].nodes[1].via_edge, e1.id);

const nb = await call("neighbors", { id: dog.id });
assert.equal(nb.neighbors.length, 2);
const stats = await call("stats", {});
assert.equal(stats.entities, 3);
assert.equal(stats.edges, 3);

// Tool errors come back as isError results.
for (const [name, args, pattern] of [
  ["create_entity", { kind: "spaceship", name: "x" }, /unknown entity kind/],
  ["link", { source: dog.id, relation: "annotates", target: canine.id }, /starts at a note/],
  ["link", { source: dog.id, relation: "extends", target: canine.id, weight: 2 }, /outside \[0, 1\]/],
  ["get", { id: "00000000" }, /no record/],
  ["get", { id: "xyz" }, /not an id/],
  ["query", { text: "MATCH (a RETURN a" }, /expected/],
  ["query", { text: "CREATE (a:concept)" }, /.+/],
  ["create_entity", { kind: "concept" }, /'name' is required/],
  ["reindex", {}, /no embedding engine configured/],
]) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} is an error`);
  assert.match(r.content[0].text, pattern);
}
// An argument the tool's schema does not declare, or of the wrong type, is an invalid-params
// protocol error and nothing is done.
await assert.rejects(client.callTool({ name: "delete", arguments: { id: dog.id, hrad: true } }), /unknown argument 'hrad'/);
await assert.rejects(client.callTool({ name: "search", arguments: { text: "dog", limit: "5" } }), /'limit' .* must be an integer/);
assert.equal((await call("get", { id: dog.id })).deleted_at, null, "the misspelled delete deleted nothing");

// doctor reports the index state; with no engine configured, no engines.
const doctor = await call("doctor", { probe: false });
assert.equal(doctor.engine, "sqlite");
assert.equal(doctor.engines.length, 0);
assert.ok(doctor.index.live_records >= 2, "doctor counts live records");

// Unknown tools are protocol errors.
await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), /unknown tool/);

await client.close();
console.log("mcp session ok: %d tools", tools.length);
