#include "khive/cli/cli.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <deque>
#include <map>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "khive/commands/command_table.h"
#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/config.h"
#include "khive/runtime/diagnostics.h"
#include "khive/runtime/tokens.h"
#include "khive/runtime/transfer.h"
#include "khive/storage/record_checks.h"

namespace khive::cli {
namespace {

using runtime::Runtime;

struct Globals {
  std::optional<std::string> config;
  std::optional<std::string> db;
  std::optional<std::string> backendUrl;
  std::optional<std::string> ns;
  bool json = false;
  std::optional<std::int64_t> timeoutMs;  // --timeout-ms: the read time budget ([limits] time_budget_ms)
};

// ---- output ----------------------------------------------------------------------------

bool jsonOut(const Globals& g) { return g.json || !::isatty(STDOUT_FILENO); }

std::string cell(const Json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) out += fmt::format("{:<{}}", r[i], i + 1 < r.size() ? w[i] + 2 : 0);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    fmt::print("{}\n", out);
  };
  line(header);
  std::vector<std::string> rule;
  for (auto n : w) rule.push_back(std::string(n, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

void printRecord(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (auto it = j.begin(); it != j.end(); ++it) rows.push_back({it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump()});
  table({"field", "value"}, rows);
}

void emit(const Globals& g, const Json& j, const std::function<void()>& human) {
  if (jsonOut(g)) fmt::print("{}\n", j.dump());
  else human();
}

// ---- runtime ---------------------------------------------------------------------------

struct Opened {
  runtime::Config config;
  std::string where;  // what was opened, for messages
};

runtime::Config loadConfig(const Globals& g) {
  runtime::Config config;
  if (auto path = runtime::findConfigFile(g.config)) config = runtime::loadConfigFile(*path);
  if (g.timeoutMs) config.limits.timeBudget = std::chrono::milliseconds(*g.timeoutMs);
  return config;
}

std::unique_ptr<Runtime> openRuntime(const Globals& g, runtime::Config config, bool mayCreate) {
  runtime::Vocabulary vocab(config.vocabulary);
  std::vector<std::string> grantNs = config.actor.visibleNamespaces;
  grantNs.push_back(g.ns.value_or(config.actor.ns));
  if (config.actor.visibleNamespaces.empty()) grantNs.push_back(config.actor.ns);
  const auto& sym = vocab.extraSymmetricRelations();
  std::unique_ptr<storage::Backend> backend;
  auto checkFile = [&](const std::string& path) {
    if (!mayCreate && path != ":memory:" && !std::filesystem::exists(path))
      throw Error(ErrorCode::NotFound, "cli", "open",
                  fmt::format("no database at {} (create it with `khive --db {} init`)", path, path));
  };
  if (g.db && g.backendUrl) throw Error(ErrorCode::InvalidInput, "cli", "open", "give --db or --backend, not both");
  if (g.db) {
    checkFile(*g.db);
    backend = runtime::openSqliteFile(*g.db, sym);
  } else if (g.backendUrl) {
    if (g.backendUrl->starts_with("sqlite:") && *g.backendUrl != "sqlite::memory:")
      checkFile(g.backendUrl->substr(g.backendUrl->starts_with("sqlite://") ? 9 : 7));
    backend = runtime::openBackendUrl(*g.backendUrl, grantNs, sym);
  } else if (!config.backends.empty()) {
    if (config.backends[0].kind == "sqlite") checkFile(config.backends[0].path);
    backend = runtime::openConfigured(config.backends[0], grantNs, sym);
  } else {
    backend = runtime::openSqliteFile(runtime::defaultDatabasePath().string(), sym);  // the embedded default
  }
  return std::make_unique<Runtime>(std::move(backend), runtime::RuntimeOptions{config, g.ns, std::nullopt});
}

// JSON given on the command line nesting deeper than any record may hold is refused before it
// is parsed (a parsed value is copied recursively).
void checkJsonArgDepth(const std::string& what, const std::string& text) {
  if (storage::jsonTextDepth(text) > storage::kMaxJsonDepth)
    throw Error(ErrorCode::InvalidInput, "cli", "args",
                fmt::format("{} nests deeper than {} levels of objects and arrays", what, storage::kMaxJsonDepth));
}

Json parseJsonArg(const std::string& what, const std::string& text) {
  checkJsonArgDepth(what, text);
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(ErrorCode::InvalidInput, "cli", "args", fmt::format("{} must be a JSON object, e.g. '{{\"year\": 2021}}'", what));
  return j;
}

// key=value pairs; the value is JSON when it parses as JSON, a string otherwise.
Json parseProps(std::string_view option, const std::vector<std::string>& kvs, Json base = Json::object()) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::InvalidInput, "cli", "args", fmt::format("{} '{}' must be key=value", option, kv));
    checkJsonArgDepth(fmt::format("{} {}", option, kv.substr(0, eq)), kv.substr(eq + 1));
    auto v = Json::parse(kv.substr(eq + 1), nullptr, false);
    base[kv.substr(0, eq)] = v.is_discarded() ? Json(kv.substr(eq + 1)) : v;
  }
  return base;
}

