#!/usr/bin/env bash
# Import benchmark: a seeded JSONL file of entities and edges imported into a fresh SQLite
# file by the khive binary, end to end (parse, validate, write, FTS documents, commit).
# Prints records/s and peak memory (GNU time's maximum resident set size).
#
#   bench/import_bench.sh [ENTITIES] [EDGES] [BATCH]     (defaults: 200000 800000 40000)
#
# With KHIVE_PG_URL set (a superuser's URL, as scripts/services.sh writes it), the same file is
# also imported into PostgreSQL (a fresh database made for the run and dropped after it), and
# the rows khive wrote to entities and edges are then loaded by plain COPY into the same tables
# of a second fresh khive database: both rates are printed side by side. KHIVE_BENCH_NO_SQLITE=1
# skips the SQLite run.
#
# Ids are UUID-shaped and scattered (a multiplicative hash of the record number), as ids
# minted by many writers are; edges join random entities with entity-to-entity relations.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
khive=${KHIVE_BIN:-$root/build/release/src/bin/khive}
entities=${1:-200000}
edges=${2:-800000}
batch=${3:-40000}
work=${KHIVE_BENCH_DIR:-/tmp/khive-import-bench}
mkdir -p "$work"
data="$work/records-$entities-$edges.jsonl"
db="$work/import.db"

[[ -x $khive ]] || { echo "import_bench: build khive first ($khive)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "import_bench: needs GNU time (apt install time)" >&2; exit 1; }

if [[ ! -s $data ]]; then
  awk -v n="$entities" -v m="$edges" 'BEGIN {
    srand(42)
    split("depends_on extends part_of instance_of enables implements variant_of derived_from", rel, " ")
    for (i = 0; i < n; i++) {
      printf "{\"type\":\"entity\",\"id\":\"%s\",\"kind\":\"concept\",\"name\":\"concept %d\",\"description\":\"synthetic concept number %d of the import benchmark\",\"properties\":{\"rank\":%d},\"tags\":[\"bench\"]}\n", id(i), i, i, i % 100
    }
    for (k = 0; k < m; k++) {
      s = int(rand() * n); t = int(rand() * n); if (t == s) t = (s + 1) % n
      printf "{\"type\":\"edge\",\"id\":\"%s\",\"source_id\":\"%s\",\"target_id\":\"%s\",\"relation\":\"%s\",\"weight\":%.3f}\n", id(n + k), id(s), id(t), rel[1 + int(rand() * 8)], rand()
    }
  }
  function id(i,   h) {
    h = (i * 2654435761) % 4294967296
    return sprintf("%08x-%04x-7%03x-8%03x-%012x", h, int(i / 65536) % 65536, i % 4096, int(i / 4096) % 4096, i)
  }' > "$data"
fi

lines=$(wc -l < "$data")
log="$work/time.log"
# timed_import OUT KHIVE-ARGS...: runs `khive KHIVE-ARGS... import`; sets secs and rss_kb.
timed_import() {
  local out=$1 start end
  shift
  start=$(date +%s.%N)
  /usr/bin/time -v "$khive" "$@" import --batch "$batch" "$data" > "$out" 2> "$log"
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
}
if [[ -z ${KHIVE_BENCH_NO_SQLITE:-} ]]; then
rm -f "$db" "$db-wal" "$db-shm"
"$khive" --db "$db" init >/dev/null
timed_import "$work/import.out" --db "$db"
printf 'import_bench: %d records (%d entities, %d edges), batch %d, SQLite file\n' "$lines" "$entities" "$edges" "$batch"
printf '  wall %.1f s  ->  %.0f records/s   peak RSS %.0f MB   (load before: %s)\n' "$secs" "$(echo "$lines / $secs" | bc -l)" \
  "$(echo "$rss_kb / 1024" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
fi

[[ -n ${KHIVE_PG_URL:-} ]] || exit 0
# The server's URL with another database name in its path.
with_db() { sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$1#" <<< "$KHIVE_PG_URL"; }
imp_db=khive_import_bench_$$
copy_db=khive_copy_bench_$$
drop_dbs() { for d in "$imp_db" "$copy_db"; do psql "$KHIVE_PG_URL" -XAtqc "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done; }
trap drop_dbs EXIT
for d in "$imp_db" "$copy_db"; do psql "$KHIVE_PG_URL" -XAtqc "CREATE DATABASE $d" >/dev/null; done
imp_url=$(with_db "$imp_db")
copy_url=$(with_db "$copy_db")
"$khive" --backend "$imp_url" init >/dev/null
"$khive" --backend "$copy_url" init >/dev/null
timed_import "$work/import-pg.out" --backend "$imp_url"
pg_secs=$secs
pg_rss_kb=$rss_kb
# The same rows by COPY: what khive stored in entities and edges, every column but the
# generated ones, loaded into the same (empty, indexed, triggered) tables of the second database.
columns() {
  psql "$imp_url" -XAtqc "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = '$1' AND is_generated = 'NEVER'"
}
copy_rows=0
for t in entities edges; do
  psql "$imp_url" -XAtqc "\\copy (SELECT $(columns $t) FROM $t) TO '$work/$t.tsv'"
  copy_rows=$((copy_rows + $(wc -l < "$work/$t.tsv")))
done
start=$(date +%s.%N)
psql "$copy_url" -XAtq -v ON_ERROR_STOP=1 -c "\\copy entities ($(columns entities)) FROM '$work/entities.tsv'" \
  -c "\\copy edges ($(columns edges)) FROM '$work/edges.tsv'"
end=$(date +%s.%N)
copy_secs=$(echo "$end - $start" | bc -l)
pg_rate=$(echo "$lines / $pg_secs" | bc -l)
copy_rate=$(echo "$copy_rows / $copy_secs" | bc -l)
printf 'import_bench: %d records (%d entities, %d edges), batch %d, PostgreSQL %s\n' "$lines" "$entities" "$edges" \
  "$batch" "$(psql "$KHIVE_PG_URL" -XAtqc 'SHOW server_version')"
printf '  khive import  wall %.1f s  ->  %.0f records/s   peak RSS %.0f MB\n' "$pg_secs" "$pg_rate" \
  "$(echo "$pg_rss_kb / 1024" | bc -l)"
printf '  plain COPY    wall %.1f s  ->  %.0f rows/s (the %d entity and edge rows khive stored)\n' "$copy_secs" \
  "$copy_rate" "$copy_rows"
printf '  ratio %.2fx of the COPY rate   (load: %s)\n' "$(echo "$pg_rate / $copy_rate" | bc -l)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
