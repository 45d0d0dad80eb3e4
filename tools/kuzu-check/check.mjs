// Runs Cypher against Kuzu (the pinned npm package) for the Kuzu differential test
// (tests/unit/query/cypher_reference_test.cc).
//   node check.mjs INPUT.json
// INPUT: {"datasets": {NAME: [statement, ...]}, "cases": [{"id", "dataset", "query", "params"}]}
// Each dataset is a fresh in-memory database set up by its statements (schema, then data).
// Prints one JSON line per case: {"id", "rows": [[value, ...], ...]} or {"id", "error"}.
// Columns come back in the order of the query's RETURN (the test aliases them c0, c1, ...).
import fs from "node:fs";
import kuzu from "kuzu";

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

// INT64 arrives as BigInt; every value in the fixture fits a double exactly.
function plain(v) {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

const connections = {};
for (const [name, statements] of Object.entries(input.datasets)) {
  const db = new kuzu.Database(":memory:");
  const conn = new kuzu.Connection(db);
  for (const s of statements) {
    try {
      await conn.query(s);
    } catch (e) {
      console.error(`kuzu-check: dataset ${name}: ${e.message}\n  in: ${s}`);
      process.exit(2);
    }
  }
  connections[name] = conn;
}

for (const c of input.cases) {
  const conn = connections[c.dataset];
  let line;
  try {
    const ps = await conn.prepare(c.query);
    if (!ps.isSuccess()) throw new Error(ps.getErrorMessage());
    const result = await conn.execute(ps, c.params || {});
    const columns = await result.getColumnNames();
    const rows = (await result.getAll()).map((r) => columns.map((k) => plain(r[k])));
    line = { id: c.id, rows };
  } catch (e) {
    line = { id: c.id, error: String(e.message || e) };
  }
  process.stdout.write(JSON.stringify(line) + "\n");
}