class Progress {
 public:
  Progress(std::string what, std::int64_t totalBytes) : what_(std::move(what)), total_(totalBytes), tty_(::isatty(STDERR_FILENO)) {}
  void operator()(const runtime::TransferProgress& p, std::int64_t totalRecords) {
    if (!tty_) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string pct = totalRecords > 0 ? fmt::format(" {:5.1f}% ({} of {})", 100.0 * static_cast<double>(p.records) / static_cast<double>(totalRecords), p.records, totalRecords) : "";
    fmt::print(stderr, "\r{}{} records ({:.0f}/s){}   ", what_, pct, secs > 0 ? static_cast<double>(p.records) / secs : 0.0,
               p.stage.empty() ? "" : ", " + p.stage);
    std::fflush(stderr);
    shown_ = true;
  }
  void operator()(const runtime::TransferProgress& p) {
    if (!tty_) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string pct = total_ > 0 ? fmt::format(" {:5.1f}%", 100.0 * static_cast<double>(p.bytes) / static_cast<double>(total_)) : "";
    fmt::print(stderr, "\r{}{} {} records ({:.0f}/s){}   ", what_, pct, p.records,
               secs > 0 ? static_cast<double>(p.records) / secs : 0.0, p.stage.empty() ? "" : ", " + p.stage);
    std::fflush(stderr);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) fmt::print(stderr, "\n");
  }

 private:
  std::string what_;
  std::int64_t total_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// An import reports the lines it read and the records it wrote (inserted or updated) per type;
// an export the lines it wrote, one record each.
void printSummary(const Globals& g, const runtime::TransferSummary& s, bool import) {
  const double rate = s.seconds > 0 ? static_cast<double>(s.records()) / s.seconds : 0.0;
  Json counts{{"entities", s.entities}, {"notes", s.notes}, {"edges", s.edges}, {"events", s.events}};
  Json j;
  if (import) {
    counts["text_documents"] = s.textDocuments;
    j = Json{
        {"lines_read", s.lines}, {"written", counts}, {"skipped", Json{{"events_already_present", s.skippedEvents}}}};
  } else {
    j = Json{{"lines_written", s.lines}, {"exported", counts}};
  }
  j["seconds"] = s.seconds;
  j["records_per_second"] = rate;
  if (jsonOut(g)) fmt::print("{}\n", j.dump());
  else if (import)
    fmt::print(stderr,
               "read {} lines; wrote {} entities, {} notes, {} edges, {} events; skipped {} events already present; "
               "{:.1f}s ({:.0f} records/s)\n",
               s.lines, s.entities, s.notes, s.edges, s.events, s.skippedEvents, s.seconds, rate);
  else
    fmt::print(stderr, "exported {} lines: {} entities, {} notes, {} edges, {} events; {:.1f}s ({:.0f} records/s)\n",
               s.lines, s.entities, s.notes, s.edges, s.events, s.seconds, rate);
}

// A repeatable option whose every occurrence is one value, taken as given: "[a,b]" is one
// value, not the list a, b, and "[]" is not an empty list.
CLI::Option* literal(CLI::Option* o) {
  return o->allow_extra_args(false);
}

// `khive [global options] search ... -- WORDS` (any command with a `words` argument): the words
// after the first `--` are text as typed (they may start with '-'). Removes them and the `--`
// from `args` and returns them; leaves other commands' arguments alone.
std::vector<std::string> takeSearchTail(std::vector<char*>& args, const std::string& command) {
  std::size_t i = 1;
  while (i < args.size()) {
    std::string_view a = args[i];
    if (a == "--config" || a == "--db" || a == "--backend" || a == "--namespace")
      i += 2;
    else if (a.starts_with("-") && a != "--")
      ++i;
    else
      break;
  }
  if (command.empty() || i >= args.size() || std::string_view(args[i]) != command) return {};
  auto mark = std::find_if(args.begin() + static_cast<std::ptrdiff_t>(i), args.end(),
                           [](const char* a) { return std::string_view(a) == "--"; });
  if (mark == args.end()) return {};
  std::vector<std::string> tail(mark + 1, args.end());
  args.erase(mark, args.end());
  return tail;
}

// The search text: the words before `--` (any option-like one is an unknown option) and the
// words after it, as typed.
std::string searchText(const std::optional<std::string>& first, const std::vector<std::string>& rest,
                       const std::vector<std::string>& tail) {
  std::string text = first.value_or("");
  for (const auto& w : rest) {
    if (w.size() > 1 && w[0] == '-')
      throw Error(
          ErrorCode::InvalidInput, "cli", "args",
          fmt::format("search has no option {} (text starting with '-' goes after --: khive search -- {})", w, w));
    text += " " + w;
  }
  for (const auto& w : tail) text += (text.empty() ? "" : " ") + w;
  if (!first && tail.empty())
    throw Error(ErrorCode::InvalidInput, "cli", "args",
                "search needs text: khive search WORDS (or khive search -- WORDS)");
  return text;
}

// A walk's node; one outside the read scope has no kind.
std::string recordName(const Json& n) {
  return n.value("kind", std::string()).empty() ? "(out of scope)" : n.value("name", std::string());
}

