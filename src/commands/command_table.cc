// The entries of the command table and their handlers. Each handler reads arguments that
// parseArguments() has checked and completed, calls one Runtime verb and returns its JSON.

#include "khive/commands/command_table.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "khive/runtime/codec.h"
#include "khive/storage/graph_store.h"
#include "khive/storage/types.h"

namespace khive::commands {
namespace {

using runtime::Runtime;

// ---- reading checked arguments ----------------------------------------------------------

std::optional<std::string> optString(const Json& a, const char* k) {
  return a.contains(k) ? std::optional(a[k].get<std::string>()) : std::nullopt;
}
std::optional<double> optNumber(const Json& a, const char* k) {
  return a.contains(k) ? std::optional(a[k].get<double>()) : std::nullopt;
}
std::vector<std::string> strings(const Json& a, const char* k) {
  return a.contains(k) ? a[k].get<std::vector<std::string>>() : std::vector<std::string>{};
}
Json object(const Json& a, const char* k) { return a.contains(k) ? a[k] : Json::object(); }
Uuid resolve(Runtime& rt, const Json& a, const char* k) { return rt.resolveId(a[k].get<std::string>()); }
std::optional<Uuid> optUuid(const Json& a, const char* k) {
  return a.contains(k) ? std::optional(Uuid::parse(a[k].get<std::string>())) : std::nullopt;
}
storage::Direction direction(const Json& a) {
  const std::string d = a["direction"].get<std::string>();
  return d == "out" ? storage::Direction::Out : d == "in" ? storage::Direction::In : storage::Direction::Both;
}

// ---- argument kinds used by several commands -------------------------------------------

const char* kIdHelp = "A record id (UUID) or a unique prefix of at least 8 hex characters";

Arg idArg(std::string name, std::string help = kIdHelp) {
  std::string cli = name;
  return Arg{.name = std::move(name), .type = ArgType::Id, .help = std::move(help), .required = true, .cli = {.names = cli}};
}
Arg directionArg(const char* dflt) {
  return Arg{.name = "direction",
             .type = ArgType::String,
             .help = "Edge direction",
             .defaultValue = dflt,
             .enumSpec = {.source = EnumSource::Fixed, .values = {"out", "in", "both"}},
             .cli = {.names = "--direction"}};
}
Arg relationsArg() {
  return Arg{.name = "relations",
             .type = ArgType::StringList,
             .help = "Only these relations",
             .enumSpec = {.source = EnumSource::Relations},
             .cli = {.names = "--relation,-r"}};
}
Arg propertiesArg(std::string help) {
  return Arg{.name = "properties",
             .type = ArgType::Object,
             .help = std::move(help),
             .cli = {.names = "--properties", .keyValue = "--prop"}};
}
Arg depthArg(int dflt, const char* help) {
  return Arg{.name = "depth",
             .type = ArgType::Integer,
             .help = help,
             .defaultValue = dflt,
             .minimum = 1,
             .maximum = storage::kMaxTraversalDepth,
             .cli = {.names = "--depth"}};
}
Arg newIdArg() {
  return Arg{.name = "id", .type = ArgType::String, .help = "Use this UUID instead of a new one", .cli = {.names = "--id"}};
}
const EnumSpec kNoteStatus{.source = EnumSource::Fixed, .values = {"active", "archived"}};

// ---- handlers --------------------------------------------------------------------------

Json createEntity(Runtime& rt, const Json& a, const CallContext&) {
  return runtime::toJson(runtime::Record(rt.createEntity({.id = optUuid(a, "id"),
                                                          .kind = a["kind"].get<std::string>(),
                                                          .name = a["name"].get<std::string>(),
                                                          .description = optString(a, "description"),
                                                          .entityType = optString(a, "entity_type"),
                                                          .properties = object(a, "properties"),
                                                          .tags = strings(a, "tags")})));
}

Json createNote(Runtime& rt, const Json& a, const CallContext&) {
  runtime::NoteInput in{.id = optUuid(a, "id"),
                        .kind = a["kind"].get<std::string>(),
                        .content = a["content"].get<std::string>(),
                        .name = optString(a, "name"),
                        .salience = optNumber(a, "salience"),
                        .decayFactor = optNumber(a, "decay_factor"),
                        .properties = object(a, "properties")};
  if (a.contains("status")) in.status = parseNoteStatus(a["status"].get<std::string>());
  return runtime::toJson(runtime::Record(rt.createNote(in)));
}

Json get(Runtime& rt, const Json& a, const CallContext&) {
  auto id = resolve(rt, a, "id");
  auto r = rt.get(id);
  if (!r) throw Error(ErrorCode::NotFound, "commands", "get", fmt::format("no record {}", id.str()));
  return runtime::toJson(*r);
}

Json update(Runtime& rt, const Json& a, const CallContext&) {
  runtime::RecordPatch p;
  p.name = optString(a, "name");
  p.description = optString(a, "description");
  p.kind = optString(a, "kind");
  p.entityType = optString(a, "entity_type");
  p.content = optString(a, "content");
  p.salience = optNumber(a, "salience");
  if (a.contains("status")) p.status = parseNoteStatus(a["status"].get<std::string>());
  if (a.contains("properties")) p.properties = a["properties"];
  if (a.contains("tags")) p.tags = strings(a, "tags");
  return runtime::toJson(rt.update(resolve(rt, a, "id"), p));
}

Json remove(Runtime& rt, const Json& a, const CallContext&) {
  return runtime::toJson(rt.remove(resolve(rt, a, "id"), a["hard"].get<bool>()));
}

Json merge(Runtime& rt, const Json& a, const CallContext&) {
  return runtime::toJson(runtime::Record(rt.merge(resolve(rt, a, "from"), resolve(rt, a, "into"))));
}

Json link(Runtime& rt, const Json& a, const CallContext&) {
  return runtime::toJson(runtime::Record(rt.link({.source = resolve(rt, a, "source"),
                                                  .target = resolve(rt, a, "target"),
                                                  .relation = a["relation"].get<std::string>(),
                                                  .weight = a["weight"].get<double>(),
                                                  .metadata = object(a, "metadata")})));
}

Json list(Runtime& rt, const Json& a, const CallContext&) {
  runtime::ListRequest r;
  r.type = a["type"].get<std::string>();
  r.kinds = strings(a, "kinds");
  r.namePrefix = optString(a, "name_prefix");
  r.tags = strings(a, "tags");
  r.limit = a["limit"].get<std::int64_t>();
  r.offset = a["offset"].get<std::int64_t>();
  return runtime::toJson(rt.list(r));
}

Json neighbors(Runtime& rt, const Json& a, const CallContext&) {
  return runtime::toJson(
      rt.neighbors(resolve(rt, a, "id"), direction(a), strings(a, "relations"), a["limit"].get<std::int64_t>()));
}

Json traverse(Runtime& rt, const Json& a, const CallContext&) {
  std::vector<Uuid> roots;
  for (const auto& r : strings(a, "roots")) roots.push_back(rt.resolveId(r));
  return runtime::toJson(rt.traverse(roots, a["depth"].get<int>(), direction(a), strings(a, "relations"),
                                     a["limit"].get<std::int64_t>()));
}

// {"nodes", "edges", "found"}: no path within the depth is a result, not an error.
Json path(Runtime& rt, const Json& a, const CallContext&) {
  auto p = rt.path(resolve(rt, a, "from"), resolve(rt, a, "to"), a["depth"].get<int>(), direction(a),
                   strings(a, "relations"));
  if (!p) return Json{{"nodes", Json::array()}, {"edges", Json::array()}, {"found", false}};
  Json j = runtime::toJson(*p);
  j["found"] = true;
  return j;
}

Json search(Runtime& rt, const Json& a, const CallContext&) {
  runtime::SearchRequest r;
  r.text = a["text"].get<std::string>();
  r.kinds = strings(a, "kinds");
  r.topK = a["limit"].get<std::int64_t>();
  const std::string scope = a["scope"].get<std::string>();
  r.scope = scope == "entities" ? retrieval::Scope::Entities
            : scope == "notes"  ? retrieval::Scope::Notes
                                : retrieval::Scope::Mixed;
  return runtime::toJson(rt.search(r));
}

// The text of `path`, or of standard input for "-" (khive query -f).
std::string readQueryFile(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::InvalidInput, "cli", "query", fmt::format("cannot read the query file '{}'", path));
    text << in.rdbuf();
  }
  return text.str();
}

