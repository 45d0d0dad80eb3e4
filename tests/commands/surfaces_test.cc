// The command line and the MCP tools are generated from one command table and agree: every
// table command is a CLI subcommand and (unless it is CLI-only) an MCP tool, with the same
// arguments, types, enums, bounds and defaults; the same bad input gets the same error code on
// both surfaces, and the same good input the same result.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "khive/cli/cli.h"
#include "khive/commands/command_table.h"
#include "khive/mcp/server.h"
#include "khive/runtime/backend_factory.h"

using namespace khive;
using commands::ArgType;

namespace {

const Json* find(const Json& list, const char* key, const std::string& value) {
  for (const auto& e : list)
    if (e[key] == value) return &e;
  return nullptr;
}

TEST(CommandTable, EveryCommandIsACliSubcommandWithItsArguments) {
  const Json cli = cli::describeCommandLine();
  for (const auto& cmd : commands::commandTable()) {
    SCOPED_TRACE(cmd.name);
    const Json* sub = find(cli, "command", cmd.name);
    if (!(cmd.surfaces & commands::kCli)) {
      EXPECT_EQ(sub, nullptr);
      continue;
    }
    ASSERT_NE(sub, nullptr) << "no subcommand for " << cmd.name;
    EXPECT_EQ((*sub)["path"], fmt::format("{}", fmt::join(cmd.cliPath, " ")));
    EXPECT_EQ((*sub)["description"], cmd.summary);
    std::set<std::string> seen;
    for (const auto& o : (*sub)["options"]) {
      const std::string argument = o["argument"];
      if (argument.empty()) {
        EXPECT_EQ(o["names"], "--timeout-ms") << o.dump();
        EXPECT_TRUE(cmd.boundedRead) << "--timeout-ms on a command that is not a bounded read";
        continue;
      }
      seen.insert(argument + (o["key_value"].get<bool>() ? "=" : ""));
      const commands::Arg* a = nullptr;
      for (const auto& x : cmd.args)
        if (x.name == argument) a = &x;
      ASSERT_NE(a, nullptr) << o.dump();
      SCOPED_TRACE(argument);
      if (o["key_value"].get<bool>()) {
        EXPECT_EQ(a->type, ArgType::Object);
        EXPECT_EQ(a->cli.keyValue.substr(0, a->cli.keyValue.find(',')), o["names"]);
        EXPECT_TRUE(o["list"].get<bool>());
        continue;
      }
      EXPECT_EQ(o["positional"].get<bool>(), !a->cli.names.starts_with("-"));
      EXPECT_EQ(o["flag"].get<bool>(), a->type == ArgType::Boolean);
      EXPECT_EQ(o["list"].get<bool>(), a->type == ArgType::StringList || a->type == ArgType::IdList);
      const std::string help = o["description"];
      EXPECT_NE(help.find(a->help), std::string::npos) << help;
      if (!a->defaultValue.is_null() && !a->cli.negated) {
        std::string d = a->defaultValue.is_string() ? a->defaultValue.get<std::string>() : a->defaultValue.dump();
        EXPECT_NE(help.find("default " + d), std::string::npos) << help;
      }
      for (const auto& v : a->enumSpec.values) EXPECT_NE(help.find(v), std::string::npos) << help;
    }
    const bool checkBoundedRead = cmd.boundedRead;
    if (checkBoundedRead) { EXPECT_TRUE(find((*sub)["options"], "names", "--timeout-ms")) << "bounded reads take --timeout-ms"; }
    for (const auto& a : cmd.args) {
      if (!(a.surfaces & commands::kCli)) continue;
      if (!a.cli.names.empty()) { EXPECT_TRUE(seen.contains(a.name)) << a.name << " has no CLI option"; }
      if (!a.cli.keyValue.empty()) { EXPECT_TRUE(seen.contains(a.name + "=")) << a.name << " has no key=value option"; }
    }
  }
}

TEST(CommandTable, EveryRequestResponseCommandIsAnMcpToolWithTheSameSchema) {
  runtime::VocabularyConfig extra{.entityKinds = {"paper"}, .relations = {"cites"}};
  runtime::Vocabulary vocabulary(extra);
  const Json tools = mcp::Server::tools(vocabulary);
  std::size_t onMcp = 0;
  for (const auto& cmd : commands::commandTable()) {
    SCOPED_TRACE(cmd.name);
    const Json* tool = find(tools, "name", cmd.name);
    if (!(cmd.surfaces & commands::kMcp) || !cmd.handler) {
      EXPECT_EQ(tool, nullptr) << "a CLI-only command is not a tool";
      continue;
    }
    ++onMcp;
    ASSERT_NE(tool, nullptr);
    EXPECT_TRUE((*tool)["description"].get<std::string>().starts_with(cmd.summary));
    EXPECT_EQ((*tool)["annotations"]["readOnlyHint"], cmd.readOnly);
    const Json& schema = (*tool)["inputSchema"];
    EXPECT_EQ(schema["type"], "object");
    EXPECT_EQ(schema["additionalProperties"], false);
    std::set<std::string> required, mcpArgs, tableArgs;
    for (const auto& r : schema.value("required", Json::array())) required.insert(r.get<std::string>());
    for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it) mcpArgs.insert(it.key());
    for (const auto& a : cmd.args) {
      if (!(a.surfaces & commands::kMcp)) continue;
      tableArgs.insert(a.name);
      SCOPED_TRACE(a.name);
      ASSERT_TRUE(schema["properties"].contains(a.name));
      const Json& p = schema["properties"][a.name];
      const bool list = a.type == ArgType::StringList || a.type == ArgType::IdList;
      const char* type = list                           ? "array"
                         : a.type == ArgType::Integer   ? "integer"
                         : a.type == ArgType::Number    ? "number"
                         : a.type == ArgType::Boolean   ? "boolean"
                         : a.type == ArgType::Object    ? "object"
                                                        : "string";
      EXPECT_EQ(p["type"], type);
      EXPECT_EQ(required.contains(a.name), a.required);
      EXPECT_EQ(p.value("default", Json()), a.defaultValue);
      EXPECT_EQ(p.contains("minimum"), a.minimum.has_value());
      if (a.minimum) { EXPECT_EQ(p["minimum"].get<double>(), *a.minimum); }
      if (a.maximum) { EXPECT_EQ(p["maximum"].get<double>(), *a.maximum); }
      const Json& e = list ? p["items"] : p;
      const auto allowed = commands::allowedValues(a, vocabulary);
      EXPECT_EQ(e.contains("enum"), !allowed.empty());
      if (!allowed.empty()) { EXPECT_EQ(e["enum"], Json(allowed)); }
    }
    // With the CLI test above: the CLI and the tool take the same arguments (those of the
    // entry, less the ones an entry keeps to one surface).
    EXPECT_EQ(mcpArgs, tableArgs);
  }
  EXPECT_EQ(tools.size(), onMcp);
  // The vocabulary in force is in the enums: [vocabulary] additions included.
  const Json& kind = find(tools, "name", "create_entity")->at("inputSchema")["properties"]["kind"];
  EXPECT_NE(std::find(kind["enum"].begin(), kind["enum"].end(), "paper"), kind["enum"].end()) << kind.dump();
  const Json& rel = find(tools, "name", "neighbors")->at("inputSchema")["properties"]["relations"]["items"];
  EXPECT_NE(std::find(rel["enum"].begin(), rel["enum"].end(), "cites"), rel["enum"].end()) << rel.dump();
  const Json& dir = find(tools, "name", "traverse")->at("inputSchema")["properties"]["direction"];
  EXPECT_EQ(dir["enum"], (Json{"out", "in", "both"}));
  EXPECT_EQ(dir["default"], "out");
}