// --timeout-ms on the commands that read with a budget.
void addTimeoutOption(CLI::App* cmd, Globals& g) {
  cmd->add_option("--timeout-ms", g.timeoutMs,
                  "Time budget of each read statement in ms (default: [limits] time_budget_ms, 30000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));
}

// ---- commands generated from the command table ------------------------------------------

using commands::Arg;
using commands::ArgType;
using commands::Command;

// One argument's command-line storage: CLI11 writes into it while parsing.
struct BoundArg {
  const Arg* arg = nullptr;
  CLI::Option* option = nullptr;    // the main spelling (cli.names)
  CLI::Option* keyValue = nullptr;  // Object: the key=value spelling (cli.keyValue)
  std::string text;
  std::vector<std::string> list;    // list values, or key=value pairs
  bool flag = false;
};

struct BoundCommand {
  const Command* cmd = nullptr;
  CLI::App* app = nullptr;
  std::deque<BoundArg> args;  // stable addresses: CLI11 holds pointers into them
};

// Help of an argument on the command line: its help, then enum values, bounds and default.
std::string cliHelp(const Arg& a) {
  std::vector<std::string> notes;
  if (a.enumSpec.source == commands::EnumSource::Fixed) notes.push_back(fmt::format("{}", fmt::join(a.enumSpec.values, ", ")));
  auto num = [](double v) { return fmt::format("{}", static_cast<std::int64_t>(v)); };
  if (a.type == ArgType::Integer && a.minimum && a.maximum) notes.push_back(num(*a.minimum) + ".." + num(*a.maximum));
  if (a.type == ArgType::Number && a.minimum && a.maximum) notes.push_back(fmt::format("in [{:g}, {:g}]", *a.minimum, *a.maximum));
  if (a.type == ArgType::Number && a.minimum && !a.maximum) notes.push_back(fmt::format(">= {:g}", *a.minimum));
  if (a.type == ArgType::StringList || a.type == ArgType::IdList) notes.push_back(a.cli.names.starts_with("-") ? "repeatable" : "one or more");
  if (a.required && a.cli.names.starts_with("-")) notes.push_back("required");
  if (!a.defaultValue.is_null() && !a.cli.negated)
    notes.push_back("default " + (a.defaultValue.is_string() ? a.defaultValue.get<std::string>() : a.defaultValue.dump()));
  std::string help = a.cli.negated ? "Do not: " + a.help : a.help;
  return notes.empty() ? help : fmt::format("{} ({})", help, fmt::join(notes, "; "));
}

// What an argument's value looks like in help: "INT", "ID", "JSON", ...; "(required)" for a
// positional the table requires.
std::string typeName(const Arg& a) {
  std::string t = a.type == ArgType::Integer                               ? "INT"
                  : a.type == ArgType::Number                              ? "NUMBER"
                  : a.type == ArgType::Object                              ? "JSON"
                  : a.type == ArgType::Id || a.type == ArgType::IdList     ? "ID"
                                                                           : "TEXT";
  return a.required && !a.cli.names.starts_with("-") ? t + " (required)" : t;
}

// Declares a command's arguments on its CLI11 subcommand.
void bindArguments(BoundCommand& bc) {
  for (const auto& a : bc.cmd->args) {
    if (!(a.surfaces & commands::kCli)) continue;
    BoundArg& b = bc.args.emplace_back();
    b.arg = &a;
    const std::string help = cliHelp(a);
    if (a.type == ArgType::Boolean) {
      b.option = bc.app->add_flag(a.cli.names, b.flag, help);
    } else if (a.type == ArgType::StringList || a.type == ArgType::IdList) {
      b.option = bc.app->add_option(a.cli.names, b.list, help);
      if (a.cli.onePerFlag) literal(b.option);
    } else if (!a.cli.names.empty()) {
      b.option = bc.app->add_option(a.cli.names, b.text, help);
      // The words of the text arrive as given: the first through the option, the rest as the
      // subcommand's extras (a list option would read "[a,b]" as two words and "[]" as none).
      if (a.cli.words) bc.app->allow_extras();
    }
    if (b.option && a.type != ArgType::Boolean) b.option->type_name(typeName(a));
    if (!a.cli.keyValue.empty())
      b.keyValue = bc.app->add_option(a.cli.keyValue, b.list,
                                      fmt::format("A {} key=value (repeatable; the value is parsed as JSON when it is JSON)",
                                                  a.type == ArgType::Object && a.name == "parameters" ? "$parameter" : "property"))
                        ->allow_extra_args(false);  // one key=value per flag: the words after it stay positionals
  }
}

// The arguments as given on the command line, as the JSON object the table checks.
Json givenArguments(const BoundCommand& bc, const std::vector<std::string>& tail) {
  Json args = Json::object();
  for (const auto& b : bc.args) {
    const Arg& a = *b.arg;
    const bool given = b.option && b.option->count() > 0;
    const bool pairs = b.keyValue && b.keyValue->count() > 0;
    if (a.cli.words) {
      args[a.name] = searchText(given ? std::optional(b.text) : std::nullopt, bc.app->remaining(), tail);
      continue;
    }
    if (!given && !pairs) continue;
    const std::string label = commands::argumentLabel(*bc.cmd, a, commands::Naming::Cli);
    switch (a.type) {
      case ArgType::Boolean: args[a.name] = !a.cli.negated; break;
      case ArgType::Integer:
      case ArgType::Number: args[a.name] = commands::valueFromText(*bc.cmd, a, b.text, commands::Naming::Cli); break;
      case ArgType::StringList:
      case ArgType::IdList: args[a.name] = b.list; break;
      case ArgType::Object: {
        Json base = given && !b.text.empty() ? parseJsonArg(label, b.text) : Json::object();
        args[a.name] = parseProps(a.cli.keyValue, pairs ? b.list : std::vector<std::string>{}, std::move(base));
        break;
      }
      case ArgType::String:
      case ArgType::Id: args[a.name] = b.text; break;
    }
  }
  return args;
}

// ---- presenting results --------------------------------------------------------------

// How the command line shows one command's result: JSON (--json, or stdout not a terminal) or
// a human rendering. Commands without a view print the JSON, or a field/value table.
using Present = std::function<void(const Globals& g, const Json& args, Json& result)>;

void printDoctor(const Json& j, const std::optional<std::filesystem::path>& cfg) {
  auto str = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string schemaNote = j["schema_note"].is_string() ? "; " + str(j["schema_note"]) : "";
  fmt::print("khive {}\nbackend: {} {} at {}\nschema: v{} (this build: v{}{})\nconfig: {}\nactor: {} (writes to '{}', reads {})\n",
             str(j["khive_version"]), str(j["engine"]), str(j["engine_version"]), str(j["location"]), str(j["schema_version"]),
             str(j["expected_schema_version"]), schemaNote, cfg ? cfg->string() : "none (defaults)", str(j["actor"]), str(j["write_namespace"]),
             fmt::join(j["read_namespaces"].get<std::vector<std::string>>(), ", "));
  fmt::print("capabilities:\n");
  for (auto it = j["capabilities"].begin(); it != j["capabilities"].end(); ++it) {
    std::string detail = it.value()["detail"].get<std::string>();
    fmt::print("  {:<9} {}{}\n", it.key(), it.value()["supported"].get<bool>() ? "ok" : "unavailable", detail.empty() ? "" : " - " + detail);
  }
  fmt::print("extensions:\n");
  for (auto it = j["extensions"].begin(); it != j["extensions"].end(); ++it) {
    const Json& e = it.value();
    fmt::print("  {:<9} {}{}{}\n", it.key(), e["present"].get<bool>() ? "present" : "missing",
               e.contains("version") ? " " + str(e["version"]) : "", e.contains("hint") ? " - " + str(e["hint"]) : "");
  }
  const Json& ix = j["index"];
  fmt::print("index: {} live records ({} entities, {} notes)\n", str(ix["live_records"]), str(ix["entities"]), str(ix["notes"]));
  // What the index still holds for soft-deleted records, when it holds anything.
  auto ofDeleted = [&](const Json& o) {
    auto n = o.value("deleted_records", std::int64_t{0});
    return n > 0 ? fmt::format("; {} more of deleted records", n) : std::string();
  };
  if (ix.contains("text"))
    fmt::print("  text: {} documents ({}{})\n", str(ix["text"]["documents"]),
               ix["text"]["in_sync"].get<bool>() ? "in sync" : "stale", ofDeleted(ix["text"]));
  for (const auto& v : ix["vectors"])
    fmt::print("  vectors '{}': {} x {} dims, index {}{}\n", str(v["model"]), str(v["count"]), str(v["dimensions"]), str(v["index"]),
               v["index_stale"].get<bool>() ? " (stale: rebuilt on next search)" : "");
  if (j["engines"].empty()) fmt::print("embedding engines: none configured (search is text-only)\n");
  else fmt::print("embedding engines:\n");
  for (const auto& e : j["engines"]) {
    std::string state = !e.contains("ok") ? "not probed"
                        : e["ok"].get<bool>() ? fmt::format("ok, {} dimensions", str(e["dimensions"]))
                                              : "FAILED: " + str(e["error"]);
    fmt::print("  {}{} {} - {}\n", str(e["name"]), e["default"].get<bool>() ? " (default)" : "", str(e["target"]), state);
    if (e.contains("vectors"))
      fmt::print("    vectors for {} live records, {} missing{}\n", str(e["vectors"]), str(e["missing"]), ofDeleted(e));
  }
  for (const auto& p : j["problems"]) fmt::print("problem: {}\n", str(p));
}

void printList(const std::string& type, const Json& res) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : res["items"]) {
    if (type == "entity") rows.push_back({cell(j["id"]), cell(j["kind"]), cell(j["name"]), cell(j["description"])});
    else if (type == "note") rows.push_back({cell(j["id"]), cell(j["kind"]), cell(j["status"]), cell(j["content"])});
    else if (type == "edge") rows.push_back({cell(j["id"]), cell(j["source_id"]), cell(j["relation"]), cell(j["target_id"]), cell(j["weight"])});
    else rows.push_back({cell(j["id"]), cell(j["verb"]), cell(j["outcome"]), cell(j["actor"]), cell(j["target_id"])});
  }
  if (type == "entity") table({"id", "kind", "name", "description"}, rows);
  else if (type == "note") table({"id", "kind", "status", "content"}, rows);
  else if (type == "edge") table({"id", "source", "relation", "target", "weight"}, rows);
  else table({"id", "verb", "outcome", "actor", "target"}, rows);
  if (!res["next_offset"].is_null()) fmt::print("(more: --offset {})\n", res["next_offset"].dump());
}

