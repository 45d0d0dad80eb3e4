#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/query/dialect.h"

namespace khive::query {

const SqlDialect& queryDialect(const storage::SqlDialect& dialect) {
  if (const auto* d = dynamic_cast<const SqlDialect*>(&dialect)) return *d;
  throw Error(ErrorCode::Unsupported, "query", "compile",
              fmt::format("the {} backend's SQL dialect does not compile GQL or SPARQL queries", dialect.name()));
}

}  // namespace khive::query
