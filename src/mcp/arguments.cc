#include "mcp/arguments.h"

#include <fmt/format.h>

#include <vector>

namespace khive::mcp {
namespace {

std::string_view jsonTypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

bool hasType(const Json& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

std::string_view article(std::string_view type) {
  return type == "integer" || type == "object" || type == "array" ? "an" : "a";
}

}  // namespace

std::optional<ArgumentProblem> checkArguments(std::string_view tool, const Json& schema, const Json& args) {
  const Json empty = Json::object();
  const Json& properties = schema.contains("properties") ? schema["properties"] : empty;
  std::vector<std::string> allowed;
  for (auto it = properties.begin(); it != properties.end(); ++it) allowed.push_back(it.key());
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& name = it.key();
    const Json& value = it.value();
    if (!properties.contains(name)) {
      std::string list =
          allowed.empty() ? "it takes no arguments" : fmt::format("its arguments are {}", fmt::join(allowed, ", "));
      return ArgumentProblem{fmt::format("unknown argument '{}' for tool '{}': {}; nothing was done", name, tool, list),
                             Json{{"argument", name}, {"problem", "unknown"}, {"allowed", allowed}}};
    }
    const Json& p = properties[name];
    const std::string type = p.value("type", "");
    auto wrongType = [&](std::string expected, std::string_view got) {
      std::string hint = got == "null" ? " (leave an optional argument out instead of null)" : "";
      return ArgumentProblem{fmt::format("argument '{}' of tool '{}' must be {}, not {}{}; nothing was done", name,
                                         tool, expected, got, hint),
                             Json{{"argument", name}, {"problem", "type"}, {"expected", expected}}};
    };
    if (!type.empty() && !hasType(value, type))
      return wrongType(fmt::format("{} {}", article(type), type), jsonTypeName(value));
    if (type == "array" && p.contains("items") && p["items"].contains("type")) {
      const std::string itemType = p["items"]["type"].get<std::string>();
      for (const auto& item : value)
        if (!hasType(item, itemType))
          return wrongType(fmt::format("an array of {}s", itemType),
                           fmt::format("an array holding {}", jsonTypeName(item)));
    }
    if (value.is_number() && (p.contains("minimum") || p.contains("maximum"))) {
      // Compared as JSON numbers: an integer past the range of int64 is out of range, not wrapped.
      const bool below = p.contains("minimum") && value < p["minimum"];
      const bool above = p.contains("maximum") && value > p["maximum"];
      if (below || above) {
        std::string range = p.contains("minimum") && p.contains("maximum")
                                ? fmt::format("{}..{}", p["minimum"].dump(), p["maximum"].dump())
                            : below ? fmt::format(">= {}", p["minimum"].dump())
                                    : fmt::format("<= {}", p["maximum"].dump());
        return ArgumentProblem{fmt::format("argument '{}' of tool '{}' must be {}, not {}; nothing was done", name,
                                           tool, range, value.dump()),
                               Json{{"argument", name}, {"problem", "range"}, {"minimum", p.value("minimum", Json())},
                                    {"maximum", p.value("maximum", Json())}}};
      }
    }
    if (value.is_array() && p.contains("maxItems") && value.size() > p["maxItems"].get<std::size_t>())
      return ArgumentProblem{fmt::format("argument '{}' of tool '{}' holds {} values, more than the {} it accepts; "
                                         "nothing was done",
                                         name, tool, value.size(), p["maxItems"].dump()),
                             Json{{"argument", name}, {"problem", "maxItems"}, {"maxItems", p["maxItems"]}}};
    if (p.contains("enum")) {
      bool member = false;
      for (const auto& e : p["enum"]) member = member || e == value;
      if (!member) {
        std::vector<std::string> options;
        for (const auto& e : p["enum"]) options.push_back(e.is_string() ? e.get<std::string>() : e.dump());
        return ArgumentProblem{fmt::format("argument '{}' of tool '{}' must be one of {}, not {}; nothing was done",
                                           name, tool, fmt::join(options, ", "), value.dump()),
                               Json{{"argument", name}, {"problem", "enum"}, {"allowed", options}}};
      }
    }
  }
  return std::nullopt;
}

}  // namespace khive::mcp
