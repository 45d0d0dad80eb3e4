#pragma once
// What every backend checks of a request before it runs it, written once so that one request
// is accepted or refused the same way on every engine (the contract suite holds them to it).
// A failed check is Error(InvalidInput, capability, operation) naming the field, the limit and
// what to change. Pure functions: thread-safe.
//
// Rules:
//   - multi-record reads are scoped: at least one namespace;
//   - paging: 0 <= offset, 1 <= limit <= kMaxPageLimit;
//   - a property path is "a.b.c", segments of [A-Za-z0-9_-];
//   - a dense vector is non-empty, at most kMaxVectorDims values, every value finite and not
//     all zero (cosine similarity has no direction for the zero vector);
//   - a sparse vector has as many values as indices, every value finite, each index at most
//     once (a repeated index is refused, not summed: the caller's encoder made a mistake that
//     a silent sum would hide); zero values are dropped, and a stored sparse vector needs at
//     least one non-zero value;
//   - a search asks for 1..kMaxSearchTopK hits; a sparse query has at most kMaxSparseQueryTerms
//     non-zero terms;
//   - a vector or sparse record names its subject (not the nil UUID), namespace, kind and model;
//     a text document its subject, namespace and kind.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "khive/storage/entity_store.h"
#include "khive/storage/text_search.h"
#include "khive/storage/types.h"
#include "khive/storage/vector_store.h"

namespace khive::storage {

// The most dimensions a dense vector may have on every engine (pgvector's vector type holds
// at most 16,000).
inline constexpr int kMaxVectorDims = 16'000;
// The most hits one vector, sparse or text search returns.
inline constexpr std::int64_t kMaxSearchTopK = 10'000;
// The most non-zero terms of a sparse query.
inline constexpr std::size_t kMaxSparseQueryTerms = 1'024;

void requireNamespaces(std::span<const std::string> namespaces, std::string_view capability,
                       std::string_view operation);
void checkPage(const PageRequest& page, std::string_view capability, std::string_view operation);
void checkTopK(std::int64_t topK, std::string_view capability, std::string_view operation);

// The segments of the property path "a.b.c".
std::vector<std::string> propertyPath(std::string_view dotted, std::string_view capability,
                                      std::string_view operation);

// What a note query orders by (NoteOrder): a column (created_at, updated_at, salience, name) or
// the dotted path of a property ("a.b" of "properties.a.b"), and the direction as " ASC" or
// " DESC". InvalidInput (operation "query") for any other key.
struct NoteSortKey {
  std::string column;    // empty when ordering by a property
  std::string property;  // the property path when ordering by one
  std::string_view direction;
};
NoteSortKey noteSortKey(const NoteOrder& order);

// A dense vector's values (a stored vector's or a query's).
void checkVectorValues(std::span<const float> values, std::string_view capability, std::string_view operation);
void checkVectorRecord(const VectorRecord& record, std::string_view operation);
void checkVectorSearch(const VectorSearchRequest& request);
// The vectors of at most kMaxVectorSubjects subjects are read at once.
inline constexpr std::size_t kMaxVectorSubjects = 10'000;
void checkVectorSubjects(std::size_t count, std::string_view operation);
// Refuses a vector (operation "insert") or query ("search") of `given` dimensions for a model
// whose stored vectors have `stored`.
void checkModelDims(const std::string& model, int stored, std::size_t given, std::string_view operation);

// A text document names its subject, namespace and kind; its metadata is a JSON object.
void checkTextDocument(const TextDocument& document, std::string_view operation);

// The canonical form of a sparse vector: sorted by index, zero values dropped.
SparseVector canonicalSparse(const SparseVector& vector, std::string_view operation);
// The record with its vector in canonical form; refuses a vector with no non-zero value.
SparseRecord canonicalSparseRecord(const SparseRecord& record, std::string_view operation);
// The request with its query in canonical form (no terms: the search has no hits).
SparseSearchRequest canonicalSparseSearch(const SparseSearchRequest& request);

}  // namespace khive::storage
