// tsquery builder fuzz target (src/backends/postgres/text_query.h): the PostgreSQL search
// statement for user text. Input layout: fuzz_text_query.h.
//
// Checked without a server: the statement's SQL text is the same whatever the user typed
// (the text travels only as parameter $1), and $1 is valid UTF-8 without NUL (PostgreSQL
// refuses both in a text parameter). With KHIVE_FUZZ_POSTGRES_URL set (a khive database URL,
// e.g. from scripts/services.sh), the search also runs there and must not fail.

#include <cstdlib>
#include <memory>

#include "backends/postgres/text_query.h"
#include "fuzz_text_query.h"
#include "khive/runtime/backend_factory.h"

using namespace khive;

namespace {

std::unique_ptr<storage::Backend> openServer() {
  const char* url = std::getenv("KHIVE_FUZZ_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return nullptr;
  return runtime::openBackendUrl(url, {"*"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<storage::Backend> server = openServer();
  const storage::TextQuery q = fuzz::textQueryOf(data, size);

  const postgres::SqlBuilder built = postgres::textSearchStatement(q);
  storage::TextQuery reference = q;
  reference.text = "x";
  if (built.sql != postgres::textSearchStatement(reference).sql) fuzz::fail("the user's text changed the SQL text");
  if (built.params.size() == 0 || !built.params.at(0)) fuzz::fail("no text parameter");
  const std::string& param = *built.params.at(0);
  if (!fuzz::validUtf8(param)) fuzz::fail("parameter $1 is not valid UTF-8");
  if (param.find('\0') != std::string::npos) fuzz::fail("parameter $1 holds a NUL");

  if (server) {
    try {
      server->text().searchText(q);
    } catch (const Error& e) {
      fuzz::expectCode(e, {ErrorCode::Timeout});
    }
  }
  return 0;
}
