#include "khive/query/errors.h"

namespace khive::query {

namespace {
constexpr std::string_view kNames[] = {"Parse", "Validation", "Compile", "Unsupported", "InvalidInput"};
constexpr std::string_view kOperations[] = {"parse", "validate", "compile", "unsupported", "input"};

ErrorCode codeFor(QueryErrorClass c) {
  return c == QueryErrorClass::Unsupported ? ErrorCode::Unsupported : ErrorCode::InvalidInput;
}
}  // namespace

std::string_view queryErrorClassName(QueryErrorClass c) noexcept { return kNames[static_cast<int>(c)]; }

std::optional<QueryErrorClass> parseQueryErrorClass(std::string_view name) noexcept {
  for (int i = 0; i < 5; ++i) {
    if (kNames[i] == name) return static_cast<QueryErrorClass>(i);
  }
  return std::nullopt;
}

QueryError::QueryError(QueryErrorClass cls, std::string message, std::optional<std::size_t> position)
    : Error(codeFor(cls), "query", std::string(kOperations[static_cast<int>(cls)]), std::move(message)),
      class_(cls),
      position_(position) {}

std::optional<QueryErrorClass> classifyQueryError(const Error& e) noexcept {
  if (auto q = dynamic_cast<const QueryError*>(&e)) return q->errorClass();
  if (e.capability() != "query") return std::nullopt;
  for (int i = 0; i < 5; ++i) {
    if (kOperations[i] == e.operation()) return static_cast<QueryErrorClass>(i);
  }
  return std::nullopt;
}

std::size_t characterPosition(std::string_view text, std::size_t offset) noexcept {
  std::size_t pos = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++pos;
  }
  return pos;
}

}  // namespace khive::query
