#include "parity_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "khive/query/errors.h"

namespace khive::testing {

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

ParityFile loadParityFile(const std::filesystem::path& path) {
  ParityFile f;
  f.path = path.string();
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) f.lines.push_back(line);
  std::size_t i = 0;
  auto fail = [&](const std::string& msg) {
    throw std::runtime_error(fmt::format("{}:{}: {}", f.path, i + 1, msg));
  };
  while (i < f.lines.size()) {
    std::string l = trim(f.lines[i]);
    if (l.empty() || l[0] == '#') {
      ++i;
      continue;
    }
    ParityCase c;
    c.file = path.stem().string();
    c.path = f.path;
    c.line = static_cast<int>(i + 1);
    auto words = split(l, ' ');
    words.erase(std::remove(words.begin(), words.end(), ""), words.end());
    if (words.size() < 2 || (words[0] != "query" && words[0] != "error")) fail("expected 'query <lang>' or 'error <lang> <class>'");
    c.isError = words[0] == "error";
    if (words[1] == "gql") c.language = query::Language::Gql;
    else if (words[1] == "sparql") c.language = query::Language::Sparql;
    else fail("language must be gql or sparql");
    std::size_t w = 2;
    if (c.isError) {
      if (words.size() < 3 || !query::parseQueryErrorClass(words[2])) fail("error needs a class");
      c.errorClass = words[2];
      w = 3;
    }
    for (; w < words.size(); ++w) {
      const auto& opt = words[w];
      if (opt == "ordered") c.ordered = true;
      else if (opt == "truncated") c.truncated = true;
      else if (opt == "count") c.countOnly = true;
      else if (opt.rfind("ns=", 0) == 0) c.namespaces = split(opt.substr(3), ',');
      else if (opt.rfind("cap=", 0) == 0) c.cap = std::stoll(opt.substr(4));
      else if (opt.rfind("params=", 0) == 0) c.params = Json::parse(opt.substr(7));
      else fail("unknown option " + opt);
    }
    ++i;
    std::string text;
    while (i < f.lines.size() && trim(f.lines[i]) != "----" && !(c.isError && trim(f.lines[i]).empty())) {
      if (!trim(f.lines[i]).empty()) text += (text.empty() ? "" : "\n") + f.lines[i];
      ++i;
    }
    c.text = text;
    if (text.empty()) fail("empty query");
    if (!c.isError) {
      if (i >= f.lines.size()) fail("missing ----");
      ++i;
      c.expectedBegin = i;
      while (i < f.lines.size() && !trim(f.lines[i]).empty()) c.expected.push_back(trim(f.lines[i++]));
      c.expectedEnd = i;
    }
    f.cases.push_back(std::move(c));
  }
  return f;
}


std::vector<ParityFile> loadParityDir(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<ParityFile> out;
  for (auto& p : paths) out.push_back(loadParityFile(p));
  return out;
}

}  // namespace khive::testing