const std::map<std::string, Present, std::less<>>& views() {
  static const std::map<std::string, Present, std::less<>> v = {
      {"init", [](const Globals& g, const Json&, Json& s) {
         emit(g, s, [&] { fmt::print("khive database ready: {} {} at {} (schema v{})\n", s["engine"].get<std::string>(),
                                     s["engine_version"].get<std::string>(), s["location"].get<std::string>(), s["schema_version"].dump()); });
       }},
      {"create_entity", [](const Globals& g, const Json&, Json& e) {
         emit(g, e, [&] { fmt::print("created entity {} ({} '{}')\n", e["id"].get<std::string>(), e["kind"].get<std::string>(), e["name"].get<std::string>()); });
       }},
      {"create_note", [](const Globals& g, const Json&, Json& n) {
         emit(g, n, [&] { fmt::print("created note {} ({})\n", n["id"].get<std::string>(), n["kind"].get<std::string>()); });
       }},
      {"delete", [](const Globals& g, const Json& a, Json& r) {
         emit(g, r, [&] { fmt::print("{} {} {}\n", a["hard"].get<bool>() ? "hard-deleted" : "deleted", r["type"].get<std::string>(), r["id"].get<std::string>()); });
       }},
      {"merge", [](const Globals& g, const Json&, Json& e) {
         emit(g, e, [&] { fmt::print("merged into {} ('{}')\n", e["id"].get<std::string>(), e["name"].get<std::string>()); });
       }},
      {"link", [](const Globals& g, const Json&, Json& e) {
         emit(g, e, [&] { fmt::print("linked {} -{}-> {} (edge {})\n", e["source_id"].get<std::string>(), e["relation"].get<std::string>(),
                                     e["target_id"].get<std::string>(), e["id"].get<std::string>()); });
       }},
      {"list", [](const Globals& g, const Json& a, Json& r) { emit(g, r, [&] { printList(a["type"].get<std::string>(), r); }); }},
      {"neighbors", [](const Globals& g, const Json&, Json& r) {
         emit(g, r, [&] {
           std::vector<std::vector<std::string>> t;
           for (const auto& n : r["neighbors"])
             t.push_back({n["direction"] == "out" ? "->" : "<-", cell(n["relation"]), cell(n["id"]), cell(n["kind"]), recordName(n),
                          fmt::format("{:g}", n["weight"].get<double>())});
           table({"dir", "relation", "id", "kind", "name", "weight"}, t);
         });
       }},
      {"traverse", [](const Globals& g, const Json& a, Json& r) {
         emit(g, r, [&] {
           for (const auto& p : r["paths"]) {
             for (const auto& n : p["nodes"])
               fmt::print("{}{} [{}] {}\n", std::string(static_cast<std::size_t>(2 * n["depth"].get<int>()), ' '), recordName(n),
                          n["kind"].get<std::string>(), n["id"].get<std::string>());
             if (p["truncated"].get<bool>()) fmt::print("(truncated at {} nodes: raise --limit)\n", a["limit"].dump());
           }
         });
       }},
      // On the command line no path is a failure (exit 1), as a missing record is.
      {"path", [](const Globals& g, const Json& a, Json& p) {
         if (!p["found"].get<bool>())
           throw Error(ErrorCode::NotFound, "cli", "path", fmt::format("no path within {} hops", a["depth"].dump()));
         p.erase("found");
         emit(g, p, [&] {
           const Json& nodes = p["nodes"];
           for (std::size_t i = 0; i < nodes.size(); ++i) {
             fmt::print("{} [{}] {}\n", recordName(nodes[i]), nodes[i]["kind"].get<std::string>(), nodes[i]["id"].get<std::string>());
             if (i < p["edges"].size()) fmt::print("  -{}->\n", p["edges"][i]["relation"].get<std::string>());
           }
         });
       }},
      {"search", [](const Globals& g, const Json&, Json& res) {
         if (res["notice"].is_string()) fmt::print(stderr, "khive: note: {}\n", res["notice"].get<std::string>());
         emit(g, res, [&] {
           std::vector<std::vector<std::string>> t;
           for (const auto& h : res["hits"])
             t.push_back({h["rank"].dump(), fmt::format("{:.3f}", h["score"].get<double>()), cell(h["id"]), cell(h["kind"]), cell(h["name"]),
                          cell(h["snippet"])});
           table({"rank", "score", "id", "kind", "name", "snippet"}, t);
         });
       }},
      {"query", [](const Globals& g, const Json&, Json& res) {
         emit(g, res, [&] {
           if (res.contains("explain")) {
             const Json& x = res["explain"];
             fmt::print("{}\n", x["sql"].get<std::string>());
             for (std::size_t i = 0; i < x["parameters"].size(); ++i) fmt::print("  ?{} = {}\n", i + 1, x["parameters"][i].dump());
             for (const auto& line : x["plan"]) fmt::print("{}\n", line.is_string() ? line.get<std::string>() : line.dump());
             return;
           }
           std::vector<std::vector<std::string>> t;
           for (const auto& r : res["rows"]) {
             std::vector<std::string> row;
             for (const auto& v : r) row.push_back(cell(v));
             t.push_back(row);
           }
           table(res["columns"].get<std::vector<std::string>>(), t);
           const std::size_t n = res["rows"].size();
           fmt::print("({} row{}{})\n", n, n == 1 ? "" : "s", res["truncated"].get<bool>() ? ", truncated: raise --cap" : "");
         });
       }},
      {"stats", [](const Globals& g, const Json&, Json& s) {
         emit(g, s, [&] {
           auto n = [&](const char* k) { return s[k].dump(); };
           table({"field", "value"}, {{"backend", fmt::format("{} {}", s["engine"].get<std::string>(), s["engine_version"].get<std::string>())},
                                      {"location", s["location"].get<std::string>()},
                                      {"schema", n("schema_version")},
                                      {"namespaces", fmt::format("{}", fmt::join(s["namespaces"].get<std::vector<std::string>>(), ", "))},
                                      {"entities", n("entities")},
                                      {"notes", n("notes")},
                                      {"edges", n("edges")},
                                      {"events", n("events")},
                                      {"text documents", n("text_documents")}});
         });
       }},
      {"reindex", [](const Globals& g, const Json&, Json& s) {
         emit(g, s, [&] {
           const auto skipped = s["skipped"].get<std::int64_t>();
           fmt::print("reindexed {} entities and {} notes with engine '{}' ({} dimensions) in {:.1f}s{}\n", s["entities"].dump(),
                      s["notes"].dump(), s["engine"].get<std::string>(), s["dimensions"].dump(), s["seconds"].get<double>(),
                      skipped ? fmt::format(" ({} skipped: zero vector)", skipped) : "");
         });
       }},
      {"doctor", [](const Globals& g, const Json&, Json& j) {
         auto cfg = runtime::findConfigFile(g.config);
         j["config"] = cfg ? Json(cfg->string()) : Json(nullptr);
         emit(g, j, [&] { printDoctor(j, cfg); });
       }},
  };
  return v;
}

