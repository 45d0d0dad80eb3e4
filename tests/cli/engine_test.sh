#!/usr/bin/env bash
# The khive binary with and without embedding engines: search fallback note, reindex, doctor,
# an HTTP engine that goes down, a fastText engine trained here. Fails on the first wrong answer.
#   engine_test.sh KHIVE_BINARY EMBED_SERVER_SCRIPT WORK_DIR
set -euo pipefail
khive=$1
server=$2
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e; out=$("$@" 2>"$work/err"); rc=$?; set -e
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, wanted $code (stderr: $(cat "$work/err"))"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "'$*' stderr is not one line: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "'$*' stderr lacks '$pattern': $(cat "$work/err")"
  [ -z "$out" ] || fail "'$*' printed on stdout: $out"
}
jq_() { node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); const v=($1); if (v===undefined) process.exit(3); console.log(typeof v==='string'?v:JSON.stringify(v))"; }

"$khive" reindex --help | grep -q -- "--engine" || fail "reindex --help names --engine"
"$khive" reindex --help | grep -q -- "--namespace" || fail "reindex --help names --namespace"
"$khive" doctor --help | grep -q -- "--no-probe" || fail "doctor --help"

# ---- no engine: text-only search, saying so ---------------------------------------------------
plain="$work/plain.db"
"$khive" --db "$plain" init >/dev/null
"$khive" --db "$plain" create entity -k concept -n canine -d "a dog" >/dev/null
s=$("$khive" --db "$plain" search canine 2>"$work/search_err")
grep -q "note: no embedding engine configured.*text-only search" "$work/search_err" || fail "fallback note: $(cat "$work/search_err")"
echo "$s" | jq_ 'j.mode' | grep -qx text || fail "mode text: $s"
echo "$s" | jq_ 'j.notice' | grep -q "no embedding engine" || fail "notice in JSON: $s"
echo "$s" | jq_ 'j.hits.length' | grep -qx 1 || fail "text hits: $s"
expect_fail 2 "no embedding engine configured" "$khive" --db "$plain" reindex
"$khive" --db "$plain" doctor | jq_ 'j.engines.length' | grep -qx 0 || fail "doctor: no engines"
"$khive" --db "$plain" doctor | jq_ 'j.index.text.documents + "," + j.index.live_records' | grep -qx "1,1" || fail "doctor: text index"

# ---- an HTTP engine ------------------------------------------------------------------------
coproc SRV { exec node "$server"; }
srv_pid=$SRV_PID
trap 'kill $srv_pid 2>/dev/null || true' EXIT
read -r _ port <&"${SRV[0]}"
cat >"$work/http.toml" <<EOF
[[engines]]
name = "local"
kind = "openai"
url = "http://127.0.0.1:$port"
model = "hash-16"
timeout_ms = 5000
EOF
db="$work/http.db"
k() { "$khive" --config "$work/http.toml" --db "$db" "$@"; }
k init >/dev/null
red=$(k create entity -k concept -n alpha -d "red green blue" | jq_ 'j.id')
k create entity -k concept -n beta -d "cyan magenta yellow" >/dev/null
k create note -k observation -c "green leaves in spring" >/dev/null
s=$(k search "blue red" 2>"$work/search_err")
[ ! -s "$work/search_err" ] || fail "hybrid search prints no note: $(cat "$work/search_err")"
echo "$s" | jq_ 'j.mode + "," + j.engine' | grep -qx "hybrid,local" || fail "hybrid mode: $s"
echo "$s" | jq_ 'j.hits[0].id' | grep -qx "$red" || fail "hybrid top hit: $s"
echo "$s" | jq_ 'j.hits[0].signals.vector' | grep -qx 1 || fail "vector signal rank: $s"
r=$(k reindex)
echo "$r" | jq_ 'j.entities + "," + j.notes + "," + j.dimensions + "," + j.engine' | grep -qx "2,1,16,local" || fail "reindex: $r"
d=$(k doctor)
echo "$d" | jq_ 'j.engines[0].name + "," + j.engines[0].ok + "," + j.engines[0].dimensions + "," + j.engines[0].vectors' | grep -qx "local,true,16,3" || fail "doctor engine: $d"
echo "$d" | jq_ 'j.index.vectors[0].model + "," + j.index.vectors[0].count' | grep -qx "local,3" || fail "doctor vectors: $d"
echo "$d" | jq_ 'j.extensions.fts5.present' | grep -qx true || fail "doctor extensions: $d"
if command -v script >/dev/null; then
  human=$(script -qc "$khive --config $work/http.toml --db $db doctor" /dev/null)
  echo "$human" | grep -q "local (default) openai http://127.0.0.1:$port/v1/embeddings (model hash-16) - ok, 16 dimensions" || fail "doctor human engines: $human"
  echo "$human" | grep -q "text: 3 documents (in sync)" || fail "doctor human text index: $human"
  echo "$human" | grep -q "vectors for 3 live records, 0 missing" || fail "doctor human vectors: $human"
  progress=$(script -qc "$khive --config $work/http.toml --db $db reindex --batch 1" /dev/null)
  echo "$progress" | grep -q "reindex 100.0% (3 of 3) records" || fail "reindex progress on a tty: $progress"
fi

