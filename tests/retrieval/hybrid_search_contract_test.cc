// Hybrid search over each backend: fusion of text and vector streams, per-signal ranks, the
// alive check (deleted and superseded subjects dropped before the top-k cut), scopes.

#include <set>

#include "khive/retrieval/hybrid_search.h"
#include "retrieval_fixture.h"

namespace khive::testing {
namespace {

using retrieval::FusionStrategy;
using retrieval::HybridQuery;
using retrieval::HybridSearch;
using retrieval::Scope;
using retrieval::SubjectType;

class HybridContract : public RetrievalTest {
 protected:
  // An entity with a text document and (when the backend has vectors) a 2-d vector.
  Entity entity(const std::string& name, const std::string& description, std::vector<float> v) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.kind = "concept";
    e.name = name;
    e.description = description;
    e = db->entities().upsertEntity(e);
    db->text().upsertDocument(retrieval::textDocumentOf(e));
    if (GetParam().hasVectors) vector(e.id, e.kind, std::move(v));
    return e;
  }
  Note note(const std::string& content, std::vector<float> v) {
    Note n;
    n.id = Uuid::v7();
    n.ns = "ns1";
    n.kind = "observation";
    n.content = content;
    n = db->notes().upsertNote(n);
    db->text().upsertDocument(retrieval::textDocumentOf(n));
    if (GetParam().hasVectors) vector(n.id, n.kind, std::move(v));
    return n;
  }
  void vector(const Uuid& id, const std::string& kind, std::vector<float> v) {
    storage::VectorRecord r;
    r.subjectId = id;
    r.ns = "ns1";
    r.kind = kind;
    r.model = "m";
    r.values = std::move(v);
    db->vectors().insertVector(r);
  }
  HybridQuery query(std::string text, std::vector<float> v = {}) {
    HybridQuery q;
    q.text = std::move(text);
    if (GetParam().hasVectors) q.vector = std::move(v);
    q.vectorModel = "m";
    q.namespaces = {"ns1"};
    q.topK = 5;
    return q;
  }
  static std::vector<Uuid> ids(const std::vector<retrieval::HybridHit>& hits) {
    std::vector<Uuid> out;
    for (const auto& h : hits) out.push_back(h.subjectId);
    return out;
  }
};

TEST_P(HybridContract, FusesTextAndVectorWithPerSignalRanks) {
  if (!requireVectors()) return;  // checked: vectors() is Unsupported on this backend
  // both: found by text and by vector; textOnly: text only; vecOnly: vector only.
  auto both = entity("falcon falcon", "falcon engines by falcon", {1, 0.05f});
  auto textOnly = entity("rocket", "a long description that mentions a falcon once among many other words", {-1, 0});
  auto vecOnly = entity("unrelated", "nothing in common", {1, 0});
  HybridSearch search(*db);
  auto hits = search.search(query("falcon", {1, 0}));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].subjectId, both.id);
  EXPECT_TRUE(hits[0].signals.text);
  EXPECT_EQ(hits[0].signals.vector, 2);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].rank, static_cast<int>(i) + 1);
    EXPECT_GE(hits[i].score, 0.0);
    EXPECT_LE(hits[i].score, 1.0);
    if (i) {
      EXPECT_LE(hits[i].score, hits[i - 1].score);
    }
    EXPECT_EQ(hits[i].subjectType, SubjectType::Entity);
  }
  for (const auto& h : hits) {
    if (h.subjectId == vecOnly.id) {
      EXPECT_FALSE(h.signals.text);
      EXPECT_EQ(h.signals.vector, 1);
      EXPECT_EQ(h.title, "unrelated");
    }
    if (h.subjectId == textOnly.id) {
      EXPECT_EQ(h.signals.vector, 3);
    }
  }

  // Single-signal strategies use one stream only.
  auto q = query("falcon", {1, 0});
  q.fusion.strategy = FusionStrategy::VectorOnly;
  hits = search.search(q);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].subjectId, vecOnly.id);
  EXPECT_FALSE(hits[0].signals.text);
  q.fusion.strategy = FusionStrategy::TextOnly;
  hits = search.search(q);
  ASSERT_EQ(hits.size(), 2u);
  for (const auto& h : hits) EXPECT_FALSE(h.signals.vector);
  q.fusion.strategy = FusionStrategy::Weighted;
  q.fusion.textWeight = 0;
  hits = search.search(q);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].subjectId, vecOnly.id);
}

