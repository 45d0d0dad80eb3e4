// Argument checking, JSON Schemas and the OpenAPI document, all read off the command table.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "khive/commands/command_table.h"
#include "khive/core/utf8.h"

namespace khive::commands {
namespace {

bool on(unsigned surfaces, Surface s) { return (surfaces & s) != 0; }

std::string_view jsonTypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

const char* schemaType(ArgType t) {
  switch (t) {
    case ArgType::Integer: return "integer";
    case ArgType::Number: return "number";
    case ArgType::Boolean: return "boolean";
    case ArgType::StringList:
    case ArgType::IdList: return "array";
    case ArgType::Object: return "object";
    case ArgType::String:
    case ArgType::Id: break;
  }
  return "string";
}

bool isList(ArgType t) { return t == ArgType::StringList || t == ArgType::IdList; }

bool hasType(const Json& v, ArgType t) {
  switch (t) {
    case ArgType::Integer: return v.is_number_integer() || v.is_number_unsigned();
    case ArgType::Number: return v.is_number();
    case ArgType::Boolean: return v.is_boolean();
    case ArgType::Object: return v.is_object();
    case ArgType::StringList:
    case ArgType::IdList:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const Json& i) { return i.is_string(); });
    case ArgType::String:
    case ArgType::Id: break;
  }
  return v.is_string();
}

std::string expectedType(ArgType t) {
  switch (t) {
    case ArgType::Integer: return "an integer";
    case ArgType::Number: return "a number";
    case ArgType::Boolean: return "a boolean";
    case ArgType::Object: return "an object";
    case ArgType::StringList:
    case ArgType::IdList: return "an array of strings";
    case ArgType::String:
    case ArgType::Id: break;
  }
  return "a string";
}

// A bound or value as people write it: 10000, not 1e+04.
std::string number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{:g}", v);
}

const char* vocabularyName(EnumSource s) {
  switch (s) {
    case EnumSource::EntityKinds: return "entity_kinds";
    case EnumSource::NoteKinds: return "note_kinds";
    case EnumSource::NodeKinds: return "kinds";
    case EnumSource::Relations: return "relations";
    case EnumSource::None:
    case EnumSource::Fixed: break;
  }
  return "";
}

// A value shown in a message; text that is not UTF-8 is shown with replacement characters.
std::string shown(const Json& v, Naming naming) {
  if (naming == Naming::Cli && v.is_string()) return "'" + v.get<std::string>() + "'";
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Checks one enum value; returns the canonical value.
std::string checkEnumValue(const Command& cmd, const Arg& arg, const std::string& value,
                           const runtime::Vocabulary& vocabulary, Naming naming) {
  const EnumSpec& e = arg.enumSpec;
  switch (e.source) {
    case EnumSource::None: return value;
    case EnumSource::Fixed: {
      if (std::find(e.values.begin(), e.values.end(), value) != e.values.end()) return value;
      for (const auto& [alias, canonical] : e.aliases)
        if (alias == value) return canonical;
      throw ArgumentError(Problem::Enum, arg.name,
                          fmt::format("{} must be one of {}, not {}{}", argumentLabel(cmd, arg, naming),
                                      fmt::join(e.values, ", "), shown(Json(value), naming),
                                      naming == Naming::Json ? "; nothing was done" : ""),
                          Json{{"argument", arg.name}, {"problem", "enum"}, {"allowed", e.values}});
    }
    case EnumSource::EntityKinds:
    case EnumSource::NoteKinds:
    case EnumSource::Relations:
    case EnumSource::NodeKinds: break;
  }
  // A value that cannot be a vocabulary word (not UTF-8, a NUL, longer than any name) is left
  // to the verb's text checks, which name the argument without echoing the input.
  if (value.size() > 256 || value.find('\0') != std::string::npos || !isValidUtf8(value)) return value;
  // Vocabulary words: the vocabulary's own message, which lists the known words.
  auto refuse = [&](const std::string& message) {
    throw ArgumentError(Problem::Vocabulary, arg.name, message,
                        Json{{"argument", arg.name}, {"problem", "vocabulary"}, {"allowed", allowedValues(arg, vocabulary)}});
  };
  try {
    if (e.source == EnumSource::EntityKinds) vocabulary.checkEntityKind(value);
    if (e.source == EnumSource::NoteKinds) vocabulary.checkNoteKind(value);
    if (e.source == EnumSource::Relations) vocabulary.checkRelation(value);
  } catch (const Error& err) {
    refuse(err.message());
  }
  if (e.source == EnumSource::NodeKinds && !vocabulary.isEntityKind(value) && !vocabulary.isNoteKind(value))
    refuse(fmt::format("unknown kind '{}' (entity kinds: {}; note kinds: {})", value,
                       fmt::join(vocabulary.entityKinds(), ", "), fmt::join(vocabulary.noteKinds(), ", ")));
  return value;
}

}  // namespace

