#!/usr/bin/env bash
# Namespace isolation and grants through the khive binary and `khive mcp`: a record outside the
# read scope is "not found" (exit 1, worded as a missing one), a write outside the grants is
# permission_denied (exit 3), audit events land in the namespace of the record they describe.
#   isolation_test.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
khive=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
db="$work/iso.db"
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
# expect_fail CODE PATTERN cmd...: exit code and one-line stderr matching PATTERN, nothing on stdout
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e; out=$("$@" 2>"$work/err"); rc=$?; set -e
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, wanted $code (stderr: $(cat "$work/err"))"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "'$*' stderr is not one line: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "'$*' stderr lacks '$pattern': $(cat "$work/err")"
  [ -z "$out" ] || fail "'$*' printed on stdout: $out"
}
jq_() { node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); const v=($1); if (v===undefined) process.exit(3); console.log(typeof v==='string'?v:JSON.stringify(v))"; }
ka() { "$khive" --db "$db" --namespace alpha "$@"; }
kb() { "$khive" --db "$db" --namespace beta "$@"; }

"$khive" --db "$db" init >/dev/null
a1=$(ka create entity -k concept -n a1 | jq_ 'j.id')
a2=$(ka create entity -k concept -n a2 | jq_ 'j.id')
an=$(ka create note -k observation -c "alpha note" | jq_ 'j.id')
ae=$(ka link "$a1" extends "$a2" | jq_ 'j.id')
aev=$(ka list events | jq_ 'j.items[0].id')
b1=$(kb create entity -k concept -n b1 | jq_ 'j.id')
b2=$(kb create entity -k concept -n b2 | jq_ 'j.id')
missing=01900000-0000-7000-8000-000000000000

# Reads: beta does not see alpha's entity, note, edge or event, by id or by prefix.
for id in "$a1" "$an" "$ae" "$aev"; do
  expect_fail 1 "no record $id \[not_found\]" kb get "$id"
done
expect_fail 1 "no record has an id starting with '${a1:0:18}'" kb get "${a1:0:18}"
ka get "${a1:0:18}" | jq_ 'j.name' | grep -qx a1 || fail "alpha reads its own by prefix"
expect_fail 1 "no live entity or note $a1" kb neighbors "$a1"
expect_fail 1 "no live entity or note $a1" kb traverse "$a1"
expect_fail 1 "no live entity or note $a2" kb path "$b1" "$a2"

# Writes on alpha's records from beta: not found, worded as for a missing id; alpha unchanged.
expect_fail 1 "no live entity or note $a1 \[not_found\]" kb update "$a1" --name x
expect_fail 1 "no live entity or note $missing \[not_found\]" kb update "$missing" --name x
expect_fail 1 "no live record $a1" kb delete "$a1"
expect_fail 1 "no record $a1" kb delete --hard "$a1"
expect_fail 1 "no live record $ae" kb delete "$ae"
expect_fail 1 "no live record $an" kb delete "$an"
expect_fail 1 "no live entity $a1" kb merge "$a1" "$b1"
expect_fail 1 "no live entity $a1" kb merge "$b1" "$a1"
expect_fail 1 "no live entity or note $a1" kb link "$b1" extends "$a1"
ka get "$a1" | jq_ 'j.name + "," + j.deleted_at' | grep -qx "a1,null" || fail "alpha's entity unchanged"
ka list edges | jq_ 'j.items.length' | grep -qx 1 || fail "alpha's edge unchanged"
ka list events | jq_ 'j.items.filter(e=>e.verb!=="create"&&e.verb!=="link").length' | grep -qx 0 || fail "nothing logged in alpha"
kb list events --kind update | jq_ 'j.items.map(e=>e.outcome).join(",")' | grep -qx "error,error" || fail "refusals logged in beta"

# An actor that sees alpha and beta (no grants) writes both; each event in the record's namespace.
printf '[actor]\nid = "ab"\nnamespace = "beta"\nvisible_namespaces = ["alpha", "beta"]\n' >"$work/ab.toml"
kab() { "$khive" --config "$work/ab.toml" --db "$db" "$@"; }
kab update "$a1" --name a1x | jq_ 'j.namespace' | grep -qx alpha || fail "update alpha's entity"
ka list events --kind update | jq_ 'j.items.map(e=>e.actor+":"+e.outcome).join(",")' | grep -qx "ab:success" || fail "update logged in alpha"
kb list events --kind update | jq_ 'j.items.length' | grep -qx 2 || fail "and not in beta"
kab update "$an" --content "changed" >/dev/null
ka list events --kind update | jq_ 'j.items[1].substrate' | grep -qx note || fail "a note update is logged as a note"
e=$(kab link "$b1" extends "$a1" | jq_ 'j.namespace')
[ "$e" = beta ] || fail "the edge lives in the write namespace"

