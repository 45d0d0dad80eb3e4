#include "backends/sqlite/sql_build.h"

#include <fmt/format.h>

#include "backends/sqlite/connection.h"
#include "backends/sqlite/stores.h"
#include "khive/core/error.h"
#include "khive/query/sqlite_dialect.h"
#include "khive/storage/sql_builder.h"

namespace khive::sqlite {

SqlBuilder& SqlBuilder::inList(std::span<const std::string> values) {
  sql += '(';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) sql += ", ";
    param(values[i]);
  }
  sql += ')';
  return *this;
}

SqlBuilder& SqlBuilder::inList(std::span<const Uuid> values) {
  sql += '(';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) sql += ", ";
    param(values[i].str());
  }
  sql += ')';
  return *this;
}

std::string escapeLike(std::string_view s) { return query::sqliteDialect().escapeLike(s); }

std::string jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation) {
  return query::sqliteDialect().jsonPathValue(storage::propertyPath(dotted, capability, operation));
}

void appendPropertyPredicates(SqlBuilder& b, std::string_view column,
                              std::span<const storage::PropertyPredicate> predicates, std::string_view capability,
                              std::string_view operation) {
  storage::appendPropertyPredicates(b, query::sqliteDialect(), column, predicates, capability, operation);
}

void refreshEndpointState(Conn& conn, const std::string& nodeId, std::string_view capability,
                          std::string_view operation) {
  conn.prepare(
          "UPDATE edges SET endpoint_deleted ="
          " (SELECT count(*) FROM entities WHERE id = edges.source_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM notes WHERE id = edges.source_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM entities WHERE id = edges.target_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM notes WHERE id = edges.target_id AND deleted_at IS NOT NULL)"
          " WHERE source_id = ?1 OR target_id = ?1",
          capability, operation)
      .bindText(1, nodeId)
      .run();
}

bool SqliteRecords::deleteNode(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                               storage::DeleteMode mode) {
  WriteTx tx(db, capability, "delete");
  std::int64_t changed = 0;
  if (mode == storage::DeleteMode::Soft) {
    const auto now = db.now();
    changed = tx.conn()
                  .prepare(fmt::format("UPDATE {} SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                                       table),
                           capability, "delete")
                  .bindInt(1, now)
                  .bindInt(2, now)
                  .bindText(3, id.str())
                  .run();
    if (changed > 0) refreshEndpointState(tx.conn(), id.str(), capability, "delete");
  } else {
    changed = tx.conn()
                  .prepare(fmt::format("DELETE FROM {} WHERE id = ?", table), capability, "delete")
                  .bindText(1, id.str())
                  .run();
  }
  tx.commit();
  return changed > 0;
}

StoredState readStoredState(Conn& conn, std::string_view table, const std::string& id, std::string_view capability) {
  const std::string sql = "SELECT namespace, created_at, deleted_at IS NOT NULL FROM " + std::string(table) + " WHERE id = ?";
  auto stmt = conn.prepare(sql, capability, "upsert");
  stmt.bindText(1, id);
  StoredState out;
  if (stmt.step()) {
    out.exists = true;
    out.ns = stmt.getText(0);
    out.createdAt = stmt.getInt(1);
    out.deleted = stmt.getInt(2) != 0;
  }
  return out;
}

StmtBinder& StmtBinder::text(std::string_view v) {
  stmt_.bindText(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::integer(std::int64_t v) {
  stmt_.bindInt(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::real(double v) {
  stmt_.bindDouble(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::uuid(const Uuid& v) { return text(v.str()); }
StmtBinder& StmtBinder::json(const Json& v) { return text(v.dump()); }
StmtBinder& StmtBinder::optText(const std::optional<std::string>& v) {
  stmt_.bindOptText(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::optInteger(const std::optional<std::int64_t>& v) {
  stmt_.bindOptInt(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::optReal(const std::optional<double>& v) {
  stmt_.bindOptDouble(next_++, v);
  return *this;
}
StmtBinder& StmtBinder::optUuid(const std::optional<Uuid>& v) {
  return optText(v ? std::optional(v->str()) : std::nullopt);
}

}  // namespace khive::sqlite
