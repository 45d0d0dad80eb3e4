#!/usr/bin/env bash
# Entry of the Kuzu differential test: installs the pinned kuzu package from package-lock.json
# (npm ci; a cached node_modules is reused while the lock file is unchanged), then runs
# check.mjs on the given input file.
#   run.sh INPUT.json
# Exit 3: node/npm missing or the install failed (the test skips, or fails under
# KHIVE_REQUIRE_SERVICES=1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
command -v node >/dev/null && command -v npm >/dev/null || { echo "kuzu-check: node/npm not found" >&2; exit 3; }
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.khive-lock; then
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2 || { echo "kuzu-check: npm ci failed" >&2; exit 3; }
  node -e 'require("kuzu")' || { echo "kuzu-check: kuzu does not load" >&2; exit 3; }
  cp package-lock.json node_modules/.khive-lock
fi
exec node check.mjs "$1"
