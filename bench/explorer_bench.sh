#!/usr/bin/env bash
# Click-to-expand time of the explorer page (`khive serve` at /) with 2,000 nodes loaded, in
# headless Debian chromium: see bench/explorer_bench.mjs. Uses the release build's khive and
# its npm ci of tools/explorer (build with `cmake --build --preset release --target khive`).
#   bench/explorer_bench.sh [CLICKS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/${KHIVE_PRESET:-release}"
[ -x "$build/src/bin/khive" ] || { echo "explorer_bench: build khive first ($build/src/bin/khive)" >&2; exit 1; }
[ -d "$build/explorer-npm/node_modules/puppeteer-core" ] || { echo "explorer_bench: $build/explorer-npm is missing (configure with KHIVE_EXPLORER=ON and build khive)" >&2; exit 1; }
KHIVE_SERVE_WORK="$build/bench-work" node "$root/bench/explorer_bench.mjs" "$build/src/bin/khive" "$build/explorer-npm/node_modules" "${1:-15}"
