// 64 concurrent clients writing through one `khive serve` lose nothing: every create is
// answered 201 and every answered id is stored, with its event.
//   node concurrent.mjs KHIVE_BINARY sqlite|postgres [CLIENTS] [WRITES_PER_CLIENT]
import assert from "node:assert/strict";
import { backendArgs, createToken, listAll, request, startServer, tmpDir, writeConfig } from "./harness.mjs";

const [khive, kind, clientsArg, perArg] = process.argv.slice(2);
const clients = Number(clientsArg || 64);
const per = Number(perArg || 20);
const dir = tmpDir(`concurrent-${kind}`);
const backend = backendArgs(kind, dir, "concurrent");
const config = writeConfig(dir, "", backend.server);
const a = createToken(khive, config, ["--actor", "alice", "--write", "team-a"]);
const reader = createToken(khive, config, ["--actor", "rita", "--read", "team-a", "--read-only"]);
const server = await startServer(khive, config, backend);
try {
  const ids = [];
  // /metrics while the writers run: the pool gauges of the token's pool (PostgreSQL).
  let writing = true;
  const inUse = [];
  const sampler = (async () => {
    while (writing) {
      const m = (await request(server, "GET", "/metrics")).body;
      const v = /khive_pool_connections_in_use\{pool="team-a"\} (\d+)/.exec(m);
      if (v) inUse.push(Number(v[1]));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < per; ++i) {
        const r = await request(server, "POST", "/v1/entities", { token: a.token, body: { kind: "concept", name: `c${c}-${i}` } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id);
      }
    }),
  );
  writing = false;
  await sampler;
  assert.equal(ids.length, clients * per);
  // Refused writes, concurrently: each writes its denied event as a single statement on its
  // own, which write grouping commits together with the others'.
  const refusals = 64;
  await Promise.all(
    Array.from({ length: refusals }, async (_, c) => {
      const r = await request(server, "POST", "/v1/entities", { token: reader.token, body: { kind: "concept", name: `no${c}` } });
      assert.equal(r.status, 403, JSON.stringify(r.body));
    }),
  );
  const m = (await request(server, "GET", "/metrics")).body;
  if (kind === "postgres") {
    assert.ok(inUse.length > 0 && Math.max(...inUse) >= 1, `pool in use while writing: ${inUse}`);
    assert.match(m, /khive_pool_connections_in_use\{pool="team-a"\} 0\n/, "nothing in use after");
    assert.match(m, /khive_pool_connections_waiting\{pool="team-a"\} 0\n/);
    assert.match(m, /khive_pool_size\{pool="team-a"\} 8\n/);
    assert.match(m, /khive_pool_size\{pool="\*"\} 8\n/);
    // A verb's writes commit in its unit of work; the denied events went through write
    // grouping, each counted once in some group.
    const count = Number(/khive_write_group_size_count (\d+)/.exec(m)[1]);
    const sum = Number(/khive_write_group_size_sum (\d+)/.exec(m)[1]);
    assert.equal(sum, refusals, `write groups: ${count} groups, ${sum} statements`);
    assert.ok(count >= 1 && count <= refusals, `write groups: ${count} groups, ${sum} statements`);
    assert.match(m, new RegExp(`khive_write_group_size_bucket\\{le="\\+Inf"\\} ${count}\n`));
  } else {
    assert.doesNotMatch(m, /khive_pool_/, "SQLite has no pool");
  }
  const stored = new Set((await listAll(server, a.token, "entity")).map((e) => e.id));
  assert.equal(stored.size, clients * per);
  for (const id of ids) assert.ok(stored.has(id), id);
  const events = await listAll(server, a.token, "event", "&kinds=create");
  assert.equal(events.filter((e) => e.outcome === "success").length, clients * per);
  console.log(`serve concurrent (${kind}) ok: ${clients} clients x ${per} creates`);
} finally {
  const exit = await server.stop();
  if (backend.drop) backend.drop();
  assert.equal(exit.code, 0, server.log());
}
