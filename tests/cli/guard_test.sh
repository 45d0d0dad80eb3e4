#!/usr/bin/env bash
# The khive binary on files and arguments it must not misread: another program's SQLite file
# (refused by every command, left byte for byte), a read-only database (reads work, writes are
# refused with a clear message), a directory given to import, the import summary, and text
# arguments that look like lists or options.
#   guard_test.sh KHIVE_BINARY WORK_DIR
set -euo pipefail
khive=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME= XDG_DATA_HOME= KHIVE_CONFIG=
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
# expect_fail CODE PATTERN cmd...: exit code (any non-zero for "nonzero") and one-line stderr
# matching PATTERN, nothing on stdout
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e; out=$("$@" 2>"$work/err"); rc=$?; set -e
  if [ "$code" = nonzero ]; then [ "$rc" != 0 ] || fail "'$*' exited 0 (stderr: $(cat "$work/err"))"
  else [ "$rc" = "$code" ] || fail "'$*' exited $rc, wanted $code (stderr: $(cat "$work/err"))"; fi
  [ "$(wc -l <"$work/err")" = 1 ] || fail "'$*' stderr is not one line: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "'$*' stderr lacks '$pattern': $(cat "$work/err")"
  [ -z "$out" ] || fail "'$*' printed on stdout: $out"
}
jq_() { node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); const v=($1); if (v===undefined) process.exit(3); console.log(typeof v==='string'?v:JSON.stringify(v))"; }
# The files of a directory with their checksums: what "left untouched" compares.
fingerprint() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum; ls -la --time-style=+ . | awk '{print $1, $NF}'); }
command -v sqlite3 >/dev/null || fail "the sqlite3 shell is missing (Debian sqlite3, scripts/debian-packages.txt)"

# ---- another program's SQLite file: every command refuses it and writes nothing ------------
mkdir "$work/foreign"
other="$work/foreign/other.db"
sqlite3 "$other" "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders (id INTEGER); INSERT INTO users VALUES (1, 'ada');"
before=$(fingerprint "$work/foreign")
for cmd in "db check" stats doctor list init "db migrate" "search ada" "create entity -k concept -n x" "export -"; do
  # shellcheck disable=SC2086
  expect_fail 2 "'$other' is not a khive database: it has tables orders, users" "$khive" --db "$other" $cmd
done
echo '{"type":"entity","kind":"concept","name":"x"}' >"$work/one.jsonl"
expect_fail 2 "is not a khive database" "$khive" --db "$other" import "$work/one.jsonl"
expect_fail 2 "is not a khive database" "$khive" --backend "sqlite://$other" stats
[ "$(fingerprint "$work/foreign")" = "$before" ] || fail "khive changed another program's database: $(ls -la "$work/foreign")"
[ "$(sqlite3 "$other" 'SELECT name FROM sqlite_schema ORDER BY name' | tr '\n' ,)" = "orders,users," ] || fail "schema changed"
# a file that is not SQLite at all
printf 'name,age\nada,36\n' >"$work/foreign/people.csv"
before=$(fingerprint "$work/foreign")
expect_fail 2 "is not a khive database: it is not an SQLite database file" "$khive" --db "$work/foreign/people.csv" db check
[ "$(fingerprint "$work/foreign")" = "$before" ] || fail "khive changed a CSV file"
# an empty file is a new database, initialised as before
: >"$work/empty.db"
"$khive" --db "$work/empty.db" stats | jq_ 'j.entities' | grep -qx 0 || fail "an empty file opens as a new database"

# ---- a read-only database: reads work, writes say so ---------------------------------------
# As root, file permissions do not apply: the reads run as the unprivileged user `nobody`.
mkdir "$work/ro" "$work/rodir"
for d in ro rodir; do
  "$khive" --db "$work/$d/k.db" create entity -k concept -n dog -d "a loyal canine" >/dev/null
done
if [ "$(id -u)" = 0 ]; then
  as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
  chmod -R a+rX "$work"
  chown 65534 "$work/rodir"  # its directory is writable by the reader, the file is not
else
  as_reader() { "$@"; }
  chmod a-w "$work/ro/k.db" "$work/ro" "$work/rodir/k.db"
