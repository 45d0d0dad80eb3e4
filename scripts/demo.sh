#!/usr/bin/env bash
# The quick-start command: installs what is missing, builds khive, and runs its main job on
# the embedded SQLite default (a fresh database file in ./khive-demo.db).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
db=${KHIVE_DEMO_DB:-$root/khive-demo.db}
rm -f "$db" "$db-wal" "$db-shm"
exec "$root/build/${KHIVE_PRESET:-release}/examples/khive_demo" "$db"
