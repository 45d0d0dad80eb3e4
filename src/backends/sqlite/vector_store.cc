#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"
#include "backends/sqlite/vector_index.h"
#include "khive/storage/request_checks.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "vectors";

// The model's dimension, or 0 when no vector of the model was ever stored.
int modelDims(Conn& conn, const std::string& model, std::string_view op) {
  auto stmt = conn.prepare("SELECT dims FROM vector_spaces WHERE model = ?", kCap, op);
  stmt.bindText(1, model);
  return stmt.step() ? static_cast<int>(stmt.getInt(0)) : 0;
}

std::vector<std::string> fieldsOf(Conn& conn, const std::string& model, std::string_view op) {
  std::vector<std::string> fields;
  auto stmt = conn.prepare("SELECT DISTINCT field FROM vectors WHERE model = ? ORDER BY field", kCap, op);
  stmt.bindText(1, model);
  while (stmt.step()) fields.push_back(stmt.getText(0));
  return fields;
}
}  // namespace

SqliteVectorStore::SqliteVectorStore(Database& db) : db_(db) {}
SqliteVectorStore::~SqliteVectorStore() = default;

storage::VectorCapabilities SqliteVectorStore::capabilities() {
  return {true, {"flat", "hnsw"}, storage::kMaxVectorDims, "cosine"};
}

VectorSpaceIndex& SqliteVectorStore::space(const std::string& model, const std::string& field, int dims) {
  std::lock_guard lock(mu_);
  auto& slot = spaces_[{model, field}];
  if (!slot || slot->dims() != dims)
    slot = std::make_unique<VectorSpaceIndex>(model, field, dims,
                                              db_.inMemory() ? std::string() : vectorIndexFile(db_.location(), model, field),
                                              !db_.readOnlyReason().empty());
  return *slot;
}

const VectorSpaceIndex* SqliteVectorStore::spaceIndex(const std::string& model, const std::string& field) {
  std::lock_guard lock(mu_);
  auto it = spaces_.find({model, field});
  return it == spaces_.end() ? nullptr : it->second.get();
}

void SqliteVectorStore::insertOne(Conn& conn, const storage::VectorRecord& r) {
  storage::checkVectorRecord(r, "insert");
  const int dims = static_cast<int>(r.values.size());
  conn.prepare("INSERT INTO vector_spaces (model, dims) VALUES (?, ?) ON CONFLICT (model) DO NOTHING", kCap, "insert")
      .bindText(1, r.model)
      .bindInt(2, dims)
      .run();
  storage::checkModelDims(r.model, modelDims(conn, r.model, "insert"), r.values.size(), "insert");
  {
    auto existing = conn.prepare("SELECT namespace FROM vectors WHERE subject_id = ? AND model = ? AND field = ?",
                                 kCap, "insert");
    existing.bindText(1, r.subjectId.str()).bindText(2, r.model).bindText(3, r.field);
    if (existing.step() && existing.getTextView(0) != r.ns) {
      throw Error(ErrorCode::Conflict, std::string(kCap), "insert",
                  fmt::format("subject {} already has vectors in namespace '{}'", r.subjectId.str(),
                              existing.getText(0)));
    }
  }
  // Replace = delete + insert under a new vid (see migration 2): the index sees a removal and
  // an addition in its change log.
  conn.prepare("DELETE FROM vectors WHERE subject_id = ? AND model = ? AND field = ?", kCap, "insert")
      .bindText(1, r.subjectId.str())
      .bindText(2, r.model)
      .bindText(3, r.field)
      .run();
  auto stmt = conn.prepare(
      "INSERT INTO vectors (subject_id, model, field, namespace, kind, properties, embedding) VALUES (?, ?, ?, ?, ?, ?, ?)",
      kCap, "insert");
  stmt.bindText(1, r.subjectId.str())
      .bindText(2, r.model)
      .bindText(3, r.field)
      .bindText(4, r.ns)
      .bindText(5, r.kind)
      .bindText(6, r.properties.dump());
  int rc = sqlite3_bind_blob64(stmt.raw(), 7, r.values.data(), r.values.size() * sizeof(float), SQLITE_STATIC);
  if (rc != SQLITE_OK) throwSqlite(conn.db(), rc, kCap, "insert");
  stmt.run();
}

