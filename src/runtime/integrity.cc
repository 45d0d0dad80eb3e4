#include "khive/runtime/integrity.h"

#include <fmt/format.h>

namespace khive::runtime {

std::vector<std::string> checkConsistency(Runtime& rt) {
  std::vector<std::string> problems;
  if (!rt.hasText()) return problems;
  auto reader = rt.backend().sql().reader();
  for (auto [table, what] : {std::pair{"entities", "entities"}, std::pair{"notes", "notes"}}) {
    // The same SQL on both engines; subject_id is indexed on both, so this is one probe per
    // live record.
    const std::string sql = fmt::format(
        "SELECT count(*), min(CAST(r.id AS TEXT)) FROM {} AS r WHERE r.deleted_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM text_documents AS d WHERE d.subject_id = r.id)",
        table);
    auto row = reader->queryRow(sql);
    const std::int64_t missing = row ? storage::asInt((*row)[0]) : 0;
    if (missing == 0) continue;
    problems.push_back(fmt::format(
        "{} live {} have no text document (e.g. {}), so search cannot find them: rerun the import that wrote "
        "them (a rerun rewrites each record with its document) or update each record",
        missing, what, storage::asText((*row)[1])));
  }
  return problems;
}

}  // namespace khive::runtime
