#pragma once
// Helpers of the embedding-engine suites (embedding_test.cc, static_engine_test.cc).

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/config.h"
#include "khive/runtime/runtime.h"

namespace khive::testing {

// A runtime over a private in-memory SQLite store, configured by `toml`.
inline std::unique_ptr<runtime::Runtime> runtimeWith(const std::string& toml) {
  return std::make_unique<runtime::Runtime>(runtime::openBackendUrl("sqlite::memory:", {"*"}),
                                            runtime::RuntimeOptions{runtime::parseConfig(toml), std::nullopt, std::nullopt});
}

// The error `f` throws; a test failure when it throws none.
inline Error errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorCode::Driver, "", "", "");
}

}  // namespace khive::testing
