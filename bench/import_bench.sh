#!/usr/bin/env bash
# Import benchmark: a seeded JSONL file of entities and edges imported into a fresh SQLite
# file by the khive binary, end to end (parse, validate, write, FTS documents, commit).
# Prints records/s and peak memory (GNU time's maximum resident set size).
#
#   bench/import_bench.sh [ENTITIES] [EDGES] [BATCH]     (defaults: 200000 800000 40000)
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

rm -f "$db" "$db-wal" "$db-shm"
"$khive" --db "$db" init >/dev/null
lines=$(wc -l < "$data")
log="$work/time.log"
start=$(date +%s.%N)
/usr/bin/time -v "$khive" --db "$db" import --batch "$batch" "$data" > "$work/import.out" 2> "$log"
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc -l)
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
printf 'import_bench: %d records (%d entities, %d edges), batch %d, SQLite file\n' "$lines" "$entities" "$edges" "$batch"
printf '  wall %.1f s  ->  %.0f records/s   peak RSS %.0f MB   (load before: %s)\n' "$secs" "$(echo "$lines / $secs" | bc -l)" \
  "$(echo "$rss_kb / 1024" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
