#pragma once
// The single error type of khive. Every failure that crosses a layer boundary is a
// khive::Error carrying a code, the capability that failed, the operation and a message a
// person can act on. khive throws it; front ends turn it into exit codes and JSON-RPC errors.

#include <stdexcept>
#include <string>
#include <string_view>

namespace khive {

enum class ErrorCode {
  NotFound,
  AlreadyExists,
  Conflict,
  InvalidInput,
  // The caller's grants do not allow this write in the record's namespace.
  PermissionDenied,
  Unsupported,
  Pool,
  Timeout,
  Transaction,
  Serialization,
  IndexMaintenance,
  Driver,
  // The server is down or unreachable (a PostgreSQL primary that stopped, a lost connection):
  // nothing can be done now; retry later. A write that failed this way may or may not have
  // committed when the connection was lost mid-statement (the message says which case).
  Unavailable,
};

// Stable lower-case name of a code ("not_found", "invalid_input", ...).
std::string_view errorCodeName(ErrorCode code) noexcept;

// Thread-compatible value type (immutable after construction).
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string capability, std::string operation, std::string message);

  ErrorCode code() const noexcept { return code_; }
  const std::string& capability() const noexcept { return capability_; }
  const std::string& operation() const noexcept { return operation_; }
  // The message alone, without the "[code] capability.operation:" prefix that what() carries.
  const std::string& message() const noexcept { return message_; }
  // Pool, Timeout, Transaction, Serialization and Unavailable failures may succeed when retried.
  bool retryable() const noexcept;

 private:
  ErrorCode code_;
  std::string capability_;
  std::string operation_;
  std::string message_;
};

}  // namespace khive
