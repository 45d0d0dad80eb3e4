#!/usr/bin/env bash
# ctest entry: installs the pinned SDK from package-lock.json (npm ci; cached node_modules are
# reused when the lock has not changed) and runs the MCP session against a fresh database, then
# reindex with progress against a fastText engine trained here (Debian `fasttext`).
#   run.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
khive=$1
work=$2
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.khive-lock; then
  npm ci --no-audit --no-fund --prefer-offline >&2
  cp package-lock.json node_modules/.khive-lock
fi
mkdir -p "$work"
db="$work/mcp-session.db"
rm -f "$db" "$db-wal" "$db-shm"
"$khive" --db "$db" init >/dev/null
node session.mjs "$khive" "$db"
# Malformed input gets a JSON-RPC error on stdout and nothing else; the server keeps going.
out=$(printf '%s\n' 'not json' '{"jsonrpc":"2.0","id":7,"method":"ping"}' '{"jsonrpc":"2.0","id":8,"method":"nope"}' | "$khive" --db "$db" mcp 2>/dev/null)
echo "$out" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const assert = require("assert");
assert.equal(lines.length, 3);
assert.equal(lines[0].error.code, -32700);
assert.deepEqual(lines[1], {jsonrpc: "2.0", id: 7, result: {}});
assert.equal(lines[2].error.code, -32601);
console.log("malformed input ok");'

# ---- reindex with progress ----------------------------------------------------------------
for i in $(seq 1 300); do
  echo "dog puppy canine bark leash fetch kennel paw"
  echo "boat sail harbor anchor mast keel ocean deck"
done >"$work/corpus.txt"
(cd "$work" && fasttext skipgram -input corpus.txt -output ft -dim 16 -epoch 5 -minCount 1 -bucket 1000 -thread 1 >ft.log 2>&1)
cat >"$work/ft.toml" <<EOF
[[engines]]
name = "ft"
kind = "fasttext"
path = "$work/ft.bin"
embed_on_write = false
EOF
pdb="$work/mcp-progress.db"
rm -f "$pdb" "$pdb-wal" "$pdb-shm"
"$khive" --db "$pdb" init >/dev/null
node progress.mjs "$khive" "$work/ft.toml" "$pdb"
# The same on the wire: every stdout line is a JSON-RPC message, the progress notifications
# (string token) come before the result, a call without a token gets none, and a token of the
# wrong type is an invalid-params error.
out=$(printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"reindex","arguments":{"batch":3},"_meta":{"progressToken":"tok-1"}}}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"reindex","arguments":{}}}' \
  '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"reindex","arguments":{},"_meta":{"progressToken":1.5}}}' \
  | "$khive" --config "$work/ft.toml" --db "$pdb" mcp 2>/dev/null)
echo "$out" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const assert = require("assert");
for (const l of lines) assert.equal(l.jsonrpc, "2.0");
const progress = lines.filter((l) => l.method === "notifications/progress").map((l) => l.params);
assert.deepEqual(progress.map((p) => [p.progressToken, p.progress, p.total]), [["tok-1", 0, 5], ["tok-1", 3, 5], ["tok-1", 5, 5]]);
assert.deepEqual(lines.map((l) => l.id ?? l.method),
                 ["notifications/progress", "notifications/progress", "notifications/progress", 1, 2, 3]);
assert.equal(lines[3].result.structuredContent.entities, 5);
assert.equal(lines[4].result.structuredContent.entities, 5);
assert.equal(lines[5].error.code, -32602);
console.log("progress on the wire ok");'

# ---- MCP over Streamable HTTP (`khive serve`) ----------------------------------------------
node http-session.mjs "$khive" "$work" "$work/ft.bin"
