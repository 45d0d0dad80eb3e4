#pragma once
// JSON values. Properties, metadata and payloads are JSON objects (SQLite: TEXT with JSON1;
// PostgreSQL: jsonb). khive uses nlohmann::json as its JSON value type.

#include <nlohmann/json.hpp>

namespace khive {
using Json = nlohmann::json;
}  // namespace khive