void SqliteVectorStore::insertVector(const storage::VectorRecord& record) {
  WriteTx tx(db_, kCap, "insert");
  insertOne(tx.conn(), record);
  tx.commit();
}

storage::BatchWriteSummary SqliteVectorStore::insertVectors(std::span<const storage::VectorRecord> records) {
  return writeBatch(db_, kCap, "insert_batch", records,
                    [this](Conn& c, const storage::VectorRecord& r, Micros) { insertOne(c, r); });
}

std::int64_t SqliteVectorStore::deleteVectors(const Uuid& subjectId) {
  WriteTx tx(db_, kCap, "delete");
  auto n = tx.conn().prepare("DELETE FROM vectors WHERE subject_id = ?", kCap, "delete").bindText(1, subjectId.str()).run();
  tx.commit();
  return n;
}

std::int64_t SqliteVectorStore::countVectors(const std::string& model, std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "vectors", namespaces, model, false);
}

std::int64_t SqliteVectorStore::countLiveVectors(const std::string& model, std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "vectors", namespaces, model, true);
}

namespace {
// Exact search straight from the table, for a search made inside an open write transaction:
// it must see the transaction's own uncommitted writes, which the shared index never holds.
std::vector<storage::VectorHit> searchTable(Conn& conn, const storage::VectorSearchRequest& r,
                                            std::span<const float> q) {
  SqlBuilder b;
  b.text("SELECT subject_id, namespace, kind, embedding FROM vectors WHERE model = ").param(r.model);
  b.text(" AND field = ").param(r.field).text(" AND namespace IN ").inList(r.namespaces);
  if (!r.kinds.empty()) b.text(" AND kind IN ").inList(r.kinds);
  appendPropertyPredicates(b, "properties", r.properties, kCap, "search");
  auto stmt = conn.prepare(b.sql, kCap, "search");
  stmt.bindAll(b.params);
  std::vector<storage::VectorHit> all;
  std::vector<float> v(q.size());
  while (stmt.step()) {
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(stmt.raw(), 3));
    if (bytes != q.size() * sizeof(float)) continue;
    std::memcpy(v.data(), sqlite3_column_blob(stmt.raw(), 3), bytes);
    normalize(v);
    double dot = 0;
    for (std::size_t i = 0; i < v.size(); ++i) dot += static_cast<double>(v[i]) * q[i];
    storage::VectorHit h;
    h.subjectId = Uuid::parse(stmt.getTextView(0));
    h.ns = stmt.getText(1);
    h.kind = stmt.getText(2);
    h.score = std::clamp((1.0 + dot) / 2.0, 0.0, 1.0);
    all.push_back(std::move(h));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.subjectId < b.subjectId;
  });
  if (static_cast<std::int64_t>(all.size()) > r.topK) all.resize(static_cast<std::size_t>(r.topK));
  for (std::size_t i = 0; i < all.size(); ++i) all[i].rank = static_cast<int>(i) + 1;
  return all;
}
}  // namespace

std::vector<storage::VectorHit> SqliteVectorStore::searchVectors(const storage::VectorSearchRequest& r) {
  storage::checkVectorSearch(r);
  auto lease = db_.acquireReader(kCap, "search");
  Conn& conn = lease.conn();
  const int dims = modelDims(conn, r.model, "search");
  if (dims == 0) return {};  // nothing was ever stored for the model
  storage::checkModelDims(r.model, dims, r.query.size(), "search");
  std::vector<float> q(r.query.begin(), r.query.end());
  normalize(q);
  if (!sqlite3_get_autocommit(conn.db())) return searchTable(conn, r, q);
  return space(r.model, r.field, dims).search(conn, r, q);
}

