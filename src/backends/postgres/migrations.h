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
// to the session through the khive.namespaces GUC (a text[] literal; '*' grants all).
// Written into every policy (USING and WITH CHECK).
inline constexpr const char* kGrantedPredicate =
    "(namespace = ANY (khive_granted_namespaces()) OR '*' = ANY (khive_granted_namespaces()))";

}  // namespace khive::postgres
