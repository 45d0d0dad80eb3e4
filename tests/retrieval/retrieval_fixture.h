#pragma once
// Fixture of the retrieval contract suite: a fresh backend per test, parameterised over every
// backend case (SQLite file and memory here; PostgreSQL cases when they are configured). The
// tests talk to the storage interfaces only, so they run unchanged on every engine.

#include <gtest/gtest.h>

#include <memory>

#include "khive/core/error.h"
#include "support/test_backends.h"

namespace khive::testing {

class RetrievalTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
    db = GetParam().make();
  }
  // Skips the test when the case has no vector capability, after checking that the backend
  // reports it as Unsupported (the contract for a missing capability).
  bool requireVectors() {
    if (GetParam().hasVectors) return true;
    try {
      db->vectors();
      ADD_FAILURE() << "vectors() should be Unsupported on " << GetParam().name;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Unsupported);
    }
    return false;
  }

  std::unique_ptr<storage::Backend> db;
};

template <class F>
ErrorCode codeOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a khive::Error";
  return ErrorCode::Driver;
}

}  // namespace khive::testing
