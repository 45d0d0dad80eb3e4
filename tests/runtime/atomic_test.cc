// Atomic verbs: a verb's record, text document, vectors and success event commit together or
// not at all (one unit of work), on every backend; `db check`'s consistency check.

#include <gtest/gtest.h>

#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/diagnostics.h"
#include "khive/runtime/runtime.h"
#include "khive/runtime/transfer.h"
#include "support/test_backends.h"

using namespace khive;
using namespace khive::runtime;

namespace {

class AtomicVerbs : public ::testing::TestWithParam<khive::testing::BackendCase> {
 protected:
  void SetUp() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
    rt = std::make_unique<Runtime>(GetParam().make(), RuntimeOptions{{}, std::nullopt, std::nullopt});
  }
  std::int64_t events(const std::string& verb, Outcome outcome) {
    auto page = rt->backend().events().queryEvents({.namespaces = {"default", "other"}, .verbs = {verb}},
                                                   {.offset = 0, .limit = 1000});
    std::int64_t n = 0;
    for (const auto& e : page.items) n += e.outcome == outcome;
    return n;
  }
  // A text document for `id` in another namespace: the text store refuses a second one for
  // the same subject in "default" (Conflict), after the record itself was written.
  void occupyTextDocument(const Uuid& id) {
    rt->backend().text().upsertDocument({.subjectId = id, .ns = "other", .kind = "concept", .title = "squatter", .body = "x", .tags = {}});
  }
  std::unique_ptr<Runtime> rt;
};

TEST_P(AtomicVerbs, CreateEntityWhoseTextDocumentFailsWritesNothing) {
  const Uuid id = Uuid::v7();
  occupyTextDocument(id);
  try {
    rt->createEntity({.id = id, .kind = "concept", .name = "half written"});
    FAIL() << "the create should fail on its text document";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Conflict) << e.what();
  }
  EXPECT_FALSE(rt->backend().entities().getEntityIncludingDeleted(id)) << "the record was written without its text document";
  EXPECT_EQ(events("create", Outcome::Success), 0);
  EXPECT_EQ(events("create", Outcome::Error), 1);  // written after the rollback, on its own
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
  // The same verb without the obstacle writes everything.
  auto e = rt->createEntity({.kind = "concept", .name = "whole"});
  EXPECT_TRUE(rt->backend().text().getDocument(e.id));
  EXPECT_EQ(events("create", Outcome::Success), 1);
}

TEST_P(AtomicVerbs, CreateNoteWhoseTextDocumentFailsWritesNothing) {
  const Uuid id = Uuid::v7();
  occupyTextDocument(id);
  EXPECT_THROW(rt->createNote({.id = id, .kind = "observation", .content = "half written"}), Error);
  EXPECT_FALSE(rt->backend().notes().getNoteIncludingDeleted(id));
  EXPECT_EQ(events("create", Outcome::Success), 0);
  EXPECT_EQ(events("create", Outcome::Error), 1);
}

TEST_P(AtomicVerbs, EveryWriteVerbCommitsItsSuccessEvent) {
  auto a = rt->createEntity({.kind = "concept", .name = "A"});
  auto b = rt->createEntity({.kind = "concept", .name = "B"});
  auto c = rt->createEntity({.kind = "concept", .name = "C"});
  auto n = rt->createNote({.kind = "observation", .content = "about A"});
  rt->link({.source = a.id, .target = b.id, .relation = "extends"});
  rt->link({.source = c.id, .target = b.id, .relation = "extends"});
  rt->update(a.id, {.description = "updated"});
  rt->merge(c.id, a.id);
  rt->remove(n.id, false);
  EXPECT_EQ(events("create", Outcome::Success), 4);
  EXPECT_EQ(events("link", Outcome::Success), 2);
  EXPECT_EQ(events("update", Outcome::Success), 1);
  EXPECT_EQ(events("merge", Outcome::Success), 1);
  EXPECT_EQ(events("delete", Outcome::Success), 1);
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
  // C -extends-> B moved onto A's edge of the same natural key: one live edge.
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 1);
}