TEST(CommandTable, OpenApiHasARoutePerHttpCommand) {
  const Json doc = commands::openApiDocument(runtime::Vocabulary());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::string> routes;
  for (const auto& cmd : commands::commandTable()) {
    if (!cmd.http) continue;
    SCOPED_TRACE(cmd.name);
    std::string method = cmd.http->method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(routes.insert(method + " " + cmd.http->path).second) << "two commands on one route";
    ASSERT_TRUE(doc["paths"].contains(cmd.http->path));
    const Json& op = doc["paths"][cmd.http->path][method];
    EXPECT_EQ(op["operationId"], cmd.name);
    // Every argument is a path or query parameter or a member of the body.
    std::set<std::string> names;
    for (const auto& p : op["parameters"]) names.insert(p["name"].get<std::string>());
    if (op.contains("requestBody"))
      for (auto it = op["requestBody"]["content"]["application/json"]["schema"]["properties"].begin();
           it != op["requestBody"]["content"]["application/json"]["schema"]["properties"].end(); ++it)
        names.insert(it.key());
    for (const auto& a : cmd.args)
      if (a.surfaces & commands::kHttp) { EXPECT_TRUE(names.contains(a.name)) << a.name; }
  }
  EXPECT_EQ(doc["paths"]["/v1/records/{id}"]["get"]["parameters"][0]["in"], "path");
}