Json query(Runtime& rt, const Json& a, const CallContext&) {
  std::string text = optString(a, "text").value_or("");
  if (auto file = optString(a, "file")) {
    if (!text.empty()) throw Error(ErrorCode::InvalidInput, "cli", "query", "give the query text or -f FILE, not both");
    text = readQueryFile(*file);
  }
  if (text.empty()) throw Error(ErrorCode::InvalidInput, "query", "query", "give the query text, or -f FILE (-f - reads standard input)");
  return runtime::toJson(rt.query({.text = std::move(text),
                                   .language = optString(a, "language"),
                                   .rowCap = a["cap"].get<std::int64_t>(),
                                   .parameters = object(a, "parameters"),
                                   .explain = a["explain"].get<bool>()}));
}

Json stats(Runtime& rt, const Json&, const CallContext&) { return runtime::toJson(rt.stats()); }

Json reindex(Runtime& rt, const Json& a, const CallContext& ctx) {
  return runtime::toJson(rt.reindex({.engine = optString(a, "engine"),
                                     .namespaces = strings(a, "namespaces"),
                                     .batchSize = a["batch"].get<std::int64_t>(),
                                     .progress = ctx.progress}));
}

Json doctor(Runtime& rt, const Json& a, const CallContext&) { return rt.doctor(a["probe"].get<bool>()); }

