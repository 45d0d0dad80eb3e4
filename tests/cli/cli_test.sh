#!/usr/bin/env bash
# Drives the khive binary through its commands. Fails on the first wrong answer.
#   cli_test.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
khive=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
db="$work/t.db"
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
k() { "$khive" --db "$db" "$@"; }
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

"$khive" --help | grep -q "Commands\|Subcommands" || fail "--help lists commands"
"$khive" query --help | grep -q -- "--language" || fail "query --help"
expect_fail 2 "khive:" "$khive" frobnicate
expect_fail 2 "khive:" "$khive"
expect_fail 1 "no database at $work/missing.db" "$khive" --db "$work/missing.db" stats
[ ! -e "$work/missing.db" ] || fail "a read on a missing database created it"

k init | jq_ 'j.engine' | grep -qx sqlite || fail "init"
dog=$(k create entity --kind concept --name dog --description "a domesticated canine" --prop legs=4 --tag pet | jq_ 'j.id')
canine=$(k create entity -k concept -n canine -d "a carnivore of the dog family" | jq_ 'j.id')
animal=$(k create entity -k concept -n animal | jq_ 'j.id')
# every field of the record is there
# v7 ids: the first 12 hex digits are the millisecond, so records made within an hour share 8
expect_fail 2 "is ambiguous" k get "${dog:0:8}"
k get "${dog:0:18}" | jq_ 'Object.keys(j).sort().join(",")' | grep -qx "created_at,deleted_at,description,entity_type,id,kind,merge_event_id,merged_into,name,namespace,properties,tags,type,updated_at" || fail "get fields"
k get "$dog" | jq_ 'j.properties.legs' | grep -qx 4 || fail "--prop parsed as JSON"
edge=$(k link "${dog:0:13}" instance_of "$canine" | jq_ 'j.id')
k link "$canine" instance_of "$animal" -w 0.5 >/dev/null
note=$(k create note -k observation -c "dogs are loyal companions" --salience 0.9 | jq_ 'j.id')
k link "$note" annotates "$dog" >/dev/null
expect_fail 2 "unknown entity kind 'spaceship'" k create entity -k spaceship -n x
expect_fail 2 "'annotates' starts at a note" k link "$dog" annotates "$canine"
expect_fail 2 "outside \[0, 1\]" k link "$dog" extends "$canine" -w 1.5
expect_fail 2 "at least 8 hex" k get "${dog:0:7}"
expect_fail 1 "no record has an id starting with" k get 00000000
expect_fail 2 "must be a JSON object" k create entity -k concept -n x --properties '[1]'