# The model behind the engine's name changes its dimension: search does not fail, it answers
# from text and says why (stderr note and "notice", as when no engine is configured).
sed 's/hash-16/hash-8/' "$work/http.toml" >"$work/http8.toml"
s=$("$khive" --config "$work/http8.toml" --db "$db" search "blue red" 2>"$work/search_err")
clash="engine 'local' gives 8-dimensional vectors but the database holds 16-dimensional ones"
grep -q "^khive: note: $clash.*; text-only search\$" "$work/search_err" || fail "dimension clash note: $(cat "$work/search_err")"
[ "$(wc -l <"$work/search_err")" = 1 ] || fail "dimension clash: one stderr line: $(cat "$work/search_err")"
echo "$s" | jq_ 'j.mode' | grep -qx text || fail "dimension clash mode text: $s"
echo "$s" | jq_ 'j.notice' | grep -q "$clash" || fail "dimension clash notice in JSON: $s"
echo "$s" | jq_ 'j.hits[0].id' | grep -qx "$red" || fail "dimension clash text hit: $s"
expect_fail 2 "$clash" "$khive" --config "$work/http8.toml" --db "$db" reindex

# The server goes down: writes fail with one line and write nothing; search falls back.
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true
before=$(k stats | jq_ 'j.entities')
expect_fail 1 "embedding engine 'local': cannot connect to http://127.0.0.1:$port/v1/embeddings" k create entity -k concept -n gamma
[ "$(k stats | jq_ 'j.entities')" = "$before" ] || fail "a failed create wrote the entity"
expect_fail 1 "cannot connect to http://127.0.0.1:$port" k reindex
s=$(k search red 2>"$work/search_err")
grep -q "note: .*cannot connect.*text-only search" "$work/search_err" || fail "down engine note: $(cat "$work/search_err")"
echo "$s" | jq_ 'j.hits[0].id' | grep -qx "$red" || fail "text fallback hit: $s"
k doctor | jq_ 'j.engines[0].ok + "," + j.ok' | grep -qx "false,false" || fail "doctor reports the engine down"

# ---- a fastText engine ---------------------------------------------------------------------
for i in $(seq 1 600); do
  echo "dog puppy canine bark leash fetch kennel paw"
  echo "boat sail harbor anchor mast keel ocean deck"
done >corpus.txt
fasttext skipgram -input corpus.txt -output ft -dim 16 -epoch 20 -minCount 1 -bucket 10000 -thread 1 >ft.log 2>&1
cat >"$work/ft.toml" <<EOF
[[engines]]
name = "ft"
kind = "fasttext"
path = "$work/ft.bin"
embed_on_write = false
EOF
f() { "$khive" --config "$work/ft.toml" --db "$work/ft.db" "$@"; }
f init >/dev/null
rex=$(f create entity -k concept -n Rex -d "a loyal canine that likes to fetch" | jq_ 'j.id')
sloop=$(f create entity -k concept -n Sloop -d "a vessel with one mast" | jq_ 'j.id')
f create note -k observation -c "the kennel by the harbor" >/dev/null
f reindex | jq_ 'j.entities + "," + j.notes + "," + j.dimensions' | grep -qx "2,1,16" || fail "fasttext reindex"
f search puppy leash | jq_ 'j.hits[0].id' | grep -qx "$rex" || fail "fasttext vector search"
f doctor | jq_ 'j.engines[0].ok + "," + j.engines[0].dimensions' | grep -qx "true,16" || fail "fasttext doctor"
# A soft-deleted record keeps its text document and vector; doctor counts them apart from the
# indexed live data.
f delete "$sloop" >/dev/null
d=$(f doctor)
echo "$d" | jq_ 'j.index.live_records + "," + j.index.text.documents + "," + j.index.text.deleted_records + "," + j.index.text.in_sync' \
  | grep -qx "2,2,1,true" || fail "doctor text index after a soft delete: $d"
echo "$d" | jq_ 'j.engines[0].vectors + "," + j.engines[0].missing + "," + j.engines[0].deleted_records + "," + j.ok' \
  | grep -qx "2,0,1,true" || fail "doctor vectors after a soft delete: $d"
if command -v script >/dev/null; then
  human=$(script -qc "$khive --config $work/ft.toml --db $work/ft.db doctor" /dev/null)
  echo "$human" | grep -q "text: 2 documents (in sync; 1 more of deleted records)" || fail "doctor human text after a soft delete: $human"
  echo "$human" | grep -q "vectors for 2 live records, 0 missing; 1 more of deleted records" || fail "doctor human vectors after a soft delete: $human"
fi
cat >"$work/bad.toml" <<EOF
[[engines]]
name = "ft"
kind = "fasttext"
path = "$work/missing.bin"
EOF
expect_fail 1 "fastText model file $work/missing.bin does not exist" "$khive" --config "$work/bad.toml" --db "$work/ft.db" reindex
cat >"$work/typo.toml" <<EOF
[[engines]]
name = "ft"
kind = "fasttext"
pth = "$work/ft.bin"
EOF
expect_fail 2 "typo.toml:4: unknown key 'engines.pth'" "$khive" --config "$work/typo.toml" --db "$work/ft.db" stats
echo "engine_test: ok"
