#include <fmt/format.h>

#include <algorithm>

#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"
#include "khive/storage/request_checks.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "vectors";
// Up to this many rows matching the filter, search scans them exactly (recall 1.0, and cheap
// at this size); above it the HNSW index answers with an iterative scan.
constexpr std::int64_t kExactScanLimit = 5000;

// The pgvector literal of values storage::checkVectorValues accepted.
std::string vectorLiteral(std::span<const float> v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{}", v[i]);
  }
  out += ']';
  return out;
}

void appendFilter(SqlBuilder& b, const storage::VectorSearchRequest& q, int dims) {
  (void)dims;
  b.text(" WHERE v.model = ").str(q.model).text(" AND v.field = ").str(q.field);
  b.text(" AND v.namespace = ANY (").texts(q.namespaces).text(")");
  if (!q.kinds.empty()) b.text(" AND v.kind = ANY (").texts(q.kinds).text(")");
  appendPropertyPredicates(b, "v.properties", q.properties, kCap, "search");
}
}  // namespace

storage::VectorCapabilities PgVectorStore::capabilities() {
  storage::VectorCapabilities c;
  c.supportsFilter = true;
  c.indexKinds = {"hnsw", "flat"};
  c.maxDims = storage::kMaxVectorDims;
  c.metric = "cosine";
  return c;
}

int PgVectorStore::modelDims(Conn& c, const std::string& model, int dims, std::string_view op) {
  auto r = c.exec("WITH ins AS (INSERT INTO vector_models (model, dims) VALUES ($1, $2) ON CONFLICT (model) DO NOTHING "
                  "RETURNING dims) SELECT dims, true FROM ins UNION ALL SELECT dims, false FROM vector_models WHERE "
                  "model = $1 AND NOT EXISTS (SELECT 1 FROM ins)",
                  Params().text(model).integer(dims), kCap, op);
  if (r.rows() == 0) {
    // Inserted concurrently by another session and not yet visible: read it again.
    r = c.exec("SELECT dims, false FROM vector_models WHERE model = $1", Params().text(model), kCap, op);
  }
  const int stored = static_cast<int>(r.getInt(0, 0));
  storage::checkModelDims(model, stored, static_cast<std::size_t>(dims), op);
  if (r.getBool(0, 1)) c.exec("SELECT khive_vector_index($1, $2::int4)", Params().text(model).integer(dims), kCap, op);
  return stored;
}

namespace {
constexpr std::string_view kInsertVector =
    "INSERT INTO vectors (subject_id, namespace, kind, model, field, embedding, properties) VALUES ($1, $2, $3, $4, $5, "
    "$6::public.vector, $7) ON CONFLICT (subject_id, model, field) DO UPDATE SET namespace = excluded.namespace, kind = "
    "excluded.kind, embedding = excluded.embedding, properties = excluded.properties";

Params bindVector(const storage::VectorRecord& r, const std::string& literal) {
  Params p;
  p.uuid(r.subjectId).text(r.ns).text(r.kind).text(r.model).text(r.field).text(literal).json(r.properties);
  return p;
}
}  // namespace

void PgVectorStore::insertVector(const storage::VectorRecord& record) {
  storage::checkVectorRecord(record, "insert");
  const std::string lit = vectorLiteral(record.values);
  db_.write(kCap, "insert", [&](Conn& c) {
    modelDims(c, record.model, static_cast<int>(record.values.size()), "insert");
    c.exec(kInsertVector, bindVector(record, lit), kCap, "insert");
  });
}