// What an HTTP server needs to dispatch through the table: the command of a route with its
// path arguments, and query parameters read as the argument's type.
TEST(CommandTable, RoutesAndTextValuesForHttp) {
  Json pathArgs;
  const commands::Command* cmd = commands::matchRoute("GET", "/v1/records/0190a1b2/neighbors", pathArgs);
  ASSERT_NE(cmd, nullptr);
  EXPECT_EQ(cmd->name, "neighbors");
  EXPECT_EQ(pathArgs, (Json{{"id", "0190a1b2"}}));
  ASSERT_NE(commands::matchRoute("DELETE", "/v1/records/abc", pathArgs), nullptr);
  EXPECT_EQ(commands::matchRoute("DELETE", "/v1/records/abc", pathArgs)->name, "delete");
  EXPECT_EQ(commands::matchRoute("PUT", "/v1/records/abc", pathArgs), nullptr);
  EXPECT_EQ(commands::matchRoute("GET", "/v1/records/abc/nowhere", pathArgs), nullptr);

  const commands::Command& list = *commands::findCommand("list");
  auto arg = [&](const char* n) -> const commands::Arg& {
    for (const auto& a : list.args)
      if (a.name == n) return a;
    throw std::logic_error(n);
  };
  EXPECT_EQ(commands::valueFromText(list, arg("limit"), "25", commands::Naming::Json), 25);
  EXPECT_EQ(commands::valueFromText(list, arg("type"), "edges", commands::Naming::Json), "edges");
  try {
    commands::valueFromText(list, arg("limit"), "25x", commands::Naming::Cli);
    ADD_FAILURE() << "25x read as an integer";
  } catch (const commands::ArgumentError& e) {
    EXPECT_EQ(e.problem(), commands::Problem::Type);
    EXPECT_EQ(e.message(), "--limit must be an integer, not '25x'");
  }
  // Parsed text goes through the same check as JSON: defaults, aliases, bounds.
  Json args = commands::parseArguments(list, Json{{"type", "edges"}}, runtime::Vocabulary(), commands::Naming::Json, commands::kHttp);
  EXPECT_EQ(args, (Json{{"type", "edge"}, {"limit", 50}, {"offset", 0}}));
}