std::vector<Command> buildTable() {
  const std::string entityKindHelp =
      "Entity kind (concept, document, dataset, project, person, org, artifact, service, resource, plus "
      "[vocabulary] additions)";
  return {
      {.name = "init",
       .cliPath = {"init"},
       .summary = "Create (or migrate) the database and print where it is",
       .readOnly = false,
       .surfaces = kCli,
       .handler = stats},
      {.name = "create_entity",
       .cliPath = {"create", "entity"},
       .summary = "Create an entity",
       .readOnly = false,
       .args = {{.name = "kind", .help = entityKindHelp, .required = true, .enumSpec = {.source = EnumSource::EntityKinds}, .cli = {.names = "--kind,-k"}, .checkedByVerb = true},
                {.name = "name", .help = "Name (non-empty)", .required = true, .cli = {.names = "--name,-n"}},
                {.name = "description", .help = "Description", .cli = {.names = "--description,-d"}},
                {.name = "entity_type", .help = "Entity type (free-form sub-kind)", .cli = {.names = "--type"}},
                propertiesArg("Properties as a JSON object (--prop key=value adds one; a value is parsed as JSON when it is JSON)"),
                {.name = "tags", .type = ArgType::StringList, .help = "Tags", .cli = {.names = "--tag", .onePerFlag = true}},
                newIdArg()},
       .http = HttpRoute{"POST", "/v1/entities", 201},
       .handler = createEntity},
      {.name = "create_note",
       .cliPath = {"create", "note"},
       .summary = "Create a note",
       .readOnly = false,
       .args = {{.name = "kind", .help = "Note kind (observation, insight, question, decision, reference, plus [vocabulary] additions)", .required = true, .enumSpec = {.source = EnumSource::NoteKinds}, .cli = {.names = "--kind,-k"}, .checkedByVerb = true},
                {.name = "content", .help = "Content (non-empty)", .required = true, .cli = {.names = "--content,-c"}},
                {.name = "name", .help = "Name", .cli = {.names = "--name,-n"}},
                {.name = "salience", .type = ArgType::Number, .help = "Salience", .minimum = 0, .maximum = 1, .cli = {.names = "--salience"}, .checkedByVerb = true},
                {.name = "decay_factor", .type = ArgType::Number, .help = "Decay factor", .minimum = 0, .cli = {.names = "--decay"}, .checkedByVerb = true},
                {.name = "status", .help = "Note status", .enumSpec = kNoteStatus, .cli = {.names = "--status"}},
                propertiesArg("Properties as a JSON object (--prop key=value adds one)"),
                newIdArg()},
       .http = HttpRoute{"POST", "/v1/notes", 201},
       .handler = createNote},
      {.name = "get",
       .cliPath = {"get"},
       .summary = "Get one record (entity, note, edge or event) by id or id prefix",
       .args = {idArg("id")},
       .http = HttpRoute{"GET", "/v1/records/{id}"},
       .handler = get},
      {.name = "update",
       .cliPath = {"update"},
       .summary = "Change fields of an entity or note; properties are merged (null removes a key), tags replaced",
       .readOnly = false,
       .args = {idArg("id"),
                {.name = "name", .help = "New name", .cli = {.names = "--name"}},
                {.name = "description", .help = "New description (entities)", .cli = {.names = "--description"}},
                {.name = "kind", .help = "New kind (of the record's substrate)", .enumSpec = {.source = EnumSource::NodeKinds}, .cli = {.names = "--kind"}, .checkedByVerb = true},
                {.name = "entity_type", .help = "New entity type (entities)", .cli = {.names = "--type"}},
                {.name = "content", .help = "New content (notes)", .cli = {.names = "--content"}},
                {.name = "salience", .type = ArgType::Number, .help = "New salience (notes)", .minimum = 0, .maximum = 1, .cli = {.names = "--salience"}, .checkedByVerb = true},
                {.name = "status", .help = "New status (notes)", .enumSpec = kNoteStatus, .cli = {.names = "--status"}},
                propertiesArg("JSON object merged into the properties (null removes a key; --prop key=value merges one)"),
                {.name = "tags", .type = ArgType::StringList, .help = "Replace the tags with these", .cli = {.names = "--tag", .onePerFlag = true}}},
       .http = HttpRoute{"PATCH", "/v1/records/{id}"},
       .handler = update},
      {.name = "delete",
       .cliPath = {"delete"},
       .summary = "Delete a record: soft by default; hard removes it and, for entities and notes, every incident edge, text and vectors",
       .readOnly = false,
       .args = {idArg("id"),
                {.name = "hard", .type = ArgType::Boolean, .help = "Hard delete", .defaultValue = false, .cli = {.names = "--hard"}}},
       .http = HttpRoute{"DELETE", "/v1/records/{id}"},
       .handler = remove},
      {.name = "merge",
       .cliPath = {"merge"},
       .summary = "Merge entity `from` into entity `into`: edges move, tags union, `from` is soft-deleted",
       .readOnly = false,
       .args = {idArg("from", "The entity that goes away (id or prefix)"), idArg("into", "The entity that stays (id or prefix)")},
       .http = HttpRoute{"POST", "/v1/entities/{from}/merge"},
       .handler = merge},
      {.name = "link",
       .cliPath = {"link"},
       .summary = "Create or update an edge source -relation-> target",
       .readOnly = false,
       .args = {idArg("source", "Source id or prefix"),
                {.name = "relation", .help = "Relation (instance_of, part_of, extends, annotates, supports, ..., plus [vocabulary] additions)", .required = true, .enumSpec = {.source = EnumSource::Relations}, .cli = {.names = "relation"}, .checkedByVerb = true},
                idArg("target", "Target id or prefix"),
                {.name = "weight", .type = ArgType::Number, .help = "Weight", .defaultValue = 1.0, .minimum = 0, .maximum = 1, .cli = {.names = "--weight,-w"}, .checkedByVerb = true},
                {.name = "metadata", .type = ArgType::Object, .help = "Edge metadata as a JSON object", .cli = {.names = "--metadata"}}},
       .http = HttpRoute{"POST", "/v1/edges", 201},
       .handler = link},
      {.name = "list",
       .cliPath = {"list"},
       .summary = "List records of the read scope",
       .args = {{.name = "type", .help = "Record type", .defaultValue = "entity",
                 .enumSpec = {.source = EnumSource::Fixed, .values = {"entity", "note", "edge", "event"},
                              .aliases = {{"entities", "entity"}, {"notes", "note"}, {"edges", "edge"}, {"events", "event"}}},
                 .cli = {.names = "type"}},
                {.name = "kinds", .type = ArgType::StringList, .help = "Kinds (relations for edges, verbs for events)", .cli = {.names = "--kind,-k"}},
                {.name = "name_prefix", .help = "Name prefix (entities)", .cli = {.names = "--prefix"}},
                {.name = "tags", .type = ArgType::StringList, .help = "Any of these tags (entities)", .cli = {.names = "--tag"}},
                {.name = "limit", .type = ArgType::Integer, .help = "Page size", .defaultValue = 50, .minimum = 1, .maximum = storage::kMaxPageLimit, .cli = {.names = "--limit"}},
                {.name = "offset", .type = ArgType::Integer, .help = "Skip this many", .defaultValue = 0, .minimum = 0, .maximum = 1'000'000'000, .cli = {.names = "--offset"}}},
       .http = HttpRoute{"GET", "/v1/records"},
       .handler = list},
      {.name = "neighbors",
       .cliPath = {"neighbors"},
       .summary = "Records one edge away from a record",
       .boundedRead = true,
       .args = {idArg("id"), directionArg("both"), relationsArg(),
                {.name = "limit", .type = ArgType::Integer, .help = "At most this many", .defaultValue = 100, .minimum = 1, .maximum = storage::kMaxPageLimit, .cli = {.names = "--limit"}}},
       .http = HttpRoute{"GET", "/v1/records/{id}/neighbors"},
       .handler = neighbors},
      {.name = "traverse",
       .cliPath = {"traverse"},
       .summary = "Walk the graph from roots up to a depth; returns one path tree per root",
       .boundedRead = true,
       .args = {{.name = "roots", .type = ArgType::IdList, .help = "Root ids or prefixes", .required = true, .cli = {.names = "roots"}},
                depthArg(3, "Maximum depth"), directionArg("out"), relationsArg(),
                {.name = "limit", .type = ArgType::Integer, .help = "Nodes per root", .defaultValue = 1000, .minimum = 1, .maximum = 100'000, .cli = {.names = "--limit"}}},
       .http = HttpRoute{"POST", "/v1/traverse"},
       .handler = traverse},
      {.name = "path",
       .cliPath = {"path"},
       .summary = "A fewest-hops path between two records",
       .boundedRead = true,
       .args = {idArg("from", "Start id or prefix"), idArg("to", "End id or prefix"), depthArg(6, "Maximum hops"),
                directionArg("out"), relationsArg()},
       .http = HttpRoute{"GET", "/v1/path"},
       .handler = path},
      {.name = "search",
       .cliPath = {"search"},
       .summary = "Full-text search over entities and notes (hybrid when an embedding engine is configured)",
       .details = "Without a usable embedding engine (none configured, it fails, or its stored vectors have another\n"
                  "dimension than it gives now) search is text-only and says why (\"notice\" in JSON).",
       .boundedRead = true,
       .args = {{.name = "text", .help = "Search text (on the command line every word; text starting with '-' after --)", .required = true, .cli = {.names = "text", .words = true}},
                {.name = "kinds", .type = ArgType::StringList, .help = "Only these kinds", .enumSpec = {.source = EnumSource::NodeKinds}, .cli = {.names = "--kind,-k", .onePerFlag = true}},
                {.name = "scope", .help = "What to search", .defaultValue = "mixed", .enumSpec = {.source = EnumSource::Fixed, .values = {"mixed", "entities", "notes"}}, .cli = {.names = "--scope"}},
                {.name = "limit", .type = ArgType::Integer, .help = "Top k", .defaultValue = 10, .minimum = 1, .maximum = 1000, .cli = {.names = "--limit"}}},
       .http = HttpRoute{"POST", "/v1/search"},
       .handler = search},
      {.name = "query",
       .cliPath = {"query"},
       .summary = "Run a read-only GQL (MATCH ... RETURN) or SPARQL (SELECT ... WHERE {...}) pattern query",
       .boundedRead = true,
       .args = {{.name = "text", .help = "The query, e.g. \"MATCH (a:concept)-[:instance_of]->(b) RETURN a.name, b.name LIMIT 5\"", .cli = {.names = "text"}},
                {.name = "file", .help = "Read the query from FILE ('-': standard input)", .cli = {.names = "-f,--file"}, .surfaces = kCli},
                {.name = "explain", .type = ArgType::Boolean, .help = "Show the compiled SQL, its parameters and the engine's plan; run nothing", .defaultValue = false, .cli = {.names = "--explain"}},
                {.name = "language", .help = "Query language (default: detected)", .enumSpec = {.source = EnumSource::Fixed, .values = {"gql", "sparql"}}, .cli = {.names = "--language"}},
                {.name = "cap", .type = ArgType::Integer, .help = "Row cap", .defaultValue = 500, .minimum = 1, .maximum = 10'000, .cli = {.names = "--cap"}},
                {.name = "parameters", .type = ArgType::Object, .help = "Values of $name references (--param name=value, repeatable)", .cli = {.keyValue = "--param"}}},
       .http = HttpRoute{"POST", "/v1/query"},
       .handler = query},
      {.name = "import",
       .cliPath = {"import"},
       .summary = "Import JSONL records, or WordNet from the Debian wordnet-base files",
       .readOnly = false,
       .args = {{.name = "source", .help = "JSONL file, '-' for stdin; for --format wordnet the data directory (default /usr/share/wordnet)", .defaultValue = "-", .cli = {.names = "source"}},
                {.name = "format", .help = "Input format", .defaultValue = "jsonl", .enumSpec = {.source = EnumSource::Fixed, .values = {"jsonl", "wordnet"}}, .cli = {.names = "--format"}},
                {.name = "batch", .type = ArgType::Integer, .help = "Records per batch", .defaultValue = 40000, .minimum = 1, .maximum = 100'000, .cli = {.names = "--batch"}}},
       .surfaces = kCli},
      {.name = "export",
       .cliPath = {"export"},
       .summary = "Export the read scope as JSONL (entities, notes, edges, events)",
       .args = {{.name = "destination", .help = "File, or '-' for stdout", .defaultValue = "-", .cli = {.names = "destination"}}},
       .surfaces = kCli},
      {.name = "stats",
       .cliPath = {"stats"},
       .summary = "Counts of entities, notes, edges, events in the read scope",
       .http = HttpRoute{"GET", "/v1/stats"},
       .handler = stats},
      {.name = "db_migrate",
       .cliPath = {"db", "migrate"},
       .summary = "Bring the schema up to this build's version (opening migrates)",
       .readOnly = false,
       .surfaces = kCli},
      {.name = "db_check",
       .cliPath = {"db", "check"},
       .summary = "Check the database's integrity and schema version",
       .surfaces = kCli},
      {.name = "reindex",
       .cliPath = {"reindex"},
       .summary = "(Re)embed every live entity and note with an embedding engine ([[engines]] in khive.toml) so vector search finds them",
       .details = "Text embedded: an entity's name and description, a note's name and content. A rerun replaces each\n"
                  "record's vector for the engine. Records created or updated while an engine with embed_on_write\n"
                  "is configured are embedded as they are written; run reindex after an import or an engine change.\n"
                  "Over MCP, a call with a progressToken gets notifications/progress after each batch.",
       .readOnly = false,
       .args = {{.name = "engine", .help = "Engine name (default: the default engine)", .cli = {.names = "--engine"}},
                {.name = "namespaces", .type = ArgType::StringList, .help = "Only these namespaces (default: the read scope)", .cli = {.names = "--namespace"}},
                {.name = "batch", .type = ArgType::Integer, .help = "Records embedded per batch", .defaultValue = 256, .minimum = 1, .maximum = 10'000, .cli = {.names = "--batch"}}},
       .http = HttpRoute{"POST", "/v1/reindex"},
       .handler = reindex},
      {.name = "doctor",
       .cliPath = {"doctor"},
       .summary = "Report backend, versions, schema, extensions, index state and embedding engines",
       .details = "The index state counts the text documents and vectors of live records. Those a soft-deleted record\n"
                  "keeps are shown apart (deleted_records); they are not a problem, and a hard delete removes them.",
       .args = {{.name = "probe", .type = ArgType::Boolean, .help = "Ask each embedding engine for a test vector", .defaultValue = true, .cli = {.names = "--no-probe", .negated = true}}},
       .http = HttpRoute{"GET", "/v1/doctor"},
       .handler = doctor},
      {.name = "mcp",
       .cliPath = {"mcp"},
       .summary = "Serve the Model Context Protocol over stdio (JSON-RPC 2.0)",
       .readOnly = false,
       .surfaces = kCli},
  };
}

}  // namespace

const std::vector<Command>& commandTable() {
  static const std::vector<Command> table = buildTable();
  return table;
}

const Command* findCommand(std::string_view name) {
  for (const auto& c : commandTable())
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace khive::commands
