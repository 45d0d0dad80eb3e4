// Every MCP tool refuses an argument its schema does not declare, a value of the wrong JSON type
// and a number or list past the bounds it declares with a JSON-RPC invalid-params error
// (-32602), and does nothing: no record, no event.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>

#include "khive/mcp/server.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/codec.h"

using namespace khive;

namespace {

class ServerArguments : public ::testing::Test {
 protected:
  void SetUp() override {
    rt_ = std::make_unique<runtime::Runtime>(runtime::openBackendUrl("sqlite::memory:", {"*"}),
                                             runtime::RuntimeOptions{});
    server_ = std::make_unique<mcp::Server>(*rt_);
    a_ = rt_->createEntity({.kind = "concept", .name = "a"});
    b_ = rt_->createEntity({.kind = "concept", .name = "b"});
    rt_->link({.source = a_.id, .target = b_.id, .relation = "extends"});
  }

  Json call(const std::string& tool, const Json& args) {
    auto r = server_->handle(Json{{"jsonrpc", "2.0"},
                                  {"id", ++id_},
                                  {"method", "tools/call"},
                                  {"params", Json{{"name", tool}, {"arguments", args}}}});
    EXPECT_TRUE(r.has_value());
    return r ? *r : Json();
  }

  // Valid values for a tool's required arguments.
  Json required(const Json& tool) {
    Json args = Json::object();
    const Json& schema = tool["inputSchema"];
    for (const auto& name : schema.value("required", Json::array())) {
      const std::string n = name.get<std::string>();
      if (n == "kind")
        args[n] = tool["name"] == "create_note" ? "observation" : "concept";
      else if (n == "roots")
        args[n] = Json::array({a_.id.str()});
      else if (n == "relation")
        args[n] = "depends_on";
      else if (n == "text")
        args[n] = tool["name"] == "query" ? "MATCH (a:concept) RETURN a.name" : "a";
      else if (n == "from" || n == "source" || n == "id")
        args[n] = a_.id.str();
      else if (n == "into" || n == "to" || n == "target")
        args[n] = b_.id.str();
      else
        args[n] = "x";
    }
    return args;
  }

  // Everything a tool could have changed: the row counts and the event log.
  std::string state() {
    auto s = rt_->stats();
    auto live = rt_->get(a_.id);
    return fmt::format("{}/{}/{}/{}/{}", s.entities, s.notes, s.edges, s.events,
                       live ? runtime::toJson(*live).dump() : "gone");
  }

  void expectRefused(const std::string& tool, const Json& args, const std::string& argument) {
    const std::string before = state();
    Json r = call(tool, args);
    ASSERT_TRUE(r.contains("error")) << tool << " " << args.dump() << " -> " << r.dump();
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
    const std::string message = r["error"]["message"].get<std::string>();
    EXPECT_NE(message.find("'" + argument + "'"), std::string::npos) << message;
    EXPECT_EQ(r["error"]["data"]["argument"], argument) << r.dump();
    EXPECT_EQ(state(), before) << tool << " " << args.dump() << " changed the store";
  }

