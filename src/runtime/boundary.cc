#include "runtime/boundary.h"

#include <fmt/format.h>

#include <string>

#include "khive/core/error.h"
#include "khive/storage/record_checks.h"

namespace khive::runtime {
namespace {

constexpr std::string_view kCap = "runtime", kOp = "validate";

[[noreturn]] void tooLarge(std::string_view field, std::size_t size, std::string_view unit, std::size_t limit,
                           std::string_view key) {
  throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp),
              fmt::format("{} is {} {}; the limit is {} (raise [limits] {} in khive.toml)", field, size, unit, limit,
                          key));
}

}  // namespace

void checkNameField(std::string_view value, std::string_view field, const Limits& limits) {
  storage::checkText(value, field, kCap, kOp);
  if (value.size() > limits.maxNameBytes) tooLarge(field, value.size(), "bytes", limits.maxNameBytes, "max_name_bytes");
}

void checkTextField(std::string_view value, std::string_view field, const Limits& limits) {
  storage::checkText(value, field, kCap, kOp);
  if (value.size() > limits.maxTextBytes) tooLarge(field, value.size(), "bytes", limits.maxTextBytes, "max_text_bytes");
}

void checkTagCount(std::size_t count, std::string_view field, const Limits& limits) {
  if (count > limits.maxTags) tooLarge(field, count, "entries", limits.maxTags, "max_tags");
}

void checkJsonField(const Json& value, std::string_view field, const Limits& limits) {
  storage::checkJson(value, field, limits.maxJsonDepth, kCap, kOp);
  if (value.is_object() && value.empty()) return;
  const std::size_t bytes = value.dump().size();
  if (bytes > limits.maxJsonBytes) tooLarge(field, bytes, "bytes serialised", limits.maxJsonBytes, "max_json_bytes");
}

}  // namespace khive::runtime
