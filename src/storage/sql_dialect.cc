#include "khive/storage/sql_dialect.h"
#include "khive/storage/sql_quote.h"

namespace khive::storage {

std::string SqlDialect::escapeLike(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string quoteSql(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace khive::storage
