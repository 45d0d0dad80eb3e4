#!/usr/bin/env bash
# Fuzzing, run like a benchmark (not part of the test command or CI): installs what is
# missing (scripts/debian-packages.txt and scripts/fuzz-packages.txt), builds the libFuzzer
# targets of tests/fuzz with clang 16 and ASan + UBSan (preset `fuzz`, build/fuzz), runs each
# target for a time or a number of executions, and prints the executions per target and in
# total. Exits 1 when any target crashed or a sanitizer reported.
#
#   scripts/fuzz.sh [--time SECONDS | --runs N] [--jobs N] [--postgres] [TARGET[:SECONDS]...]
#
#   --time SECONDS  run each target this long (default 60)
#   --runs N        run each target for N executions instead
#   --jobs N        build parallelism (default 2)
#   --postgres      also run fuzz_tsquery's searches on a PostgreSQL 15 started by
#                   scripts/services.sh (stopped again at the end)
#   TARGET          fuzz_gql fuzz_sparql fuzz_jsonl_record fuzz_jsonl_edge fuzz_fts5 fuzz_tsquery
#                   fuzz_config fuzz_mcp (default: all); TARGET:SECONDS runs that one this long
#
# Seeds: tests/fuzz/corpus/<target>/ (kept small in the repository) plus, for the query
# targets, every query of tests/parity/*.test. The growing corpus is build/fuzz/corpus/<target>/
# (kept between runs); crash, leak and timeout artefacts go to build/fuzz/artifacts/<target>/,
# each run's log to build/fuzz/logs/<target>.log. Reproduce a crash with
#   build/fuzz/tests/fuzz/<target> build/fuzz/artifacts/<target>/crash-...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

all_targets=(fuzz_gql fuzz_sparql fuzz_jsonl_record fuzz_jsonl_edge fuzz_fts5 fuzz_tsquery fuzz_config fuzz_mcp)
seconds=60
runs=
jobs=2
postgres=0
targets=()
declare -A time_of=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds=$2; runs=; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --postgres) postgres=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    fuzz_*:*) targets+=("${1%%:*}"); time_of["${1%%:*}"]=${1#*:}; shift ;;
    fuzz_*) targets+=("$1"); shift ;;
    *) echo "khive fuzz: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# ---- install what is missing ----------------------------------------------------------
missing=()
while read -r p extra; do
  case "$p" in ''|'#'*) continue ;; esac
  if [[ "${extra:-}" == cmd=* ]] && command -v "${extra#cmd=}" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done < <(cat scripts/debian-packages.txt scripts/fuzz-packages.txt)
if [ ${#missing[@]} -gt 0 ]; then
  echo "khive fuzz: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- build ----------------------------------------------------------------------------
cmake --preset fuzz >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "$t"); done
cmake --build --preset fuzz -j "$jobs" "${build_targets[@]}"

# ---- seeds ----------------------------------------------------------------------------
out=build/fuzz
bin=$out/tests/fuzz
mkdir -p "$out/seeds" "$out/corpus" "$out/artifacts" "$out/logs"
# One seed file per query of the parity files (the lines between a `query`/`error` header and
# its `----` or blank line), by language.
parity_seeds() {  # language dir
  rm -rf "$2" && mkdir -p "$2"
  awk -v lang="$1" -v dir="$2" '
    /^(query|error) / { inq = ($2 == lang); text = ""; next }
    inq && (/^----$/ || /^$/) { if (text != "") { n++; f = sprintf("%s/parity%04d", dir, n); printf "%s", text > f; close(f) } inq = 0; next }
    inq { text = text (text == "" ? "" : "\n") $0 }
  ' tests/parity/*.test
}
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  seeds=$out/seeds/$t
  rm -rf "$seeds" && mkdir -p "$seeds"
  case "$t" in
    fuzz_gql) parity_seeds gql "$seeds" ;;
    fuzz_sparql) parity_seeds sparql "$seeds" ;;
  esac
  if [ -d "tests/fuzz/corpus/$t" ]; then cp tests/fuzz/corpus/"$t"/* "$seeds"/; fi
done

# ---- services (optional) -----------------------------------------------------------------
services_started=0
cleanup() {
  if [ "$services_started" = 1 ]; then bash scripts/services.sh stop || true; fi
}
trap cleanup EXIT
if [ "$postgres" = 1 ]; then
  bash scripts/services.sh start
  services_started=1
  # shellcheck disable=SC1091
  source build/services.env
  export KHIVE_FUZZ_POSTGRES_URL=$KHIVE_PG_URL
fi

# ---- run ------------------------------------------------------------------------------
# Every sanitizer finding stops the target with a report (the build also passes
# -fno-sanitize-recover=all).
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-16/bin/llvm-symbolizer}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
total=0
failed=0
printf '%-18s %14s %10s %8s %8s  %s\n' target executions exec/s seconds corpus result
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  limit=(-max_total_time="${time_of[$t]:-$seconds}")
  [ -n "${time_of[$t]:-}" ] || [ -z "$runs" ] || limit=(-runs="$runs")
  start=$(date +%s%N)
  set +e
  "$bin/$t" "${limit[@]}" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then
    # A crash ends the run before the final stats: take the last progress line's count.
    execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  fi
  execs=${execs:-0}
  total=$((total + execs))
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc; see $log and $out/artifacts/$t/)"
    failed=1
  fi
  printf '%-18s %14d %10.0f %8.1f %8d  %s\n' "$t" "$execs" "$(awk -v n="$execs" -v s="$elapsed" 'BEGIN { print (s > 0 ? n / s : 0) }')" "$elapsed" \
    "$(find "$out/corpus/$t" -type f | wc -l)" "$result"
done
printf '%-18s %14d\n' total "$total"
exit "$failed"
