#include "backends/postgres/sql_build.h"

#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/query/postgres_dialect.h"
#include "khive/storage/sql_builder.h"

namespace khive::postgres {

std::string escapeLike(std::string_view s) { return query::postgresDialect().escapeLike(s); }

std::vector<std::string> jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation) {
  return storage::propertyPath(dotted, capability, operation);
}

void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const storage::PropertyPredicate& p,
                             std::string_view capability, std::string_view operation) {
  storage::SqlBuilder part(query::postgresDialect(), b.params.size());
  storage::appendPropertyPredicate(part, column, p, capability, operation);
  b.sql += part.sql;
  for (const auto& v : part.params) b.params.value(v);
}

}  // namespace khive::postgres
