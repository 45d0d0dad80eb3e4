#pragma once
// SqlDialect: what SQL text means on one engine. Everything above the backends that writes SQL
// (the query compiler, the stores' shared builders in src/storage, the runtime's id lookups)
// asks the dialect for a fragment instead of asking which engine it runs on; each backend hands
// out its dialect (storage::Backend::dialect()). A third engine is a new subclass, never a new
// branch in the code that uses it.
//
// This is the part every user of SQL needs: parameters and their types, lists, ids, text
// comparison and typed JSON access. The query compiler's dialect (khive/query/dialect.h)
// extends it with walks and ordering.
//
// Dialects are stateless: every implementation is thread-safe.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace khive::storage {

// The type of a bound parameter (an engine may need it for an explicit cast on the
// placeholder). Id is a record id bound as its canonical text; TextList and IdList are one
// parameter holding a whole list, bound as the value listValue() makes.
enum class ParamType { Text, Integer, Real, Bool, JsonPath, Id, TextList, IdList };

// The type of a field or output column.
//   Id:   a record id, always returned as canonical text.
//   Json: a JSON document or the value at a JSON path, always returned as JSON text.
enum class ValueType { Text, Integer, Real, Id, Json };

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  SqlDialect() = default;
  SqlDialect(const SqlDialect&) = delete;
  SqlDialect& operator=(const SqlDialect&) = delete;

  virtual std::string_view name() const noexcept = 0;

  // --- parameters -------------------------------------------------------------------------
  // The placeholder of 1-based parameter `index`. A number may repeat in one statement and
  // refers to the same value each time.
  virtual std::string placeholder(int index, ParamType type) const = 0;
  // The value to bind for the JSON path a.b.c. Segments are [A-Za-z0-9_-]+ (checked by the
  // caller: storage::propertyPath, the query parser).
  virtual std::string jsonPathValue(const std::vector<std::string>& segments) const = 0;
  // The value to bind for a TextList or IdList parameter holding `items`.
  virtual std::string listValue(std::span<const std::string> items) const = 0;
  // A test that `expr` is one of the items of the list parameter `list` (a placeholder of
  // type TextList or IdList).
  virtual std::string inList(std::string_view expr, std::string_view list) const = 0;

  // --- values and types -------------------------------------------------------------------
  virtual std::string boolLiteral(bool value) const = 0;
  // A NULL of the given type (an engine may need typed NULLs in UNION and recursive seeds).
  virtual std::string typedNull(ValueType type) const = 0;
  // An id column/expression as canonical lower-case text.
  virtual std::string idAsText(std::string_view expr) const = 0;

  // --- string comparison (docs/query.md: = LIKE CONTAINS STARTS WITH IN fold ASCII case only;
  //     != < > <= >= are case-sensitive, by code point) ---------------------------------
  virtual std::string textEqualsCi(std::string_view lhs, std::string_view rhs) const = 0;
  // `pattern` uses % and _ as wildcards and \ as the escape character.
  virtual std::string textLikeCi(std::string_view lhs, std::string_view pattern) const = 0;
  // op is one of = <> < > <= >=.
  virtual std::string textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const = 0;
  // Escapes % _ and \ so that `text` matches literally inside a LIKE pattern with ESCAPE '\'.
  virtual std::string escapeLike(std::string_view text) const;

  // --- JSON properties: `doc` is a JSON column, `path` a placeholder bound to jsonPathValue.
  //     Each typed accessor is NULL unless the value at the path has that JSON type. -------
  virtual std::string jsonText(std::string_view doc, std::string_view path) const = 0;
  virtual std::string jsonNumber(std::string_view doc, std::string_view path) const = 0;
  // Comparable with a ParamType::Bool placeholder.
  virtual std::string jsonBool(std::string_view doc, std::string_view path) const = 0;
  // True when the path is missing or holds JSON null.
  virtual std::string jsonIsNull(std::string_view doc, std::string_view path) const = 0;
  // True when the path holds a value, JSON null included.
  virtual std::string jsonExists(std::string_view doc, std::string_view path) const = 0;
  // The value at the path as JSON text (NULL when missing), for RETURN.
  virtual std::string jsonValueAsText(std::string_view doc, std::string_view path) const = 0;
  // A whole JSON column as JSON text, for RETURN.
  virtual std::string jsonDocumentAsText(std::string_view doc) const = 0;
};

}  // namespace khive::storage
