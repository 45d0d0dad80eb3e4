#include "runtime/edge_line.h"

#include <simdjson.h>

#include <cstdint>
#include <string_view>

namespace khive::runtime {
namespace {

namespace dom = simdjson::dom;

enum Field : unsigned {
  kType = 1u << 0,
  kId = 1u << 1,
  kNamespace = 1u << 2,
  kSource = 1u << 3,
  kTarget = 1u << 4,
  kRelation = 1u << 5,
  kWeight = 1u << 6,
  kMetadata = 1u << 7,
  kCreated = 1u << 8,
  kUpdated = 1u << 9,
  kDeleted = 1u << 10,
};

unsigned fieldOf(std::string_view key) {
  if (key == "type") return kType;
  if (key == "id") return kId;
  if (key == "namespace") return kNamespace;
  if (key == "source_id") return kSource;
  if (key == "target_id") return kTarget;
  if (key == "relation") return kRelation;
  if (key == "weight") return kWeight;
  if (key == "metadata") return kMetadata;
  if (key == "created_at") return kCreated;
  if (key == "updated_at") return kUpdated;
  if (key == "deleted_at") return kDeleted;
  return 0;
}

bool uuidOf(dom::element v, Uuid& out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  auto u = Uuid::tryParse(s);
  if (!u) return false;
  out = *u;
  return true;
}

bool textOf(dom::element v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
}

}  // namespace

bool decodePlainEdgeLine(const std::string& line, std::string& scratch, Edge& out) {
  // The DOM parser picks the fastest kernel this CPU has at run time. It validates the whole
  // line: UTF-8, structure, and nothing after the value.
  thread_local dom::parser parser;
  scratch.assign(line);
  scratch.append(simdjson::SIMDJSON_PADDING, ' ');
  dom::element doc;
  if (parser.parse(scratch.data(), line.size(), false).get(doc)) return false;
  dom::object obj;
  if (doc.get_object().get(obj)) return false;
  Edge e;
  unsigned seen = 0;
  for (auto [key, v] : obj) {
    const unsigned which = fieldOf(key);
    if (which == 0 || (seen & which) != 0) return false;
    seen |= which;
    bool ok = false;
    switch (which) {
      case kType: {
        std::string_view t;
        ok = !v.get_string().get(t) && t == "edge";
        break;
      }
      case kId:
        ok = uuidOf(v, e.id);
        break;
      case kNamespace:
        ok = textOf(v, e.ns);
        break;
      case kSource:
        ok = uuidOf(v, e.sourceId);
        break;
      case kTarget:
        ok = uuidOf(v, e.targetId);
        break;
      case kRelation:
        ok = textOf(v, e.relation);
        break;
      case kWeight:
        ok = !v.get_double().get(e.weight);
        break;
      case kMetadata: {
        dom::object m;
        if (v.get_object().get(m)) return false;
        if (m.size() == 0) {
          e.metadata = Json::object();
        } else {
          try {
            e.metadata = Json::parse(simdjson::minify(m));
          } catch (const Json::exception&) {
            return false;
          }
        }
        ok = true;
        break;
      }
      case kCreated:
        ok = !v.get_int64().get(e.createdAt);
        break;
      case kUpdated:
        ok = !v.get_int64().get(e.updatedAt);
        break;
      case kDeleted: {
        std::int64_t d = 0;
        ok = !v.get_int64().get(d);
        e.deletedAt = d;
        break;
      }
      default:
        break;
    }
    if (!ok) return false;
  }
  constexpr unsigned kRequired = kType | kSource | kTarget | kRelation;
  if ((seen & kRequired) != kRequired) return false;
  if (!(seen & kId)) e.id = Uuid::v7();
  if (!(seen & kMetadata)) e.metadata = Json::object();
  out = std::move(e);
  return true;
}

}  // namespace khive::runtime
