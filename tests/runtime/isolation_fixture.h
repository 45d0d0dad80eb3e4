#pragma once
// Several actors over one store: each actor is a Runtime with its own configuration (write
// namespace, visible namespaces, grants) on a backend that shares the store's data.
//
// SQLite and PGlite cases: every runtime holds a SharedBackend over the one backend the case
// made (an in-memory database has no second connection; the PGlite server takes 4 clients and
// runs them in one session, so it is no tenant boundary anyway). Native PostgreSQL: every
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

// Forwards every capability to a backend shared by several runtimes. Thread-safe as the
// backend it forwards to.
class SharedBackend final : public storage::Backend {
 public:
  explicit SharedBackend(std::shared_ptr<storage::Backend> b) : b_(std::move(b)) {}
  storage::BackendInfo info() override { return b_->info(); }
  const storage::SqlDialect& dialect() const override { return b_->dialect(); }
  storage::BackendDiagnostics diagnostics() override { return b_->diagnostics(); }
  std::string integrityCheck() override { return b_->integrityCheck(); }
  storage::SqlAccess& sql() override { return b_->sql(); }
  storage::EntityStore& entities() override { return b_->entities(); }
  storage::NoteStore& notes() override { return b_->notes(); }
  storage::GraphStore& graph() override { return b_->graph(); }
  storage::EventStore& events() override { return b_->events(); }
  storage::VectorStore& vectors() override { return b_->vectors(); }
  storage::SparseStore& sparse() override { return b_->sparse(); }
  storage::TextSearch& text() override { return b_->text(); }
  void setReadBudget(const storage::ReadBudget& budget) override { b_->setReadBudget(budget); }
  storage::ReadBudget readBudget() const override { return b_->readBudget(); }
  void refreshStatistics() override { b_->refreshStatistics(); }
  std::unique_ptr<storage::UnitOfWork> beginWork() override { return b_->beginWork(); }

 private:
  std::shared_ptr<storage::Backend> b_;
};

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

  std::unique_ptr<storage::Backend> open(const std::vector<std::string>& scope) {
    if (!schema_.empty()) return case_.openScoped(schema_, scope);
    return std::make_unique<SharedBackend>(shared_);
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
