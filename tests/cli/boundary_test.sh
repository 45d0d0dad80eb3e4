#!/usr/bin/env bash
# Input the store must never take: text that is not UTF-8, NUL characters, values past the
# [limits] of khive.toml. Each is refused with exit code 2 naming the field, nothing is
# written, and every read (list, get, search, export, MCP) still works afterwards.
#   boundary_test.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
khive=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
db=u.db
k() { "$khive" --db "$db" "$@"; }
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e; out=$("$@" 2>"$work/err"); rc=$?; set -e
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, wanted $code (stderr: $(cat "$work/err"))"
  grep -q -- "$pattern" "$work/err" || fail "'$*' stderr lacks '$pattern': $(cat "$work/err")"
  [ -z "$out" ] || fail "'$*' printed on stdout: $out"
}
count() { k list "$1" | node -e "console.log(JSON.parse(require('fs').readFileSync(0,'utf8')).items.length)"; }

k init >/dev/null
k create entity -k concept -n good >/dev/null

# Invalid UTF-8 on the command line: refused, naming the field; nothing stored.
expect_fail 2 "entity name is not valid UTF-8" "$khive" --db "$db" create entity -k concept -n $'bad\xffname'
expect_fail 2 "entity description is not valid UTF-8" k create entity -k concept -n ok -d $'\xc3('
expect_fail 2 "entity tag is not valid UTF-8" k create entity -k concept -n ok --tag $'\xed\xa0\x80'
expect_fail 2 "note content is not valid UTF-8" k create note -k observation -c $'caf\xe9'
expect_fail 2 "properties" k create entity -k concept -n ok --properties '{"a": "\u0000"}'
[ "$(count entity)" = 1 ] || fail "a refused create stored a record"
[ "$(count note)" = 0 ] || fail "a refused create stored a note"

# Every read still works.
k list entity >/dev/null
k list event >/dev/null
k search good >/dev/null 2>&1
k query "MATCH (a:concept) RETURN a.name" >/dev/null
k export > export.jsonl
[ -s export.jsonl ] || fail "export is empty"
node -e "for (const l of require('fs').readFileSync('export.jsonl','utf8').trim().split('\n')) JSON.parse(l)" || fail "export is not JSON"

# Limits, each naming its [limits] key; a raised limit lets the value in.
long=$(head -c 5000 /dev/zero | tr '\0' x)
expect_fail 2 "max_name_bytes" k create entity -k concept -n "$long"
deep=$(node -e "let s='1'; for (let i=0;i<100;i++) s='{\"a\":'+s+'}'; console.log(s)")
expect_fail 2 "max_json_depth" k create entity -k concept -n deep --properties "$deep"
printf '[limits]\nmax_name_bytes = 8000\nmax_json_depth = 128\n' > limits.toml
KHIVE_CONFIG=$work/limits.toml "$khive" --db "$db" create entity -k concept -n "$long" >/dev/null
KHIVE_CONFIG=$work/limits.toml "$khive" --db "$db" create entity -k concept -n deep --properties "$deep" >/dev/null
[ "$(count entity)" = 3 ] || fail "raised limits"

# Import: a bad line names its line; the lines before it are committed.
{
  echo '{"type":"entity","kind":"concept","name":"first"}'
  printf '{"type":"entity","kind":"concept","name":"bad\xffname"}\n'
  echo '{"type":"entity","kind":"concept","name":"after"}'
} > bad.jsonl
expect_fail 2 "line 2" k import bad.jsonl
[ "$(count entity)" = 4 ] || fail "import kept the line before the bad one only"
k export > export2.jsonl
node -e "for (const l of require('fs').readFileSync('export2.jsonl','utf8').trim().split('\n')) JSON.parse(l)" || fail "export after a refused import"

# Ids are unique across record types.
eid=$(k list entity | node -e "console.log(JSON.parse(require('fs').readFileSync(0,'utf8')).items[0].id)")
expect_fail 1 "already used by an entity" k create note -k observation -c "x" --id "$eid"

# MCP: a lone surrogate is not JSON (parse error, the server keeps answering); a NUL is
# refused by validation as a tool error; a message nested 100,000 deep is refused unparsed;
# nothing is stored.
{
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
  echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_entity","arguments":{"kind":"concept","name":"x\ud800y"}}}'
  echo '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_entity","arguments":{"kind":"concept","name":"x\u0000y"}}}'
  node -e "const d = 100000; console.log('{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"create_entity\",\"arguments\":{\"kind\":\"concept\",\"name\":\"deep\",\"properties\":{\"a\":' + '['.repeat(d) + ']'.repeat(d) + '}}}}')"
  echo '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"create_entity","arguments":{"kind":"concept","name":"mcp ok"}}}'
} | k mcp > mcp.out 2>/dev/null
node -e "
const r = require('fs').readFileSync('mcp.out','utf8').trim().split('\n').map(l => JSON.parse(l));
const by = id => r.find(m => m.id === id);
if (!r.some(m => m.id === null && m.error && m.error.code === -32700)) throw 'no parse error for the lone surrogate';
if (!by(3) || !by(3).result.isError || !/NUL/.test(by(3).result.content[0].text)) throw 'NUL accepted: ' + JSON.stringify(by(3));
if (!r.some(m => m.id === null && m.error && m.error.code === -32600 && /nests deeper/.test(m.error.message))) throw 'deep message';
if (!by(4) || by(4).result.isError) throw 'the server stopped answering';
" || fail "mcp: $(cat mcp.out)"
[ "$(count entity)" = 5 ] || fail "mcp stored a refused entity"
echo "boundary: ok"
