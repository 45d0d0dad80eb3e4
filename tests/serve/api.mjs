// The /v1 JSON API of `khive serve`, every verb, on one backend:
//   node api.mjs KHIVE_BINARY sqlite|postgres
// Authentication (none, unknown, expired, revoked: 401 with WWW-Authenticate), grants
// (read-only: 403, nothing written), error statuses and bodies, OpenAPI, operations
// endpoints, the request log (request ids, never a token), body limit.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import { backendArgs, createToken, khiveCli, request, startServer, tmpDir, writeConfig, snapshot } from "./harness.mjs";

const [khive, kind] = process.argv.slice(2);
const dir = tmpDir(`api-${kind}`);
const backend = backendArgs(kind, dir, "api");
// A token given in the config by its hash only.
const configToken = "khive_cfg00001_" + "7".repeat(64);
const configHash = crypto.createHash("sha256").update(configToken).digest("hex");
const config = writeConfig(
  dir,
  `[[tokens]]\nid = "ci"\nsha256 = "${configHash}"\nactor = "ci-bot"\nread = ["team-a"]\nread_only = true\n`,
  `max_body_bytes = 65536\nslow_client_timeout_s = 2\n${backend.server}`,
);
const alice = createToken(khive, config, ["--actor", "alice", "--write", "team-a", "--read", "shared"]);
const reader = createToken(khive, config, ["--actor", "rita", "--read", "team-a", "--read-only"]);
const expired = createToken(khive, config, ["--actor", "old", "--write", "team-a", "--expires", "1"]);
const revoked = createToken(khive, config, ["--actor", "gone", "--write", "team-a"]);
khiveCli(khive, ["--config", config, "token", "revoke", revoked.id]);
const server = await startServer(khive, config, backend);
const A = alice.token;