fi
for d in ro rodir; do
  db="$work/$d/k.db"
  before=$(fingerprint "$work/$d")
  as_reader "$khive" --db "$db" stats | jq_ 'j.entities' | grep -qx 1 || fail "stats on a read-only database ($d)"
  as_reader "$khive" --db "$db" list | jq_ 'j.items[0].name' | grep -qx dog || fail "list ($d)"
  as_reader "$khive" --db "$db" search canine 2>/dev/null | jq_ 'j.hits.length' | grep -qx 1 || fail "search ($d)"
  as_reader "$khive" --db "$db" query "MATCH (a:concept) RETURN a.name" | jq_ 'j.rows[0][0]' | grep -qx dog || fail "query ($d)"
  as_reader "$khive" --db "$db" db check | jq_ 'j.ok' | grep -qx true || fail "db check ($d)"
  as_reader "$khive" --db "$db" doctor --no-probe | jq_ 'j.engine' | grep -qx sqlite || fail "doctor ($d)"
  as_reader "$khive" --db "$db" export - | grep -q '"name":"dog"' || fail "export ($d)"
  id=$(as_reader "$khive" --db "$db" list | jq_ 'j.items[0].id')
  expect_fail nonzero "database '$db' is read-only (.*not writable by this user): writes are refused, reads work \[permission_denied\]" \
    as_reader "$khive" --db "$db" create entity -k concept -n cat
  expect_fail nonzero "is read-only" as_reader "$khive" --db "$db" delete "$id"
  expect_fail nonzero "is read-only" as_reader "$khive" --db "$db" import "$work/one.jsonl"
  [ "$(fingerprint "$work/$d")" = "$before" ] || fail "reading a read-only database changed its directory ($d): $(ls -la "$work/$d")"
done
[ "$(id -u)" = 0 ] || chmod u+w "$work/ro" "$work/ro/k.db" "$work/rodir/k.db"

# ---- import: a directory is an error; the summary counts lines read and records written -----
db="$work/t.db"
k() { "$khive" --db "$db" "$@"; }
k init >/dev/null
mkdir "$work/adir"
expect_fail 2 "$work/adir is a directory; import reads a JSONL file" k import "$work/adir"
expect_fail 2 "standard input is a directory" k import - <"$work/adir"
a=01900000-0000-7000-8000-00000000000a
b=01900000-0000-7000-8000-00000000000b
cat >"$work/summary.jsonl" <<JSONL
{"type":"entity","id":"$a","kind":"concept","name":"alpha"}

{"type":"entity","id":"$b","kind":"concept","name":"beta"}
{"type":"note","kind":"observation","content":"alpha comes first"}
{"type":"edge","source_id":"$a","target_id":"$b","relation":"precedes","weight":0.5}
{"type":"event","id":"01900000-0000-7000-8000-0000000000e1","namespace":"default","verb":"create","substrate":"entity","actor":"x","kind":"concept","outcome":"success","created_at":1}
JSONL
s=$(k import "$work/summary.jsonl")
echo "$s" | jq_ '[j.lines_read, j.written.entities, j.written.notes, j.written.edges, j.written.events, j.skipped.events_already_present].join(",")' \
  | grep -qx "6,2,1,1,1,0" || fail "import summary: $s"
s=$(k import "$work/summary.jsonl")
echo "$s" | jq_ '[j.written.events, j.skipped.events_already_present].join(",")' | grep -qx "0,1" || fail "re-import summary: $s"
if command -v script >/dev/null; then
  human=$(script -qc "$khive --db $db import $work/summary.jsonl" /dev/null)
  echo "$human" | grep -q "read 6 lines; wrote 2 entities, 1 notes, 1 edges, 0 events; skipped 1 events already present" \
    || fail "human import summary: $human"
fi
s=$(k export "$work/out.jsonl")
echo "$s" | jq_ '[j.lines_written, j.exported.entities].join(",")' | grep -qx "$(wc -l <"$work/out.jsonl"),2" || fail "export summary: $s"

# ---- text arguments are text, whatever they look like --------------------------------------
k create entity -k concept -n dog >/dev/null
k search "[]" 2>/dev/null | jq_ 'j.hits.length' | grep -qx 0 || fail 'search "[]" is a search for the text []'
k search "{}" 2>/dev/null | jq_ 'j.hits.length' | grep -qx 0 || fail 'search "{}"'
k search "[dog]" 2>/dev/null | jq_ 'j.hits[0].name' | grep -qx dog || fail 'search "[dog]"'
k search alpha -- -x 2>/dev/null | jq_ 'j.hits.length' >/dev/null || fail "search WORDS -- -x"
k search -- -dog 2>/dev/null | jq_ 'j.hits[0].name' | grep -qx dog || fail "search -- -dog"
k search --kind concept dog 2>/dev/null | jq_ 'j.hits[0].name' | grep -qx dog || fail "search --kind concept dog: dog is text"
expect_fail 2 "search has no option --limt" k search dog --limt 3
expect_fail 2 "search needs text" k search
k create entity -k concept -n "[]" | jq_ 'j.name' | grep -qx '\[\]' || fail 'create -n "[]"'
k create entity -k concept -n "{}" | jq_ 'j.name' | grep -qx '{}' || fail 'create -n "{}"'
k create note -k observation -c "[]" | jq_ 'j.content' | grep -qx '\[\]' || fail 'create note -c "[]"'
k create entity -k concept -n tagged --tag "[a,b]" --tag c | jq_ 'j.tags.join("|")' | grep -qx '\[a,b\]|c' || fail '--tag "[a,b]" is one tag'
expect_fail 2 "parse error" k query "[]"
echo "guard ok"