  std::unique_ptr<runtime::Runtime> rt_;
  std::unique_ptr<mcp::Server> server_;
  Entity a_, b_;
  int id_ = 0;
};

TEST_F(ServerArguments, DeleteWithAMisspelledFlagDeletesNothing) {
  expectRefused("delete", Json{{"id", a_.id.str()}, {"hrad", true}}, "hrad");
  Json r = call("delete", Json{{"id", a_.id.str()}, {"hrad", true}});
  const std::string message = r["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("hard, id"), std::string::npos) << "lists the allowed arguments: " << message;
  EXPECT_EQ(r["error"]["data"]["allowed"], (Json{"hard", "id"}));
  ASSERT_TRUE(rt_->get(a_.id));
  EXPECT_FALSE(std::get<Entity>(*rt_->get(a_.id)).deletedAt);
  // A flag of the wrong type is refused too, not read as false.
  expectRefused("delete", Json{{"id", a_.id.str()}, {"hard", "yes"}}, "hard");
}

TEST_F(ServerArguments, EveryToolRefusesUnknownArguments) {
  for (const auto& tool : mcp::Server::tools()) {
    Json args = required(tool);
    args["bogus_argument"] = true;
    expectRefused(tool["name"], args, "bogus_argument");
  }
}

TEST_F(ServerArguments, EveryToolRefusesArgumentsOfTheWrongType) {
  for (const auto& tool : mcp::Server::tools()) {
    const Json& props = tool["inputSchema"]["properties"];
    for (auto it = props.begin(); it != props.end(); ++it) {
      const std::string type = it.value()["type"].get<std::string>();
      std::vector<Json> wrong = {nullptr};
      if (type == "string") wrong.insert(wrong.end(), {42, true, Json::array({"x"}), Json::object()});
      if (type == "number") wrong.insert(wrong.end(), {"0.5", true, Json::array({0.5})});
      if (type == "integer") wrong.insert(wrong.end(), {"5", 1.5, false});
      if (type == "boolean") wrong.insert(wrong.end(), {"yes", 1, "false"});
      if (type == "array") wrong.insert(wrong.end(), {"x", Json::array({1}), Json::array({nullptr})});
      if (type == "object") wrong.insert(wrong.end(), {"{}", Json::array(), 3});
      if (it.value().contains("enum")) wrong.push_back("not-a-member");
      for (const auto& value : wrong) {
        Json args = required(tool);
        args[it.key()] = value;
        expectRefused(tool["name"], args, it.key());
      }
    }
  }
}

// Every numeric argument declares its bounds (khive/runtime/bounds.h) and the server refuses a
// value past either with -32602, also one past the range of int64; the bounds themselves and
// the declared default are accepted. Every list argument declares maxItems and one more value
// is refused.
TEST_F(ServerArguments, EveryToolEnforcesTheBoundsItDeclares) {
  int bounded = 0;
  for (const auto& tool : mcp::Server::tools()) {
    const Json& props = tool["inputSchema"]["properties"];
    for (auto it = props.begin(); it != props.end(); ++it) {
      const Json& p = it.value();
      const std::string type = p["type"].get<std::string>();
      if (type == "integer" || type == "number") {
        ASSERT_TRUE(p.contains("minimum") && p.contains("maximum")) << tool["name"] << "." << it.key() << " has no bounds";
        ++bounded;
        const double step = type == "integer" ? 1 : 0.5;
        for (const Json& value : {Json(p["minimum"].get<double>() - step), Json(p["maximum"].get<double>() + step)}) {
          Json args = required(tool);
          args[it.key()] = type == "integer" ? Json(value.get<std::int64_t>()) : value;
          expectRefused(tool["name"], args, it.key());
        }
        if (type == "integer") {
          Json args = required(tool);
          args[it.key()] = Json(std::numeric_limits<std::uint64_t>::max());
          expectRefused(tool["name"], args, it.key());
          EXPECT_TRUE(p.contains("default")) << tool["name"] << "." << it.key();
        }
      }
      if (type == "array") {
        if (it.key() == "tags") {  // bounded by [limits] max_tags, checked by the runtime
          EXPECT_FALSE(p.contains("maxItems"));
          continue;
        }
        ASSERT_TRUE(p.contains("maxItems")) << tool["name"] << "." << it.key();
        Json args = required(tool);
        args[it.key()] = Json(std::vector<std::string>(p["maxItems"].get<std::size_t>() + 1, "x"));
        expectRefused(tool["name"], args, it.key());
      }
    }
  }
  EXPECT_GE(bounded, 12);
  // At the bounds: answered.
  for (const auto& [tool, args] : std::vector<std::pair<std::string, Json>>{
           {"list", Json{{"limit", 10000}, {"offset", 1000000000}}},
           {"list", Json{{"limit", 1}, {"offset", 0}}},
           {"neighbors", Json{{"id", a_.id.str()}, {"limit", 10000}}},
           {"traverse", Json{{"roots", Json::array({a_.id.str()})}, {"depth", 10}, {"limit", 100000}}},
           {"path", Json{{"from", a_.id.str()}, {"to", b_.id.str()}, {"depth", 1}}},
           {"search", Json{{"text", "a"}, {"limit", 1000}}},
           {"query", Json{{"text", "MATCH (a:concept) RETURN a.name"}, {"cap", 10000}}}}) {
    Json r = call(tool, args);
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  }
}

TEST_F(ServerArguments, DeclaredArgumentsStillWork) {
  Json r =
      call("search", Json{{"text", "a"}, {"limit", 5}, {"scope", "entities"}, {"kinds", Json::array({"concept"})}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  r = call("delete", Json{{"id", a_.id.str()}, {"hard", false}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  // A missing required argument stays a tool error the model can read.
  r = call("create_entity", Json{{"kind", "concept"}});
  EXPECT_EQ(r["result"]["isError"], true) << r.dump();
}

}  // namespace
