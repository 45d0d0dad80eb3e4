// TextSearch contract: CRUD, modes, filters, scores, snippets, and the hostile-string
// property test (no user text is ever a syntax error; a phrase that is in a document is found).

#include <algorithm>
#include <random>
#include <set>

#include "retrieval_fixture.h"

namespace khive::testing {
namespace {

using storage::TextDocument;
using storage::TextMode;
using storage::TextQuery;

class TextSearchContract : public RetrievalTest {
 protected:
  TextDocument doc(std::string title, std::string body, std::string ns = "ns1", std::string kind = "concept") {
    TextDocument d;
    d.subjectId = Uuid::v7();
    d.ns = std::move(ns);
    d.kind = std::move(kind);
    d.title = std::move(title);
    d.body = std::move(body);
    return d;
  }
  TextDocument put(std::string title, std::string body, std::string ns = "ns1", std::string kind = "concept") {
    auto d = doc(std::move(title), std::move(body), std::move(ns), std::move(kind));
    db->text().upsertDocument(d);
    return d;
  }
  std::vector<storage::TextHit> search(const std::string& text, TextMode mode = TextMode::Plain,
                                       std::vector<std::string> ns = {"ns1"}) {
    TextQuery q;
    q.text = text;
    q.mode = mode;
    q.namespaces = std::move(ns);
    q.topK = 100;
    return db->text().searchText(q);
  }
  static std::set<Uuid> ids(const std::vector<storage::TextHit>& hits) {
    std::set<Uuid> out;
    for (const auto& h : hits) out.insert(h.subjectId);
    return out;
  }
};

TEST_P(TextSearchContract, RoundTripsReplacesAndDeletesDocuments) {
  auto d = doc("LoRA", "Low-rank adaptation of large language models");
  d.tags = {"peft", "fine-tuning"};
  d.metadata = Json{{"source", "arxiv"}};
  d.updatedAt = 1'700'000'000'000'000;
  db->text().upsertDocument(d);
  auto got = db->text().getDocument(d.subjectId);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->title, "LoRA");
  EXPECT_EQ(got->body, d.body);
  EXPECT_EQ(got->tags, d.tags);
  EXPECT_EQ(got->metadata, d.metadata);
  EXPECT_EQ(got->ns, "ns1");
  EXPECT_EQ(got->kind, "concept");

  d.body = "Replaced body about quantisation";
  db->text().upsertDocument(d);
  EXPECT_TRUE(search("adaptation").empty());
  EXPECT_EQ(ids(search("quantisation")), std::set<Uuid>{d.subjectId});

