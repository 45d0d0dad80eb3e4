// Plain edge line decoder fuzz target (src/runtime/edge_line.cc, simdjson): import's fast
// path for the commonest JSONL line.
//
// Checked: the decoder never fails in another way than returning false, and a line it takes
// decodes the general way (nlohmann JSON + edgeFromJson) to the same Edge, as its contract
// says; when it takes a line, the general decoder must not refuse it.

#include "fuzz_support.h"
#include "khive/runtime/codec.h"
#include "runtime/edge_line.h"

using namespace khive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::string scratch;
  const std::string line(fuzz::asText(data, size));
  Edge fast;
  if (!runtime::decodePlainEdgeLine(line, scratch, fast)) return 0;
  Edge general;
  try {
    const Json j = Json::parse(line);
    general = runtime::edgeFromJson(j);
    if (!j.contains("id")) general.id = fast.id;  // both draw a new v7 id
  } catch (const std::exception& e) {
    fuzz::fail(std::string("the plain edge decoder took a line the general decoder refuses: ") + e.what());
  }
  if (!(fast == general)) {
    fuzz::fail("the two edge decoders disagree:\n fast    " + runtime::toJson(fast).dump() + "\n general " +
               runtime::toJson(general).dump());
  }
  return 0;
}
