#include "khive/storage/record_checks.h"
#include "khive/storage/write_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "khive/core/error.h"
#include "khive/core/utf8.h"

namespace khive::storage {
namespace {

[[noreturn]] void refuse(std::string_view capability, std::string_view operation, std::string message) {
  throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation), std::move(message));
}

// Why `value` cannot be stored as text, or nullopt.
std::optional<std::string> textProblem(std::string_view value) {
  if (auto bad = firstInvalidUtf8(value))
    return fmt::format("is not valid UTF-8 (byte {} is 0x{:02X})", *bad, static_cast<unsigned char>(value[*bad]));
  if (auto nul = value.find('\0'); nul != std::string_view::npos)
    return fmt::format("contains a NUL character (U+0000) at byte {}, which khive does not store", nul);
  return std::nullopt;
}

// The first string of `v` (keys included) that textProblem refuses: its path and why.
std::optional<std::string> jsonTextProblem(const Json& v, std::string& path) {
  if (v.is_string()) {
    if (auto p = textProblem(v.get_ref<const std::string&>())) return fmt::format("{}: the string {}", path, *p);
    return std::nullopt;
  }
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (auto p = textProblem(it.key())) return fmt::format("{}: a key {}", path, *p);
      const std::size_t mark = path.size();
      path += '.';
      path += it.key();
      auto p = jsonTextProblem(it.value(), path);
      path.resize(mark);
      if (p) return p;
    }
  } else if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& item : v) {
      const std::size_t mark = path.size();
      path += fmt::format("[{}]", i++);
      auto p = jsonTextProblem(item, path);
      path.resize(mark);
      if (p) return p;
    }
  }
  return std::nullopt;
}

void checkOptText(const std::optional<std::string>& value, std::string_view field, std::string_view capability,
                  std::string_view operation) {
  if (value) checkText(*value, field, capability, operation);
}

}  // namespace

int jsonDepth(const Json& value, int stopAfter) {
  if (!value.is_structured()) return 0;
  if (stopAfter <= 0) return 1;
  int deepest = 0;
  for (const auto& child : value) {  // an object's values, an array's items
    deepest = std::max(deepest, jsonDepth(child, stopAfter - 1));
    if (deepest >= stopAfter) break;
  }
  return 1 + deepest;
}

int jsonTextDepth(std::string_view text, int stopAfter) {
  int depth = 0, deepest = 0;
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') inString = false;
      continue;
    }
    switch (c) {
      case '"': inString = true; break;
      case '{':
      case '[':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stopAfter) return deepest;
        }
        break;
      case '}':
      case ']': --depth; break;
      default: break;
    }
  }
  return deepest;
}

void checkText(std::string_view value, std::string_view field, std::string_view capability,
               std::string_view operation) {
  if (auto p = textProblem(value)) refuse(capability, operation, fmt::format("{} {}", field, *p));
}

void checkJson(const Json& value, std::string_view field, int maxDepth, std::string_view capability,
               std::string_view operation) {
  maxDepth = std::min(maxDepth, kMaxJsonDepth);
  // Depth first: the string walk below recurses as deep as the value nests.
  if (jsonDepth(value, maxDepth) > maxDepth)
    refuse(capability, operation,
           fmt::format("{}: nested deeper than {} levels of objects and arrays", field, maxDepth) +
               (maxDepth < kMaxJsonDepth ? "; raise [limits] max_json_depth (at most 512) to store it"
                                         : ", the most khive stores"));
  std::string path(field);
  if (auto p = jsonTextProblem(value, path)) refuse(capability, operation, *p);
}

void checkRecordText(const Entity& e, std::string_view capability, std::string_view operation) {
  checkText(e.ns, "entity namespace", capability, operation);
  checkText(e.kind, "entity kind", capability, operation);
  checkOptText(e.entityType, "entity entity_type", capability, operation);
  checkText(e.name, "entity name", capability, operation);
  checkOptText(e.description, "entity description", capability, operation);
  for (const auto& t : e.tags) checkText(t, "entity tag", capability, operation);
  checkJson(e.properties, "entity properties", kMaxJsonDepth, capability, operation);
}

