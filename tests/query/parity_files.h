#pragma once
// Reader of the pattern-parity files (tests/parity/*.test); the format is described in
// tests/parity/parity_runner.cc.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "khive/core/json.h"
#include "khive/query/ast.h"
#include "khive/query/compiler.h"

namespace khive::testing {

struct ParityCase {
  std::string file;  // stem
  std::string path;
  int line = 0;      // 1-based line of the header
  bool isError = false;
  query::Language language = query::Language::Gql;
  std::string errorClass;
  std::string text;
  std::vector<std::string> namespaces = {"main"};
  std::int64_t cap = query::kDefaultRowCap;
  bool ordered = false;
  bool countOnly = false;
  bool truncated = false;
  Json params = Json::object();
  std::vector<std::string> expected;
  std::size_t expectedBegin = 0, expectedEnd = 0;  // line range (0-based, half-open) of the rows
};

struct ParityFile {
  std::string path;
  std::vector<std::string> lines;
  std::vector<ParityCase> cases;
};

// Throws std::runtime_error naming the file and line of a malformed case.
ParityFile loadParityFile(const std::filesystem::path& path);

// Every *.test file of a directory, in name order.
std::vector<ParityFile> loadParityDir(const std::filesystem::path& dir);

}  // namespace khive::testing
