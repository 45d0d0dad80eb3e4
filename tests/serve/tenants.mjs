// Two tenants on one `khive serve`: every verb of tenant B aimed at tenant A's ids and
// namespaces gets 403 or 404, and A's records and events are unchanged afterwards.
//   node tenants.mjs KHIVE_BINARY sqlite|postgres
import assert from "node:assert/strict";
import { backendArgs, createToken, request, snapshot, startServer, tmpDir, writeConfig } from "./harness.mjs";

const [khive, kind] = process.argv.slice(2);
const dir = tmpDir(`tenants-${kind}`);
const backend = backendArgs(kind, dir, "tenants");
const config = writeConfig(dir, "", backend.server);
const a = createToken(khive, config, ["--actor", "alice", "--write", "team-a"]);
const b = createToken(khive, config, ["--actor", "bob", "--write", "team-b"]);
const server = await startServer(khive, config, backend);
const A = a.token;
const B = b.token;
const ok = (r, status) => assert.equal(r.status, status, JSON.stringify(r.body));

try {
  const e1 = (await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "Alpha secret", description: "tenant a" } })).body;
  const e2 = (await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "Beta secret" } })).body;
  const n1 = (await request(server, "POST", "/v1/notes", { token: A, body: { kind: "observation", content: "Alpha secret note" } })).body;
  const l1 = (await request(server, "POST", "/v1/edges", { token: A, body: { source: e1.id, relation: "extends", target: e2.id } })).body;
  const eb = (await request(server, "POST", "/v1/entities", { token: B, body: { kind: "concept", name: "Bob's own" } })).body;
  assert.equal(eb.namespace, "team-b");
  const before = await snapshot(server, A);
  assert.equal(before.entity.length, 2);

  const denied = [403, 404];
  const attempts = [];
  for (const id of [e1.id, n1.id, l1.id, e1.id.slice(0, 30), e1.id.replace(/-/g, "").slice(0, 28)]) {
    attempts.push(["GET", `/v1/records/${id}`]);
    attempts.push(["PATCH", `/v1/records/${id}`, { name: "taken" }]);
    attempts.push(["DELETE", `/v1/records/${id}`]);
    attempts.push(["DELETE", `/v1/records/${id}?hard=true`]);
    attempts.push(["GET", `/v1/records/${id}/neighbors`]);
  }
  attempts.push(["POST", "/v1/traverse", { roots: [e1.id] }]);
  attempts.push(["GET", `/v1/path?from=${e1.id}&to=${e2.id}`]);
  attempts.push(["GET", `/v1/path?from=${eb.id}&to=${e1.id}`]);
  attempts.push(["POST", `/v1/entities/${e1.id}/merge`, { into: eb.id }]);
  attempts.push(["POST", `/v1/entities/${eb.id}/merge`, { into: e1.id }]);
  attempts.push(["POST", "/v1/edges", { source: eb.id, relation: "extends", target: e1.id }]);
  attempts.push(["POST", "/v1/edges", { source: e1.id, relation: "extends", target: eb.id }]);
  attempts.push(["POST", "/v1/reindex", { namespaces: ["team-a"] }]);
  for (const [method, p, body] of attempts) {
    const r = await request(server, method, p, { token: B, body });
    assert.ok(denied.includes(r.status), `${method} ${p} by tenant B: ${r.status} ${JSON.stringify(r.body)}`);
  }
  // Reads that cannot name a record see only B's own.
  let r = await request(server, "GET", "/v1/records?type=entity&limit=1000", { token: B });
  ok(r, 200);
  assert.deepEqual(r.body.items.map((x) => x.namespace), ["team-b"]);
  for (const type of ["note", "edge", "event"]) {
    r = await request(server, "GET", `/v1/records?type=${type}&limit=1000`, { token: B });
    assert.ok(r.body.items.every((x) => x.namespace === "team-b"), type);
  }
  r = await request(server, "POST", "/v1/search", { token: B, body: { text: "secret" } });
  ok(r, 200);
  assert.equal(r.body.hits.length, 0);
  r = await request(server, "POST", "/v1/query", { token: B, body: { text: "MATCH (n) RETURN n.name" } });
  ok(r, 200);
  assert.deepEqual(r.body.rows, [["Bob's own"]]);
  r = await request(server, "POST", "/v1/query", { token: B, body: { text: "SELECT ?n WHERE { ?e <name> ?n }" } });
  assert.ok(r.status === 400 || (r.status === 200 && r.body.rows.every((row) => !String(row[0]).includes("secret"))), JSON.stringify(r.body));
  r = await request(server, "GET", "/v1/stats", { token: B });
  assert.equal(r.body.entities, 1);

  const after = await snapshot(server, A);
  assert.deepEqual(after, before, "tenant A's records and events are unchanged");
} finally {
  var exit = await server.stop();
  if (backend.drop) backend.drop();
}
assert.equal(exit.code, 0, server.log());
console.log(`serve tenants (${kind}) ok`);