std::vector<storage::VectorRecord> SqliteVectorStore::vectorsOf(std::span<const Uuid> subjects) {
  storage::checkVectorSubjects(subjects.size(), "read");
  std::vector<storage::VectorRecord> out;
  if (subjects.empty()) return out;
  std::vector<std::string> ids;
  ids.reserve(subjects.size());
  for (const auto& s : subjects) ids.push_back(s.str());
  SqlBuilder b;
  b.text("SELECT subject_id, model, field, namespace, kind, properties, embedding FROM vectors WHERE subject_id IN ");
  b.inList(ids).text(" ORDER BY subject_id, model, field");
  auto lease = db_.acquireReader(kCap, "read");
  auto stmt = lease.conn().prepare(b.sql, kCap, "read");
  stmt.bindAll(b.params);
  while (stmt.step()) {
    storage::VectorRecord r;
    r.subjectId = Uuid::parse(stmt.getTextView(0));
    r.model = stmt.getText(1);
    r.field = stmt.getText(2);
    r.ns = stmt.getText(3);
    r.kind = stmt.getText(4);
    r.properties = Json::parse(stmt.getTextView(5));
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(stmt.raw(), 6));
    r.values.resize(bytes / sizeof(float));
    if (bytes) std::memcpy(r.values.data(), sqlite3_column_blob(stmt.raw(), 6), r.values.size() * sizeof(float));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<storage::VectorIndexInfo> SqliteVectorStore::vectorInfo() {
  auto lease = db_.acquireReader(kCap, "info");
  Conn& conn = lease.conn();
  std::vector<storage::VectorIndexInfo> out;
  {
    auto stmt = conn.prepare(
        "SELECT v.model, v.field, s.dims, count(*) FROM vectors AS v JOIN vector_spaces AS s ON s.model = v.model "
        "GROUP BY v.model, v.field ORDER BY v.model, v.field",
        kCap, "info");
    while (stmt.step()) {
      storage::VectorIndexInfo info;
      info.model = stmt.getText(0);
      info.field = stmt.getText(1);
      info.dims = static_cast<int>(stmt.getInt(2));
      info.count = stmt.getInt(3);
      out.push_back(std::move(info));
    }
  }
  for (auto& info : out) {
    const std::int64_t latest = latestVectorSeq(conn, info.model, info.field);
    auto st = space(info.model, info.field, info.dims).state();
    info.indexKind = st.indexKind;
    // Not built yet counts as stale too: the next search builds it from the table.
    info.stale = st.indexKind == "none" || st.appliedSeq < latest;
  }
  return out;
}

void SqliteVectorStore::prepareVectorIndex(const std::string& model) {
  auto lease = db_.acquireReader(kCap, "prepare");
  Conn& conn = lease.conn();
  if (!sqlite3_get_autocommit(conn.db())) return;  // the index applies committed rows only
  const int dims = modelDims(conn, model, "prepare");
  if (dims == 0) return;
  for (const auto& f : fieldsOf(conn, model, "prepare")) space(model, f, dims).prepare(conn);
}

void SqliteVectorStore::rebuildVectorIndex(const std::string& model) {
  auto lease = db_.acquireReader(kCap, "rebuild");
  Conn& conn = lease.conn();
  if (!sqlite3_get_autocommit(conn.db())) {
    throw Error(ErrorCode::Transaction, std::string(kCap), "rebuild",
                "the vector index cannot be rebuilt inside an open write transaction; commit first");
  }
  const int dims = modelDims(conn, model, "rebuild");
  if (dims == 0) {
    throw Error(ErrorCode::NotFound, std::string(kCap), "rebuild", fmt::format("no vectors of model '{}' exist", model));
  }
  for (const auto& f : fieldsOf(conn, model, "rebuild")) {
    auto& index = space(model, f, dims);
    index.rebuild(conn);
    // The fresh index holds everything up to its seq: prune the change log to there and raise
    // the floor, so the log does not grow without bound (see migration 2).
    const std::int64_t applied = index.state().appliedSeq;
    WriteTx tx(db_, kCap, "rebuild");
    tx.conn()
        .prepare("DELETE FROM vector_changes WHERE model = ? AND field = ? AND seq <= ?", kCap, "rebuild")
        .bindText(1, model)
        .bindText(2, f)
        .bindInt(3, applied)
        .run();
    tx.conn()
        .prepare("INSERT INTO vector_log_floor (model, field, floor_seq) VALUES (?, ?, ?) ON CONFLICT (model, field) "
                 "DO UPDATE SET floor_seq = max(floor_seq, excluded.floor_seq)",
                 kCap, "rebuild")
        .bindText(1, model)
        .bindText(2, f)
        .bindInt(3, applied)
        .run();
    tx.commit();
  }
}

}  // namespace khive::sqlite
