#pragma once
// The JSON form of records: every field of a record under its snake_case
// name, absent optionals as null, timestamps as integer microseconds. The same shape is used
// by `khive get --json`, MCP results and JSONL import/export (with a "type" member there).
// Pure functions: thread-safe.

#include <string_view>

#include "khive/core/json.h"
#include "khive/core/records.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

Json toJson(const Entity& e);
Json toJson(const Note& n);
Json toJson(const Edge& e);
Json toJson(const Event& e);

// Decoders for full records (import). Throw Error(InvalidInput) naming the field for a missing
// required field or a value of the wrong type. Unknown members are errors too.
Entity entityFromJson(const Json& j);
Note noteFromJson(const Json& j);
Edge edgeFromJson(const Json& j);
Event eventFromJson(const Json& j);

// A record with a "type" member ("entity", "note", "edge", "event") added.
Json toJson(const Record& r);

// The stable result shapes of the CLI's --json output and the MCP tools (issue 6):
//   search   {"mode", "engine", "notice", "hits": [{"id", "type", "kind", "name", "score", "rank", "signals": {"text", "vector"}}]}
//   traverse {"paths": [{"root_id", "truncated", "nodes": [{"id", "name", "kind", "depth", "via_edge", "parent_id"}]}]}
//   query    {"columns": [...], "rows": [[...], ...], "truncated": bool}
Json toJson(const SearchResult& r);
//   reindex  {"engine", "dimensions", "entities", "notes", "skipped", "seconds"}
Json toJson(const ReindexSummary& s);
Json toJson(const std::vector<TraversePath>& paths);
Json toJson(const QueryResult& r);
Json toJson(const std::vector<NeighborRow>& rows);
Json toJson(const PathResult& p);
Json toJson(const ListResult& r);
Json toJson(const Stats& s);

}  // namespace khive::runtime