  EXPECT_TRUE(db->text().deleteDocument(d.subjectId));
  EXPECT_FALSE(db->text().deleteDocument(d.subjectId));
  EXPECT_FALSE(db->text().getDocument(d.subjectId));
  EXPECT_TRUE(search("quantisation").empty());
}

TEST_P(TextSearchContract, RejectsInvalidDocumentsAndQueries) {
  auto d = doc("t", "b");
  d.subjectId = Uuid();
  EXPECT_EQ(codeOf([&] { db->text().upsertDocument(d); }), ErrorCode::InvalidInput);
  d = doc("t", "b", "");
  EXPECT_EQ(codeOf([&] { db->text().upsertDocument(d); }), ErrorCode::InvalidInput);
  TextQuery q;
  q.text = "x";
  EXPECT_EQ(codeOf([&] { db->text().searchText(q); }), ErrorCode::InvalidInput);  // no namespace
  q.namespaces = {"ns1"};
  q.topK = 0;
  EXPECT_EQ(codeOf([&] { db->text().searchText(q); }), ErrorCode::InvalidInput);
}

TEST_P(TextSearchContract, BatchUpsertCountsRowsAndStats) {
  std::vector<TextDocument> docs = {doc("a", "alpha"), doc("b", "beta", "ns2"), doc("c", "gamma")};
  docs.push_back(doc("bad", "bad"));
  docs.back().kind = "";
  auto s = db->text().upsertDocuments(docs);
  EXPECT_EQ(s.attempted, 4u);
  EXPECT_EQ(s.affected, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_TRUE(s.firstError);
  std::vector<std::string> ns1 = {"ns1"}, both = {"ns1", "ns2"};
  EXPECT_EQ(db->text().countDocuments(ns1), 2);
  EXPECT_EQ(db->text().countDocuments(both), 3);
  auto st = db->text().textStats();
  EXPECT_EQ(st.documents, 3);
  EXPECT_EQ(st.namespaces, 2);
  db->text().rebuildText();
  EXPECT_EQ(search("gamma").size(), 1u);
}

TEST_P(TextSearchContract, ModesPlainPhraseAnyTerm) {
  auto a = put("Graph databases", "Knowledge graphs store typed edges between entities");
  auto b = put("Vector search", "Approximate nearest neighbour search over embeddings");
  auto c = put("Hybrid", "Search over knowledge graphs and embeddings at once");

  EXPECT_EQ(ids(search("knowledge embeddings")), std::set<Uuid>{c.subjectId});
  EXPECT_EQ(ids(search("knowledge embeddings", TextMode::AnyTerm)),
            (std::set<Uuid>{a.subjectId, b.subjectId, c.subjectId}));
  EXPECT_EQ(ids(search("typed edges", TextMode::Phrase)), std::set<Uuid>{a.subjectId});
  EXPECT_TRUE(search("edges typed", TextMode::Phrase).empty());
  EXPECT_EQ(ids(search("edges typed", TextMode::Plain)), std::set<Uuid>{a.subjectId});
}

TEST_P(TextSearchContract, PunctuatedTermsAreSearchedNotParsed) {
  auto a = put("Multi-agent systems", "Coordination in multi-agent systems, by O'Reilly; see C++ and a:b notes");
  put("Agents", "A single agent acting alone");
  for (std::string q : {"multi-agent", "O'Reilly", "C++", "a:b", "\"multi-agent", "multi-agent)", "(coordination"}) {
    auto hits = search(q);
    EXPECT_TRUE(ids(hits).contains(a.subjectId)) << q;
  }
  EXPECT_EQ(ids(search("multi-agent systems", TextMode::Phrase)), std::set<Uuid>{a.subjectId});
}

TEST_P(TextSearchContract, FiltersByNamespaceKindAndIds) {
  auto a = put("shared term", "x", "ns1", "concept");
  auto b = put("shared term", "y", "ns1", "person");
  auto c = put("shared term", "z", "ns2", "concept");
  EXPECT_EQ(ids(search("shared")), (std::set<Uuid>{a.subjectId, b.subjectId}));
  EXPECT_EQ(ids(search("shared", TextMode::Plain, {"ns2"})), std::set<Uuid>{c.subjectId});
  EXPECT_EQ(ids(search("shared", TextMode::Plain, {"ns1", "ns2"})),
            (std::set<Uuid>{a.subjectId, b.subjectId, c.subjectId}));
  TextQuery q;
  q.text = "shared";
  q.namespaces = {"ns1", "ns2"};
  q.kinds = {"concept"};
  EXPECT_EQ(ids(db->text().searchText(q)), (std::set<Uuid>{a.subjectId, c.subjectId}));
  q.kinds.clear();
  q.ids = {b.subjectId, c.subjectId};
  EXPECT_EQ(ids(db->text().searchText(q)), (std::set<Uuid>{b.subjectId, c.subjectId}));
}

TEST_P(TextSearchContract, ScoresRanksAndDeterminism) {
  put("retrieval retrieval", "retrieval augmented generation uses retrieval");
  put("other", "some retrieval mention inside a much longer body of unrelated words words words");
  put("third", "retrieval");
  TextQuery q;
  q.text = "retrieval";
  q.namespaces = {"ns1"};
  q.topK = 2;
  auto hits = db->text().searchText(q);
  ASSERT_EQ(hits.size(), 2u);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].rank, static_cast<int>(i) + 1);
    EXPECT_GE(hits[i].score, 0.0);
    EXPECT_LE(hits[i].score, 1.0);
    if (i) {
      EXPECT_LE(hits[i].score, hits[i - 1].score);
    }
  }
  auto again = db->text().searchText(q);
  ASSERT_EQ(again.size(), hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(again[i].subjectId, hits[i].subjectId);
    EXPECT_EQ(again[i].score, hits[i].score);
  }
}

TEST_P(TextSearchContract, SnippetsShowTheMatch) {
  put("Paper", "The quick brown fox jumps over the lazy dog while the zebra watches from afar");
  TextQuery q;
  q.text = "zebra";
  q.namespaces = {"ns1"};
  q.snippets = true;
  auto hits = db->text().searchText(q);
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_TRUE(hits[0].snippet);
  EXPECT_NE(hits[0].snippet->find("zebra"), std::string::npos) << *hits[0].snippet;
  q.snippets = false;
  EXPECT_FALSE(db->text().searchText(q)[0].snippet);
}

