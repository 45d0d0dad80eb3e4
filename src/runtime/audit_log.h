// The audit log of a Runtime and the unit of work every write verb runs in (private to
// src/runtime; docs/architecture.md, "How a verb flows").
//
// record() appends one event: the caller's actor and session, the verb, the outcome. write()
// runs a write verb's body in one unit of work of the backend: the body's writes (record, text
// document, vectors) and the success event commit together or not at all; a failed body is
// rolled back and leaves an error (or, for PermissionDenied, a denied) event written on its own.
//
// Thread-safe: immutable after construction; appends go through the thread-safe backend.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "khive/runtime/policy.h"
#include "khive/runtime/runtime.h"
#include "runtime/boundary.h"

namespace khive::runtime {

class AuditLog {
 public:
  using Clock = std::chrono::steady_clock;

  // Where a write verb's event goes when it fails: the write namespace, until the verb finds
  // the record it is about in the read scope and sets it (with the record's substrate).
  struct Target {
    Substrate substrate;
    std::string ns;
  };

  // The backend and the policy must outlive the log.
  AuditLog(storage::Backend& backend, const Policy& policy, std::optional<std::string> sessionId)
      : backend_(backend), policy_(policy), sessionId_(std::move(sessionId)) {}

  // Appends an event in namespace `ns` (empty: the write namespace). Never throws Error for a
  // failed append of an error-outcome event: the original error matters more.
  void record(std::string_view verb, Substrate substrate, std::string_view kind, Outcome outcome, Json payload,
              Clock::duration took, std::optional<Uuid> target = std::nullopt, std::string_view ns = {}) const;

  // Runs `body` (which returns the written record) as write verb `verb`. A deadlock or
  // serialization failure (PostgreSQL) ends the unit's transaction: the body runs again from
  // its first read, up to three times in all. `target` is where the error event goes; the body
  // updates it as it finds its record.
  template <class F>
  auto write(std::string_view verb, Target& target, std::string_view kind, F&& body) const {
    auto start = Clock::now();
    for (int attempt = 1;; ++attempt) {
      try {
        // The unit's transaction begins at the body's first write, after its reads and its
        // embedding request. On an error the unit is rolled back as the error leaves this block,
        // and the error event below is written on its own.
        auto work = backend_.beginWork();
        auto result = body();
        recordWritten(verb, result, target.substrate, Clock::now() - start);
        work->commit();
        return result;
      } catch (const Error& e) {
        if ((e.code() == ErrorCode::Serialization || e.code() == ErrorCode::Transaction) && attempt < 3) continue;
        Outcome o = e.code() == ErrorCode::PermissionDenied ? Outcome::Denied : Outcome::Error;
        record(verb, target.substrate, kind, o,
               Json{{"error", excerpt(e.message(), 4096)}, {"code", std::string(errorCodeName(e.code()))}},
               Clock::now() - start, std::nullopt, target.ns);
        throw;
      }
    }
  }

 private:
  // The success event of a written record, in the record's namespace; the substrate of an edge
  // (or event) is the verb's (`other`).
  template <class T>
  void recordWritten(std::string_view verb, const T& written, Substrate other, Clock::duration took) const {
    if constexpr (std::is_same_v<T, Record>) {
      std::visit([&](const auto& r) { recordWritten(verb, r, other, took); }, written);
    } else {
      const Substrate substrate = std::is_same_v<T, Entity> ? Substrate::Entity
                                  : std::is_same_v<T, Note> ? Substrate::Note
                                                            : other;
      std::string_view kind;
      if constexpr (std::is_same_v<T, Edge>) kind = written.relation;
      else kind = written.kind;
      record(verb, substrate, kind, Outcome::Success, Json::object(), took, written.id, written.ns);
    }
  }

  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
  const std::optional<std::string> sessionId_;
};

}  // namespace khive::runtime
