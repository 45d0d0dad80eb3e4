// What every backend checks of a request (khive/storage/request_checks.h), once for all
// engines: the requests an engine's own rules would decide differently (a repeated sparse
// index, the zero vector, an empty kind, the dimension limit, paging and batch accounting).
// Every backend refuses the same requests with InvalidInput, stores nothing for them, and
// counts them the same way in a batch.
#include "contract/contract_fixture.h"

#include <fmt/format.h>

#include "khive/storage/request_checks.h"

namespace khive::testing {
namespace {

using storage::SparseRecord;
using storage::VectorRecord;

class RequestChecksContract : public ContractTest {
 protected:
  static SparseRecord sparse(std::vector<std::uint32_t> idx, std::vector<float> val, std::string kind = "concept") {
    SparseRecord r;
    r.subjectId = Uuid::v7();
    r.ns = "ns1";
    r.kind = std::move(kind);
    r.model = "splade";
    r.vector.indices = std::move(idx);
    r.vector.values = std::move(val);
    return r;
  }
  static VectorRecord dense(std::vector<float> values, std::string kind = "concept") {
    VectorRecord r;
    r.subjectId = Uuid::v7();
    r.ns = "ns1";
    r.kind = std::move(kind);
    r.model = "m";
    r.values = std::move(values);
    return r;
  }
  static storage::SparseSearchRequest sparseQuery(std::vector<std::uint32_t> idx, std::vector<float> val) {
    storage::SparseSearchRequest q;
    q.query.indices = std::move(idx);
    q.query.values = std::move(val);
    q.model = "splade";
    q.namespaces = {"ns1"};
    return q;
  }
  std::int64_t sparseCount() {
    const std::vector<std::string> ns{"ns1"};
    return db->sparse().countSparse("splade", ns);
  }
  std::int64_t vectorCount() {
    const std::vector<std::string> ns{"ns1"};
    return db->vectors().countVectors("m", ns);
  }
  // Whether the case has the vector capability; when it has not, that it says so.
  bool vectorsHere() {
    if (GetParam().hasVectors) return true;
    EXPECT_EQ(codeOf([&] { db->vectors(); }), ErrorCode::Unsupported);
    return false;
  }
};

// A repeated index is refused on insert and in a query, never summed.
TEST_P(RequestChecksContract, SparseDuplicateIndexIsRefused) {
  EXPECT_NE(refusal([&] { db->sparse().insertSparse(sparse({7, 3, 7}, {1.0f, 2.0f, 0.5f})); })
                .find("sparse index 7 appears more than once"),
            std::string::npos);
  EXPECT_EQ(sparseCount(), 0);
  db->sparse().insertSparse(sparse({3, 7}, {2.0f, 1.5f}));
  EXPECT_NE(refusal([&] { db->sparse().searchSparse(sparseQuery({3, 3}, {1.0f, 1.0f})); }).find("appears more than once"),
            std::string::npos);
  EXPECT_EQ(sparseCount(), 1);
}

// A sparse vector with no non-zero value is refused on insert; zero values of a stored vector are dropped, so a query on that index alone finds nothing.
TEST_P(RequestChecksContract, SparseAllZeroIsRefusedAndZerosAreDropped) {
  EXPECT_NE(refusal([&] { db->sparse().insertSparse(sparse({1, 2}, {0.0f, 0.0f})); }).find("no non-zero value"),
            std::string::npos);
  EXPECT_NE(refusal([&] { db->sparse().insertSparse(sparse({}, {})); }).find("no non-zero value"), std::string::npos);
  EXPECT_EQ(sparseCount(), 0);
  auto r = sparse({5, 9}, {0.0f, 2.0f});
  db->sparse().insertSparse(r);
  EXPECT_TRUE(db->sparse().searchSparse(sparseQuery({5}, {1.0f})).empty());
  auto hits = db->sparse().searchSparse(sparseQuery({9, 5}, {1.0f, 3.0f}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].subjectId, r.subjectId);
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0);
  // A query with no non-zero term matches nothing, on every engine.
  EXPECT_TRUE(db->sparse().searchSparse(sparseQuery({9}, {0.0f})).empty());
}

// The kind of a sparse vector and the sparse query's size are checked on every engine.
TEST_P(RequestChecksContract, SparseKindAndQueryTerms) {
  EXPECT_NE(refusal([&] { db->sparse().insertSparse(sparse({1}, {1.0f}, "")); }).find("sparse vector kind is empty"),
            std::string::npos);
  std::vector<std::uint32_t> idx;
  std::vector<float> val;
  for (std::uint32_t i = 0; i <= storage::kMaxSparseQueryTerms; ++i) {
    idx.push_back(i);
    val.push_back(1.0f);
  }
  EXPECT_NE(refusal([&] { db->sparse().searchSparse(sparseQuery(idx, val)); }).find("at most 1024"), std::string::npos);
  EXPECT_EQ(sparseCount(), 0);
}

// A batch counts each refused row as failed and writes the rest, the same on every engine.
TEST_P(RequestChecksContract, SparseBatchAccounting) {
  const std::vector<SparseRecord> rows{sparse({1}, {1.0f}), sparse({2, 2}, {1.0f, 1.0f}), sparse({3}, {0.0f}),
                                       sparse({4, 5}, {0.5f, 0.25f})};
  auto s = db->sparse().insertSparseBatch(rows);
  EXPECT_EQ(s.attempted, 4u);
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(s.failed, 2u);
  ASSERT_TRUE(s.firstError.has_value());
  EXPECT_NE(s.firstError->find("sparse index 2 appears more than once"), std::string::npos) << *s.firstError;
  EXPECT_EQ(sparseCount(), 2);
}

// An empty vector kind and a vector past the dimension limit are refused everywhere; the
// limit is what capabilities() reports.
TEST_P(RequestChecksContract, VectorKindAndDimensionLimit) {
  if (!vectorsHere()) return;
  EXPECT_EQ(db->vectors().capabilities().maxDims, storage::kMaxVectorDims);
  EXPECT_NE(refusal([&] { db->vectors().insertVector(dense({1.0f, 0.0f}, "")); }).find("vector kind is empty"),
            std::string::npos);
  std::vector<float> tooLong(static_cast<std::size_t>(storage::kMaxVectorDims) + 1, 0.5f);
  EXPECT_NE(refusal([&] { db->vectors().insertVector(dense(tooLong)); }).find("at most 16000"), std::string::npos);
  storage::VectorSearchRequest q;
  q.query = tooLong;
  q.model = "m";
  q.namespaces = {"ns1"};
  EXPECT_NE(refusal([&] { db->vectors().searchVectors(q); }).find("at most 16000"), std::string::npos);
  EXPECT_EQ(vectorCount(), 0);
}

// The zero vector has no direction: refused as a stored vector and as a query, with the same
// message, on every engine.
TEST_P(RequestChecksContract, VectorAllZeroIsRefused) {
  if (!vectorsHere()) return;
  EXPECT_NE(refusal([&] { db->vectors().insertVector(dense({0.0f, 0.0f, 0.0f})); }).find("all zeros"),
            std::string::npos);
  db->vectors().insertVector(dense({1.0f, 0.0f, 0.0f}));
  storage::VectorSearchRequest q;
  q.query = {0.0f, 0.0f, 0.0f};
  q.model = "m";
  q.namespaces = {"ns1"};
  EXPECT_NE(refusal([&] { db->vectors().searchVectors(q); }).find("all zeros"), std::string::npos);
  q.query = {1.0f, 0.0f};
  EXPECT_NE(refusal([&] { db->vectors().searchVectors(q); }).find("model 'm' has 3 dimensions; the query has 2"),
            std::string::npos);
  EXPECT_EQ(vectorCount(), 1);
}

// A vector batch counts refused rows the same way on every engine.
TEST_P(RequestChecksContract, VectorBatchAccounting) {
  if (!vectorsHere()) return;
  const std::vector<VectorRecord> rows{dense({1.0f, 0.0f}), dense({0.0f, 1.0f}, ""), dense({0.0f, 0.0f}),
                                       dense({1.0f, 1.0f, 1.0f}), dense({0.5f, 0.5f})};
  auto s = db->vectors().insertVectors(rows);
  EXPECT_EQ(s.attempted, 5u);
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(s.failed, 3u);
  ASSERT_TRUE(s.firstError.has_value());
  EXPECT_NE(s.firstError->find("vector kind is empty"), std::string::npos) << *s.firstError;
  EXPECT_EQ(vectorCount(), 2);
}

// Paging and top_k bounds, one rule on every engine and capability.
TEST_P(RequestChecksContract, PagingAndTopK) {
  const std::vector<std::string> ns{"ns1"};
  EXPECT_NE(refusal([&] { db->entities().queryEntities({.namespaces = ns}, {.offset = 0, .limit = 0}); })
                .find("limit 1..10000"),
            std::string::npos);
  EXPECT_NE(refusal([&] { db->notes().queryNotes({.namespaces = ns}, {.offset = -1, .limit = 10}); })
                .find("page offset must be >= 0"),
            std::string::npos);
  storage::TextQuery t;
  t.text = "word";
  t.namespaces = ns;
  t.topK = storage::kMaxSearchTopK + 1;
  EXPECT_NE(refusal([&] { db->text().searchText(t); }).find("top_k must be 1..10000"), std::string::npos);
  auto q = sparseQuery({1}, {1.0f});
  q.topK = 0;
  EXPECT_NE(refusal([&] { db->sparse().searchSparse(q); }).find("top_k must be 1..10000"), std::string::npos);
  q.topK = 1;
  q.namespaces.clear();
  EXPECT_NE(refusal([&] { db->sparse().searchSparse(q); }).find("at least one namespace"), std::string::npos);
}

KHIVE_INSTANTIATE_CONTRACT(RequestChecksContract);

}  // namespace
}  // namespace khive::testing