TEST_P(AtomicVerbs, ConsistencyCheckFindsRecordsWithoutTheirTextDocument) {
  auto e = rt->createEntity({.kind = "concept", .name = "indexed"});
  auto n = rt->createNote({.kind = "observation", .content = "indexed too"});
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
  ASSERT_TRUE(rt->backend().text().deleteDocument(e.id));
  auto problems = rt->diagnostics().consistency();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("1 live entities have no text document"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find(e.id.str()), std::string::npos) << problems[0];
  ASSERT_TRUE(rt->backend().text().deleteDocument(n.id));
  EXPECT_EQ(rt->diagnostics().consistency().size(), 2u);
  // A soft-deleted record needs none.
  rt->remove(e.id, false);
  rt->remove(n.id, false);
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
}

TEST_P(AtomicVerbs, ImportBatchWhoseTextDocumentsFailWritesNothingOfTheBatch) {
  const Uuid a = Uuid::v7(), x = Uuid::v7(), b = Uuid::v7(), c = Uuid::v7();
  occupyTextDocument(x);
  auto line = [](const Uuid& id, const std::string& name) {
    return R"({"type":"entity","id":")" + id.str() + R"(","kind":"concept","name":")" + name + "\"}\n";
  };
  std::istringstream first(line(c, "an earlier import"));
  importJsonl(*rt, first);
  // One batch: a, x, b, the edge a -> b and an event line. x's text document fails, so none
  // of them may stay.
  std::istringstream in(line(a, "a") + line(x, "x") + line(b, "b") + R"({"type":"edge","id":")" + Uuid::v7().str() + R"(","source_id":")" + a.str() +
                        R"(","target_id":")" + b.str() + R"(","relation":"extends"})" + "\n" +
                        R"({"type":"event","id":")" + Uuid::v7().str() +
                        R"(","verb":"noted","substrate":"entity","actor":"t","kind":"x"})" + "\n");
  EXPECT_THROW(importJsonl(*rt, in), Error);
  EXPECT_TRUE(rt->backend().entities().getEntity(c));
  for (const Uuid& id : {a, x, b}) EXPECT_FALSE(rt->backend().entities().getEntityIncludingDeleted(id)) << id.str();
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 0);
  EXPECT_EQ(events("noted", Outcome::Success), 0);
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
}

// The same with a batch big enough that PostgreSQL writes it by COPY (staged_write.h): the
// failing text document still takes the whole batch with it.
TEST_P(AtomicVerbs, BigImportBatchWhoseTextDocumentFailsWritesNothingOfTheBatch) {
  const Uuid x = Uuid::v7();
  occupyTextDocument(x);
  std::string lines;
  std::vector<Uuid> ids;
  for (int i = 0; i < 200; ++i) {
    ids.push_back(Uuid::v7());
    lines += R"({"type":"entity","id":")" + ids.back().str() + R"(","kind":"concept","name":"n)" + std::to_string(i) +
             "\"}\n";
    if (i == 150) lines += R"({"type":"entity","id":")" + x.str() + R"(","kind":"concept","name":"x"})" + "\n";
  }
  for (int i = 0; i + 1 < 200; ++i) {
    lines += R"({"type":"edge","id":")" + Uuid::v7().str() + R"(","source_id":")" + ids[static_cast<std::size_t>(i)].str() +
             R"(","target_id":")" + ids[static_cast<std::size_t>(i) + 1].str() + R"(","relation":"extends"})" + "\n";
  }
  std::istringstream in(lines);
  EXPECT_THROW(importJsonl(*rt, in), Error);
  for (const Uuid& id : ids) EXPECT_FALSE(rt->backend().entities().getEntityIncludingDeleted(id)) << id.str();
  EXPECT_FALSE(rt->backend().entities().getEntityIncludingDeleted(x));
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 0);
  EXPECT_TRUE(rt->diagnostics().consistency().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, AtomicVerbs, ::testing::ValuesIn(khive::testing::backendCases()), khive::testing::BackendCaseName());

}  // namespace
