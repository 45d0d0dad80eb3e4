#include "khive/storage/request_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "khive/core/error.h"

namespace khive::storage {
namespace {

[[noreturn]] void refuse(std::string_view capability, std::string_view operation, std::string message) {
  throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation), std::move(message));
}

// The fields every vector record names: its subject, namespace, kind and model. `what` is
// "vector" or "sparse vector".
void checkSubject(const Uuid& subject, const std::string& ns, const std::string& kind, const std::string& model,
                  std::string_view what, std::string_view capability, std::string_view operation) {
  if (subject.isNil()) refuse(capability, operation, fmt::format("the {}'s subject id is the nil UUID", what));
  const std::pair<const std::string*, std::string_view> fields[] = {{&ns, "namespace"}, {&kind, "kind"}, {&model, "model"}};
  for (const auto& [value, name] : fields)
    if (value->empty()) refuse(capability, operation, fmt::format("the {} {} is empty", what, name));
}

}  // namespace

void requireNamespaces(std::span<const std::string> namespaces, std::string_view capability,
                       std::string_view operation) {
  if (namespaces.empty()) refuse(capability, operation, "multi-record reads need at least one namespace in `namespaces`");
}

void checkPage(const PageRequest& page, std::string_view capability, std::string_view operation) {
  if (page.offset < 0 || page.limit < 1 || page.limit > kMaxPageLimit) {
    refuse(capability, operation,
           fmt::format("page offset must be >= 0 and limit 1..{} (got offset {}, limit {})", kMaxPageLimit,
                       page.offset, page.limit));
  }
}

void checkTopK(std::int64_t topK, std::string_view capability, std::string_view operation) {
  if (topK < 1 || topK > kMaxSearchTopK)
    refuse(capability, operation, fmt::format("top_k must be 1..{} (got {})", kMaxSearchTopK, topK));
}

std::vector<std::string> propertyPath(std::string_view dotted, std::string_view capability,
                                      std::string_view operation) {
  auto bad = [&](std::string_view why) {
    refuse(capability, operation, fmt::format("property path '{}' {}", dotted.substr(0, 200), why));
  };
  if (dotted.empty()) bad("is empty");
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = dotted.find('.', start);
    auto seg = dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) bad("has an empty segment");
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) bad("may only hold letters, digits, '_' and '-' between dots");
    }
    out.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

void checkVectorValues(std::span<const float> values, std::string_view capability, std::string_view operation) {
  if (values.empty()) refuse(capability, operation, "the vector is empty");
  if (values.size() > static_cast<std::size_t>(kMaxVectorDims)) {
    refuse(capability, operation,
           fmt::format("the vector has {} dimensions; at most {} are supported", values.size(), kMaxVectorDims));
  }
  bool nonZero = false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) refuse(capability, operation, fmt::format("value {} of the vector is not finite", i));
    nonZero = nonZero || values[i] != 0.0f;
  }
  if (!nonZero) refuse(capability, operation, "the vector is all zeros, which has no direction for cosine similarity");
}

void checkVectorRecord(const VectorRecord& r, std::string_view operation) {
  constexpr std::string_view cap = "vectors";
  checkSubject(r.subjectId, r.ns, r.kind, r.model, "vector", cap, operation);
  if (r.field.empty()) refuse(cap, operation, "the vector field is empty");
  if (!r.properties.is_object()) refuse(cap, operation, "vector properties must be a JSON object");
  checkVectorValues(r.values, cap, operation);
}

void checkVectorSearch(const VectorSearchRequest& r) {
  constexpr std::string_view cap = "vectors";
  requireNamespaces(r.namespaces, cap, "search");
  checkTopK(r.topK, cap, "search");
  if (r.model.empty()) refuse(cap, "search", "the search names no embedding model");
  checkVectorValues(r.query, cap, "search");
}

void checkVectorSubjects(std::size_t count, std::string_view operation) {
  if (count > kMaxVectorSubjects)
    refuse("vectors", operation, fmt::format("{} subjects asked at once; at most {}", count, kMaxVectorSubjects));
}

void checkModelDims(const std::string& model, int stored, std::size_t given, std::string_view operation) {
  if (stored == static_cast<int>(given)) return;
  refuse("vectors", operation,
         fmt::format("model '{}' has {} dimensions; {} has {}", model, stored,
                     operation == "search" ? "the query" : "this vector", given));
}

void checkTextDocument(const TextDocument& d, std::string_view operation) {
  constexpr std::string_view cap = "text";
  if (d.subjectId.isNil()) refuse(cap, operation, "document subject id is the nil UUID");
  if (d.ns.empty()) refuse(cap, operation, "document namespace is empty");
  if (d.kind.empty()) refuse(cap, operation, "document kind is empty");
  if (!d.metadata.is_object())
    refuse(cap, operation, "document metadata must be a JSON object, got " + std::string(d.metadata.type_name()));
}

SparseVector canonicalSparse(const SparseVector& v, std::string_view operation) {
  constexpr std::string_view cap = "sparse";
  if (v.indices.size() != v.values.size()) {
    refuse(cap, operation,
           fmt::format("the sparse vector has {} indices but {} values", v.indices.size(), v.values.size()));
  }
  std::vector<std::size_t> order(v.indices.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v.indices[a] < v.indices[b]; });
  SparseVector out;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    if (!std::isfinite(v.values[i])) refuse(cap, operation, fmt::format("value {} of the sparse vector is not finite", i));
    if (k > 0 && v.indices[order[k - 1]] == v.indices[i]) {
      refuse(cap, operation,
             fmt::format("sparse index {} appears more than once; give each index once (with the sum of its "
                         "weights if that is what was meant)",
                         v.indices[i]));
    }
    if (v.values[i] == 0.0f) continue;
    out.indices.push_back(v.indices[i]);
    out.values.push_back(v.values[i]);
  }
  return out;
}

SparseRecord canonicalSparseRecord(const SparseRecord& r, std::string_view operation) {
  constexpr std::string_view cap = "sparse";
  checkSubject(r.subjectId, r.ns, r.kind, r.model, "sparse vector", cap, operation);
  SparseRecord out = r;
  out.vector = canonicalSparse(r.vector, operation);
  if (out.vector.indices.empty()) refuse(cap, operation, "the sparse vector has no non-zero value");
  return out;
}

SparseSearchRequest canonicalSparseSearch(const SparseSearchRequest& r) {
  constexpr std::string_view cap = "sparse";
  requireNamespaces(r.namespaces, cap, "search");
  checkTopK(r.topK, cap, "search");
  SparseSearchRequest out = r;
  out.query = canonicalSparse(r.query, "search");
  if (out.query.indices.size() > kMaxSparseQueryTerms) {
    refuse(cap, "search",
           fmt::format("the query has {} non-zero terms; at most {} are supported", out.query.indices.size(),
                       kMaxSparseQueryTerms));
  }
  return out;
}

NoteSortKey noteSortKey(const NoteOrder& order) {
  NoteSortKey key;
  key.direction = order.order == SortOrder::Asc ? " ASC" : " DESC";
  static constexpr std::string_view kPrefix = "properties.";
  if (order.key.starts_with(kPrefix)) {
    key.property = order.key.substr(kPrefix.size());
  } else if (order.key == "created_at" || order.key == "updated_at" || order.key == "salience" ||
             order.key == "name") {
    key.column = order.key;
  } else {
    throw Error(ErrorCode::InvalidInput, "notes", "query",
                fmt::format("notes order by created_at, updated_at, salience, name or properties.<path>, not '{}'",
                            order.key));
  }
  return key;
}

}  // namespace khive::storage
