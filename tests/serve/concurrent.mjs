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
const server = await startServer(khive, config, backend);
try {
  const ids = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < per; ++i) {
        const r = await request(server, "POST", "/v1/entities", { token: a.token, body: { kind: "concept", name: `c${c}-${i}` } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id);
      }
    }),
  );
  assert.equal(ids.length, clients * per);
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
