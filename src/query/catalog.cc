#include "query/catalog.h"

namespace khive::query::detail {

namespace {
constexpr unsigned kEN = kEntity | kNote;
constexpr unsigned kAll = kEntity | kNote | kEvent;

// Events keep their JSON in `payload`; `properties` is its alias so `e.properties.x` works
// on every node.
constexpr FieldInfo kNodeFields[] = {
    {"id", ValueType::Id, kAll, "id"},
    {"namespace", ValueType::Text, kAll, "namespace"},
    {"substrate", ValueType::Text, kAll, "substrate"},
    {"kind", ValueType::Text, kAll, "kind"},
    {"name", ValueType::Text, kEN, "name"},
    {"entity_type", ValueType::Text, kEntity, "entity_type"},
    {"description", ValueType::Text, kEntity, "description"},
    {"tags", ValueType::Json, kEntity, "tags"},
    {"content", ValueType::Text, kNote, "content"},
    {"status", ValueType::Text, kNote, "status"},
    {"salience", ValueType::Real, kNote, "salience"},
    {"decay_factor", ValueType::Real, kNote, "decay_factor"},
    {"expires_at", ValueType::Integer, kNote, "expires_at"},
    {"properties", ValueType::Json, kEN, "properties"},
    {"properties", ValueType::Json, kEvent, "payload"},
    {"payload", ValueType::Json, kEvent, "payload"},
    {"created_at", ValueType::Integer, kAll, "created_at"},
    {"updated_at", ValueType::Integer, kEN, "updated_at"},
    {"verb", ValueType::Text, kEvent, "verb"},
    {"actor", ValueType::Text, kEvent, "actor"},
    {"outcome", ValueType::Text, kEvent, "outcome"},
    {"duration_us", ValueType::Integer, kEvent, "duration_us"},
    {"target_id", ValueType::Id, kEvent, "target_id"},
    {"session_id", ValueType::Text, kEvent, "session_id"},
};

constexpr FieldInfo kEdgeFields[] = {
    {"id", ValueType::Id, kEdge, "id"},
    {"namespace", ValueType::Text, kEdge, "namespace"},
    {"relation", ValueType::Text, kEdge, "relation"},
    {"weight", ValueType::Real, kEdge, "weight"},
    {"source_id", ValueType::Id, kEdge, "source_id"},
    {"target_id", ValueType::Id, kEdge, "target_id"},
    {"properties", ValueType::Json, kEdge, "metadata"},
    {"metadata", ValueType::Json, kEdge, "metadata"},
    {"created_at", ValueType::Integer, kEdge, "created_at"},
    {"updated_at", ValueType::Integer, kEdge, "updated_at"},
};
}  // namespace

std::optional<FieldInfo> findNodeField(std::string_view name, unsigned substrates) {
  for (const auto& f : kNodeFields) {
    if (f.name == name && (f.substrates & substrates)) return f;
  }
  return std::nullopt;
}

std::optional<FieldInfo> findEdgeField(std::string_view name) {
  for (const auto& f : kEdgeFields) {
    if (f.name == name) return f;
  }
  return std::nullopt;
}

}  // namespace khive::query::detail