# traverse shape
t=$(k traverse "$dog" --depth 3 -r instance_of)
echo "$t" | jq_ 'j.paths[0].nodes.map(n=>n.name).join(">")' | grep -qx "dog>canine>animal" || fail "traverse: $t"
echo "$t" | jq_ 'j.paths[0].root_id' | grep -qx "$dog" || fail "traverse root_id"
echo "$t" | jq_ 'j.paths[0].nodes[1].via_edge' | grep -qx "$edge" || fail "traverse via_edge"
echo "$t" | jq_ 'Object.keys(j.paths[0].nodes[0]).sort().join(",")' | grep -qx "depth,id,kind,name,parent_id,via_edge" || fail "traverse node fields"
# search shape
s=$(k search canine 2>"$work/search_err")
grep -q "text-only" "$work/search_err" || fail "search says it is text-only"
echo "$s" | jq_ 'j.hits.length' | grep -qx 2 || fail "search hits: $s"
echo "$s" | jq_ 'Object.keys(j.hits[0]).sort().join(",")' | grep -q "id,kind,name,namespace,rank,score,signals" || fail "search hit fields: $s"
echo "$s" | jq_ 'j.hits[0].signals.vector' | grep -qx null || fail "vector signal null"
# query shape (GQL and SPARQL)
q=$(k query "MATCH (a:concept {name:'dog'})-[:instance_of*1..3]->(b) RETURN b.name")
echo "$q" | jq_ 'JSON.stringify([j.columns, j.rows.map(r=>r[0]).sort(), j.truncated])' | grep -qx '\[\["b_name"\],\["animal","canine"\],false\]' || fail "gql: $q"
k query "SELECT ?b WHERE { ?a :name 'dog' . ?a :instance_of+ ?b . }" | jq_ 'j.rows.length' | grep -qx 2 || fail "sparql"
k query --cap 1 "MATCH (a:concept) RETURN a.name" | jq_ 'j.truncated' | grep -qx true || fail "query truncation"
expect_fail 2 "expected" k query "MATCH (a RETURN a"
# aggregates, query text from a file or stdin, --explain (SQL, parameters, plan; no rows)
k query "MATCH (a:concept)-[:instance_of]->(b) RETURN count(*) AS n" | jq_ 'j.rows[0][0] > 0' | grep -qx true || fail "count"
echo "MATCH (a:concept) RETURN a.name ORDER BY a.name DESC LIMIT 2" > "$work/q.gql"
k query -f "$work/q.gql" | jq_ 'j.rows.length' | grep -qx 2 || fail "query -f FILE"
k query -f - < "$work/q.gql" | jq_ 'j.rows.length' | grep -qx 2 || fail "query -f -"
ex=$(k query --explain "MATCH (a:concept {name: 'dog'}) RETURN count(*)")
echo "$ex" | jq_ 'j.explain.sql.startsWith("SELECT") && j.explain.parameters.includes("dog") && j.explain.plan.length > 0 && j.rows.length === 0' | grep -qx true || fail "query --explain: $ex"
expect_fail 2 "query file" k query -f "$work/missing.gql"
expect_fail 2 "give the query text" k query
k neighbors "$dog" | jq_ 'j.neighbors.length' | grep -qx 2 || fail "neighbors"
k path "$dog" "$animal" | jq_ 'j.nodes.length' | grep -qx 3 || fail "path"
k list | jq_ 'j.items.length' | grep -qx 3 || fail "list"
k list events --kind create | jq_ 'j.items.filter(i=>i.outcome==="success").length + "," + j.items.filter(i=>i.outcome==="error").length' | grep -qx '4,1' || fail "an event per create, failures included"
k update "$canine" --name canid --prop x=1 | jq_ 'j.name' | grep -qx canid || fail "update"
# tables on a terminal: script(1) gives the binary a tty
if command -v script >/dev/null; then
  tty_out=$(script -qc "$khive --db $db list" /dev/null)
  echo "$tty_out" | grep -q "^id .*kind .*name" || fail "table output on a tty: $tty_out"
fi
k stats | jq_ 'j.entities' | grep -qx 3 || fail "stats"
k db check | jq_ 'j.ok' | grep -qx true || fail "db check"
k db migrate | jq_ 'j.schema_version' >/dev/null || fail "db migrate"
k doctor | jq_ 'j.capabilities.text.supported' | grep -qx true || fail "doctor"

# export -> import into a fresh database round-trips (events of the import itself aside)
k export "$work/out.jsonl" >/dev/null
"$khive" --db "$work/copy.db" import "$work/out.jsonl" >/dev/null
"$khive" --db "$work/copy.db" export - | grep -v '"verb":"import"' >"$work/copy.jsonl"
diff <(grep -v '"verb":"import"' "$work/out.jsonl") "$work/copy.jsonl" || fail "round trip differs"
# idempotent re-run
"$khive" --db "$work/copy.db" import "$work/out.jsonl" >/dev/null
"$khive" --db "$work/copy.db" stats | jq_ 'j.entities + "," + j.edges' | grep -qx "3,3" || fail "re-import duplicated"
# malformed line: named, earlier lines committed
printf '%s\n' '{"type":"entity","kind":"concept","name":"first"}' '{"type":"entity","kind":"concept","name":' '{"type":"entity","kind":"concept","name":"third"}' >"$work/bad.jsonl"
expect_fail 2 "line 2: malformed JSON" "$khive" --db "$work/bad.db" import "$work/bad.jsonl"
"$khive" --db "$work/bad.db" list | jq_ 'j.items.map(i=>i.name).join(",")' | grep -qx first || fail "records before the bad line stay committed"

