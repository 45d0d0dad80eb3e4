// SQLite 3.40: ids are TEXT, JSON is TEXT read with JSON1, placeholders are ?NNN.
//
// Quirks this dialect absorbs:
//  - COLLATE NOCASE folds ASCII letters only, exactly QUERY.md's case rule; LIKE does the same
//    by default (PRAGMA case_sensitive_like is never turned on by khive).
//  - json_extract() returns native SQL values, and TEXT sorts above every number, so
//    `json_extract(p, '$.year') > 3000` would hold for the string "abc". Every typed accessor
//    therefore checks json_type() first and yields NULL for a value of another type.
//  - Booleans are integers 1/0 (a bool parameter binds as 1/0).
//  - CROSS JOIN ... ON keeps the written join order, which pins recursive steps to
//    "walk row, then its edges" even after ANALYZE (ARCHITECTURE.md §4).

#include <fmt/format.h>

#include "khive/query/sqlite_dialect.h"

namespace khive::query {

std::string SqlDialect::escapeLike(std::string_view text) const {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string SqliteDialect::placeholder(int index, ParamType) const { return fmt::format("?{}", index); }

std::string SqliteDialect::jsonPathValue(const std::vector<std::string>& segments) const {
  std::string out = "$";
  for (auto& s : segments) out += fmt::format(".\"{}\"", s);
  return out;
}

std::string SqliteDialect::boolLiteral(bool value) const { return value ? "1" : "0"; }

std::string SqliteDialect::typedNull(ValueType) const { return "NULL"; }

std::string SqliteDialect::idAsText(std::string_view expr) const { return std::string(expr); }

std::string SqliteDialect::textEqualsCi(std::string_view lhs, std::string_view rhs) const {
  return fmt::format("{} = {} COLLATE NOCASE", lhs, rhs);
}

std::string SqliteDialect::textLikeCi(std::string_view lhs, std::string_view pattern) const {
  return fmt::format("{} LIKE {} ESCAPE '\\'", lhs, pattern);
}

std::string SqliteDialect::textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const {
  return fmt::format("{} {} {} COLLATE BINARY", lhs, op, rhs);
}

std::string SqliteDialect::jsonText(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN json_type({0}, {1}) = 'text' THEN json_extract({0}, {1}) END", doc, path);
}

std::string SqliteDialect::jsonNumber(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN json_type({0}, {1}) IN ('integer', 'real') THEN json_extract({0}, {1}) END", doc, path);
}

std::string SqliteDialect::jsonBool(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE json_type({0}, {1}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END", doc, path);
}

std::string SqliteDialect::jsonIsNull(std::string_view doc, std::string_view path) const {
  return fmt::format("(json_extract({}, {}) IS NULL)", doc, path);
}

std::string SqliteDialect::jsonValueAsText(std::string_view doc, std::string_view path) const {
  return fmt::format("({} -> {})", doc, path);
}

std::string SqliteDialect::jsonDocumentAsText(std::string_view doc) const { return fmt::format("json({})", doc); }

std::string SqliteDialect::pinnedJoin() const { return "CROSS JOIN"; }

// The visited list is '/id1/id2/': ids never contain '/', so a match of '/id/' is a whole id.
std::string SqliteDialect::pathInit(std::string_view id) const { return fmt::format("'/' || {} || '/'", id); }

std::string SqliteDialect::pathAppend(std::string_view path, std::string_view id) const {
  return fmt::format("{} || {} || '/'", path, id);
}

std::string SqliteDialect::pathExcludes(std::string_view path, std::string_view id) const {
  return fmt::format("instr({}, '/' || {} || '/') = 0", path, id);
}

std::string SqliteDialect::orderKey(std::string_view expr, ValueType type) const {
  bool text = type == ValueType::Text || type == ValueType::Id || type == ValueType::Json;
  return fmt::format("{}{} NULLS FIRST", expr, text ? " COLLATE BINARY" : "");
}

const SqlDialect& sqliteDialect() noexcept {
  static const SqliteDialect d;
  return d;
}

}  // namespace khive::query
