#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts the services the suites need
# (native PostgreSQL 15 and PGlite with pgvector, on loopback), runs every test with ctest,
# runs the unit, query, MCP, runtime and contract suites under AddressSanitizer and
# UndefinedBehaviorSanitizer first (see below), and stops the services again, whatever the outcome.
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

# Under AddressSanitizer + UndefinedBehaviorSanitizer (preset `debug`: -O1 -g,
# -fno-sanitize-recover=all, build/debug): core (UTF-8, ids), the GQL/SPARQL lexers, parsers,
# binder and compiler, the MCP message handler with every tool's argument checks, the command
# table with the CLI and MCP surfaces generated from it, the runtime
# (verbs, policy, limits, import, unit of work) and the storage contract suite, the last two on
# every backend; then the khive binary itself under the CLI suites (tests/cli). The first report
# stops the program and fails the run. KHIVE_SANITIZE_RUN=0 skips it; `ctest --preset debug`
# after `KHIVE_PRESET=debug bash scripts/setup.sh` runs every suite under the sanitizers.
if [ "${KHIVE_SANITIZE_RUN:-1}" = 1 ] && [ "$preset" != debug ]; then
  sanitized=(khive_unit_tests khive_query_unit_tests khive_mcp_tests khive_commands_tests khive_runtime_tests khive_contract_tests)
  KHIVE_PRESET=debug bash scripts/setup.sh "${sanitized[@]}" khive
  for t in "${sanitized[@]}"; do
    bin=$(find build/debug/tests -type f -name "$t" -perm -u+x | head -n 1)
    [ -n "$bin" ] || { echo "khive test: sanitizer build of $t is missing" >&2; exit 1; }
    echo "khive test: $t under ASan + UBSan" >&2
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
      "$bin" --gtest_brief=1
  done
  # The khive binary under the sanitizers, driven by the CLI suites (tests/cli: every command,
  # MCP over stdio, hostile input, kill trials) on every backend.
  echo "khive test: the CLI suites against the ASan + UBSan khive" >&2
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    ctest --preset debug -R '^cli\.' -j 2 --timeout 1200
fi

ctest --preset "$preset" -j 2 --timeout 1200
