#!/usr/bin/env bash
# Bounded work through the khive binary: --timeout-ms stops an exploding pattern query inside
# the engine, oversized queries and search texts are refused with the [limits] key to raise,
# a large document searches with a bounded snippet. Fails on the first wrong answer.
#   bounds_test.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
khive=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e; out=$("$@" 2>"$work/err"); rc=$?; set -e
  [ "$rc" = "$code" ] || fail "'${*:0:80}' exited $rc, wanted $code (stderr: $(cat "$work/err"))"
  grep -q -- "$pattern" "$work/err" || fail "'${*:0:80}' stderr lacks '$pattern': $(cat "$work/err")"
  [ -z "$out" ] || fail "'${*:0:80}' printed on stdout: $out"
}

db="$work/g.db"
"$khive" --db "$db" init >/dev/null
# 300 concepts, 4 random extends edges each.
node -e '
  const ids = []; let s = 7; const rnd = n => (s = (s * 1103515245 + 12345) % 2147483648) % n;
  for (let i = 0; i < 300; i++) { const h = (0x1000 + i).toString(16).padStart(12, "0");
    ids.push(`00000000-0000-4000-8000-${h}`);
    console.log(JSON.stringify({type: "entity", id: ids[i], kind: "concept", name: `n${i}`})); }
  for (let i = 0; i < 300; i++) for (let k = 0; k < 4; k++) { const j = rnd(300); if (j !== i)
    console.log(JSON.stringify({type: "edge", source_id: ids[i], target_id: ids[j], relation: "extends"})); }
' > graph.jsonl
"$khive" --db "$db" import graph.jsonl >/dev/null

q='MATCH (a)-[*1..10]->(b)-[*1..10]->(c)-[*1..10]->(d) RETURN d.name'
expect_fail 1 "time budget of 200 ms.*time_budget_ms" "$khive" --db "$db" query "$q" --timeout-ms 200
printf '[limits]\ntime_budget_ms = 200\n' > limits.toml
expect_fail 1 "time_budget_ms" "$khive" --config limits.toml --db "$db" query "$q"
printf '[limits]\nwork_budget = 1000\n' > work.toml
expect_fail 2 "work_budget" "$khive" --config work.toml --db "$db" query "$q"
"$khive" --db "$db" query "MATCH (a {name: 'n1'})-[:extends]->(b) RETURN b.name" --timeout-ms 5000 >/dev/null \
  || fail "a bounded query under --timeout-ms"
expect_fail 2 "" "$khive" --db "$db" query "MATCH (a) RETURN a.name" --timeout-ms 0

chain="MATCH (n0)"
for i in $(seq 1 5000); do chain+="-[:extends]->(n$i)"; done
expect_fail 2 "max_query_bytes" "$khive" --db "$db" query "$chain RETURN n0.name"
expect_fail 2 "more than 16 edges" "$khive" --db "$db" query "${chain:0:400} RETURN n0.name"

words=$(for i in $(seq 1 2000); do printf 'w%d ' "$i"; done)
expect_fail 2 "max_search_bytes" "$khive" --db "$db" search "$words"
expect_fail 2 "more than the 64" "$khive" --db "$db" search "${words:0:400}"

big=$(printf 'a %.0s' $(seq 1 40000))
"$khive" --db "$db" create entity -k concept -n big -d "$big" >/dev/null
snippet=$("$khive" --db "$db" --json search a --timeout-ms 5000 |
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(j.hits[0].snippet)')
[ "$(echo "$snippet" | grep -o 'a' | wc -l)" = 16 ] || fail "snippet of 16 words: $snippet"
echo "bounds_test: ok"
