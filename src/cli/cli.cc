#include "khive/cli/cli.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/config.h"
#include "khive/runtime/integrity.h"
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

std::unique_ptr<Runtime> openRuntime(const Globals& g, bool mayCreate) {
  runtime::Config config;
  if (auto path = runtime::findConfigFile(g.config)) config = runtime::loadConfigFile(*path);
  if (g.timeoutMs) config.limits.timeBudget = std::chrono::milliseconds(*g.timeoutMs);
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

storage::Direction direction(const std::string& s) {
  if (s == "out") return storage::Direction::Out;
  if (s == "in") return storage::Direction::In;
  return storage::Direction::Both;
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
Json parseProps(const std::vector<std::string>& kvs, Json base = Json::object()) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::InvalidInput, "cli", "args", fmt::format("--prop '{}' must be key=value", kv));
    checkJsonArgDepth("--prop " + kv.substr(0, eq), kv.substr(eq + 1));
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

// `khive [global options] search ... -- WORDS`: the words after the first `--` are search text
// as typed (they may start with '-'). Removes them and the `--` from `args` and returns them;
// leaves other commands' arguments alone.
std::vector<std::string> takeSearchTail(std::vector<char*>& args) {
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
  if (i >= args.size() || std::string_view(args[i]) != "search") return {};
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

std::string recordName(const runtime::NodeSummary& n) { return n.type == "missing" ? "(out of scope)" : n.name; }

// --timeout-ms on the commands that read with a budget.
void addTimeoutOption(CLI::App* cmd, Globals& g) {
  cmd->add_option("--timeout-ms", g.timeoutMs,
                  "Time budget of each read statement in ms (default: [limits] time_budget_ms, 30000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));
}

}  // namespace

int run(int argc, char** argv, const FrontEnds& fe) {
  CLI::App app{"khive: a knowledge-graph store for AI agents (embedded SQLite or PostgreSQL)", "khive"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("khive 0.1.0"));
  Globals g;
  app.add_option("--config", g.config, "Config file (default: $KHIVE_CONFIG, ./khive.toml, ~/.config/khive/khive.toml)");
  app.add_option("--db", g.db, "SQLite database file (overrides the config)");
  app.add_option("--backend", g.backendUrl, "Backend URL: sqlite:///path.db, sqlite::memory:, postgresql://...");
  app.add_option("--namespace", g.ns, "Write namespace (default: [actor].namespace, else \"default\")");
  app.add_flag("--json", g.json, "JSON output (the default when stdout is not a terminal)");

  std::function<int()> action;
  auto withRt = [&](bool mayCreate, std::function<int(Runtime&)> f) {
    return [&g, mayCreate, f, &action] {
      action = [&g, mayCreate, f] {
        auto rt = openRuntime(g, mayCreate);
        return f(*rt);
      };
    };
  };

  // init
  auto* init = app.add_subcommand("init", "Create (or migrate) the database and print where it is");
  init->callback(withRt(true, [&](Runtime& rt) {
    auto s = rt.stats();
    emit(g, runtime::toJson(s), [&] { fmt::print("khive database ready: {} {} at {} (schema v{})\n", s.engine, s.engineVersion, s.location, s.schemaVersion); });
    return 0;
  }));

  // create entity|note
  auto* create = app.add_subcommand("create", "Create an entity or a note");
  create->require_subcommand(1);
  runtime::EntityInput ein;
  std::string eprops, nprops;
  std::vector<std::string> eprop, nprop;
  std::optional<std::string> eid, nid, edesc, etype;
  auto* ce = create->add_subcommand("entity", "Create an entity");
  ce->add_option("--kind,-k", ein.kind, "Entity kind (concept, document, person, ...)")->required();
  ce->add_option("--name,-n", ein.name, "Name")->required();
  ce->add_option("--description,-d", edesc, "Description");
  ce->add_option("--type", etype, "Entity type (free-form sub-kind)");
  ce->add_option("--properties", eprops, "Properties as a JSON object");
  ce->add_option("--prop", eprop, "A property key=value (repeatable; value parsed as JSON when it is JSON)");
  literal(ce->add_option("--tag", ein.tags, "A tag (repeatable)"));
  ce->add_option("--id", eid, "Use this UUID instead of a new one");
  ce->callback(withRt(true, [&](Runtime& rt) {
    ein.description = edesc;
    ein.entityType = etype;
    ein.properties = parseProps(eprop, eprops.empty() ? Json::object() : parseJsonArg("--properties", eprops));
    if (eid) ein.id = Uuid::parse(*eid);
    auto e = rt.createEntity(ein);
    Json j = runtime::toJson(runtime::Record(e));
    emit(g, j, [&] { fmt::print("created entity {} ({} '{}')\n", e.id.str(), e.kind, e.name); });
    return 0;
  }));
  runtime::NoteInput nin;
  std::optional<std::string> nname, nstatus;
  std::optional<double> nsal, ndecay;
  auto* cn = create->add_subcommand("note", "Create a note");
  cn->add_option("--kind,-k", nin.kind, "Note kind (observation, insight, question, decision, reference)")->required();
  cn->add_option("--content,-c", nin.content, "Content")->required();
  cn->add_option("--name,-n", nname, "Name");
  cn->add_option("--salience", nsal, "Salience in [0,1]");
  cn->add_option("--decay", ndecay, "Decay factor >= 0");
  cn->add_option("--status", nstatus, "active or archived");
  cn->add_option("--properties", nprops, "Properties as a JSON object");
  cn->add_option("--prop", nprop, "A property key=value (repeatable)");
  cn->add_option("--id", nid, "Use this UUID instead of a new one");
  cn->callback(withRt(true, [&](Runtime& rt) {
    nin.name = nname;
    nin.salience = nsal;
    nin.decayFactor = ndecay;
    if (nstatus) nin.status = parseNoteStatus(*nstatus);
    nin.properties = parseProps(nprop, nprops.empty() ? Json::object() : parseJsonArg("--properties", nprops));
    if (nid) nin.id = Uuid::parse(*nid);
    auto n = rt.createNote(nin);
    emit(g, runtime::toJson(runtime::Record(n)), [&] { fmt::print("created note {} ({})\n", n.id.str(), n.kind); });
    return 0;
  }));

  // get
  std::string idArg;
  auto* get = app.add_subcommand("get", "Show one record (entity, note, edge or event) by id or id prefix");
  get->add_option("id", idArg, "UUID or a unique prefix of >= 8 hex characters")->required();
  get->callback(withRt(false, [&](Runtime& rt) {
    auto id = rt.resolveId(idArg);
    auto r = rt.get(id);
    if (!r) throw Error(ErrorCode::NotFound, "cli", "get", fmt::format("no record {}", id.str()));
    Json j = runtime::toJson(*r);
    emit(g, j, [&] { printRecord(j); });
    return 0;
  }));

  // update
  runtime::RecordPatch patch;
  std::string uprops;
  std::vector<std::string> uprop, utags;
  std::optional<std::string> ustatus;
  auto* upd = app.add_subcommand("update", "Change fields of an entity or note");
  upd->add_option("id", idArg, "UUID or unique prefix")->required();
  upd->add_option("--name", patch.name, "New name");
  upd->add_option("--description", patch.description, "New description (entities)");
  upd->add_option("--kind", patch.kind, "New kind");
  upd->add_option("--type", patch.entityType, "New entity type (entities)");
  upd->add_option("--content", patch.content, "New content (notes)");
  upd->add_option("--salience", patch.salience, "New salience (notes)");
  upd->add_option("--status", ustatus, "active or archived (notes)");
  upd->add_option("--properties", uprops, "JSON object merged into the properties (null removes a key)");
  upd->add_option("--prop", uprop, "key=value merged into the properties (repeatable)");
  literal(upd->add_option("--tag", utags, "Replace the tags with these (repeatable)"));
  upd->callback(withRt(false, [&](Runtime& rt) {
    if (ustatus) patch.status = parseNoteStatus(*ustatus);
    if (!uprops.empty() || !uprop.empty()) patch.properties = parseProps(uprop, uprops.empty() ? Json::object() : parseJsonArg("--properties", uprops));
    if (!utags.empty()) patch.tags = utags;
    auto r = rt.update(rt.resolveId(idArg), patch);
    Json j = runtime::toJson(r);
    emit(g, j, [&] { printRecord(j); });
    return 0;
  }));

  // delete
  bool hard = false;
  auto* del = app.add_subcommand("delete", "Delete a record (soft by default)");
  del->add_option("id", idArg, "UUID or unique prefix")->required();
  del->add_flag("--hard", hard, "Remove the row and, for entities and notes, every incident edge, text and vectors");
  del->callback(withRt(false, [&](Runtime& rt) {
    auto r = rt.remove(rt.resolveId(idArg), hard);
    emit(g, runtime::toJson(r), [&] { fmt::print("{} {} {}\n", hard ? "hard-deleted" : "deleted", runtime::recordType(r), std::visit([](const auto& v) { return v.id.str(); }, r)); });
    return 0;
  }));

  // merge
  std::string fromArg, intoArg;
  auto* merge = app.add_subcommand("merge", "Merge one entity into another (edges move, tags union, the first is soft-deleted)");
  merge->add_option("from", fromArg, "The entity that goes away")->required();
  merge->add_option("into", intoArg, "The entity that stays")->required();
  merge->callback(withRt(false, [&](Runtime& rt) {
    auto e = rt.merge(rt.resolveId(fromArg), rt.resolveId(intoArg));
    emit(g, runtime::toJson(runtime::Record(e)), [&] { fmt::print("merged into {} ('{}')\n", e.id.str(), e.name); });
    return 0;
  }));

  // link
  std::string relation, lmeta;
  double weight = 1.0;
  auto* link = app.add_subcommand("link", "Create or update an edge: khive link SOURCE RELATION TARGET");
  link->add_option("source", fromArg, "Source id or prefix")->required();
  link->add_option("relation", relation, "Relation (instance_of, part_of, extends, annotates, ...)")->required();
  link->add_option("target", intoArg, "Target id or prefix")->required();
  link->add_option("--weight,-w", weight, "Weight in [0,1] (default 1)");
  link->add_option("--metadata", lmeta, "Metadata as a JSON object");
  link->callback(withRt(false, [&](Runtime& rt) {
    auto e = rt.link({.source = rt.resolveId(fromArg), .target = rt.resolveId(intoArg), .relation = relation, .weight = weight,
                      .metadata = lmeta.empty() ? Json::object() : parseJsonArg("--metadata", lmeta)});
    emit(g, runtime::toJson(runtime::Record(e)), [&] { fmt::print("linked {} -{}-> {} (edge {})\n", e.sourceId.str(), e.relation, e.targetId.str(), e.id.str()); });
    return 0;
  }));

  // list
  runtime::ListRequest lr;
  std::string listType = "entities";
  auto* list = app.add_subcommand("list", "List records of the read scope");
  list->add_option("type", listType, "entities (default), notes, edges or events")->check(CLI::IsMember({"entities", "notes", "edges", "events", "entity", "note", "edge", "event"}));
  list->add_option("--kind,-k", lr.kinds, "Kind (relation for edges, verb for events); repeatable");
  list->add_option("--prefix", lr.namePrefix, "Name prefix (entities)");
  list->add_option("--tag", lr.tags, "Any of these tags (entities)");
  list->add_option("--limit", lr.limit, "At most this many (default 50)");
  list->add_option("--offset", lr.offset, "Skip this many");
  list->callback(withRt(false, [&](Runtime& rt) {
    lr.type = listType == "entities" ? "entity" : listType.back() == 's' ? listType.substr(0, listType.size() - 1) : listType;
    auto res = rt.list(lr);
    emit(g, runtime::toJson(res), [&] {
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : res.items) {
        Json j = runtime::toJson(r);
        if (lr.type == "entity") rows.push_back({cell(j["id"]), cell(j["kind"]), cell(j["name"]), cell(j["description"])});
        else if (lr.type == "note") rows.push_back({cell(j["id"]), cell(j["kind"]), cell(j["status"]), cell(j["content"])});
        else if (lr.type == "edge") rows.push_back({cell(j["id"]), cell(j["source_id"]), cell(j["relation"]), cell(j["target_id"]), cell(j["weight"])});
        else rows.push_back({cell(j["id"]), cell(j["verb"]), cell(j["outcome"]), cell(j["actor"]), cell(j["target_id"])});
      }
      if (lr.type == "entity") table({"id", "kind", "name", "description"}, rows);
      else if (lr.type == "note") table({"id", "kind", "status", "content"}, rows);
      else if (lr.type == "edge") table({"id", "source", "relation", "target", "weight"}, rows);
      else table({"id", "verb", "outcome", "actor", "target"}, rows);
      if (res.nextOffset) fmt::print("(more: --offset {})\n", *res.nextOffset);
    });
    return 0;
  }));

  // neighbors
  std::string dir = "both";
  std::vector<std::string> relations;
  std::int64_t limit = 100;
  auto* nb = app.add_subcommand("neighbors", "Records one edge away");
  nb->add_option("id", idArg, "UUID or unique prefix")->required();
  nb->add_option("--direction", dir, "out, in or both (default both)")->check(CLI::IsMember({"out", "in", "both"}));
  nb->add_option("--relation,-r", relations, "Only these relations (repeatable)");
  nb->add_option("--limit", limit, "At most this many (default 100)");
  addTimeoutOption(nb, g);
  nb->callback(withRt(false, [&](Runtime& rt) {
    auto rows = rt.neighbors(rt.resolveId(idArg), direction(dir), relations, limit);
    emit(g, runtime::toJson(rows), [&] {
      std::vector<std::vector<std::string>> t;
      for (const auto& r : rows)
        t.push_back({r.edge.direction == storage::Direction::Out ? "->" : "<-", r.edge.relation, r.node.id.str(), r.node.kind, recordName(r.node), fmt::format("{:g}", r.edge.weight)});
      table({"dir", "relation", "id", "kind", "name", "weight"}, t);
    });
    return 0;
  }));

  // traverse
  std::vector<std::string> roots;
  int depth = 3;
  std::string tdir = "out";
  std::int64_t perRoot = 1000;
  auto* tr = app.add_subcommand("traverse", "Walk the graph from one or more roots");
  tr->add_option("roots", roots, "Root ids or prefixes")->required();
  tr->add_option("--depth", depth, "Maximum depth 1..10 (default 3)");
  tr->add_option("--direction", tdir, "out (default), in or both")->check(CLI::IsMember({"out", "in", "both"}));
  tr->add_option("--relation,-r", relations, "Only these relations (repeatable)");
  tr->add_option("--limit", perRoot, "Nodes per root (default 1000)");
  addTimeoutOption(tr, g);
  tr->callback(withRt(false, [&](Runtime& rt) {
    std::vector<Uuid> ids;
    for (const auto& r : roots) ids.push_back(rt.resolveId(r));
    auto paths = rt.traverse(ids, depth, direction(tdir), relations, perRoot);
    emit(g, runtime::toJson(paths), [&] {
      for (const auto& p : paths) {
        for (const auto& n : p.nodes)
          fmt::print("{}{} [{}] {}\n", std::string(static_cast<std::size_t>(2 * n.depth), ' '), recordName(n.node), n.node.kind, n.node.id.str());
        if (p.truncated) fmt::print("(truncated at {} nodes: raise --limit)\n", perRoot);
      }
    });
    return 0;
  }));

  // path
  int pdepth = 6;
  auto* pa = app.add_subcommand("path", "A fewest-hops path between two records");
  pa->add_option("from", fromArg, "Start id or prefix")->required();
  pa->add_option("to", intoArg, "End id or prefix")->required();
  pa->add_option("--depth", pdepth, "Maximum hops 1..10 (default 6)");
  pa->add_option("--direction", tdir, "out (default), in or both")->check(CLI::IsMember({"out", "in", "both"}));
  pa->add_option("--relation,-r", relations, "Only these relations (repeatable)");
  addTimeoutOption(pa, g);
  pa->callback(withRt(false, [&](Runtime& rt) {
    auto p = rt.path(rt.resolveId(fromArg), rt.resolveId(intoArg), pdepth, direction(tdir), relations);
    if (!p) throw Error(ErrorCode::NotFound, "cli", "path", fmt::format("no path within {} hops", pdepth));
    emit(g, runtime::toJson(*p), [&] {
      for (std::size_t i = 0; i < p->nodes.size(); ++i) {
        fmt::print("{} [{}] {}\n", recordName(p->nodes[i]), p->nodes[i].kind, p->nodes[i].id.str());
        if (i < p->edges.size()) fmt::print("  -{}->\n", p->edges[i].relation);
      }
    });
    return 0;
  }));

  // search
  std::optional<std::string> firstWord;
  std::vector<std::string> searchTail;  // the words after `--` (takeSearchTail)
  runtime::SearchRequest sr;
  std::string scope = "mixed";
  auto* se = app.add_subcommand("search", "Full-text (and, with an embedding engine, vector) search");
  // The words arrive as given: the first through `text`, the rest as the subcommand's extras
  // (a list option would read "[a,b]" as two words and "[]" as none).
  se->add_option("text", firstWord, "Search text (every word; text starting with '-' after --)");
  se->allow_extras();
  literal(se->add_option("--kind,-k", sr.kinds, "Only these kinds (repeatable)"));
  se->add_option("--scope", scope, "mixed (default), entities or notes")->check(CLI::IsMember({"mixed", "entities", "notes"}));
  se->add_option("--limit", sr.topK, "Top k, 1..1000 (default 10)");
  addTimeoutOption(se, g);
  se->footer("Without a usable embedding engine (none configured, it fails, or its stored vectors have another\n"
             "dimension than it gives now) search is text-only and says why on stderr and as \"notice\" in JSON.");
  se->callback(withRt(false, [&](Runtime& rt) {
    sr.text = searchText(firstWord, se->remaining(), searchTail);
    sr.scope = scope == "entities" ? retrieval::Scope::Entities : scope == "notes" ? retrieval::Scope::Notes : retrieval::Scope::Mixed;
    auto res = rt.search(sr);
    if (res.notice) fmt::print(stderr, "khive: note: {}\n", *res.notice);
    emit(g, runtime::toJson(res), [&] {
      std::vector<std::vector<std::string>> t;
      for (const auto& h : res.hits)
        t.push_back({std::to_string(h.rank), fmt::format("{:.3f}", h.score), h.subjectId.str(), h.kind, cell(h.title), cell(h.snippet ? Json(*h.snippet) : Json(""))});
      table({"rank", "score", "id", "kind", "name", "snippet"}, t);
    });
    return 0;
  }));

  // query
  runtime::QueryRequest qr;
  std::vector<std::string> qparams;
  auto* qu = app.add_subcommand("query", "Run a read-only GQL or SPARQL pattern query");
  qu->add_option("text", qr.text, "The query, e.g. \"MATCH (a:concept)-[:instance_of]->(b) RETURN a.name, b.name LIMIT 5\"")->required();
  qu->add_option("--language", qr.language, "gql or sparql (default: detected)")->check(CLI::IsMember({"gql", "sparql"}));
  qu->add_option("--cap", qr.rowCap, "Row cap 1..10000 (default 500)");
  addTimeoutOption(qu, g);
  qu->add_option("--param", qparams, "A $parameter name=value (repeatable; value parsed as JSON when it is JSON)");
  qu->callback(withRt(false, [&](Runtime& rt) {
    qr.parameters = parseProps(qparams);
    auto res = rt.query(qr);
    emit(g, runtime::toJson(res), [&] {
      std::vector<std::vector<std::string>> t;
      for (const auto& r : res.rows) {
        std::vector<std::string> row;
        for (const auto& v : r) row.push_back(cell(v));
        t.push_back(row);
      }
      table(res.columns, t);
      fmt::print("({} row{}{})\n", res.rows.size(), res.rows.size() == 1 ? "" : "s", res.truncated ? ", truncated: raise --cap" : "");
    });
    return 0;
  }));

  // import
  std::string importSrc = "-", format = "jsonl";
  std::size_t batch = 40000;
  auto* im = app.add_subcommand("import", "Import JSONL records, or WordNet from the Debian wordnet-base files");
  im->add_option("source", importSrc, "JSONL file, '-' for stdin (default); for --format wordnet the data directory (default /usr/share/wordnet)");
  im->add_option("--format", format, "jsonl (default) or wordnet")->check(CLI::IsMember({"jsonl", "wordnet"}));
  im->add_option("--batch", batch, "Records per batch (default 40000)")->check(CLI::Range(1, 100000));
  im->callback(withRt(true, [&](Runtime& rt) {
    runtime::TransferSummary s;
    if (format == "wordnet") {
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
  }));

  // export
  std::string exportDst = "-";
  auto* ex = app.add_subcommand("export", "Export the read scope as JSONL (entities, notes, edges, events)");
  ex->add_option("destination", exportDst, "File, or '-' for stdout (default)");
  ex->callback(withRt(false, [&](Runtime& rt) {
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
  }));

  // stats
  auto* st = app.add_subcommand("stats", "Counts of the read scope");
  st->callback(withRt(false, [&](Runtime& rt) {
    auto s = rt.stats();
    emit(g, runtime::toJson(s), [&] {
      table({"field", "value"}, {{"backend", fmt::format("{} {}", s.engine, s.engineVersion)},
                                 {"location", s.location},
                                 {"schema", std::to_string(s.schemaVersion)},
                                 {"namespaces", fmt::format("{}", fmt::join(s.namespaces, ", "))},
                                 {"entities", std::to_string(s.entities)},
                                 {"notes", std::to_string(s.notes)},
                                 {"edges", std::to_string(s.edges)},
                                 {"events", std::to_string(s.events)},
                                 {"text documents", std::to_string(s.textDocuments)}});
    });
    return 0;
  }));

  // db migrate|check
  auto* db = app.add_subcommand("db", "Database maintenance");
  db->require_subcommand(1);
  auto* mig = db->add_subcommand("migrate", "Bring the schema up to this build's version (opening migrates)");
  mig->callback(withRt(true, [&](Runtime& rt) {
    auto info = rt.backend().info();
    Json j{{"engine", info.engine}, {"location", info.location}, {"schema_version", info.schemaVersion}};
    emit(g, j, [&] { fmt::print("{} at {}: schema v{} (up to date)\n", info.engine, info.location, info.schemaVersion); });
    return 0;
  }));
  auto* chk = db->add_subcommand("check", "Check the database's integrity and schema version");
  chk->callback(withRt(false, [&](Runtime& rt) {
    auto info = rt.backend().info();
    const int expected = info.buildSchemaVersion;
    std::vector<std::string> problems;
    if (info.schemaVersion != expected) problems.push_back(fmt::format("schema v{} but this build writes v{}", info.schemaVersion, expected));
    const std::string integrity = rt.backend().integrityCheck();
    if (integrity != "ok") problems.push_back("integrity_check: " + integrity);
    for (auto& p : runtime::checkConsistency(rt)) problems.push_back(std::move(p));
    Json j{{"engine", info.engine}, {"location", info.location}, {"schema_version", info.schemaVersion}, {"integrity", integrity}, {"ok", problems.empty()}, {"problems", problems}};
    emit(g, j, [&] {
      fmt::print("{} at {}: schema v{}, integrity {}\n", info.engine, info.location, info.schemaVersion, integrity);
      for (const auto& p : problems) fmt::print("problem: {}\n", p);
    });
    if (!problems.empty()) throw Error(ErrorCode::Conflict, "cli", "check", fmt::format("database check failed: {}", problems.front()));
    return 0;
  }));

  // reindex
  runtime::ReindexRequest rr;
  auto* ri = app.add_subcommand("reindex", "(Re)embed every live entity and note with an embedding engine ([[engines]] in khive.toml)");
  ri->add_option("--engine", rr.engine, "Engine name (default: the default engine)");
  ri->add_option("--namespace", rr.namespaces, "Only this namespace (repeatable; default: the read scope)");
  ri->add_option("--batch", rr.batchSize, "Records per batch (default 256)")->check(CLI::Range(1, 10000));
  ri->footer("Text embedded: an entity's name and description, a note's name and content. A rerun replaces each\n"
             "record's vector for the engine. Records created or updated while an engine with embed_on_write\n"
             "is configured are embedded as they are written; run reindex after an import or an engine change.");
  ri->callback(withRt(false, [&](Runtime& rt) {
    runtime::ReindexSummary s;
    {
      Progress progress("reindex", 0);  // ends its line before the summary prints
      rr.progress = [&](const runtime::ReindexProgress& p) {
        runtime::TransferProgress tp;
        tp.records = p.done;
        progress(tp, p.total);
      };
      s = rt.reindex(rr);
    }
    emit(g, runtime::toJson(s), [&] {
      fmt::print("reindexed {} entities and {} notes with engine '{}' ({} dimensions) in {:.1f}s{}\n", s.entities, s.notes, s.engine,
                 s.dimensions, s.seconds, s.skipped ? fmt::format(" ({} skipped: zero vector)", s.skipped) : "");
    });
    return 0;
  }));

  // doctor
  bool noProbe = false;
  auto* doc = app.add_subcommand("doctor", "Report backend, versions, schema, extensions, index state and embedding engines");
  doc->add_flag("--no-probe", noProbe, "Do not ask each embedding engine for a test vector");
  doc->footer("The index state counts the text documents and vectors of live records. Those a soft-deleted record\n"
              "keeps are shown apart (deleted_records); they are not a problem, and a hard delete removes them.");
  doc->callback(withRt(false, [&](Runtime& rt) {
    Json j = rt.doctor(!noProbe);
    auto cfg = runtime::findConfigFile(g.config);
    j["config"] = cfg ? Json(cfg->string()) : Json(nullptr);
    emit(g, j, [&] {
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
    });
    return 0;
  }));

  // mcp
  auto* mcp = app.add_subcommand("mcp", "Serve the Model Context Protocol over stdio (JSON-RPC 2.0)");
  mcp->callback(withRt(true, [&](Runtime& rt) { return fe.mcp ? fe.mcp(rt) : 1; }));

  std::vector<char*> args(argv, argv + argc);
  searchTail = takeSearchTail(args);
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
    // Exit codes (README): 2 bad input, 3 permission denied, 1 any other failure.
    if (e.code() == ErrorCode::PermissionDenied) return 3;
    return e.code() == ErrorCode::InvalidInput ? 2 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "khive: unexpected failure: {}\n", e.what());
    return 1;
  }
}

}  // namespace khive::cli
