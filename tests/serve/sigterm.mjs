// SIGTERM under write load loses no acknowledged write: 16 clients create entities as fast as
// they can, the server gets SIGTERM, stops accepting, finishes what is in flight and exits 0;
// a new server on the same store finds every entity whose creation was answered 201.
//   node sigterm.mjs KHIVE_BINARY sqlite|postgres
import assert from "node:assert/strict";
import { backendArgs, createToken, listAll, request, startServer, tmpDir, writeConfig } from "./harness.mjs";

const [khive, kind] = process.argv.slice(2);
const dir = tmpDir(`sigterm-${kind}`);
const backend = backendArgs(kind, dir, "sigterm");
const config = writeConfig(dir, "", backend.server);
const a = createToken(khive, config, ["--actor", "alice", "--write", "team-a"]);
let server = await startServer(khive, config, backend);

const acknowledged = [];
let refused = 0;
let stopping = false;
async function writer(w) {
  for (let i = 0; ; ++i) {
    try {
      const r = await request(server, "POST", "/v1/entities", { token: a.token, body: { kind: "concept", name: `w${w}-${i}` } });
      if (r.status === 201) acknowledged.push(r.body.id);
      else if (!stopping) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
    } catch (e) {
      if (!stopping) throw e;
      ++refused;
      return;  // the server is gone: connection refused or reset
    }
  }
}
const writers = Array.from({ length: 16 }, (_, w) => writer(w));
// SIGTERM once the writers are well under way (a busy machine takes longer to get there).
for (const start = Date.now(); acknowledged.length < 100 && Date.now() - start < 30000; ) await new Promise((r) => setTimeout(r, 50));
stopping = true;
const exit = await server.stop("SIGTERM");
await Promise.all(writers);
assert.equal(exit.code, 0, server.log());
assert.match(server.log(), /SIGTERM received/);
assert.match(server.log(), /khive serve: stopped\n/);
assert.ok(acknowledged.length >= 100, `only ${acknowledged.length} writes before SIGTERM`);

server = await startServer(khive, config, backend);
try {
  const stored = new Set((await listAll(server, a.token, "entity")).map((e) => e.id));
  const lost = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes lost`);
  console.log(`serve sigterm (${kind}) ok: ${acknowledged.length} acknowledged, ${stored.size} stored, ${refused} clients refused after SIGTERM`);
} finally {
  await server.stop();
  if (backend.drop) backend.drop();
}