std::string_view problemName(Problem p) noexcept {
  switch (p) {
    case Problem::Unknown: return "unknown";
    case Problem::Type: return "type";
    case Problem::Enum: return "enum";
    case Problem::Required: return "required";
    case Problem::Range: return "range";
    case Problem::Vocabulary: return "vocabulary";
  }
  return "unknown";
}

ArgumentError::ArgumentError(Problem problem, std::string argument, std::string message, Json data)
    : Error(ErrorCode::InvalidInput, "commands", "arguments", std::move(message)),
      problem_(problem),
      argument_(std::move(argument)),
      data_(std::move(data)) {}

std::string argumentLabel(const Command& cmd, const Arg& arg, Naming naming) {
  if (naming == Naming::Json) return fmt::format("argument '{}' of tool '{}'", arg.name, cmd.name);
  std::string names = arg.cli.names.empty() ? arg.cli.keyValue : arg.cli.names;
  std::string first = names.substr(0, names.find(','));
  if (first.starts_with("-")) return first;
  std::string upper = first;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::vector<std::string> allowedValues(const Arg& arg, const runtime::Vocabulary& vocabulary) {
  const auto& e = arg.enumSpec;
  auto of = [](const std::set<std::string>& s) { return std::vector<std::string>(s.begin(), s.end()); };
  switch (e.source) {
    case EnumSource::None: return {};
    case EnumSource::Fixed: return e.values;
    case EnumSource::EntityKinds: return of(vocabulary.entityKinds());
    case EnumSource::NoteKinds: return of(vocabulary.noteKinds());
    case EnumSource::Relations: return of(vocabulary.relations());
    case EnumSource::NodeKinds: {
      std::set<std::string> all = vocabulary.entityKinds();
      all.insert(vocabulary.noteKinds().begin(), vocabulary.noteKinds().end());
      return of(all);
    }
  }
  return {};
}

Json parseArguments(const Command& cmd, const Json& args, const runtime::Vocabulary& vocabulary, Naming naming,
                    Surface surface) {
  if (!args.is_object())
    throw ArgumentError(Problem::Type, "", fmt::format("the arguments of '{}' must be a JSON object", cmd.name),
                        Json{{"problem", "type"}, {"expected", "an object"}});
  std::vector<const Arg*> declared;
  for (const auto& a : cmd.args)
    if (on(a.surfaces, surface)) declared.push_back(&a);
  auto find = [&](const std::string& name) -> const Arg* {
    for (const Arg* a : declared)
      if (a->name == name) return a;
    return nullptr;
  };
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (find(it.key())) continue;
    std::vector<std::string> allowed;
    for (const Arg* a : declared) allowed.push_back(a->name);
    std::sort(allowed.begin(), allowed.end());
    std::string list =
        allowed.empty() ? "it takes no arguments" : fmt::format("its arguments are {}", fmt::join(allowed, ", "));
    std::string message = naming == Naming::Json
                              ? fmt::format("unknown argument '{}' for tool '{}': {}; nothing was done", it.key(), cmd.name, list)
                              : fmt::format("{} has no argument '{}'", fmt::join(cmd.cliPath, " "), it.key());
    throw ArgumentError(Problem::Unknown, it.key(), std::move(message),
                        Json{{"argument", it.key()}, {"problem", "unknown"}, {"allowed", allowed}});
  }

  Json out = Json::object();
  for (const Arg* a : declared) {
    const std::string label = argumentLabel(cmd, *a, naming);
    const bool given = args.contains(a->name);
    if (!given) {
      if (a->required)
        throw ArgumentError(Problem::Required, a->name,
                            naming == Naming::Json ? fmt::format("'{}' is required by tool '{}'", a->name, cmd.name)
                                                   : fmt::format("{} is required", label),
                            Json{{"argument", a->name}, {"problem", "required"}});
      if (!a->defaultValue.is_null()) out[a->name] = a->defaultValue;
      continue;
    }
    const Json& v = args[a->name];
    if (!hasType(v, a->type)) {
      std::string got(jsonTypeName(v));
      if (v.is_array() && isList(a->type))
        for (const auto& item : v)
          if (!item.is_string()) got = fmt::format("an array holding {}", jsonTypeName(item));
      std::string hint = v.is_null() ? " (leave an optional argument out instead of null)" : "";
      throw ArgumentError(Problem::Type, a->name,
                          fmt::format("{} must be {}, not {}{}{}", label, expectedType(a->type), got, hint,
                                      naming == Naming::Json ? "; nothing was done" : ""),
                          Json{{"argument", a->name}, {"problem", "type"}, {"expected", expectedType(a->type)}});
    }
    Json value = v;
    if (a->enumSpec.source != EnumSource::None && !a->checkedByVerb) {
      if (value.is_string()) value = checkEnumValue(cmd, *a, value.get<std::string>(), vocabulary, naming);
      if (value.is_array())
        for (auto& item : value) item = checkEnumValue(cmd, *a, item.get<std::string>(), vocabulary, naming);
    }
    if (a->required && isList(a->type) && value.empty())
      throw ArgumentError(Problem::Required, a->name,
                          naming == Naming::Json
                              ? fmt::format("'{}' is required by tool '{}': give at least one value", a->name, cmd.name)
                              : fmt::format("{} is required: give at least one value", label),
                          Json{{"argument", a->name}, {"problem", "required"}});
    if (value.is_number() && (a->minimum || a->maximum) && !a->checkedByVerb) {
      const double d = value.get<double>();
      const bool low = a->minimum && d < *a->minimum, high = a->maximum && d > *a->maximum;
      if (low || high) {
        std::string bounds = a->minimum && a->maximum
                                 ? fmt::format("outside [{}, {}]", number(*a->minimum), number(*a->maximum))
                                 : low ? fmt::format("below the minimum {}", number(*a->minimum))
                                       : fmt::format("above the maximum {}", number(*a->maximum));
        std::string shownValue = value.is_number_float() ? number(d) : value.dump();
        throw ArgumentError(Problem::Range, a->name, fmt::format("{} is {}, {}", label, shownValue, bounds),
                            Json{{"argument", a->name}, {"problem", "range"}, {"minimum", a->minimum ? Json(*a->minimum) : Json()},
                                 {"maximum", a->maximum ? Json(*a->maximum) : Json()}});
      }
    }
    out[a->name] = std::move(value);
  }
  return out;
}

