#include "khive/core/error.h"

#include <fmt/format.h>

#include "khive/core/utf8.h"

namespace khive {

std::string_view errorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::AlreadyExists: return "already_exists";
    case ErrorCode::Conflict: return "conflict";
    case ErrorCode::InvalidInput: return "invalid_input";
    case ErrorCode::PermissionDenied: return "permission_denied";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Pool: return "pool";
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::Transaction: return "transaction";
    case ErrorCode::Serialization: return "serialization";
    case ErrorCode::IndexMaintenance: return "index_maintenance";
    case ErrorCode::Driver: return "driver";
    case ErrorCode::Unavailable: return "unavailable";
  }
  return "unknown";
}

// A message may quote input that is not UTF-8 (a name given on the command line): its bad bytes
// are written as \xHH, so every message can be printed and sent as JSON.
Error::Error(ErrorCode code, std::string capability, std::string operation, std::string message)
    : std::runtime_error(fmt::format("[{}] {}.{}: {}", errorCodeName(code), capability, operation, printableUtf8(message))),
      code_(code),
      capability_(std::move(capability)),
      operation_(std::move(operation)),
      message_(isValidUtf8(message) ? std::move(message) : printableUtf8(message)) {}

bool Error::retryable() const noexcept {
  switch (code_) {
    case ErrorCode::Pool:
    case ErrorCode::Timeout:
    case ErrorCode::Transaction:
    case ErrorCode::Serialization:
    case ErrorCode::Unavailable:
      return true;
    default:
      return false;
  }
}

}  // namespace khive
