#pragma once
// The SQLite schema as a list of forward-only migrations, applied by the backend on open.

#include <string_view>
#include <vector>

namespace khive::sqlite {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // may hold several statements
};

// In ascending version order, starting at 1 with no gaps.
const std::vector<Migration>& migrations();

}  // namespace khive::sqlite
