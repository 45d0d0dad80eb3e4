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

// An upper bound of the serialised size of `v` (each string character escaped to six bytes,
// each number to 25), walked without serialising: most values are far under the limit and
// need no dump() to know it.
std::size_t serialisedSizeBound(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return 6 * v.get_ref<const std::string&>().size() + 2;
    case Json::value_t::object: {
      std::size_t n = 2;
      for (auto it = v.begin(); it != v.end(); ++it) n += 6 * it.key().size() + 4 + serialisedSizeBound(it.value());
      return n;
    }
    case Json::value_t::array: {
      std::size_t n = 2;
      for (const auto& item : v) n += 1 + serialisedSizeBound(item);
      return n;
    }
    default: return 25;
  }
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
  if (serialisedSizeBound(value) <= limits.maxJsonBytes) return;
  const std::size_t bytes = value.dump().size();
  if (bytes > limits.maxJsonBytes) tooLarge(field, bytes, "bytes serialised", limits.maxJsonBytes, "max_json_bytes");
}

}  // namespace khive::runtime
