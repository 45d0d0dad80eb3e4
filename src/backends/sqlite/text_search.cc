#include <fmt/format.h>

#include "backends/sqlite/fts_query.h"
#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "text";

// bm25() weights per FTS5 column (title, body, tags): a term in the title says more about the
// subject than one in the body.
constexpr std::string_view kBm25 = "bm25(text_fts, 4.0, 1.0, 2.0)";

void upsertOne(Conn& conn, const storage::TextDocument& in, Micros now) {
  storage::checkTextDocument(in, "upsert");
  const std::string subject = in.subjectId.str();
  const std::string tags = Json(in.tags).dump();
  const std::string metadata = in.metadata.dump();
  const Micros updatedAt = in.updatedAt ? in.updatedAt : now;
  // A new document -- the common case in bulk loads -- is one INSERT OR IGNORE (no probe
  // first). Only when it inserts nothing does the stored row decide: another namespace is a
  // Conflict, the same one an update. OR IGNORE also skips a row that breaks a CHECK
  // constraint; with no stored row the plain INSERT runs again to report what was wrong.
  static constexpr std::string_view kColumnsValues =
      " INTO text_documents (subject_id, namespace, kind, title, body, tags, metadata, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  static const std::string kInsertOrIgnore = "INSERT OR IGNORE" + std::string(kColumnsValues);
  static const std::string kInsert = "INSERT" + std::string(kColumnsValues);
  // ?1..?8 in the INSERT's column order; the UPDATE below uses ?3..?8 of the same numbering.
  auto bindDocument = [&](Stmt& stmt) -> Stmt& {
    return stmt.bindText(1, subject)
        .bindText(2, in.ns)
        .bindText(3, in.kind)
        .bindText(4, in.title)
        .bindText(5, in.body)
        .bindText(6, tags)
        .bindText(7, metadata)
        .bindInt(8, updatedAt);
  };
  auto insert = [&](const std::string& sql) {
    auto stmt = conn.prepare(sql, kCap, "upsert");
    return bindDocument(stmt).run();
  };
  std::int64_t docId = 0;
  if (insert(kInsertOrIgnore) == 1) {
    docId = sqlite3_last_insert_rowid(conn.db());
  } else {
    auto probe = conn.prepare(
        "SELECT doc_id, namespace, title, body, tags FROM text_documents WHERE subject_id = ?", kCap, "upsert");
    probe.bindText(1, subject);
    if (!probe.step()) {
      probe.reset();
      insert(kInsert);  // throws the constraint error OR IGNORE skipped
      docId = sqlite3_last_insert_rowid(conn.db());
    } else {
      // As for entities, a subject id that lives in another namespace is a Conflict, not a move.
      if (probe.getTextView(1) != in.ns) {
        throw Error(ErrorCode::Conflict, std::string(kCap), "upsert",
                    fmt::format("a text document for subject {} exists in another namespace", subject));
      }
      docId = probe.getInt(0);
      conn.prepare("INSERT INTO text_fts (text_fts, rowid, title, body, tags) VALUES ('delete', ?, ?, ?, ?)", kCap,
                   "upsert")
          .bindInt(1, docId)
          .bindText(2, probe.getTextView(2))
          .bindText(3, probe.getTextView(3))
          .bindText(4, probe.getTextView(4))
          .run();
      probe.reset();
      auto update = conn.prepare(
          "UPDATE text_documents SET kind = ?3, title = ?4, body = ?5, tags = ?6, metadata = ?7, updated_at = ?8 "
          "WHERE doc_id = ?9",
          kCap, "upsert");
      bindDocument(update).bindInt(9, docId).run();
    }
  }
  conn.prepare("INSERT INTO text_fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)", kCap, "upsert")
      .bindInt(1, docId)
      .bindText(2, in.title)
      .bindText(3, in.body)
      .bindText(4, tags)
      .run();
}

// FTS5's bm25() is <= 0, more negative = better. s / (1 + s) with s = -bm25 maps it
// monotonically into [0, 1): deterministic, and independent of the other hits of the query.
double scoreFromBm25(double bm25) {
  double s = bm25 < 0 ? -bm25 : 0.0;
  return s / (1.0 + s);
}
}  // namespace

void SqliteTextSearch::upsertDocument(const storage::TextDocument& doc) {
  WriteTx tx(db_, kCap, "upsert");
  upsertOne(tx.conn(), doc, db_.now());
  tx.commit();
}

storage::BatchWriteSummary SqliteTextSearch::upsertDocuments(std::span<const storage::TextDocument> docs) {
  // In subject order: the subject_id index is the random one (doc_id only grows).
  return writeBatchInOrder(
      db_, kCap, "upsert_batch", docs, [](const storage::TextDocument& d) -> const Uuid& { return d.subjectId; },
      [](Conn& c, const storage::TextDocument& d, Micros now) { upsertOne(c, d, now); });
}

