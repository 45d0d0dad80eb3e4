#include <fmt/format.h>

#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"
#include "backends/postgres/text_query.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "text";

// Valid UTF-8 with NUL and invalid byte sequences replaced by a space: PostgreSQL rejects
// both in text parameters (SQLSTATE 22021), and user text must never be an error.
std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) >> 6) == 0x2;
    if (ok && len == 2 && c < 0xC2) ok = false;  // overlong
    if (ok && len >= 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) ok = false;   // overlong
      if (c == 0xED && c1 >= 0xA0) ok = false;  // UTF-16 surrogate (ED A0 80 = U+D800)
      if (c == 0xF0 && c1 < 0x90) ok = false;   // overlong
      if (c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) ok = false;  // beyond U+10FFFF
    }
    if (!ok || c == 0) {
      out += ' ';
      ++i;
      continue;
    }
    out.append(s.substr(i, static_cast<std::size_t>(len)));
    i += static_cast<std::size_t>(len);
  }
  return out;
}

constexpr std::string_view kUpsert =
    "INSERT INTO text_documents (subject_id, namespace, kind, title, body, tags, metadata, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subject_id) DO UPDATE SET kind = excluded.kind, "
    "title = excluded.title, body = excluded.body, tags = excluded.tags, metadata = excluded.metadata, "
    "updated_at = excluded.updated_at WHERE text_documents.namespace = excluded.namespace RETURNING 1";
// The same for the rows of concurrent callers, keyed by subject.
const MergedForm kUpsertMerged =
    MergedForm::of(kUpsert, {"uuid", "text", "text", "text", "text", "jsonb", "jsonb", "int8"}, {0});

Params bind(const storage::TextDocument& d, Micros now) {
  storage::checkTextDocument(d, "upsert");
  Params p;
  p.uuid(d.subjectId)
      .text(d.ns)
      .text(d.kind)
      .text(sanitize(d.title))
      .text(sanitize(d.body))
      .json(Json(d.tags))
      .json(d.metadata)
      .integer(d.updatedAt ? d.updatedAt : now);
  return p;
}

void upsertOne(StatementTarget c, const storage::TextDocument& d, Micros now) {
  // As for entities, a subject id that lives in another namespace is a Conflict, not a move.
  if (c.exec(kUpsert, bind(d, now), kCap, "upsert", &kUpsertMerged).rows() == 0) {
    throw Error(ErrorCode::Conflict, std::string(kCap), "upsert",
                fmt::format("a text document for subject {} exists in another namespace", d.subjectId.str()));
  }
}
}  // namespace

void PgTextSearch::upsertDocument(const storage::TextDocument& doc) {
  const Micros now = db_.now();
  upsertOne(db_, doc, now);
}

storage::BatchWriteSummary PgTextSearch::upsertDocuments(std::span<const storage::TextDocument> docs) {
  return pipelinedBatch<storage::TextDocument>(
      db_, kCap, "upsert_batch", docs, kUpsert, [](const storage::TextDocument& d, Micros now) { return bind(d, now); },
      [](Conn& c, const storage::TextDocument& d, Micros now) { upsertOne(c, d, now); });
}

bool PgTextSearch::deleteDocument(const Uuid& subjectId) {
  return db_.run(kCap, "delete", [&](Conn& c) {
    return c.exec("DELETE FROM text_documents WHERE subject_id = $1", Params().uuid(subjectId), kCap, "delete")
               .affected() > 0;
  });
}

std::optional<storage::TextDocument> PgTextSearch::getDocument(const Uuid& subjectId) {
  return db_.run(
      kCap, "get",
      [&](Conn& c) -> std::optional<storage::TextDocument> {
        auto r = c.exec("SELECT subject_id, namespace, kind, title, body, tags, metadata, updated_at FROM "
                        "text_documents WHERE subject_id = $1",
                        Params().uuid(subjectId), kCap, "get");
        if (r.rows() == 0) return std::nullopt;
        storage::TextDocument d;
        d.subjectId = r.getUuid(0, 0);
        d.ns = r.str(0, 1);
        d.kind = r.str(0, 2);
        d.title = r.str(0, 3);
        d.body = r.str(0, 4);
        d.tags = r.getJson(0, 5).get<std::vector<std::string>>();
        d.metadata = r.getJson(0, 6);
        d.updatedAt = r.getInt(0, 7);
        return d;
      },
      true);
}