Json valueFromText(const Command& cmd, const Arg& arg, const std::string& t, Naming naming) {
  auto refuse = [&](const std::string& what) -> Json {
    throw ArgumentError(Problem::Type, arg.name,
                        fmt::format("{} must be {}, not {}", argumentLabel(cmd, arg, naming), what, shown(Json(t), naming)),
                        Json{{"argument", arg.name}, {"problem", "type"}, {"expected", what}});
  };
  switch (arg.type) {
    case ArgType::Integer: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return refuse("an integer");
      return v;
    }
    case ArgType::Number: {
      char* end = nullptr;
      const double v = std::strtod(t.c_str(), &end);
      if (t.empty() || std::isspace(static_cast<unsigned char>(t[0])) || end != t.c_str() + t.size() || !std::isfinite(v))
        return refuse("a number");
      return v;
    }
    case ArgType::Boolean:
      if (t == "true") return true;
      if (t == "false") return false;
      return refuse("true or false");
    case ArgType::Object: return refuse("a JSON object");
    case ArgType::String:
    case ArgType::Id:
    case ArgType::StringList:
    case ArgType::IdList: break;
  }
  return t;
}

const Command* matchRoute(std::string_view method, std::string_view path, Json& pathArgs) {
  auto split = [](std::string_view p) {
    std::vector<std::string_view> parts;
    while (!p.empty()) {
      const auto slash = p.find('/');
      if (slash != 0) parts.push_back(p.substr(0, slash));
      if (slash == std::string_view::npos) break;
      p.remove_prefix(slash + 1);
    }
    return parts;
  };
  // The templates split once: matching runs on every HTTP request.
  static const auto routes = [&] {
    std::vector<std::pair<const Command*, std::vector<std::string_view>>> out;
    for (const auto& cmd : commandTable())
      if (cmd.http && cmd.handler && on(cmd.surfaces, kHttp)) out.emplace_back(&cmd, split(cmd.http->path));
    return out;
  }();
  const auto given = split(path);
  for (const auto& [command, tmpl] : routes) {
    const Command& cmd = *command;
    if (cmd.http->method != method || tmpl.size() != given.size()) continue;
    Json params = Json::object();
    bool match = true;
    for (std::size_t i = 0; i < tmpl.size() && match; ++i) {
      if (tmpl[i].starts_with("{") && tmpl[i].ends_with("}")) params[std::string(tmpl[i].substr(1, tmpl[i].size() - 2))] = std::string(given[i]);
      else match = tmpl[i] == given[i];
    }
    if (!match) continue;
    pathArgs = std::move(params);
    return &cmd;
  }
  return nullptr;
}