TEST_P(HybridContract, DropsDeletedAndSupersededBeforeTheCut) {
  std::vector<Entity> es;
  for (int i = 0; i < 12; ++i) {
    es.push_back(entity("harbor " + std::to_string(i), std::string(static_cast<std::size_t>(12 - i), 'x') + " harbor",
                        {1, 0.01f * static_cast<float>(i)}));
  }
  HybridSearch search(*db);
  auto before = search.search(query("harbor", {1, 0}));
  ASSERT_EQ(before.size(), 5u);
  // Remove three of the current top five: soft delete, hard delete, supersede.
  const Uuid soft = before[0].subjectId, hard = before[1].subjectId, old = before[2].subjectId;
  db->entities().deleteEntity(soft, storage::DeleteMode::Soft);
  db->entities().deleteEntity(hard, storage::DeleteMode::Hard);
  Edge e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.sourceId = es.back().id;
  e.targetId = old;
  e.relation = "supersedes";
  db->graph().upsertEdge(e);

  auto after = search.search(query("harbor", {1, 0}));
  ASSERT_EQ(after.size(), 5u) << "k requested is k returned while enough live subjects match";
  auto got = ids(after);
  for (const auto& id : {soft, hard, old}) EXPECT_EQ(std::count(got.begin(), got.end(), id), 0);

  auto q = query("harbor", {1, 0});
  q.includeSuperseded = true;
  got = ids(search.search(q));
  EXPECT_EQ(std::count(got.begin(), got.end(), old), 1);

  // A superseding subject that is itself deleted no longer supersedes.
  db->entities().deleteEntity(es.back().id, storage::DeleteMode::Soft);
  got = ids(search.search(query("harbor", {1, 0})));
  EXPECT_EQ(std::count(got.begin(), got.end(), old), 1);
}

TEST_P(HybridContract, EntityNoteAndMixedScopes) {
  auto e = entity("quartz", "quartz crystal", {1, 0});
  auto n = note("quartz observation", {1, 0.1f});
  HybridSearch search(*db);
  auto mixed = search.search(query("quartz", {1, 0}));
  ASSERT_EQ(mixed.size(), 2u);
  auto ents = search.searchEntities(query("quartz", {1, 0}));
  ASSERT_EQ(ents.size(), 1u);
  EXPECT_EQ(ents[0].subjectId, e.id);
  EXPECT_EQ(ents[0].subjectType, SubjectType::Entity);
  EXPECT_EQ(ents[0].rank, 1);
  auto notes = search.searchNotes(query("quartz", {1, 0}));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].subjectId, n.id);
  EXPECT_EQ(notes[0].subjectType, SubjectType::Note);
}

TEST_P(HybridContract, TextOnlyWorksWithoutVectorsAndValidates) {
  entity("glacier", "ice", {1, 0});
  HybridSearch search(*db);
  HybridQuery q;
  q.text = "glacier";
  q.namespaces = {"ns1"};
  q.snippets = true;
  auto hits = search.search(q);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_TRUE(hits[0].snippet);
  q.text = "   ";
  EXPECT_EQ(codeOf([&] { search.search(q); }), ErrorCode::InvalidInput);
  q.text = "glacier";
  q.namespaces.clear();
  EXPECT_EQ(codeOf([&] { search.search(q); }), ErrorCode::InvalidInput);
  q.namespaces = {"ns1"};
  q.fusion.strategy = FusionStrategy::VectorOnly;
  EXPECT_EQ(codeOf([&] { search.search(q); }), ErrorCode::InvalidInput);
}

TEST_P(HybridContract, SparseSignalJoinsTheFusion) {
  auto a = entity("ember", "ember", {1, 0});
  auto b = entity("other", "other", {0, 1});
  storage::SparseRecord s;
  s.subjectId = b.id;
  s.ns = "ns1";
  s.kind = "concept";
  s.model = "splade";
  s.vector = {{42}, {2.0f}};
  db->sparse().insertSparse(s);
  HybridSearch search(*db);
  HybridQuery q;
  q.text = "ember";
  q.sparse = {{42}, {1.0f}};
  q.sparseModel = "splade";
  q.namespaces = {"ns1"};
  auto hits = search.search(q);
  ASSERT_EQ(hits.size(), 2u);
  std::set<Uuid> got = {hits[0].subjectId, hits[1].subjectId};
  EXPECT_EQ(got, (std::set<Uuid>{a.id, b.id}));
  for (const auto& h : hits) {
    if (h.subjectId == b.id) {
      EXPECT_EQ(h.signals.sparse, 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HybridContract, ::testing::ValuesIn(backendCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
