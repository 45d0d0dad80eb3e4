// khive.toml parser fuzz target (runtime::parseConfig). The input is the file's text.
//
// Checked: a bad file is Error(InvalidInput) naming the key and line; no other exception
// escapes, and what parses has the shape the rest of khive relies on (a backend kind it
// knows, limits that are positive).

#include "fuzz_support.h"
#include "khive/runtime/config.h"

using namespace khive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  runtime::Config c;
  try {
    c = runtime::parseConfig(fuzz::asText(data, size), "fuzz.toml");
  } catch (const Error& e) {
    fuzz::expectCode(e, {ErrorCode::InvalidInput});
    return 0;
  }
  for (const auto& b : c.backends) {
    if (b.kind != "sqlite" && b.kind != "postgres") fuzz::fail("a backend of unknown kind was accepted: " + b.kind);
  }
  const Limits& l = c.limits;
  if (l.maxNameBytes == 0 || l.maxTextBytes == 0 || l.maxTags == 0 || l.maxJsonBytes == 0 || l.maxJsonDepth < 1 ||
      l.maxQueryBytes == 0 || l.maxSearchBytes == 0 || l.maxImportLineBytes == 0 || l.timeBudget.count() < 1 ||
      l.workBudget < 1) {
    fuzz::fail("a limit below 1 was accepted");
  }
  return 0;
}
