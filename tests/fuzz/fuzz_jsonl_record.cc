// JSONL record decoder fuzz target: one import line, decoded the general way (JSON, then the
// record decoder of its "type", src/runtime/codec.cc), as transfer.cc's line decoder does for
// every line the plain edge decoder does not take.
//
// Checked: a bad line is a JSON parse error or Error(InvalidInput), nothing else; a line that
// decodes survives the export round trip (toJson, then the decoder again) unchanged.

#include "fuzz_support.h"
#include "khive/runtime/codec.h"

using namespace khive;

namespace {

// The record of a JSON object with a "type" member; throws as the decoders do.
runtime::Record decodeRecord(const Json& j) {
  const std::string type = j.at("type").get<std::string>();
  if (type == "entity") return runtime::entityFromJson(j);
  if (type == "note") return runtime::noteFromJson(j);
  if (type == "edge") return runtime::edgeFromJson(j);
  if (type == "event") return runtime::eventFromJson(j);
  throw Error(ErrorCode::InvalidInput, "import", "jsonl", "unknown type");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Json j;
  try {
    j = Json::parse(fuzz::asText(data, size));
  } catch (const Json::exception&) {
    return 0;  // transfer.cc reports it as "malformed JSON" for the line
  }
  if (!j.is_object()) return 0;
  if (auto t = j.find("type"); t == j.end() || !t->is_string()) return 0;
  runtime::Record record;
  try {
    record = decodeRecord(j);
  } catch (const Json::exception& e) {
    // transfer.cc reports these as "malformed JSON" for the line.
    return 0;
  } catch (const Error& e) {
    fuzz::expectCode(e, {ErrorCode::InvalidInput});
    return 0;
  }
  const Json exported = runtime::toJson(record);
  runtime::Record again;
  try {
    again = decodeRecord(Json::parse(exported.dump()));
  } catch (const std::exception& e) {
    fuzz::fail(std::string("an exported record does not decode: ") + e.what() + "\n" + exported.dump());
  }
  if (!(again == record)) fuzz::fail("the export round trip changed the record:\n" + exported.dump());
  return 0;
}
