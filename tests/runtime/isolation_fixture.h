#pragma once
// Several actors over one store: each actor is a Runtime with its own configuration (write
// namespace, visible namespaces, grants) on a backend that shares the store's data.
//
// SQLite and PGlite cases: every runtime shares the one backend the case made (an in-memory
// database has no second connection; the PGlite server takes 4 clients and runs them in one
// session, so it is no tenant boundary anyway). Native PostgreSQL: every
// runtime opens its own backend on one schema as the application role, its row-level security
// grant being exactly the runtime's read scope, as the CLI opens it; the privileged reader is
// granted every namespace.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "khive/runtime/runtime.h"
#include "support/test_backends.h"

namespace khive::testing {

struct ActorSpec {
  std::string id = "local";
  std::string writeNs = "alpha";
  std::vector<std::string> visible;  // empty: just writeNs
  std::vector<runtime::Grant> grants;
};

// The read scope a runtime of `a` has (Runtime's rule: visible namespaces + the write one).
inline std::vector<std::string> readScopeOf(const ActorSpec& a) {
  std::vector<std::string> out = a.visible.empty() ? std::vector<std::string>{a.writeNs} : a.visible;
  if (std::find(out.begin(), out.end(), a.writeNs) == out.end()) out.push_back(a.writeNs);
  return out;
}

// Not thread-safe (a test's own helper).
class SharedStore {
 public:
  explicit SharedStore(const BackendCase& c) : case_(c) {
    static int counter = 0;
    if (c.openScoped && c.name != "pglite")
      schema_ = "iso_" + c.name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    else
      shared_ = std::shared_ptr<storage::Backend>(c.make());
  }

  std::shared_ptr<storage::Backend> open(const std::vector<std::string>& scope) {
    if (!schema_.empty()) return case_.openScoped(schema_, scope);
    return shared_;
  }

  std::unique_ptr<runtime::Runtime> runtime(const ActorSpec& a) {
    runtime::Config c;
    c.actor.id = a.id;
    c.actor.ns = a.writeNs;
    c.actor.visibleNamespaces = a.visible;
    c.grants = a.grants;
    return std::make_unique<runtime::Runtime>(open(readScopeOf(a)), runtime::RuntimeOptions{c, std::nullopt, std::nullopt});
  }

  // A runtime that sees every namespace of `all` (no grants): the privileged reader.
  std::unique_ptr<runtime::Runtime> privileged(const std::vector<std::string>& all) {
    runtime::Config c;
    c.actor.id = "root";
    c.actor.ns = all.front();
    c.actor.visibleNamespaces = all;
    return std::make_unique<runtime::Runtime>(open({"*"}), runtime::RuntimeOptions{c, std::nullopt, std::nullopt});
  }

 private:
  const BackendCase& case_;
  std::string schema_;
  std::shared_ptr<storage::Backend> shared_;
};

}  // namespace khive::testing