// Batches of up to kChunk records go in one transaction, their INSERTs pipelined (one round
// trip per chunk instead of four per record: it matters on a server far away, and on PGlite).
// Records that fail validation or their model's dimension are counted as failed up front; a
// chunk the server rejects (a policy, a constraint) is redone record by record so the summary
// names exactly the rows that failed.
storage::BatchWriteSummary PgVectorStore::insertVectors(std::span<const storage::VectorRecord> records) {
  constexpr std::size_t kChunk = 1000;
  storage::BatchWriteSummary s;
  s.attempted = records.size();
  auto fail = [&](const Error& e) { s.countFailure(e.what()); };
  for (std::size_t start = 0; start < records.size(); start += kChunk) {
    const auto chunk = records.subspan(start, std::min(kChunk, records.size() - start));
    std::vector<const storage::VectorRecord*> valid;
    std::vector<Params> rows;
    std::vector<std::pair<std::string, int>> models;  // (model, dims) first seen in this chunk
    for (const auto& r : chunk) {
      try {
        storage::checkVectorRecord(r, "insert");
        rows.push_back(bindVector(r, vectorLiteral(r.values)));
        valid.push_back(&r);
        std::pair<std::string, int> m{r.model, static_cast<int>(r.values.size())};
        if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(std::move(m));
      } catch (const Error& e) {
        fail(e);
      }
    }
    if (valid.empty()) continue;
    bool chunkFailed = false;
    try {
      db_.write(kCap, "insert_batch", [&](Conn& c) {
        for (const auto& [model, dims] : models) modelDims(c, model, dims, "insert_batch");
        c.execPipeline(kInsertVector, rows, kCap, "insert_batch");
      });
      s.affected += valid.size();
    } catch (const Error& e) {
      if (e.retryable()) throw;
      chunkFailed = true;
    }
    if (!chunkFailed) continue;
    for (const auto* r : valid) {
      try {
        insertVector(*r);
        ++s.affected;
      } catch (const Error& e) {
        if (e.retryable()) throw;
        fail(e);
      }
    }
  }
  return s;
}

std::int64_t PgVectorStore::deleteVectors(const Uuid& subjectId) {
  return db_.run(kCap, "delete", [&](Conn& c) {
    return c.exec("DELETE FROM vectors WHERE subject_id = $1", Params().uuid(subjectId), kCap, "delete").affected();
  });
}

std::int64_t PgVectorStore::countVectors(const std::string& model, std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "vectors", namespaces, model, false);
}

std::int64_t PgVectorStore::countLiveVectors(const std::string& model, std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "vectors", namespaces, model, true);
}

std::vector<storage::VectorHit> PgVectorStore::searchVectors(const storage::VectorSearchRequest& q) {
  storage::checkVectorSearch(q);
  const std::string lit = vectorLiteral(q.query);
  const int dims = static_cast<int>(q.query.size());
  return db_.run(
      kCap, "search",
      [&](Conn& c) {
        std::vector<storage::VectorHit> out;
        auto m = c.exec("SELECT dims FROM vector_models WHERE model = $1", Params().text(q.model), kCap, "search");
        if (m.rows() == 0) return out;  // nothing stored for this model yet
        storage::checkModelDims(q.model, static_cast<int>(m.getInt(0, 0)), q.query.size(), "search");
        Tx tx(c, kCap, "search", false, true);
        SqlBuilder count;
        count.text("SELECT count(*) FROM (SELECT 1 FROM vectors AS v");
        appendFilter(count, q, dims);
        count.text(" LIMIT ").integer(kExactScanLimit + 1).text(") AS x");
        const std::int64_t matching = c.exec(count.sql, count.params, kCap, "search").getInt(0, 0);
        if (matching == 0) return out;
        const std::string cast = fmt::format("public.vector({})", dims);
        auto run = [&](bool exact) {
          SqlBuilder b;
          // Exact: the distance over the dimensionless column, which no HNSW index covers, so
          // every filtered row is scored. ANN: the indexed expression embedding::vector(d),
          // with pgvector's iterative scan continuing past ef_search until k rows pass the
          // filter; relaxed order is re-sorted by the outer query.
          const std::string dist = exact ? "v.embedding <=> " : "v.embedding::" + cast + " <=> ";
          b.text("SELECT subject_id, namespace, kind, d FROM (SELECT v.subject_id, v.namespace, v.kind, ").text(dist);
          b.param([&](Params& p) { p.text(lit); }, exact ? std::string_view("public.vector") : std::string_view(cast));
          b.text(" AS d FROM vectors AS v");
          appendFilter(b, q, dims);
          b.text(" ORDER BY d LIMIT ").integer(q.topK).text(") AS h ORDER BY d, subject_id");
          return c.exec(b.sql, b.params, kCap, "search");
        };
        Result r;
        const std::int64_t want = std::min<std::int64_t>(q.topK, matching);
        if (matching <= kExactScanLimit) {
          r = run(true);
        } else {
          c.execScript(fmt::format("SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = {}",
                                   std::clamp<std::int64_t>(q.topK * 2, 40, 1000)),
                       kCap, "search");
          r = run(false);
          if (r.rows() < want) r = run(true);  // the scan gave up early: never return fewer than k
        }
        for (int i = 0; i < r.rows(); ++i) {
          storage::VectorHit h;
          h.subjectId = r.getUuid(i, 0);
          h.ns = r.str(i, 1);
          h.kind = r.str(i, 2);
          const double cosine = 1.0 - r.getDouble(i, 3);
          h.score = std::clamp((1.0 + cosine) / 2.0, 0.0, 1.0);
          h.rank = i + 1;
          out.push_back(std::move(h));
        }
        tx.commit();
        return out;
      },
      true);
}

