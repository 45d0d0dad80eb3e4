// A fast decoder for the commonest JSONL record, a plain edge line (transfer.cc).
#pragma once

#include <string>

#include "khive/core/records.h"

namespace khive::runtime {

// Decodes `line` as an edge record when it is one in the simple form: one JSON object whose
// keys are "type" (= "edge") and edge fields, each at most once, with string ids and names,
// numeric weight and times, and metadata absent or an object. Returns false for anything
// else, without judging it: the caller then decodes the line the general way, which accepts
// or rejects it with its own message. Both ways give the same Edge for a line this accepts.
// Reuses `scratch` (a padded copy of the line) between calls; one per thread.
bool decodePlainEdgeLine(const std::string& line, std::string& scratch, Edge& out);

}  // namespace khive::runtime
