#include "query_runner.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "fixture_graph.h"

namespace khive::testing {

QueryRun runCompiled(storage::Backend& backend, const query::CompiledQuery& compiled) {
  auto reader = backend.sql().reader();
  storage::SqlRows rows = reader->query(compiled.sql, compiled.params);
  QueryRun run;
  run.columns = rows.columns;
  run.rows = std::move(rows.rows);
  run.truncated = query::applyRowCap(compiled, run.rows);
  return run;
}

namespace {
std::string renderNumber(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

std::string renderJson(const Json& j) {
  if (j.is_number_float()) return renderNumber(j.get<double>());
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto& [k, v] : j.items()) {  // nlohmann objects iterate in key order
      out += (first ? "" : ",") + Json(k).dump() + ":" + renderJson(v);
      first = false;
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < j.size(); ++i) out += (i ? "," : "") + renderJson(j[i]);
    return out + "]";
  }
  // Ids inside JSON (a path's nodes and edges) render as fixture names too.
  if (j.is_string()) return Json(fixtureName(j.get<std::string>())).dump();
  return j.dump();
}
}  // namespace

std::string renderValue(const storage::SqlValue& value, query::ValueType type) {
  if (storage::isNull(value)) return "NULL";
  if (auto d = std::get_if<double>(&value)) return renderNumber(*d);
  if (auto i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  std::string text = storage::displayValue(value);
  switch (type) {
    case query::ValueType::Json: {
      auto j = Json::parse(text, nullptr, false);
      return j.is_discarded() ? text : renderJson(j);
    }
    case query::ValueType::Real:
    case query::ValueType::Integer: {
      // Engines that return numbers as text (libpq's text format).
      std::int64_t i = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && p == text.data() + text.size()) return std::to_string(i);
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      return end && *end == '\0' && !text.empty() ? renderNumber(d) : text;
    }
    case query::ValueType::Id: return fixtureName(text);
    case query::ValueType::Text: break;
  }
  return text.empty() ? "(empty)" : text;
}

void appendUtf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string renderRow(const storage::SqlRow& row, const std::vector<query::OutputColumn>& columns) {
  std::string out;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) out += " | ";
    out += renderValue(row[i], i < columns.size() ? columns[i].type : query::ValueType::Text);
  }
  return out;
}

}  // namespace khive::testing
