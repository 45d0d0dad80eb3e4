#include <fmt/format.h>

#include <algorithm>

#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"
#include "khive/storage/request_checks.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "sparse";

// "{1,2,3}" literals for the index and value arrays.
std::pair<std::string, std::string> arrays(const storage::SparseVector& v) {
  std::string idx = "{", val = "{";
  for (std::size_t i = 0; i < v.indices.size(); ++i) {
    if (i) {
      idx += ',';
      val += ',';
    }
    idx += std::to_string(v.indices[i]);
    val += fmt::format("{}", v.values[i]);
  }
  return {idx + "}", val + "}"};
}

void insertOne(Conn& c, const storage::SparseRecord& r) {
  c.exec("DELETE FROM sparse_entries WHERE model = $1 AND subject_id = $2", Params().text(r.model).uuid(r.subjectId),
         kCap, "insert");
  auto [idx, val] = arrays(r.vector);
  c.exec("INSERT INTO sparse_entries (subject_id, namespace, kind, model, idx, value) SELECT $1, $2, $3, $4, i, v "
         "FROM unnest($5::int8[], $6::float4[]) AS u(i, v)",
         Params().uuid(r.subjectId).text(r.ns).text(r.kind).text(r.model).text(idx).text(val), kCap, "insert");
}

}  // namespace

void PgSparseStore::insertSparse(const storage::SparseRecord& record) {
  const storage::SparseRecord r = storage::canonicalSparseRecord(record, "insert");
  db_.write(kCap, "insert", [&](Conn& c) { insertOne(c, r); });
}

storage::BatchWriteSummary PgSparseStore::insertSparseBatch(std::span<const storage::SparseRecord> records) {
  storage::BatchWriteSummary s;
  s.attempted = records.size();
  std::vector<storage::SparseRecord> valid;
  for (const auto& r : records) {
    try {
      valid.push_back(storage::canonicalSparseRecord(r, "insert_batch"));
    } catch (const Error& e) {
      s.countFailure(e.what());
    }
  }
  if (valid.empty()) return s;
  db_.write(kCap, "insert_batch", [&](Conn& c) {
    for (const auto& r : valid) insertOne(c, r);
  });
  s.affected = valid.size();
  return s;
}

std::int64_t PgSparseStore::deleteSparse(const Uuid& subjectId) {
  return db_.run(kCap, "delete", [&](Conn& c) {
    return c.exec("WITH d AS (DELETE FROM sparse_entries WHERE subject_id = $1 RETURNING model) SELECT count(DISTINCT "
                  "model) FROM d",
                  Params().uuid(subjectId), kCap, "delete")
        .getInt(0, 0);
  });
}

std::int64_t PgSparseStore::countSparse(const std::string& model, std::span<const std::string> namespaces) {
  requireNamespaces(namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(DISTINCT subject_id) FROM sparse_entries WHERE model = ")
      .str(model)
      .text(" AND namespace = ANY (")
      .texts(namespaces)
      .text(")");
  return readCount(db_, kCap, "count", b);
}

std::vector<storage::VectorHit> PgSparseStore::searchSparse(const storage::SparseSearchRequest& request) {
  const storage::SparseSearchRequest q = storage::canonicalSparseSearch(request);
  std::vector<storage::VectorHit> out;
  if (q.query.indices.empty()) return out;
  auto [idx, val] = arrays(q.query);
  // Postings of the query's indices only (sparse_entries_postings), summed per subject.
  SqlBuilder b;
  b.text("SELECT e.subject_id, e.namespace, e.kind, sum(e.value::float8 * u.v) AS s FROM unnest(")
      .str(idx)
      .text("::int8[], ")
      .str(val)
      .text("::float8[]) AS u(i, v) JOIN sparse_entries AS e ON e.model = ")
      .str(q.model)
      .text(" AND e.idx = u.i WHERE e.namespace = ANY (")
      .texts(q.namespaces)
      .text(")");
  if (!q.kinds.empty()) b.text(" AND e.kind = ANY (").texts(q.kinds).text(")");
  b.text(" GROUP BY 1, 2, 3 HAVING sum(e.value::float8 * u.v) > 0 ORDER BY s DESC, 1 LIMIT ").integer(q.topK);
  return db_.run(
      kCap, "search",
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, kCap, "search");
        const double best = r.rows() ? r.getDouble(0, 3) : 1.0;
        for (int i = 0; i < r.rows(); ++i) {
          storage::VectorHit h;
          h.subjectId = r.getUuid(i, 0);
          h.ns = r.str(i, 1);
          h.kind = r.str(i, 2);
          h.score = best > 0 ? std::clamp(r.getDouble(i, 3) / best, 0.0, 1.0) : 0.0;
          h.rank = i + 1;
          out.push_back(std::move(h));
        }
        return out;
      },
      true);
}

}  // namespace khive::postgres
