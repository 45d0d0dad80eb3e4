#include "backends/postgres/staged_write.h"

#include <fmt/format.h>

#include <algorithm>

namespace khive::postgres {

std::optional<StagedForm> StagedForm::of(std::string_view single) {
  constexpr std::string_view kInsert = "INSERT INTO ";
  if (!single.starts_with(kInsert)) return std::nullopt;
  const auto open = single.find(" (");
  const auto close = single.find(')', open);
  const auto values = single.find(" VALUES (", close);
  const auto valuesEnd = single.find(')', values);
  if (open == std::string_view::npos || close == std::string_view::npos || values == std::string_view::npos ||
      valuesEnd == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view table = single.substr(kInsert.size(), open - kInsert.size());
  const std::string_view columns = single.substr(open + 2, close - open - 2);
  // The VALUES must be exactly $1, ..., $n, one per column.
  const auto n = static_cast<std::size_t>(std::count(columns.begin(), columns.end(), ',')) + 1;
  std::string expected;
  for (std::size_t i = 1; i <= n; ++i) expected += fmt::format("{}${}", i > 1 ? ", " : "", i);
  if (single.substr(values + 9, valuesEnd - values - 9) != expected) return std::nullopt;
  std::string_view tail = single.substr(valuesEnd + 1);
  if (const auto ret = tail.find(" RETURNING "); ret != std::string_view::npos) tail = tail.substr(0, ret);
  const std::string stage = fmt::format("khive_stage_{}", table);
  StagedForm f;
  f.stage = fmt::format(
      "CREATE TEMP TABLE IF NOT EXISTS {0} AS SELECT {1} FROM {2} WITH NO DATA; TRUNCATE pg_temp.{0}", stage, columns,
      table);
  f.copy = fmt::format("COPY pg_temp.{} ({}) FROM STDIN", stage, columns);
  f.insert = fmt::format("INSERT INTO {0} ({1}) SELECT {1} FROM pg_temp.{2}{3}", table, columns, stage, tail);
  return f;
}

std::string copyText(std::span<const Params> rows) {
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) out += '\t';
      const auto& v = row.at(i);
      if (!v) {
        out += "\\N";
        continue;
      }
      for (char c : *v) {
        switch (c) {
          case '\\': out += "\\\\"; break;
          case '\t': out += "\\t"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          default: out += c;
        }
      }
    }
    out += '\n';
  }
  return out;
}

std::int64_t stagedWrite(Conn& conn, const StagedForm& form, std::span<const Params> rows,
                         std::string_view capability, std::string_view operation) {
  conn.execScript(form.stage, capability, operation);
  conn.copyIn(form.copy, copyText(rows), capability, operation);
  return conn.exec(form.insert, {}, capability, operation).affected();
}

}  // namespace khive::postgres