std::vector<storage::VectorRecord> PgVectorStore::vectorsOf(std::span<const Uuid> subjects) {
  storage::checkVectorSubjects(subjects.size(), "read");
  if (subjects.empty()) return {};
  return db_.run(
      kCap, "read",
      [&](Conn& c) {
        // pgvector prints each float4 in its shortest form that reads back to the same value.
        auto r = c.exec(
            "SELECT subject_id, model, field, namespace, kind, properties::text, embedding::text FROM vectors WHERE "
            "subject_id = ANY ($1) ORDER BY subject_id::text, model, field",
            Params().uuidArray(subjects), kCap, "read");
        std::vector<storage::VectorRecord> out;
        for (int i = 0; i < r.rows(); ++i) {
          storage::VectorRecord v;
          v.subjectId = r.getUuid(i, 0);
          v.model = r.str(i, 1);
          v.field = r.str(i, 2);
          v.ns = r.str(i, 3);
          v.kind = r.str(i, 4);
          v.properties = Json::parse(r.str(i, 5));
          const std::string text = r.str(i, 6);
          const char* p = text.c_str() + (text.empty() ? 0 : 1);  // past '['
          while (*p && *p != ']') {
            char* end = nullptr;
            v.values.push_back(std::strtof(p, &end));
            if (end == p) break;
            p = *end == ',' ? end + 1 : end;
          }
          out.push_back(std::move(v));
        }
        return out;
      },
      true);
}

std::vector<storage::VectorIndexInfo> PgVectorStore::vectorInfo() {
  return db_.run(
      kCap, "info",
      [&](Conn& c) {
        auto r = c.exec("SELECT m.model, v.field, m.dims, count(v.subject_id) FROM vector_models AS m LEFT JOIN vectors "
                        "AS v ON v.model = m.model GROUP BY m.model, v.field, m.dims ORDER BY 1, 2",
                        {}, kCap, "info");
        std::vector<storage::VectorIndexInfo> out;
        for (int i = 0; i < r.rows(); ++i) {
          if (r.isNull(i, 1)) continue;
          storage::VectorIndexInfo info;
          info.model = r.str(i, 0);
          info.field = r.str(i, 1);
          info.dims = static_cast<int>(r.getInt(i, 2));
          info.count = r.getInt(i, 3);
          info.indexKind = info.dims <= 2000 ? "hnsw" : "flat";
          out.push_back(std::move(info));
        }
        return out;
      },
      true);
}

void PgVectorStore::rebuildVectorIndex(const std::string& model) {
  db_.run(kCap, "rebuild", [&](Conn& c) {
    auto m = c.exec("SELECT dims FROM vector_models WHERE model = $1", Params().text(model), kCap, "rebuild");
    if (m.rows() == 0) {
      throw Error(ErrorCode::NotFound, std::string(kCap), "rebuild", fmt::format("no vectors of model '{}'", model));
    }
    // PostgreSQL maintains the HNSW index on every write; rebuilding means making sure it exists.
    c.exec("SELECT khive_vector_index($1, $2::int4)", Params().text(model).integer(m.getInt(0, 0)), kCap, "rebuild");
  });
}

}  // namespace khive::postgres
