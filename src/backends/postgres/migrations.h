#pragma once
// The PostgreSQL migration set: forward-only, versioned, recorded in `_schema_migrations`.

#include <string>
#include <vector>

namespace khive::postgres {

struct Migration {
  int version;
  const char* description;
  // DDL with placeholders: {schema} (quoted schema name), {role} (quoted application role).
  const char* sql;
  // Runs only when the server has this extension available (pgvector for vectors); skipped
  // otherwise and applied by a later open once the extension is installed.
  const char* requiresExtension = nullptr;
};

const std::vector<Migration>& migrations();

// The row-level security predicate on a table's `namespace` column: the namespaces granted
// to the session by its signed scope token (khive_granted_namespaces(), migration 4: the
// khive.scope GUC verified against a key the application role cannot read; '*' grants all).
// The sub-select makes the grant an InitPlan, evaluated once per statement rather than per
// row. Written into every policy (USING and WITH CHECK).
inline constexpr const char* kGrantedPredicate = "((SELECT khive_granted_namespaces()) && ARRAY[namespace, '*'])";

}  // namespace khive::postgres
