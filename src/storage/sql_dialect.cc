#include "khive/storage/sql_dialect.h"

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

}  // namespace khive::storage
