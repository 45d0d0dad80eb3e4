// FTS5 query builder fuzz target (src/backends/sqlite/fts_query.h): user search text becomes
// an FTS5 MATCH expression, which the SQLite backend's search then runs over a small graph's
// text documents. Input layout: fuzz_text_query.h.
//
// Checked: the cleaned text is valid UTF-8 without control characters, and the MATCH
// expression never makes FTS5 fail (no syntax error, no "no such column") in any mode.

#include "backends/sqlite/fts_query.h"
#include "fuzz_graph_fixture.h"
#include "fuzz_text_query.h"

using namespace khive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static runtime::Runtime& rt = fuzz::fixtureRuntime();
  const storage::TextQuery q = fuzz::textQueryOf(data, size);

  const std::string clean = sqlite::sanitizeQueryText(q.text);
  if (!fuzz::validUtf8(clean)) fuzz::fail("sanitizeQueryText left invalid UTF-8");
  for (unsigned char c : clean) {
    if (c < 0x20 || c == 0x7F) fuzz::fail("sanitizeQueryText left a control character");
  }
  const std::string match = sqlite::buildFtsMatch(q.text, q.mode);
  if (match.find('\0') != std::string::npos) fuzz::fail("a NUL in the MATCH expression");

  try {
    rt.backend().text().searchText(q);
  } catch (const Error& e) {
    fuzz::expectCode(e, {ErrorCode::Timeout});
  }
  return 0;
}