// ---- the CLI-only commands: the command line runs them itself ---------------------------

using Runner = std::function<int(const Globals& g, Runtime& rt, const Json& args)>;

int runImport(const Globals& g, Runtime& rt, const Json& a) {
  const std::string importSrc = a["source"].get<std::string>();
  const std::size_t batch = a["batch"].get<std::size_t>();
  runtime::TransferSummary s;
  if (a["format"] == "wordnet") {
    std::string dirPath = importSrc == "-" ? "/usr/share/wordnet" : importSrc;
    std::int64_t total = 0;
    for (const char* f : {"data.noun", "data.verb", "data.adj", "data.adv"}) {
      std::error_code ec;
      total += static_cast<std::int64_t>(std::filesystem::file_size(std::filesystem::path(dirPath) / f, ec));
    }
    Progress progress("wordnet", total);
    s = runtime::importWordnet(rt, dirPath, {.batchSize = batch, .progress = std::ref(progress)});
  } else if (importSrc == "-") {
    struct stat in {};
    if (::fstat(STDIN_FILENO, &in) == 0 && S_ISDIR(in.st_mode))
      throw Error(ErrorCode::InvalidInput, "cli", "import",
                  "standard input is a directory; import reads JSONL from a file or a pipe");
    Progress progress("import", 0);
    s = runtime::importJsonl(rt, std::cin, {.batchSize = batch, .progress = std::ref(progress)});
  } else {
    std::error_code sec;
    if (std::filesystem::is_directory(importSrc, sec))
      throw Error(ErrorCode::InvalidInput, "cli", "import",
                  fmt::format("{} is a directory; import reads a JSONL file, or '-' for stdin", importSrc));
    std::ifstream in(importSrc, std::ios::binary);
    if (!in)
      throw Error(ErrorCode::NotFound, "cli", "import",
                  fmt::format("cannot read {}: {}", importSrc, std::strerror(errno)));
    std::error_code ec;
    Progress progress("import", static_cast<std::int64_t>(std::filesystem::file_size(importSrc, ec)));
    s = runtime::importJsonl(rt, in, {.batchSize = batch, .progress = std::ref(progress)});
  }
  printSummary(g, s, true);
  return 0;
}

