#include "backends/postgres/sql_build.h"

#include <fmt/format.h>

#include <algorithm>

#include "khive/core/error.h"
#include "khive/query/postgres_dialect.h"
#include "khive/storage/sql_builder.h"

namespace khive::postgres {

std::string escapeLike(std::string_view s) { return query::postgresDialect().escapeLike(s); }

std::vector<std::string> jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation) {
  return storage::propertyPath(dotted, capability, operation);
}

void appendPropertyPredicates(SqlBuilder& b, std::string_view column,
                              std::span<const storage::PropertyPredicate> predicates, std::string_view capability,
                              std::string_view operation) {
  storage::appendPropertyPredicates(b, query::postgresDialect(), column, predicates, capability, operation);
}

namespace {
std::vector<std::string> columnNames(std::string_view columns) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= columns.size();) {
    const auto comma = std::min(columns.find(',', start), columns.size());
    auto name = columns.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    out.emplace_back(name);
    start = comma + 1;
  }
  return out;
}
}  // namespace

std::string insertSql(std::string_view table, std::string_view columns) {
  std::string values;
  for (std::size_t i = 1; i <= columnNames(columns).size(); ++i) values += fmt::format("{}${}", i > 1 ? ", " : "", i);
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", table, columns, values);
}

std::string upsertByIdSql(std::string_view table, std::string_view columns) {
  std::string set;
  for (const auto& c : columnNames(columns)) {
    if (c == "id" || c == "namespace" || c == "created_at") continue;
    set += fmt::format("{}{} = excluded.{}", set.empty() ? "" : ", ", c, c);
  }
  return fmt::format("{} ON CONFLICT (id) DO UPDATE SET {} WHERE {}.namespace = excluded.namespace RETURNING created_at",
                     insertSql(table, columns), set, table);
}

}  // namespace khive::postgres
