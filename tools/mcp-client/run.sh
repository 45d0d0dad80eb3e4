#!/usr/bin/env bash
# ctest entry: installs the pinned SDK from package-lock.json (npm ci; cached node_modules are
# reused when the lock has not changed) and runs the MCP session against a fresh database.
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