int runExport(const Globals& g, Runtime& rt, const Json& a) {
  const std::string exportDst = a["destination"].get<std::string>();
  if (exportDst == "-") {
    std::ios::sync_with_stdio(false);
    runtime::exportJsonl(rt, std::cout);
    return 0;
  }
  std::ofstream out(exportDst, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::Driver, "cli", "export", fmt::format("cannot write {}", exportDst));
  auto s = runtime::exportJsonl(rt, out);
  printSummary(g, s, false);
  return 0;
}

int runMigrate(const Globals& g, Runtime& rt, const Json&) {
  auto info = rt.backend().info();
  Json j{{"engine", info.engine}, {"location", info.location}, {"schema_version", info.schemaVersion}};
  emit(g, j, [&] { fmt::print("{} at {}: schema v{} (up to date)\n", info.engine, info.location, info.schemaVersion); });
  return 0;
}

int runCheck(const Globals& g, Runtime& rt, const Json&) {
  const Json j = rt.diagnostics().check();
  const auto problems = j["problems"].get<std::vector<std::string>>();
  emit(g, j, [&] {
    fmt::print("{} at {}: schema v{}, integrity {}\n", j["engine"].get<std::string>(), j["location"].get<std::string>(),
               j["schema_version"].get<int>(), j["integrity"].get<std::string>());
    for (const auto& p : problems) fmt::print("problem: {}\n", p);
  });
  if (!problems.empty()) throw Error(ErrorCode::Conflict, "cli", "check", fmt::format("database check failed: {}", problems.front()));
  return 0;
}

// Commands that may create the database they open (the others need it to exist).
bool createsDatabase(std::string_view name) {
  return name == "init" || name == "create_entity" || name == "create_note" || name == "import" || name == "db_migrate" ||
         name == "mcp";
}

// Parent commands of two-word commands.
const char* groupHelp(std::string_view group) {
  if (group == "create") return "Create an entity or a note";
  if (group == "db") return "Database maintenance";
  return "";
}