# Grants: bob sees alpha and beta but may create and link in beta only.
cat >"$work/bob.toml" <<EOF
[actor]
id = "bob"
namespace = "beta"
visible_namespaces = ["alpha", "beta"]
[[grants]]
actor = "bob"
verbs = ["create", "link", "import"]
namespaces = ["beta"]
EOF
kbob() { "$khive" --config "$work/bob.toml" --db "$db" "$@"; }
expect_fail 3 "actor 'bob' has no grant for 'link' in namespace 'alpha' \[permission_denied\]" kbob link "$b2" extends "$a2"
expect_fail 3 "actor 'bob' has no grant for 'link' in namespace 'alpha'" kbob link "$a2" extends "$b2"
expect_fail 3 "no grant for 'update' in namespace 'alpha'" kbob update "$a1" --name y
expect_fail 3 "no grant for 'delete' in namespace 'beta'" kbob delete "$b1"
expect_fail 3 "no grant for 'merge'" kbob merge "$b2" "$b1"
kbob link "$b2" extends "$b1" | jq_ 'j.namespace' | grep -qx beta || fail "bob links in beta"
ka list events --kind update | jq_ 'j.items.filter(e=>e.actor==="bob").map(e=>e.outcome).join(",")' | grep -qx denied || fail "denied update logged in alpha"
# Import: a line naming alpha (an event: a forged audit entry) is refused with its line number.
printf '%s\n' '{"type":"entity","kind":"concept","name":"imported"}' \
  "{\"type\":\"event\",\"namespace\":\"alpha\",\"id\":\"$missing\",\"verb\":\"delete\",\"substrate\":\"entity\",\"actor\":\"x\",\"created_at\":1}" >"$work/forged.jsonl"
expect_fail 3 "line 2: actor 'bob' has no grant for 'import' in namespace 'alpha'" kbob import "$work/forged.jsonl"
expect_fail 3 "line 2: .*may not 'import' in namespace 'alpha'" kb import "$work/forged.jsonl"
expect_fail 1 "no record $missing" ka get "$missing"
# Bad input stays exit 2.
expect_fail 2 "unknown entity kind" kbob create entity -k spaceship -n x

# MCP: get goes through the read scope; refusals name their code.
mcp() {
  printf '%s\n' "$@" | "$khive" --db "$db" --namespace beta mcp 2>/dev/null
}
call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"; }
out=$(mcp "$(call 1 get "{\"id\":\"$a1\"}")" "$(call 2 get "{\"id\":\"$b1\"}")" "$(call 3 update "{\"id\":\"$a1\",\"name\":\"z\"}")")
echo "$out" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const assert = require("assert");
assert.equal(lines.length, 3);
assert.equal(lines[0].result.isError, true);
assert.match(lines[0].result.content[0].text, /^no record .* \(not_found\)$/);
assert.equal(lines[1].result.isError, false);
assert.equal(lines[1].result.structuredContent.name, "b1");
assert.match(lines[2].result.content[0].text, /no live entity or note .* \(not_found\)$/);
console.log("mcp scope ok");'
out=$(printf '%s\n' "$(call 1 update "{\"id\":\"$a1\",\"name\":\"z\"}")" "$(call 2 link "{\"source\":\"$b1\",\"relation\":\"part_of\",\"target\":\"$a1\"}")" \
  | "$khive" --config "$work/bob.toml" --db "$db" mcp 2>/dev/null)
echo "$out" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const assert = require("assert");
for (const l of lines) {
  assert.equal(l.result.isError, true);
  assert.match(l.result.content[0].text, /actor .bob. has no grant for .(update|link). in namespace .alpha. \(permission_denied\)$/);
}
console.log("mcp permission_denied ok");'
ka get "$a1" | jq_ 'j.name' | grep -qx a1x || fail "mcp refusals changed nothing"
echo "isolation ok"