Json inputSchema(const Command& cmd, const runtime::Vocabulary& vocabulary, Surface surface) {
  Json properties = Json::object();
  std::vector<std::string> required;
  for (const auto& a : cmd.args) {
    if (!on(a.surfaces, surface)) continue;
    Json p{{"type", schemaType(a.type)}, {"description", a.help}};
    if (isList(a.type)) p["items"] = Json{{"type", "string"}};
    if (a.enumSpec.source != EnumSource::None) {
      Json& target = isList(a.type) ? p["items"] : p;
      target["enum"] = allowedValues(a, vocabulary);
      if (a.enumSpec.source != EnumSource::Fixed) target["x-khive-vocabulary"] = vocabularyName(a.enumSpec.source);
    }
    if (a.minimum) p["minimum"] = a.type == ArgType::Integer ? Json(static_cast<std::int64_t>(*a.minimum)) : Json(*a.minimum);
    if (a.maximum) p["maximum"] = a.type == ArgType::Integer ? Json(static_cast<std::int64_t>(*a.maximum)) : Json(*a.maximum);
    if (isList(a.type) && a.required) p["minItems"] = 1;
    if (!a.defaultValue.is_null()) p["default"] = a.defaultValue;
    if (a.required) required.push_back(a.name);
    properties[a.name] = std::move(p);
  }
  Json schema{{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

Json openApiDocument(const runtime::Vocabulary& vocabulary) {
  Json paths = Json::object();
  const Json errorSchema{
      {"type", "object"},
      {"required", Json::array({"error"})},
      {"properties",
       Json{{"error",
             Json{{"type", "object"},
                  {"required", Json::array({"code", "message"})},
                  {"properties",
                   Json{{"code", Json{{"type", "string"}, {"description", "khive error code, e.g. invalid_input"}}},
                        {"message", Json{{"type", "string"}}},
                        {"request_id", Json{{"type", "string"}, {"description", "also the X-Request-Id header"}}},
                        {"data",
                         Json{{"type", "object"},
                              {"description", "a refused argument: argument, problem, allowed or expected"}}}}}}}}}};
  const Json errorRef{{"$ref", "#/components/schemas/Error"}};
  auto errorResponse = [&](const char* d) {
    return Json{{"description", d}, {"content", Json{{"application/json", Json{{"schema", errorRef}}}}}};
  };
  for (const auto& cmd : commandTable()) {
    if (!cmd.http || !cmd.handler || !on(cmd.surfaces, kHttp)) continue;
    Json schema = inputSchema(cmd, vocabulary, kHttp);
    Json parameters = Json::array();
    const bool inQuery = cmd.http->method == "GET" || cmd.http->method == "DELETE";
    Json& props = schema["properties"];
    std::vector<std::string> inPath;
    for (auto it = props.begin(); it != props.end(); ++it)
      if (cmd.http->path.find("{" + it.key() + "}") != std::string::npos) inPath.push_back(it.key());
    const Json required = schema.value("required", Json::array());
    auto isRequired = [&](const std::string& n) { return std::find(required.begin(), required.end(), n) != required.end(); };
    for (const auto& n : inPath)
      parameters.push_back(Json{{"name", n}, {"in", "path"}, {"required", true}, {"schema", props[n]}});
    if (inQuery) {
      for (auto it = props.begin(); it != props.end(); ++it)
        if (std::find(inPath.begin(), inPath.end(), it.key()) == inPath.end())
          parameters.push_back(Json{{"name", it.key()}, {"in", "query"}, {"required", isRequired(it.key())}, {"schema", it.value()}});
    }
    Json op{{"operationId", cmd.name},
            {"summary", cmd.summary},
            {"x-khive-read-only", cmd.readOnly},
            {"parameters", parameters},
            {"responses",
             Json{{std::to_string(cmd.http->status),
                   Json{{"description", "The verb's result (the MCP tool's structuredContent)"},
                        {"content", Json{{"application/json", Json{{"schema", Json{{"type", "object"}}}}}}}}},
                  {"400", errorResponse("invalid_input, unsupported: an argument or the request is wrong")},
                  {"401", errorResponse("no bearer token, or an unknown, expired or revoked one")},
                  {"403", errorResponse("permission_denied: the caller has no grant for this write")},
                  {"404", errorResponse("not_found: no such record in the read scope")},
                  {"409", errorResponse("already_exists, conflict")},
                  {"413", errorResponse("the body is larger than the server accepts")},
                  {"429", errorResponse("pool: no database connection free in time; retry")},
                  {"503", errorResponse("transaction, serialization, index_maintenance, driver: the store failed")},
                  {"504", errorResponse("timeout: the request's time budget ran out")}}}};
    if (!cmd.details.empty()) op["description"] = cmd.details;
    if (!inQuery) {
      for (const auto& n : inPath) props.erase(n);
      if (schema.contains("required")) {
        Json kept = Json::array();
        for (const auto& r : schema["required"])
          if (std::find(inPath.begin(), inPath.end(), r.get<std::string>()) == inPath.end()) kept.push_back(r);
        if (kept.empty()) schema.erase("required");
        else schema["required"] = kept;
      }
      op["requestBody"] = Json{{"required", schema.contains("required")},
                               {"content", Json{{"application/json", Json{{"schema", schema}}}}}};
    }
    std::string method = cmd.http->method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[cmd.http->path][method] = std::move(op);
  }
  return Json{
      {"openapi", "3.1.0"},
      {"info", Json{{"title", "khive"},
                    {"version", "0.1.0"},
                    {"description", "The verbs of khive over JSON; every call runs under the bearer token's grants."}}},
      {"security", Json::array({Json{{"bearer", Json::array()}}})},
      {"paths", paths},
      {"components", Json{{"securitySchemes", Json{{"bearer", Json{{"type", "http"}, {"scheme", "bearer"}}}}},
                          {"schemas", Json{{"Error", errorSchema}}}}}};
}

Json callCommand(runtime::Runtime& rt, std::string_view name, const Json& args, const CallContext& ctx, Surface surface) {
  const Command* cmd = findCommand(name);
  if (!cmd || !cmd->handler || !on(cmd->surfaces, surface))
    throw Error(ErrorCode::NotFound, "commands", "call", fmt::format("unknown command '{}'", name));
  return cmd->handler(rt, parseArguments(*cmd, args, rt.vocabulary(), Naming::Json, surface), ctx);
}

}  // namespace khive::commands