// The parser of a whole command line: the global options and one subcommand per command of the
// table. Single-threaded; built once per run. Holds the storage CLI11 writes into.
struct CommandLine {
  CLI::App app{"khive: a knowledge-graph store for AI agents (embedded SQLite or PostgreSQL)", "khive"};
  Globals g;
  std::map<std::string, Runner, std::less<>> runners;
  std::deque<BoundCommand> bound;
  std::map<std::string, CLI::App*> groups;  // "create ", "db ": parents of two-word commands
  std::string wordsCommand;                 // the command with a words argument (search)
  std::vector<std::string> wordsTail;       // its words after `--` (takeSearchTail)
  std::function<int()> action;              // set by the subcommand that was given

  explicit CommandLine(const FrontEnds& fe);
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;
};

// Runs one command: arguments checked by the table, the runtime opened, the handler (or the
// command line's own runner) called, the result presented.
int runCommand(const Globals& g, const BoundCommand& bc, const std::vector<std::string>& wordsTail,
               const std::map<std::string, Runner, std::less<>>& runners) {
  const Command& cmd = *bc.cmd;
  Json given = givenArguments(bc, wordsTail);
  runtime::Config config = loadConfig(g);
  Json args = commands::parseArguments(cmd, given, runtime::Vocabulary(config.vocabulary), commands::Naming::Cli, commands::kCli);
  auto rt = openRuntime(g, std::move(config), createsDatabase(cmd.name));
  if (!cmd.handler) return runners.at(cmd.name)(g, *rt, args);
  Json result;
  {
    Progress progress(cmd.cliPath.back(), 0);  // ends its line before the result prints
    commands::CallContext ctx;
    ctx.progress = [&](const runtime::ReindexProgress& p) {
      runtime::TransferProgress tp;
      tp.records = p.done;
      progress(tp, p.total);
    };
    result = cmd.handler(*rt, args, ctx);
  }
  auto view = views().find(cmd.name);
  if (view != views().end()) view->second(g, args, result);
  else emit(g, result, [&] { printRecord(result); });
  return 0;
}

CommandLine::CommandLine(const FrontEnds& fe) {
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("khive 0.1.0"));
  app.add_option("--config", g.config, "Config file (default: $KHIVE_CONFIG, ./khive.toml, ~/.config/khive/khive.toml)");
  app.add_option("--db", g.db, "SQLite database file (overrides the config)");
  app.add_option("--backend", g.backendUrl, "Backend URL: sqlite:///path.db, sqlite::memory:, postgresql://...");
  app.add_option("--namespace", g.ns, "Write namespace (default: [actor].namespace, else \"default\")");
  app.add_flag("--json", g.json, "JSON output (the default when stdout is not a terminal)");

  runners = {{"import", runImport},
             {"export", runExport},
             {"db_migrate", runMigrate},
             {"db_check", runCheck},
             {"mcp", [mcp = fe.mcp](const Globals&, Runtime& rt, const Json&) { return mcp ? mcp(rt) : 1; }}};

  for (const auto& cmd : commands::commandTable()) {
    if (!(cmd.surfaces & commands::kCli) || cmd.cliPath.empty()) continue;
    CLI::App* parent = &app;
    std::string prefix;
    for (std::size_t i = 0; i + 1 < cmd.cliPath.size(); ++i) {
      prefix += cmd.cliPath[i] + " ";
      CLI::App*& group = groups[prefix];
      if (!group) {
        group = parent->add_subcommand(cmd.cliPath[i], groupHelp(cmd.cliPath[i]));
        group->require_subcommand(1);
      }
      parent = group;
    }
    BoundCommand& bc = bound.emplace_back();
    bc.cmd = &cmd;
    bc.app = parent->add_subcommand(cmd.cliPath.back(), cmd.summary);
    if (!cmd.details.empty()) bc.app->footer(cmd.details);
    bindArguments(bc);
    if (cmd.boundedRead) addTimeoutOption(bc.app, g);
    for (const auto& a : cmd.args)
      if (a.cli.words && cmd.cliPath.size() == 1) wordsCommand = cmd.cliPath[0];
    bc.app->callback([this, &bc] { action = [this, &bc] { return runCommand(g, bc, wordsTail, runners); }; });
  }
}

}  // namespace

Json describeCommandLine() {
  CommandLine cl(FrontEnds{});
  Json out = Json::array();
  for (const auto& bc : cl.bound) {
    Json options = Json::array();
    for (const CLI::Option* o : bc.app->get_options()) {
      if (o->get_name() == "--help") continue;
      std::string argument;
      bool keyValue = false;
      for (const auto& b : bc.args) {
        if (b.option == o) argument = b.arg->name;
        if (b.keyValue == o) argument = b.arg->name, keyValue = true;
      }
      options.push_back(Json{{"names", o->get_name(false, true)},
                             {"argument", argument},
                             {"key_value", keyValue},
                             {"positional", o->get_positional()},
                             {"flag", o->get_expected_max() == 0},
                             {"list", o->get_expected_max() > 1},
                             {"description", o->get_description()}});
    }
    out.push_back(Json{{"command", bc.cmd->name},
                       {"path", fmt::format("{}", fmt::join(bc.cmd->cliPath, " "))},
                       {"description", bc.app->get_description()},
                       {"options", options}});
  }
  return out;
}

