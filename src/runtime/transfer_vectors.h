#pragma once
// Vectors in export and import (docs/embedding.md, "Vectors in export and import"): an entity or
// note line may carry its stored vectors, so a round trip keeps them without a reindex:
//
//   "vectors": [{"engine": "glove", "dims": 100, "values": [0.1, ...]}, ...]
//
// plus "field" when it is not "text". Private to the runtime.

#include <map>
#include <span>
#include <string>
#include <vector>

#include "khive/core/json.h"
#include "khive/storage/vector_store.h"

namespace khive::runtime {

class ImportSink;

// The "vectors" value of an export line. Values are written in their shortest decimal form
// that reads back to the same float.
Json vectorsToJson(std::span<const storage::VectorRecord> vectors);

// Parses a line's "vectors" value (shape only: engine, dims, values, field); the subject, namespace,
// kind and properties are filled in later from the record. Throws Error(InvalidInput) saying
// what is wrong (the caller adds the line).
std::vector<storage::VectorRecord> vectorsFromJson(const Json& value);

// Checks imported vectors against the sink: the backend stores vectors, the engine is
// configured, and the dimension is the one the store holds under that name (and the one the
// engine gives, when that is known without asking a server). Single-threaded.
class ImportedVectorCheck {
 public:
  explicit ImportedVectorCheck(const ImportSink& sink) : sink_(sink) {}
  // Throws Error(InvalidInput) naming the engine and the dimensions (the caller adds the line).
  void check(const storage::VectorRecord& v);
  // The engines whose vectors were imported.
  std::vector<std::string> engines() const;

 private:
  const ImportSink& sink_;
  std::map<std::string, int> dims_;  // per engine: the dimension every vector must have
};

}  // namespace khive::runtime
