#include "runtime/boundary.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "khive/core/error.h"
#include "khive/core/utf8.h"
#include "khive/runtime/bounds.h"
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

void checkRequestText(std::string_view value, std::string_view field, std::size_t maxBytes, std::string_view key) {
  if (value.size() > maxBytes) tooLarge(field, value.size(), "bytes", maxBytes, key);
  storage::checkText(value, field, kCap, kOp);
}

void checkListValues(const std::vector<std::string>& values, std::string_view field, const Limits& limits) {
  if (values.size() > kMaxListValues)
    throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp),
                fmt::format("{} has {} values; at most {} are accepted", field, values.size(), kMaxListValues));
  for (const auto& v : values) checkNameField(v, field, limits);
}

std::string excerpt(std::string_view input, std::size_t maxBytes) {
  std::string out;
  for (char c : printableUtf8(input)) {
    if (c == '\0') out += "\\x00";
    else out += c;
  }
  if (out.size() <= maxBytes) return out;
  if (maxBytes < 3) return std::string(maxBytes, '.');
  std::size_t cut = maxBytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  out.resize(cut);
  return out + "...";
}

void checkBound(std::int64_t value, const ArgBound& bound, std::string_view argument) {
  if (value < bound.min || value > bound.max)
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "arguments",
                fmt::format("{} must be {}..{}, got {}", argument, bound.min, bound.max, value));
}

}  // namespace khive::runtime
