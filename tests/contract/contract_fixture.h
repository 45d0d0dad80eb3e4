#pragma once
// The backend contract suite's fixture: every test runs once per backend of
// khive::testing::backendCases(), against the storage interfaces only.

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "khive/core/error.h"
#include "khive/core/records.h"
#include "khive/storage/backend.h"
#include "support/test_backends.h"

namespace khive::testing {

class ContractTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    const auto& c = GetParam();
    KHIVE_SKIP_UNAVAILABLE_BACKEND(c);
    db = c.make();
  }

  // Placeholder n (1-based) in the engine's raw SQL dialect.
  std::string ph(int n) const { return db->info().engine == "postgres" ? "$" + std::to_string(n) : "?"; }

  Entity entity(const std::string& name, const std::string& ns = "ns1", const std::string& kind = "concept") {
    Entity e;
    e.id = Uuid::v7();
    e.ns = ns;
    e.kind = kind;
    e.name = name;
    return db->entities().upsertEntity(e);
  }
  Note note(const std::string& content, const std::string& ns = "ns1", const std::string& kind = "observation") {
    Note n;
    n.id = Uuid::v7();
    n.ns = ns;
    n.kind = kind;
    n.content = content;
    return db->notes().upsertNote(n);
  }
  // An edge record with a fresh id, not written.
  static Edge edgeOf(const Uuid& from, const std::string& relation, const Uuid& to, double weight = 1.0,
                     const std::string& ns = "ns1") {
    Edge e;
    e.id = Uuid::v7();
    e.ns = ns;
    e.sourceId = from;
    e.targetId = to;
    e.relation = relation;
    e.weight = weight;
    return e;
  }
  Edge link(const Uuid& from, const std::string& relation, const Uuid& to, double weight = 1.0,
            const std::string& ns = "ns1") {
    return db->graph().upsertEdge(edgeOf(from, relation, to, weight, ns));
  }

  std::unique_ptr<storage::Backend> db;
};

// Runs f and returns the khive::Error code it threw; fails the test if it threw nothing.
inline ErrorCode codeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a khive::Error";
  return ErrorCode::Driver;
}

// Runs f and returns the message of the Error(InvalidInput) it threw ("" and a test failure
// otherwise).
inline std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.what();
    return e.message();
  }
  ADD_FAILURE() << "expected Error(InvalidInput)";
  return "";
}

#define KHIVE_INSTANTIATE_CONTRACT(Suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(::khive::testing::backendCases()), \
                           ::khive::testing::BackendCaseName())

}  // namespace khive::testing