int run(int argc, char** argv, const FrontEnds& fe) {
  CommandLine cl(fe);
  CLI::App& app = cl.app;
  const std::string& wordsCommand = cl.wordsCommand;
  std::vector<std::string>& wordsTail = cl.wordsTail;
  std::function<int()>& action = cl.action;

  // serve, token (docs/serve.md): hand-written, they are not verbs of the command table.
  Globals& g = cl.g;
  auto loadConfig = [&g] { return cli::loadConfig(g); };
  ServeArgs serveArgs;
  auto* serve = app.add_subcommand("serve", "Serve the HTTP API and MCP over Streamable HTTP to token holders");
  serve->add_option("--listen", serveArgs.listen, "Address to bind (default: [server] listen, 127.0.0.1)");
  serve->add_option("--port", serveArgs.port, "Port (default: [server] port, 8787; 0 = any free port)")->check(CLI::Range(0, 65535));
  serve->callback([&] {
    action = [&] {
      serveArgs.config = loadConfig();
      serveArgs.db = g.db;
      serveArgs.backendUrl = g.backendUrl;
      if (g.db && g.backendUrl) throw Error(ErrorCode::InvalidInput, "cli", "serve", "give --db or --backend, not both");
      return fe.serve ? fe.serve(serveArgs) : 1;
    };
  });
  auto* token = app.add_subcommand("token", "Manage the bearer tokens of `khive serve` (stored hashed in the token file)");
  token->require_subcommand(1);
  std::optional<std::string> tokenFile;
  token->add_option("--token-file", tokenFile, "Token file (default: [server] token_file, else tokens.json beside the config)");
  auto tokenStore = [&] { return runtime::TokenFile(tokenFile ? std::filesystem::path(*tokenFile) : runtime::tokenFilePath(loadConfig())); };
  runtime::NewToken newToken;
  std::string expires;
  auto* tcreate = token->add_subcommand("create", "Create a token; prints it once");
  tcreate->add_option("--actor", newToken.actor, "The actor its requests act as (recorded on events)")->required();
  tcreate->add_option("--read", newToken.readNamespaces, "Namespaces it reads (repeat or comma-separate)")->delimiter(',');
  tcreate->add_option("--write", newToken.writeNamespaces, "Namespaces it writes and reads; creates go to the first")->delimiter(',');
  tcreate->add_flag("--read-only", newToken.readOnly, "No writes at all");
  tcreate->add_option("--expires", expires, "Lifetime: 90d, 12h, 30m, 3600s, or an absolute Unix time in seconds");
  tcreate->callback([&] {
    action = [&] {
      if (!expires.empty()) newToken.expiresAt = runtime::parseTokenExpiry(expires);
      auto store = tokenStore();
      auto [t, secret] = store.create(newToken);
      Json j = runtime::toJson(t);
      j["token"] = secret;
      j["token_file"] = store.path().string();
      emit(g, j, [&] {
        fmt::print("token {} for actor '{}' (read: {}; write: {}{}) written to {}\n", t.id, t.actor, fmt::join(t.readNamespaces, ","),
                   fmt::join(t.writeNamespaces, ","), t.readOnly ? "; read-only" : "", store.path().string());
        fmt::print("{}\n(shown once: only its SHA-256 is stored)\n", secret);
      });
      return 0;
    };
  });
  auto* tlist = token->add_subcommand("list", "List the tokens of the token file (never their secrets)");
  tlist->callback([&] {
    action = [&] {
      auto tokens = tokenStore().load();
      Json arr = Json::array();
      for (const auto& t : tokens) arr.push_back(runtime::toJson(t));
      emit(g, arr, [&] {
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : tokens)
          rows.push_back({t.id, t.actor, fmt::format("{}", fmt::join(t.readNamespaces, ",")), fmt::format("{}", fmt::join(t.writeNamespaces, ",")),
                          t.readOnly ? "yes" : "no", t.expiresAt ? std::to_string(*t.expiresAt) : "-", t.revokedAt ? "revoked" : "active"});
        table({"id", "actor", "read", "write", "read-only", "expires", "state"}, rows);
      });
      return 0;
    };
  });
  std::string revokeId;
  auto* trevoke = token->add_subcommand("revoke", "Revoke a token by its id (a running server stops accepting it within a second)");
  trevoke->add_option("id", revokeId, "Token id (from `khive token list`)")->required();
  trevoke->callback([&] {
    action = [&] {
      auto t = tokenStore().revoke(revokeId);
      emit(g, runtime::toJson(t), [&] { fmt::print("token {} revoked\n", t.id); });
      return 0;
    };
  });
  auto* thash = token->add_subcommand("hash", "Print the SHA-256 of a token read from stdin (for [[tokens]] sha256 in khive.toml)");
  thash->callback([&] {
    action = [&] {
      std::string line;
      std::getline(std::cin, line);
      fmt::print("{}\n", runtime::sha256Hex(line));
      return 0;
    };
  });

  std::vector<char*> args(argv, argv + argc);
  wordsTail = takeSearchTail(args, wordsCommand);
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    fmt::print(stderr, "khive: {} (see khive --help)\n", msg);
    return 2;
  }
  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    std::string msg = e.message();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    fmt::print(stderr, "khive: {} [{}]\n", msg, errorCodeName(e.code()));
    // Exit codes (README): 2 bad input, 3 permission denied, 4 unavailable, 1 any other failure.
    if (e.code() == ErrorCode::PermissionDenied) return 3;
    if (e.code() == ErrorCode::Unavailable) return 4;
    return e.code() == ErrorCode::InvalidInput ? 2 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "khive: unexpected failure: {}\n", e.what());
    return 1;
  }
}

}  // namespace khive::cli
