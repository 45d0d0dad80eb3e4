#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts the services the suites need
# (native PostgreSQL 15 and PGlite with pgvector, on loopback), runs every test with ctest,
# then runs the suites again built with AddressSanitizer and UndefinedBehaviorSanitizer
# (preset `debug`, build/debug; a sanitizer report fails its test), and stops the services
# again, whatever the outcome. KHIVE_SANITIZE_RUN=0 skips the sanitizer run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh

services_started=0
cleanup() {
  if [ "$services_started" = 1 ]; then bash scripts/services.sh stop || true; fi
}
trap cleanup EXIT

if [ -f scripts/services.sh ]; then
  bash scripts/services.sh start
  services_started=1
  # shellcheck disable=SC1091
  source build/services.env
  # A service this script started must be used: suites fail rather than skip without it.
  export KHIVE_REQUIRE_SERVICES=1
fi

preset=${KHIVE_PRESET:-release}
ctest --preset "$preset" -j 2 --timeout 1200

if [ "${KHIVE_SANITIZE_RUN:-1}" = 1 ] && [ "$preset" != debug ]; then
  KHIVE_PRESET=debug bash scripts/setup.sh
  # Both sanitizers stop the program at their first report (-fno-sanitize-recover=all too).
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    ctest --preset debug -j 2 --timeout 1200
fi
