#pragma once
// The diagnostics unit of a Runtime: what `khive stats`, `khive doctor` and `khive db check`
// report. It reads; it never writes.
//
// Thread-safe: constant after construction; reads through the thread-safe backend.

#include <string>
#include <vector>

#include "khive/runtime/runtime.h"

namespace khive::runtime {

class Indexing;
class Policy;

class Diagnostics {
 public:
  // The backend, the policy and the indexing unit must outlive this one. Without showLocation
  // (a hosted runtime) no report names the store's location.
  Diagnostics(storage::Backend& backend, const Policy& policy, Indexing& indexing, bool showLocation)
      : backend_(backend), policy_(policy), indexing_(indexing), showLocation_(showLocation) {}
  Diagnostics(const Diagnostics&) = delete;
  Diagnostics& operator=(const Diagnostics&) = delete;

  // Runtime::stats: counts of the read scope.
  Stats stats();
  // Runtime::doctor.
  Json doctor(bool probeEngines);
  // `khive db check`: the schema version against this build's, the engine's own integrity
  // check and consistency(). {"engine", "location" (not when hosted), "schema_version", "integrity", "ok",
  // "problems": [one line per problem]}.
  Json check();
  // Consistency across capabilities, which the engine's own integrity check cannot see: one
  // line per problem found, empty when consistent. Checks that every live entity and note has
  // its text document when the backend has text search (without one, search cannot find the
  // record). Sees what the backend's session sees: every namespace of an SQLite file, the
  // granted namespaces on PostgreSQL (row-level security).
  std::vector<std::string> consistency();

 private:
  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
  Indexing& indexing_;
  const bool showLocation_;
};

}  // namespace khive::runtime
