#!/usr/bin/env bash
# Nothing above src/backends names an engine: outside src/backends and include/khive/backends,
# no code (comments aside) holds an engine's name or engine-specific SQL. Code that needs SQL
# asks the backend's dialect (storage::Backend::dialect()) for it; engine facts reach the
# runtime through the Backend interface (info, diagnostics, integrityCheck).
#
# Allowed, each for the reason given (path prefix | reason):
allowed=(
  "src/runtime/backend_factory.cc|maps the config's backend kinds and URLs to the backends"
  "include/khive/runtime/backend_factory.h|declares the backend factory and its URL forms"
  "src/runtime/config.cc|checks the config's backend kinds and their keys"
  "src/query/dialects/|the engines' SQL dialects, which the backends hand out"
  "include/khive/query/sqlite_dialect.h|an engine's SQL dialect"
  "include/khive/query/postgres_dialect.h|an engine's SQL dialect"
  "src/cli/cli.cc|names the backend URL forms in its help and checks that a database file exists before opening it"
)
# Engine names (lower case, as identifiers and strings use them) and SQL only one engine reads.
pattern='postgres|sqlite|PRAGMA|pg_[a-z]|[$][0-9]|::(uuid|text|jsonb|int[248]?|bigint)\b|json_each|jsonb_'

root="${1:?usage: engine_names_test.sh <source root>}"
cd "$root" || exit 2
status=0
while IFS= read -r file; do
  skip=0
  for entry in "${allowed[@]}"; do
    [[ "$file" == "${entry%%|*}"* ]] && skip=1
  done
  ((skip)) && continue
  # Drop // comments (at the start of a line or after white space), then look for the pattern.
  hits=$(sed -E 's#(^|[[:space:]])//.*$##' "$file" | grep -nE "$pattern")
  if [[ -n "$hits" ]]; then
    while IFS= read -r hit; do echo "$file:$hit"; done <<<"$hits"
    status=1
  fi
done < <(find src include -type f \( -name '*.h' -o -name '*.cc' \) \
           -not -path 'src/backends/*' -not -path 'include/khive/backends/*' | sort)
if ((status)); then
  echo "engine names or engine SQL above src/backends (above): ask storage::Backend::dialect() or add a Backend" \
       "method; tests/layering/engine_names_test.sh lists the few files allowed and why" >&2
fi
exit $status
