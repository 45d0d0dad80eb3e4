#include "khive/storage/types.h"

#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/storage/sql_access.h"

namespace khive::storage {

const char* capabilityName(Capability c) noexcept {
  switch (c) {
    case Capability::Sql: return "sql";
    case Capability::Entities: return "entities";
    case Capability::Notes: return "notes";
    case Capability::Graph: return "graph";
    case Capability::Events: return "events";
    case Capability::Vectors: return "vectors";
    case Capability::Sparse: return "sparse";
    case Capability::Text: return "text";
  }
  return "unknown";
}

namespace {
[[noreturn]] void wrongType(const char* want, const SqlValue& v) {
  static constexpr const char* kNames[] = {"null", "bool", "int", "double", "text", "blob", "json", "uuid", "timestamp"};
  throw Error(ErrorCode::InvalidInput, "sql", "convert",
              fmt::format("expected a {} value, got {}", want, kNames[v.index()]));
}
}  // namespace

bool isNull(const SqlValue& v) noexcept { return std::holds_alternative<std::monostate>(v); }

std::int64_t asInt(const SqlValue& v) {
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p ? 1 : 0;
  if (auto p = std::get_if<Timestamp>(&v)) return p->micros;
  wrongType("int", v);
}

double asDouble(const SqlValue& v) {
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  wrongType("double", v);
}

std::string asText(const SqlValue& v) {
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<Uuid>(&v)) return p->str();
  if (auto p = std::get_if<JsonParam>(&v)) return p->value.dump();
  wrongType("text", v);
}

std::optional<std::string> asOptText(const SqlValue& v) {
  if (isNull(v)) return std::nullopt;
  return asText(v);
}

std::optional<std::int64_t> asOptInt(const SqlValue& v) {
  if (isNull(v)) return std::nullopt;
  return asInt(v);
}

std::string displayValue(const SqlValue& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const Blob& b) const {
      std::string out = "x'";
      for (auto c : b) out += fmt::format("{:02x}", c);
      return out + "'";
    }
    std::string operator()(const JsonParam& j) const { return j.value.dump(); }
    std::string operator()(const Uuid& u) const { return u.str(); }
    std::string operator()(const Timestamp& t) const { return std::to_string(t.micros); }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace khive::storage
