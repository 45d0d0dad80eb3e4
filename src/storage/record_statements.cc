#include "khive/storage/record_statements.h"

#include <fmt/format.h>

namespace khive::storage {

SqlBuilder retrievalCount(const SqlDialect& dialect, std::string_view capability, std::string_view table,
                          std::span<const std::string> namespaces, std::optional<std::string_view> model,
                          bool liveOnly) {
  requireNamespaces(namespaces, capability, "count");
  SqlBuilder b(dialect);
  b.text(fmt::format("SELECT count(*) FROM {} AS r WHERE ", table));
  if (model) b.text("r.model = " + b.param(std::string(*model), ParamType::Text) + " AND ");
  b.text(dialect.inList("r.namespace", b.param(dialect.listValue(namespaces), ParamType::TextList)));
  if (liveOnly) {
    b.text(
        " AND (EXISTS (SELECT 1 FROM entities AS le WHERE le.id = r.subject_id AND le.deleted_at IS NULL) "
        "OR EXISTS (SELECT 1 FROM notes AS ln WHERE ln.id = r.subject_id AND ln.deleted_at IS NULL))");
  }
  return b;
}

}  // namespace khive::storage
