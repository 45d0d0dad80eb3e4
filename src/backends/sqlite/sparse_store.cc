#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"
#include "khive/storage/request_checks.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "sparse";

template <class T>
void bindArray(Stmt& stmt, int index, const std::vector<T>& values, Conn& conn) {
  int rc = sqlite3_bind_blob64(stmt.raw(), index, values.data(), values.size() * sizeof(T), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throwSqlite(conn.db(), rc, kCap, "insert");
}
}  // namespace

void SqliteSparseStore::insertOne(Conn& conn, const storage::SparseRecord& record) {
  const storage::SparseRecord r = storage::canonicalSparseRecord(record, "insert");

  conn.prepare("DELETE FROM sparse_vectors WHERE subject_id = ? AND model = ?", kCap, "insert")
      .bindText(1, r.subjectId.str())
      .bindText(2, r.model)
      .run();
  const auto& idx = r.vector.indices;
  const auto& val = r.vector.values;
  auto stmt = conn.prepare(
      "INSERT INTO sparse_vectors (subject_id, model, namespace, kind, terms, weights) VALUES (?, ?, ?, ?, ?, ?) "
      "RETURNING sid",
      kCap, "insert");
  stmt.bindText(1, r.subjectId.str()).bindText(2, r.model).bindText(3, r.ns).bindText(4, r.kind);
  bindArray(stmt, 5, idx, conn);
  bindArray(stmt, 6, val, conn);
  stmt.step();
  const std::int64_t sid = stmt.getInt(0);
  stmt.run();
  auto post = conn.prepare("INSERT INTO sparse_postings (model, term, sid, weight) VALUES (?, ?, ?, ?)", kCap, "insert");
  for (std::size_t k = 0; k < idx.size(); ++k) {
    post.bindText(1, r.model).bindInt(2, idx[k]).bindInt(3, sid).bindDouble(4, val[k]).run();
    post.reset();
  }
}

void SqliteSparseStore::insertSparse(const storage::SparseRecord& record) {
  WriteTx tx(db_, kCap, "insert");
  insertOne(tx.conn(), record);
  tx.commit();
}

storage::BatchWriteSummary SqliteSparseStore::insertSparseBatch(std::span<const storage::SparseRecord> records) {
  return writeBatch(db_, kCap, "insert_batch", records,
                    [this](Conn& c, const storage::SparseRecord& r, Micros) { insertOne(c, r); });
}

std::int64_t SqliteSparseStore::deleteSparse(const Uuid& subjectId) {
  WriteTx tx(db_, kCap, "delete");
  auto n = tx.conn()
               .prepare("DELETE FROM sparse_vectors WHERE subject_id = ?", kCap, "delete")
               .bindText(1, subjectId.str())
               .run();
  tx.commit();
  return n;
}

std::int64_t SqliteSparseStore::countSparse(const std::string& model, std::span<const std::string> namespaces) {
  requireNamespaces(namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM sparse_vectors WHERE model = ").param(model).text(" AND namespace IN ").inList(namespaces);
  return readCount(db_, kCap, "count", b);
}

std::vector<storage::VectorHit> SqliteSparseStore::searchSparse(const storage::SparseSearchRequest& request) {
  const storage::SparseSearchRequest r = storage::canonicalSparseSearch(request);
  const auto& terms = r.query;
  if (terms.indices.empty()) return {};

  // Dot product over the postings of the query's terms only:
  //   WITH q(term, w) AS (VALUES (?, ?), ...)
  //   SELECT sid, sum(p.weight * q.w) FROM q JOIN sparse_postings p ON p.model = ? AND p.term = q.term
  // then the subject rows for the filters. Hits need a positive dot product: a subject that
  // shares no term with the query (or only opposing weights) is not a match.
  SqlBuilder b;
  b.text("WITH q(term, w) AS (VALUES ");
  bool first = true;
  for (std::size_t k = 0; k < terms.indices.size(); ++k) {
    b.text(first ? "(" : ", (").param(static_cast<std::int64_t>(terms.indices[k])).text(", ");
    b.param(static_cast<double>(terms.values[k])).text(")");
    first = false;
  }
  b.text("), dots AS (SELECT p.sid AS sid, sum(p.weight * q.w) AS dot FROM q CROSS JOIN sparse_postings AS p ON p.model = ")
      .param(r.model)
      .text(" AND p.term = q.term GROUP BY p.sid) ");
  b.text("SELECT s.subject_id, s.namespace, s.kind, dots.dot FROM dots CROSS JOIN sparse_vectors AS s ON s.sid = dots.sid");
  b.text(" WHERE dots.dot > 0 AND s.namespace IN ").inList(r.namespaces);
  if (!r.kinds.empty()) b.text(" AND s.kind IN ").inList(r.kinds);
  b.text(" ORDER BY dots.dot DESC, s.subject_id LIMIT ").param(r.topK);

  auto lease = db_.acquireReader(kCap, "search");
  auto stmt = lease.conn().prepare(b.sql, kCap, "search");
  stmt.bindAll(b.params);
  std::vector<storage::VectorHit> out;
  std::vector<double> dots;
  while (stmt.step()) {
    storage::VectorHit h;
    h.subjectId = Uuid::parse(stmt.getTextView(0));
    h.ns = stmt.getText(1);
    h.kind = stmt.getText(2);
    h.rank = static_cast<int>(out.size()) + 1;
    dots.push_back(stmt.getDouble(3));
    out.push_back(std::move(h));
  }
  // Normalised by the best hit (the interface's contract): the top hit scores 1.
  for (std::size_t i = 0; i < out.size(); ++i) out[i].score = std::clamp(dots[i] / dots.front(), 0.0, 1.0);
  return out;
}

}  // namespace khive::sqlite
