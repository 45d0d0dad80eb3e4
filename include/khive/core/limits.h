#pragma once
// The limits and budgets khive enforces at its boundary, one definition for every entry point
// (CLI, MCP, import, HTTP) and both backends. Configured in khive.toml's [limits] table; the
// defaults below are what a store gets without one. Every limit is checked before anything is
// written, and a value past it is Error(InvalidInput) naming the field and the limit (and the
// `[limits]` key that raises it).
//
// Thread-compatible value type.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace khive {

struct Limits {
  // Record text, in bytes of UTF-8.
  // Text must be well-formed UTF-8 without NUL whatever its size (khive/storage/record_checks.h).
  std::size_t maxNameBytes = 4096;           // name, kind, entity_type, relation, a tag, actor, verb
  std::size_t maxTextBytes = 1 << 20;        // an entity's description, a note's content
  std::size_t maxTags = 1024;                // tags on one entity
  // JSON values: properties, edge metadata, event payloads.
  std::size_t maxJsonBytes = 1 << 20;        // serialised size
  int maxJsonDepth = 64;  // nesting of objects and arrays ({} is depth 1); at most storage::kMaxJsonDepth
  // Requests.
  std::size_t maxQueryBytes = 64 << 10;      // GQL / SPARQL text
  std::size_t maxSearchBytes = 4096;         // search text
  std::size_t maxImportLineBytes = 4 << 20;  // one JSONL line of an import (a longer one is not held)
  // Budgets of read work, enforced inside the engine (storage::ReadBudget): every statement a
  // query, neighbors, path, search or get runs on a reader, and a whole traverse.
  // Wall time of one read statement (SQLite progress handler, PostgreSQL statement_timeout), and
  // of a traverse as a whole; past it: Error(Timeout) naming time_budget_ms (CLI --timeout-ms).
  std::chrono::milliseconds timeBudget{30000};
  // Work of one read statement in thousands of SQLite virtual-machine instructions (counted by
  // the progress handler); past it: Error(InvalidInput) naming work_budget. PostgreSQL has no
  // such counter for a non-superuser and bounds its statements by time alone.
  std::int64_t workBudget = 50'000'000;
};

}  // namespace khive
