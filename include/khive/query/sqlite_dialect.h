#pragma once
// The SQLite 3.40 dialect (JSON1, `?NNN` placeholders, COLLATE NOCASE). Stateless, thread-safe.

#include "khive/query/dialect.h"

namespace khive::query {

class SqliteDialect final : public SqlDialect {
 public:
  std::string_view name() const noexcept override { return "sqlite"; }
  std::string placeholder(int index, ParamType type) const override;
  std::string jsonPathValue(const std::vector<std::string>& segments) const override;
  std::string listValue(std::span<const std::string> items) const override;
  std::string inList(std::string_view expr, std::string_view list) const override;
  std::string boolLiteral(bool value) const override;
  std::string typedNull(ValueType type) const override;
  std::string idAsText(std::string_view expr) const override;
  std::string textEqualsCi(std::string_view lhs, std::string_view rhs) const override;
  std::string textLikeCi(std::string_view lhs, std::string_view pattern) const override;
  std::string textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const override;
  std::string jsonText(std::string_view doc, std::string_view path) const override;
  std::string jsonNumber(std::string_view doc, std::string_view path) const override;
  std::string jsonBool(std::string_view doc, std::string_view path) const override;
  std::string jsonIsNull(std::string_view doc, std::string_view path) const override;
  std::string jsonExists(std::string_view doc, std::string_view path) const override;
  std::string jsonValueAsText(std::string_view doc, std::string_view path) const override;
  std::string jsonDocumentAsText(std::string_view doc) const override;
  Walk walk(const WalkRequest& r) const override;
  std::string pathInit(std::string_view id) const override;
  std::string pathAppend(std::string_view path, std::string_view id) const override;
  std::string pathExcludes(std::string_view path, std::string_view id) const override;
  std::string pathEmpty() const override;
  std::string pathIds(std::string_view path) const override;
  std::string idArray(const std::vector<std::string>& ids) const override;
  std::string pathValue(std::string_view nodes, std::string_view edges) const override;
  std::string lookupFilter(std::string_view conditions, std::string_view anchor) const override;
  std::string orderKey(std::string_view expr, ValueType type) const override;
  std::string codePointText(std::string_view expr) const override;
  std::string explainStatement(std::string_view sql) const override;
  std::string roundReal(std::string_view expr, int digits) const override;
  std::string collectList(std::string_view value, ValueType type, bool distinct) const override;
  std::string finishList(std::string_view list, std::string_view separator) const override;
};

// A shared instance (dialects are stateless).
const SqlDialect& sqliteDialect() noexcept;

}  // namespace khive::query