// Search = tsquery match through the GIN index, then BM25 computed in SQL the way SQLite
// FTS5's bm25() does (k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)) floored at
// 1e-6, term frequency weighted per column title 4 / tags 2 / body 1, |D| = tokens of the
// whole document), mapped into [0, 1) by s / (1 + s) like the SQLite backend. ts_rank is not
// used: it has no idf and no length normalisation worth the name.
//
// The safe query builder: the user's text goes through khive_text_clean() (letters and
// digits only) before plainto_tsquery / phraseto_tsquery, so quotes, colons, ! & | <->,
// backslashes and parentheses are separators, never syntax; any-term mode ORs the cleaned
// lexemes, each of which is a bare run of letters and digits and so a valid tsquery operand.
SqlBuilder textSearchStatement(const storage::TextQuery& q) {
  requireNamespaces(q.namespaces, kCap, "search");
  storage::checkTopK(q.topK, kCap, "search");
  // Plain and any-term modes search each word once: the text sent is its distinct words
  // (lower-cased, as the 'simple' configuration folds them anyway), so a repeated word adds
  // no operand to the tsquery. A phrase keeps every word, in order.
  std::string text = sanitize(q.text);
  std::vector<std::string> terms = storage::distinctWords(text);
  if (q.mode == storage::TextMode::Phrase) {
    if (const auto n = storage::countWords(text); n > storage::kMaxSearchTerms) storage::throwTooManySearchTerms(n, kCap);
  } else {
    if (terms.size() > storage::kMaxSearchTerms) storage::throwTooManySearchTerms(terms.size(), kCap);
    text.clear();
    for (const auto& t : terms) text += (text.empty() ? "" : " ") + t;
  }
  // lexemes, stats and df are MATERIALIZED: inlined, the planner re-ran the document-frequency
  // count and the corpus statistics once per candidate term row (~20x slower at 120 docs).
  SqlBuilder b;
  b.text("WITH input AS (SELECT khive_text_clean(").str(text).text(") AS t), ");
  b.text("lexemes AS MATERIALIZED (SELECT DISTINCT lex FROM input, unnest(tsvector_to_array(to_tsvector('simple'::regconfig, "
         "input.t))) AS lex), ");
  switch (q.mode) {
    case storage::TextMode::Plain:
      b.text("query AS (SELECT plainto_tsquery('simple'::regconfig, t) AS tq FROM input), ");
      break;
    case storage::TextMode::Phrase:
      b.text("query AS (SELECT phraseto_tsquery('simple'::regconfig, t) AS tq FROM input), ");
      break;
    case storage::TextMode::AnyTerm:
      b.text("query AS (SELECT COALESCE(string_agg(quote_literal(lex), ' | '), '')::tsquery AS tq FROM lexemes), ");
      break;
  }
  b.text("stats AS MATERIALIZED (SELECT count(*)::float8 AS n, GREATEST(avg(doc_len), 1)::float8 AS avgdl FROM text_documents), ");
  b.text("df AS MATERIALIZED (SELECT l.lex, (SELECT count(*) FROM text_documents AS d WHERE d.tsv @@ quote_literal(l.lex)::tsquery)"
         "::float8 AS nhit FROM lexemes AS l), ");
  b.text("cand AS (SELECT d.subject_id, d.namespace, d.kind, d.title, d.body, d.tsv, d.doc_len FROM text_documents AS "
         "d, query WHERE query.tq <> ''::tsquery AND d.tsv @@ query.tq AND d.namespace = ANY (")
      .texts(q.namespaces)
      .text(")");
  if (!q.kinds.empty()) b.text(" AND d.kind = ANY (").texts(q.kinds).text(")");
  if (!q.ids.empty()) b.text(" AND d.subject_id = ANY (").uuids(q.ids).text(")");
  b.text("), scored AS (SELECT c.subject_id, c.namespace, c.kind, c.title, c.body, sum(GREATEST(ln((stats.n - df.nhit + "
         "0.5) / (df.nhit + 0.5)), 1e-6) * (t.tf * 2.2) / (t.tf + 1.2 * (0.25 + 0.75 * c.doc_len / stats.avgdl))) AS s "
         "FROM cand AS c CROSS JOIN LATERAL (SELECT u.lexeme, (SELECT sum(CASE w WHEN 'A' THEN 4 WHEN 'B' THEN 2 ELSE "
         "1 END) FROM unnest(u.weights) AS w)::float8 AS tf FROM unnest(c.tsv) AS u WHERE u.lexeme IN (SELECT lex "
         "FROM lexemes)) AS t JOIN df ON df.lex = t.lexeme CROSS JOIN stats GROUP BY c.subject_id, c.namespace, "
         "c.kind, c.title, c.body) ");
  // Snippets are made from the returned rows' text (storage::makeSnippet), not by
  // ts_headline, whose cost grows faster than the document.
  b.text("SELECT subject_id, namespace, kind, title, s");
  if (q.snippets) b.text(", body");
  b.text(" FROM scored ORDER BY s DESC, subject_id LIMIT ").integer(q.topK);
  return b;
}

std::vector<storage::TextHit> PgTextSearch::searchText(const storage::TextQuery& q) {
  const SqlBuilder b = textSearchStatement(q);
  const std::vector<std::string> terms = q.snippets ? storage::distinctWords(sanitize(q.text)) : std::vector<std::string>{};
  return db_.run(
      kCap, "search",
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, kCap, "search");
        std::vector<storage::TextHit> out;
        for (int i = 0; i < r.rows(); ++i) {
          storage::TextHit h;
          h.subjectId = r.getUuid(i, 0);
          h.ns = r.str(i, 1);
          h.kind = r.str(i, 2);
          h.title = r.str(i, 3);
          const double s = std::max(0.0, r.getDouble(i, 4));
          h.score = s / (1.0 + s);
          h.rank = i + 1;
          if (q.snippets) h.snippet = storage::makeSnippet(h.title, r.view(i, 5), terms);
          out.push_back(std::move(h));
        }
        return out;
      },
      true);
}

std::int64_t PgTextSearch::countDocuments(std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "text_documents", namespaces, std::nullopt, false);
}

std::int64_t PgTextSearch::countLiveDocuments(std::span<const std::string> namespaces) {
  return countRetrieval(db_, kCap, "text_documents", namespaces, std::nullopt, true);
}

storage::TextStats PgTextSearch::textStats() {
  return db_.run(
      kCap, "stats",
      [&](Conn& c) {
        auto r = c.exec("SELECT count(*), count(DISTINCT namespace) FROM text_documents", {}, kCap, "stats");
        return storage::TextStats{r.getInt(0, 0), r.getInt(0, 1)};
      },
      true);
}

void PgTextSearch::rebuildText() {
  // Re-derives every tsvector (the trigger runs on UPDATE) and rebuilds the GIN index.
  db_.write(kCap, "rebuild", [&](Conn& c) { c.exec("UPDATE text_documents SET title = title", {}, kCap, "rebuild"); });
}

}  // namespace khive::postgres