void checkRecordText(const Note& n, std::string_view capability, std::string_view operation) {
  checkText(n.ns, "note namespace", capability, operation);
  checkText(n.kind, "note kind", capability, operation);
  checkOptText(n.name, "note name", capability, operation);
  checkText(n.content, "note content", capability, operation);
  checkJson(n.properties, "note properties", kMaxJsonDepth, capability, operation);
}

void checkRecordText(const Edge& e, std::string_view capability, std::string_view operation) {
  checkText(e.ns, "edge namespace", capability, operation);
  checkText(e.relation, "edge relation", capability, operation);
  checkJson(e.metadata, "edge metadata", kMaxJsonDepth, capability, operation);
}

void checkRecordText(const Event& e, std::string_view capability, std::string_view operation) {
  checkText(e.ns, "event namespace", capability, operation);
  checkText(e.verb, "event verb", capability, operation);
  checkText(e.actor, "event actor", capability, operation);
  checkText(e.kind, "event kind", capability, operation);
  checkOptText(e.sessionId, "event session_id", capability, operation);
  checkJson(e.payload, "event payload", kMaxJsonDepth, capability, operation);
}

namespace {
// What every record needs: an id that is not nil and a namespace. `noun` names the record.
void checkKey(const Uuid& id, std::string_view ns, std::string_view noun, std::string_view capability,
              std::string_view op) {
  if (id.isNil()) refuse(capability, op, fmt::format("{} id is the nil UUID; generate one with Uuid::v7()", noun));
  if (ns.empty()) refuse(capability, op, fmt::format("{} namespace is empty", noun));
}
// An entity's or note's key and its kind.
void checkNodeKey(const Uuid& id, std::string_view ns, std::string_view kind, std::string_view noun,
                  std::string_view capability, std::string_view op) {
  checkKey(id, ns, noun, capability, op);
  if (kind.empty()) refuse(capability, op, fmt::format("{} kind is empty", noun));
}
}  // namespace

void checkEntity(const Entity& e, std::string_view op) {
  constexpr std::string_view kCap = "entities";
  auto bad = [&](const std::string& why) { refuse(kCap, op, why); };
  checkNodeKey(e.id, e.ns, e.kind, "entity", kCap, op);
  if (e.name.empty()) bad("entity name is empty");
  if (!e.properties.is_object()) bad("entity properties must be a JSON object, got " + std::string(e.properties.type_name()));
  checkRecordText(e, kCap, op);
}

void checkNote(const Note& n, std::string_view op) {
  constexpr std::string_view kCap = "notes";
  auto bad = [&](const std::string& why) { refuse(kCap, op, why); };
  checkNodeKey(n.id, n.ns, n.kind, "note", kCap, op);
  if (n.content.empty()) bad("note content is empty");
  if (n.salience && !(std::isfinite(*n.salience) && *n.salience >= 0 && *n.salience <= 1))
    bad(fmt::format("note salience must be within [0, 1], got {}", *n.salience));
  if (n.decayFactor && !(std::isfinite(*n.decayFactor) && *n.decayFactor >= 0))
    bad(fmt::format("note decay_factor must be >= 0, got {}", *n.decayFactor));
  if (!n.properties.is_object()) bad("note properties must be a JSON object");
  checkRecordText(n, kCap, op);
}

void checkEvent(const Event& e, std::string_view op) {
  constexpr std::string_view kCap = "events";
  auto bad = [&](const std::string& why) { refuse(kCap, op, why); };
  checkKey(e.id, e.ns, "event", kCap, op);
  if (e.verb.empty()) bad("event verb is empty");
  if (!e.payload.is_object()) bad("event payload must be a JSON object");
  if (e.durationUs < 0) bad("event duration_us must be >= 0");
  checkRecordText(e, kCap, op);
}

Error eventExists(const Uuid& id) {
  return Error(ErrorCode::AlreadyExists, "events", "append",
               fmt::format("event {} already exists; events are append-only", id.str()));
}

}  // namespace khive::storage