try {
  // ---- operations -----------------------------------------------------------------------
  assert.deepEqual((await request(server, "GET", "/healthz")).body, { status: "ok" });
  assert.deepEqual((await request(server, "GET", "/readyz")).body, { status: "ready" });

  // ---- authentication ---------------------------------------------------------------------
  for (const [token, why] of [[undefined, ""], ["khive_00000000_nope", "not known"], [expired.token, "expired"], [revoked.token, "revoked"]]) {
    const r = await request(server, "GET", "/v1/stats", { token });
    assert.equal(r.status, 401, why);
    assert.match(r.headers.get("www-authenticate"), /^Bearer realm="khive"/);
    assert.equal(r.body.error.code, "unauthorized");
    if (why) assert.match(r.body.error.message, new RegExp(why));
  }

  // ---- every verb -------------------------------------------------------------------------
  const e1 = await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "Alpha", description: "first letter", tags: ["x"] } });
  assert.equal(e1.status, 201, JSON.stringify(e1.body));
  assert.equal(e1.body.namespace, "team-a");
  const e2 = await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "Beta" } });
  const e3 = await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "Alpha copy" } });
  const n1 = await request(server, "POST", "/v1/notes", { token: A, body: { kind: "observation", content: "Alpha comes before Beta" } });
  assert.equal(n1.status, 201);
  const l1 = await request(server, "POST", "/v1/edges", { token: A, body: { source: e1.body.id, relation: "extends", target: e2.body.id } });
  assert.equal(l1.status, 201, JSON.stringify(l1.body));

  let r = await request(server, "GET", `/v1/records/${e1.body.id}`, { token: A });
  assert.equal(r.status, 200);
  assert.equal(r.body.name, "Alpha");
  assert.equal((await request(server, "GET", `/v1/records/${n1.body.id}`, { token: A })).body.type, "note");
  assert.equal((await request(server, "GET", `/v1/records/${l1.body.id}`, { token: A })).body.type, "edge");
  // A unique prefix resolves like the CLI.
  assert.equal((await request(server, "GET", `/v1/records/${e1.body.id.slice(0, 13)}`, { token: A })).body.id, e1.body.id);

  r = await request(server, "PATCH", `/v1/records/${e1.body.id}`, { token: A, body: { description: "the first", properties: { rank: 1 } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.description, "the first");

  r = await request(server, "GET", "/v1/records?type=entity&kinds=concept&limit=2", { token: A });
  assert.equal(r.status, 200);
  assert.equal(r.body.items.length, 2);
  assert.equal(r.body.next_offset, 2);

  r = await request(server, "GET", `/v1/records/${e1.body.id}/neighbors?direction=out`, { token: A });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.neighbors.length, 1, JSON.stringify(r.body));

  r = await request(server, "POST", "/v1/traverse", { token: A, body: { roots: [e1.body.id], depth: 2 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  r = await request(server, "GET", `/v1/path?from=${e1.body.id}&to=${e2.body.id}`, { token: A });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.found, true);

  r = await request(server, "POST", "/v1/search", { token: A, body: { text: "Alpha", limit: 5 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.hits.some((h) => h.id === e1.body.id));
  r = await request(server, "POST", "/v1/search", { token: A, body: { text: "Beta" } });
  assert.ok(r.body.hits.some((h) => h.id === e2.body.id));

  r = await request(server, "POST", "/v1/query", { token: A, body: { text: "MATCH (a)-[:extends]->(b) RETURN a.name, b.name" } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.rows, [["Alpha", "Beta"]]);

  r = await request(server, "GET", "/v1/stats", { token: A });
  assert.equal(r.body.entities, 3);
  assert.ok(!("location" in r.body), "a token holder is not told the server's database path");

  r = await request(server, "POST", `/v1/entities/${e3.body.id}/merge`, { token: A, body: { into: e1.body.id } });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  r = await request(server, "GET", "/v1/doctor?probe=false", { token: A });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(!("location" in r.body), "doctor over HTTP leaves out the database path");

  r = await request(server, "POST", "/v1/reindex", { token: A, body: {} });
  assert.equal(r.status, 400, "no engine configured");
  assert.equal(r.body.error.code, "invalid_input");

  r = await request(server, "DELETE", `/v1/records/${n1.body.id}`, { token: A });
  assert.equal(r.status, 200);
  assert.notEqual((await request(server, "GET", `/v1/records/${n1.body.id}`, { token: A })).body.deleted_at, null, "soft-deleted");
  r = await request(server, "DELETE", `/v1/records/${n1.body.id}?hard=true`, { token: A });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await request(server, "GET", `/v1/records/${n1.body.id}`, { token: A })).status, 404);

  // ---- errors -----------------------------------------------------------------------------
  r = await request(server, "POST", "/v1/entities", { token: A, body: { kind: "nonsense", name: "x" } });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, "invalid_input");
  assert.match(r.body.error.request_id, /^[0-9a-f]{16}$/);
  assert.equal(r.headers.get("x-request-id"), r.body.error.request_id);
  assert.equal((await request(server, "POST", "/v1/entities", { token: A, body: "{not json" })).status, 400);
  assert.equal((await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "x", bogus: 1 } })).status, 400);
  r = await request(server, "GET", "/v1/records?limit=abc", { token: A });
  assert.equal(r.status, 400);
  assert.deepEqual([r.body.error.data.argument, r.body.error.data.problem], ["limit", "type"], JSON.stringify(r.body));
  r = await request(server, "GET", "/v1/records?limit=0", { token: A });
  assert.equal(r.body.error.data.problem, "range", JSON.stringify(r.body));
  r = await request(server, "GET", "/v1/records?nope=1", { token: A });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /unknown argument 'nope'/);
  assert.equal((await request(server, "PATCH", `/v1/records/${e1.body.id}?id=${e2.body.id}`, { token: A, body: {} })).status, 400, "path and query differ");
  assert.equal((await request(server, "GET", "/v1/records/00000000-0000-7000-8000-000000000000", { token: A })).status, 404);
  assert.equal((await request(server, "PUT", "/v1/records", { token: A })).status, 405);
  assert.equal((await request(server, "GET", "/v1/nothing", { token: A })).status, 404);
  r = await request(server, "POST", "/v1/entities", { token: A, body: { kind: "concept", name: "x".repeat(70000) } });
  assert.equal(r.status, 413);

  // ---- grants -----------------------------------------------------------------------------
  const before = await snapshot(server, A);
  r = await request(server, "POST", "/v1/entities", { token: reader.token, body: { kind: "concept", name: "nope" } });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(r.body.error.code, "permission_denied");
  r = await request(server, "PATCH", `/v1/records/${e1.body.id}`, { token: reader.token, body: { name: "nope" } });
  assert.equal(r.status, 403);
  r = await request(server, "DELETE", `/v1/records/${e1.body.id}`, { token: reader.token });
  assert.equal(r.status, 403);
  assert.equal((await request(server, "GET", `/v1/records/${e1.body.id}`, { token: reader.token })).status, 200, "read-only reads");
  assert.deepEqual(await snapshot(server, A), before, "a refused write changes nothing");

  // ---- a token from [[tokens]] ------------------------------------------------------------
  r = await request(server, "GET", `/v1/records/${e1.body.id}`, { token: configToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await request(server, "POST", "/v1/entities", { token: configToken, body: { kind: "concept", name: "x" } })).status, 403);

  // ---- OpenAPI ----------------------------------------------------------------------------
  const doc = (await request(server, "GET", "/v1/openapi.json")).body;
  assert.equal(doc.openapi, "3.1.0");
  const ops = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
  for (const v of ["create_entity", "create_note", "link", "get", "update", "delete", "list", "neighbors", "merge", "traverse", "path", "search", "query", "stats", "reindex", "doctor"])
    assert.ok(ops.includes(v), `OpenAPI has ${v}`);
  assert.ok(doc.paths["/v1/records/{id}"].get.parameters.some((p) => p.in === "path" && p.name === "id"));
  assert.ok(doc.paths["/v1/entities"].post.responses["201"], "create answers 201");
  for (const s of ["401", "409", "413", "429", "503", "504"]) assert.ok(doc.paths["/v1/stats"].get.responses[s], s);
  assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
  assert.ok(doc.paths["/v1/entities/{from}/merge"].post.parameters.some((p) => p.in === "path" && p.name === "from"));

  // ---- metrics and log ----------------------------------------------------------------------
  const m = await request(server, "GET", "/metrics");
  assert.match(m.body, /khive_http_requests_total\{route="\/v1\/entities",method="POST",status="201"\} 3\n/);
  assert.match(m.body, /khive_http_request_duration_seconds_bucket\{route="\/v1\/records\/\{id\}",le="\+Inf"\} \d+/);

  // ---- slow clients -----------------------------------------------------------------------
  // A client that sends half a request and stalls is disconnected after slow_client_timeout_s,
  // and holds no worker meanwhile. Last: the idle keep-alive connections of this client are
  // closed by the same timeout.
  const stalled = net.connect(server.port, "127.0.0.1");
  await new Promise((resolve) => stalled.on("connect", resolve));
  stalled.write("GET /v1/stats HTTP/1.1\r\nHost: x\r\n");
  const closedAt = new Promise((resolve) => stalled.on("close", () => resolve(Date.now())));
  const t0 = Date.now();
  assert.equal((await request(server, "GET", "/healthz")).status, 200, "served while a client stalls");
  const waited = (await closedAt) - t0;
  assert.ok(waited >= 1500 && waited < 10000, `stalled connection closed after ${waited} ms`);
} finally {
  var exit = await server.stop();
  if (backend.drop) backend.drop();
}
{
  assert.equal(exit.code, 0, server.log());
  const log = server.log();
  if (process.env.KHIVE_SERVE_DUMP) fs.writeFileSync(process.env.KHIVE_SERVE_DUMP, log);
  for (const t of [alice, reader, expired, revoked]) assert.ok(!log.includes(t.token.slice(15)), "no token in the log");
  const lines = log.split("\n").filter((l) => l.startsWith("{")).map(JSON.parse);
  assert.ok(lines.length > 40, `${lines.length} log lines`);
  for (const l of lines) assert.match(l.request_id, /^[0-9a-f]{16}$/);
  assert.ok(lines.some((l) => l.actor === "alice" && l.token_id === alice.id));
}
console.log(`serve api (${kind}) ok`);
