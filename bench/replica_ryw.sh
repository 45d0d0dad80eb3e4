#!/usr/bin/env bash
# Read-your-writes against a replica that replays late: 10,000 write-then-read pairs (or
# $KHIVE_RYW_PAIRS) with the replica applying WAL 40 ms late, and 10,000 with its replay
# paused, each counting reads that missed the client's own write (violations). Runs the
# replica suite's two read-your-writes tests at that size against the test services'
# replication pair (scripts/services.sh start first). Prints one line per run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -f "$root/build/services.env" ] || { echo "start the services first: bash scripts/services.sh start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$root/build/services.env"
bin=${KHIVE_REPLICA_TESTS:-$root/build/release/tests/postgres/khive_pg_replica_tests}
KHIVE_RYW_PAIRS=${KHIVE_RYW_PAIRS:-10000} KHIVE_REQUIRE_SERVICES=1 "$bin" \
  --gtest_filter='PgReplicas.ReadYourWrites*' 2>&1 | grep -E '^(apply delay|replay paused)|FAILED|PASSED'
