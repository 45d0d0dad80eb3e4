#!/usr/bin/env bash
# Fresh-process search latency: runs `khive search` N times, each in a new process, with and
# without an embedding engine, and prints the median wall time and the median CPU time (user +
# system) of each. On a busy machine the CPU time is the steadier figure.
#   bench/search_latency.sh DB CONFIG [QUERY] [N]
#     DB      a khive database with vectors of CONFIG's engine (e.g. scripts/demo.sh's)
#     CONFIG  a khive.toml with the [[engines]] entry (e.g. khive-demo.db.toml)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
khive="$root/build/${KHIVE_PRESET:-release}/src/bin/khive"
db=$1 config=$2 query=${3:-domestic dog} n=${4:-7}
times=$(mktemp)
empty=$(mktemp --suffix=.toml)
trap 'rm -f "$times" "$empty"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
measure() {
  local label=$1
  shift
  local wall=() cpu=()
  for _ in $(seq "$n"); do
    /usr/bin/time -o "$times" -f '%e %U %S' "$khive" "$@" --db "$db" --json search "$query" >/dev/null 2>&1
    read -r w u s <"$times"
    wall+=("$w")
    cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
  done
  printf '%-34s median wall %6.3f s   median cpu %6.3f s   (%d runs)\n' "$label" \
    "$(printf '%s\n' "${wall[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)" "$n"
}
echo "khive search \"$query\" in a fresh process each time; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "hybrid (engine configured)" --config "$config"
measure "text only (no engine)" --config "$empty"