// Both surfaces on one SQLite file: the CLI in process (cli::run) and the MCP server.
class Surfaces : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("khive_surfaces_{}_{}", ::getpid(), counter_++);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "k.db").string();
    ASSERT_EQ(cli({"init"}).code, 0);
    rt_ = std::make_unique<runtime::Runtime>(runtime::openSqliteFile(db_, {}), runtime::RuntimeOptions{});
    server_ = std::make_unique<mcp::Server>(*rt_);
    a_ = rt_->createEntity({.kind = "concept", .name = "alpha"});
    b_ = rt_->createEntity({.kind = "concept", .name = "beta"});
    rt_->link({.source = a_.id, .target = b_.id, .relation = "extends", .weight = 0.5});
  }
  void TearDown() override {
    server_.reset();
    rt_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct Outcome {
    int code = 0;
    std::string out, err;
  };
  Outcome cli(std::vector<std::string> words) {
    words.insert(words.begin(), {"khive", "--json", "--db", db_});
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    Outcome o;
    o.code = cli::run(static_cast<int>(argv.size()), argv.data(), cli::FrontEnds{});
    o.out = ::testing::internal::GetCapturedStdout();
    o.err = ::testing::internal::GetCapturedStderr();
    return o;
  }
  Json mcp(const std::string& tool, const Json& args) {
    auto r = server_->handle(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"}, {"params", Json{{"name", tool}, {"arguments", args}}}});
    return r ? *r : Json();
  }
  // The error code a surface reports: the CLI's "[code]" and exit status, MCP's "(code)" of a
  // tool error, or invalid_input for an invalid-params protocol error.
  static std::string cliCode(const Outcome& o) {
    auto open = o.err.rfind('['), close = o.err.rfind(']');
    if (open == std::string::npos || close < open) return o.code == 2 ? "invalid_input" : "none";
    return o.err.substr(open + 1, close - open - 1);
  }
  static std::string mcpCode(const Json& r) {
    if (r.contains("error")) return r["error"]["code"] == -32602 ? "invalid_input" : "rpc";
    if (!r["result"]["isError"].get<bool>()) return "none";
    const std::string text = r["result"]["content"][0]["text"];
    auto open = text.rfind('(');
    return text.substr(open + 1, text.size() - open - 2);
  }
  void expectSameError(const std::vector<std::string>& words, const std::string& tool, const Json& args, const std::string& code) {
    SCOPED_TRACE(fmt::format("{} / {} {}", fmt::join(words, " "), tool, args.dump()));
    Outcome o = cli(words);
    Json r = mcp(tool, args);
    EXPECT_EQ(cliCode(o), code) << o.err;
    EXPECT_EQ(mcpCode(r), code) << r.dump();
    EXPECT_EQ(o.code, code == "invalid_input" ? 2 : code == "permission_denied" ? 3 : 1) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string db_;
  std::unique_ptr<runtime::Runtime> rt_;
  std::unique_ptr<mcp::Server> server_;
  Entity a_, b_;
};

TEST_F(Surfaces, TheSameBadInputIsTheSameErrorOnBoth) {
  const std::string a = a_.id.str(), b = b_.id.str();
  // An unknown direction is refused on both (it is not read as "both").
  expectSameError({"neighbors", a, "--direction", "sideways"}, "neighbors", {{"id", a}, {"direction", "sideways"}}, "invalid_input");
  expectSameError({"traverse", a, "--depth", "11"}, "traverse", {{"roots", {a}}, {"depth", 11}}, "invalid_input");
  expectSameError({"list", "--limit", "0"}, "list", {{"limit", 0}}, "invalid_input");
  expectSameError({"list", "widgets"}, "list", {{"type", "widgets"}}, "invalid_input");
  expectSameError({"search", "alpha", "--kind", "spaceship"}, "search", {{"text", "alpha"}, {"kinds", {"spaceship"}}}, "invalid_input");
  expectSameError({"neighbors", a, "-r", "no_such_relation"}, "neighbors", {{"id", a}, {"relations", {"no_such_relation"}}}, "invalid_input");
  expectSameError({"create", "entity", "-k", "spaceship", "-n", "x"}, "create_entity", {{"kind", "spaceship"}, {"name", "x"}}, "invalid_input");
  expectSameError({"link", a, "extends", b, "-w", "1.5"}, "link", {{"source", a}, {"relation", "extends"}, {"target", b}, {"weight", 1.5}}, "invalid_input");
  expectSameError({"create", "note", "-k", "observation", "-c", "x", "--status", "lost"}, "create_note",
                  {{"kind", "observation"}, {"content", "x"}, {"status", "lost"}}, "invalid_input");
  expectSameError({"create", "entity", "-k", "concept"}, "create_entity", {{"kind", "concept"}}, "invalid_input");
  expectSameError({"get", "00000000-0000-7000-8000-000000000000"}, "get", {{"id", "00000000-0000-7000-8000-000000000000"}}, "not_found");
  expectSameError({"delete", "00000000-0000-7000-8000-000000000000"}, "delete", {{"id", "00000000-0000-7000-8000-000000000000"}}, "not_found");
  // Nothing was written by any of them.
  EXPECT_EQ(rt_->stats().entities, 2);
  EXPECT_EQ(rt_->stats().notes, 0);
}

TEST_F(Surfaces, TheSameGoodInputGivesTheSameResult) {
  const std::string a = a_.id.str();
  auto same = [&](const std::vector<std::string>& words, const std::string& tool, const Json& args) {
    SCOPED_TRACE(tool);
    Outcome o = cli(words);
    ASSERT_EQ(o.code, 0) << o.err;
    Json r = mcp(tool, args);
    ASSERT_FALSE(r["result"]["isError"].get<bool>()) << r.dump();
    EXPECT_EQ(Json::parse(o.out), r["result"]["structuredContent"]);
  };
  // Aliases and defaults are applied once, for both.
  same({"list", "edges", "--limit", "5"}, "list", {{"type", "edges"}, {"limit", 5}});
  same({"list"}, "list", Json::object());
  same({"neighbors", a}, "neighbors", {{"id", a}});
  same({"traverse", a, "-r", "extends"}, "traverse", {{"roots", {a}}, {"relations", {"extends"}}});
  same({"query", "MATCH (x:concept) RETURN x.name", "--cap", "1"}, "query",
       {{"text", "MATCH (x:concept) RETURN x.name"}, {"cap", 1}});
  same({"stats"}, "stats", Json::object());
}

TEST_F(Surfaces, UpdatesAndDeletesOfNotesAreLoggedAsNotes) {
  Json note = mcp("create_note", {{"kind", "observation"}, {"content", "c"}})["result"]["structuredContent"];
  const std::string id = note["id"];
  ASSERT_EQ(cli({"update", id, "--content", "d"}).code, 0);
  ASSERT_EQ(mcp("delete", {{"id", id}})["result"]["isError"], false);
  auto events = rt_->list({.type = "event", .kinds = {"update", "delete"}});
  ASSERT_EQ(events.items.size(), 2u);
  for (const auto& e : events.items) EXPECT_EQ(std::get<Event>(e).substrate, Substrate::Note);
}

}  // namespace