# delete / merge
k delete "$animal" | jq_ 'j.deleted_at > 0' | grep -qx true || fail "soft delete"
expect_fail 1 "no live record" k delete "$animal"
k delete --hard "$animal" >/dev/null
expect_fail 1 "no record $animal" k get "$animal"
wolf=$(k create entity -k concept -n wolf | jq_ 'j.id')
k link "$wolf" instance_of "$canine" >/dev/null
k merge "$wolf" "$dog" | jq_ 'j.id' | grep -qx "$dog" || fail "merge"
k get "$wolf" | jq_ 'j.merged_into' | grep -qx "$dog" || fail "merged_into"

# PostgreSQL that is down: clear message, exit 4 (unavailable: retry later)
expect_fail 4 "cannot connect to PostgreSQL.*\[unavailable\]" "$khive" --backend "postgresql://khive@127.0.0.1:1/khive?connect_timeout=2" stats
expect_fail 2 "unrecognised backend URL" "$khive" --backend "mysql://x" stats

# config errors name key and line
printf '[actor]\nid = "a"\ncolour = "red"\n' >"$work/bad.toml"
expect_fail 2 "bad.toml:3: unknown key 'actor.colour'" "$khive" --config "$work/bad.toml" stats
# config: backend + actor namespace
printf '[[backends]]\nkind = "sqlite"\npath = "%s"\n[actor]\nid = "cfg"\nnamespace = "team"\n' "$work/cfg.db" >"$work/khive.toml"
( cd "$work" && "$khive" init >/dev/null && "$khive" create entity -k concept -n scoped | jq_ 'j.namespace' | grep -qx team ) || fail "config namespace"
"$khive" --config "$work/khive.toml" --namespace other list | jq_ 'j.items.length' | grep -qx 0 && fail "--namespace narrows nothing?" || true
# no config, no --db: the embedded default in the user data dir
( cd / && "$khive" init | jq_ 'j.location' | grep -q "$work/home/.local/share/khive/khive.db" ) || fail "default database location"

# WordNet: hypernym chains agree with `wn`
if [ -f /usr/share/wordnet/data.noun ]; then
  wdb="$work/wn.db"
  "$khive" --db "$wdb" --namespace wordnet import --format wordnet | jq_ 'j.written.entities' | grep -qx 117659 || fail "wordnet synsets"
  id=$("$khive" --db "$wdb" --namespace wordnet query "MATCH (c:concept) WHERE c.properties.wordnet_id = '02084071-n' RETURN c.id" | jq_ 'j.rows[0][0]')
  "$khive" --db "$wdb" --namespace wordnet traverse "$id" --depth 10 -r instance_of | jq_ 'j.paths[0].nodes.filter(n=>n.depth>0).map(n=>n.name).sort().join("\n")' | sort -u >"$work/khive_hyper.txt"
  if command -v wn >/dev/null; then
    # wn prints every hypernym path of sense 1 with "=>" indented 4 per level (depth 1 at 7 spaces)
    { wn dog -n1 -hypen || true; } | awk '/=>/ { match($0, /^ */); d = (RLENGTH - 7) / 4 + 1; sub(/^ *=> /, ""); split($0, a, ", "); if (d <= 10) print a[1] }' | sort -u >"$work/wn_hyper.txt"
    diff "$work/wn_hyper.txt" "$work/khive_hyper.txt" || fail "hypernyms of dog differ from wn"
  else
    fail "wn (Debian wordnet) is not installed"
  fi
else
  fail "WordNet data missing: apt-get install wordnet-base wordnet"
fi
echo "cli ok"