// ---- hostile-string property test -------------------------------------------------------------

const std::vector<std::string>& hostilePieces() {
  static const std::vector<std::string> pieces = {
      "\"", "'", "-", ":", "(", ")", "*", "^", "NEAR", "NEAR(", "NEAR/3", "AND", "OR", "NOT", "and", "or", "not",
      "\\", std::string(1, '\0'), "🎉", "👩‍💻", "日本語", "ünïcödé", "שלום", "\u200b", "\u0301", "C++", "a:b",
      "multi-agent", "O'Reilly", "{", "}", "[", "]", "+", "%", "_", "\t", "\n", ";", "--", "/*", "*/", "$1", "?",
      "\xff", "\xc3", "\xed\xa0\x80", "col:", "title:", "{title body}:", ",", ".", "\"\"", "''", "~", "!", "&", "|",
      "<->", "@@", "NULL", "0", "1e308", "-1", "DROP TABLE text_documents;"};
  return pieces;
}

const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> words = {
      "graph",    "vector",  "lattice", "quorum",  "zephyr",   "harbor",  "cobalt",  "meadow", "tundra",  "prism",
      "falcon",   "granite", "velvet",  "saffron", "orbit",    "cascade", "ember",   "glacier", "nimbus", "quartz",
      "multi-agent", "o'reilly", "c++", "state-of-the-art", "a:b"};
  return words;
}

TEST_P(TextSearchContract, HostileQueriesNeverErrorAndPhrasesAreFound) {
  std::mt19937_64 rng(20240611);
  auto pick = [&](const auto& v) { return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]; };

  // A corpus of word sequences (some words carry punctuation, like real text does).
  std::vector<TextDocument> docs;
  std::vector<std::vector<std::string>> words;
  for (int i = 0; i < 120; ++i) {
    std::vector<std::string> w;
    std::string body;
    for (int j = 0; j < 24; ++j) {
      w.push_back(pick(vocabulary()));
      body += (j ? " " : "") + w.back();
    }
    docs.push_back(doc("doc " + std::to_string(i), body));
    words.push_back(std::move(w));
  }
  auto summary = db->text().upsertDocuments(docs);
  ASSERT_EQ(summary.affected, docs.size());

  const TextMode modes[] = {TextMode::Plain, TextMode::Phrase, TextMode::AnyTerm};
  int queries = 0;
  for (int i = 0; i < 10'000; ++i) {
    std::string text;
    const int parts = std::uniform_int_distribution<int>(1, 8)(rng);
    for (int p = 0; p < parts; ++p) {
      const int r = std::uniform_int_distribution<int>(0, 9)(rng);
      std::string piece = r < 6 ? pick(hostilePieces()) : pick(vocabulary());
      const int sep = std::uniform_int_distribution<int>(0, 2)(rng);
      text += piece + (sep == 0 ? "" : " ");
    }
    TextQuery q;
    q.text = text;
    q.mode = modes[i % 3];
    q.namespaces = {"ns1"};
    q.topK = 5;
    q.snippets = i % 7 == 0;
    try {
      auto hits = db->text().searchText(q);
      for (const auto& h : hits) {
        ASSERT_GE(h.score, 0.0);
        ASSERT_LE(h.score, 1.0);
      }
    } catch (const Error& e) {
      FAIL() << "query #" << i << " failed: " << e.what();
    }
    ++queries;
  }
  EXPECT_GE(queries, 10'000);

  // Every phrase cut from a document finds that document, in phrase and plain mode, even
  // wrapped in operator characters.
  const std::vector<std::string> wrappers = {"", "\"", "(", ")", "*", "^", ":", "'", "-"};
  for (int i = 0; i < 400; ++i) {
    const auto di = std::uniform_int_distribution<std::size_t>(0, docs.size() - 1)(rng);
    const auto len = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    const auto start = std::uniform_int_distribution<std::size_t>(0, words[di].size() - len)(rng);
    std::string phrase;
    for (std::size_t j = 0; j < len; ++j) phrase += (j ? " " : "") + words[di][start + j];
    TextQuery q;
    q.text = pick(wrappers) + phrase + pick(wrappers);
    q.namespaces = {"ns1"};
    q.ids = {docs[di].subjectId};
    q.mode = i % 2 ? TextMode::Phrase : TextMode::Plain;
    auto hits = db->text().searchText(q);
    ASSERT_EQ(hits.size(), 1u) << "phrase [" << q.text << "] not found in doc " << di;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TextSearchContract, ::testing::ValuesIn(backendCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