bool SqliteTextSearch::deleteDocument(const Uuid& subjectId) {
  WriteTx tx(db_, kCap, "delete");
  auto n = tx.conn()
               .prepare("DELETE FROM text_documents WHERE subject_id = ?", kCap, "delete")
               .bindText(1, subjectId.str())
               .run();
  tx.commit();
  return n > 0;
}

std::optional<storage::TextDocument> SqliteTextSearch::getDocument(const Uuid& subjectId) {
  auto lease = db_.acquireReader(kCap, "get");
  auto stmt = lease.conn().prepare(
      "SELECT subject_id, namespace, kind, title, body, tags, metadata, updated_at FROM text_documents "
      "WHERE subject_id = ?",
      kCap, "get");
  stmt.bindText(1, subjectId.str());
  if (!stmt.step()) return std::nullopt;
  storage::TextDocument d;
  d.subjectId = Uuid::parse(stmt.getTextView(0));
  d.ns = stmt.getText(1);
  d.kind = stmt.getText(2);
  d.title = stmt.getText(3);
  d.body = stmt.getText(4);
  d.tags = Json::parse(stmt.getTextView(5)).get<std::vector<std::string>>();
  d.metadata = Json::parse(stmt.getTextView(6));
  d.updatedAt = stmt.getInt(7);
  return d;
}

std::vector<storage::TextHit> SqliteTextSearch::searchText(const storage::TextQuery& q) {
  requireNamespaces(q.namespaces, kCap, "search");
  storage::checkTopK(q.topK, kCap, "search");
  const std::string match = buildFtsMatch(q.text, q.mode);
  if (match.empty()) return {};

  // CROSS JOIN keeps the FTS5 scan as the outer loop: the MATCH narrows first, the document
  // row supplies the filters. The MATCH expression is a bound parameter like every value.
  SqlBuilder b;
  b.text("SELECT d.subject_id, d.namespace, d.kind, d.title, ").text(kBm25).text(" AS r");
  b.text(" FROM text_fts CROSS JOIN text_documents AS d ON d.doc_id = text_fts.rowid WHERE text_fts MATCH ")
      .param(match);
  b.text(" AND d.namespace IN ").inList(q.namespaces);
  if (!q.kinds.empty()) b.text(" AND d.kind IN ").inList(q.kinds);
  if (!q.ids.empty()) b.text(" AND d.subject_id IN ").inList(q.ids);
  b.text(" ORDER BY r, d.subject_id LIMIT ").param(q.topK);

  auto lease = db_.acquireReader(kCap, "search");
  auto stmt = lease.conn().prepare(b.sql, kCap, "search");
  stmt.bindAll(b.params);
  std::vector<storage::TextHit> out;
  while (stmt.step()) {
    storage::TextHit h;
    h.subjectId = Uuid::parse(stmt.getTextView(0));
    h.ns = stmt.getText(1);
    h.kind = stmt.getText(2);
    h.title = stmt.getText(3);
    h.score = scoreFromBm25(stmt.getDouble(4));
    h.rank = static_cast<int>(out.size()) + 1;
    out.push_back(std::move(h));
  }
  // Snippets are made here for the returned hits only, not by FTS5's snippet(): that one
  // scores a window at every match against every other match (quadratic in the matches of a
  // document) and runs for every matching row before the LIMIT.
  if (q.snippets && !out.empty()) {
    const auto terms = storage::distinctWords(q.text);
    auto doc = lease.conn().prepare("SELECT title, body FROM text_documents WHERE subject_id = ?", kCap, "search");
    for (auto& h : out) {
      doc.reset();
      doc.bindText(1, h.subjectId.str());
      if (!doc.step()) continue;
      const auto title = doc.getTextView(0);
      const auto body = doc.getTextView(1);
      h.snippet = storage::makeSnippet(title, body, terms);
    }
  }
  return out;
}

std::int64_t SqliteTextSearch::countDocuments(std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "text_documents", namespaces, std::nullopt, false);
}

std::int64_t SqliteTextSearch::countLiveDocuments(std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "text_documents", namespaces, std::nullopt, true);
}

storage::TextStats SqliteTextSearch::textStats() {
  auto lease = db_.acquireReader(kCap, "stats");
  auto stmt = lease.conn().prepare("SELECT count(*), count(DISTINCT namespace) FROM text_documents", kCap, "stats");
  stmt.step();
  return {stmt.getInt(0), stmt.getInt(1)};
}

void SqliteTextSearch::rebuildText() {
  WriteTx tx(db_, kCap, "rebuild");
  tx.conn().exec("INSERT INTO text_fts (text_fts) VALUES ('rebuild')", kCap, "rebuild");
  tx.commit();
}

}  // namespace khive::sqlite
