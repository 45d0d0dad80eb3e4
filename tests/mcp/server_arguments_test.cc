// Every MCP tool refuses an argument its schema does not declare and a value of the wrong JSON
// type with a JSON-RPC invalid-params error (-32602), and does nothing: no record, no event.
#include <fmt/format.h>
#include <gtest/gtest.h>

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

  // The records alone (a refused write appends an error event).
  std::string records() {
    auto s = rt_->stats();
    auto live = rt_->get(a_.id);
    return fmt::format("{}/{}/{}/{}", s.entities, s.notes, s.edges, live ? runtime::toJson(*live).dump() : "gone");
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
      // A fixed enum is part of the shape; a vocabulary word is checked below.
      if (it.value().contains("enum") && !it.value().contains("x-khive-vocabulary")) wrong.push_back("not-a-member");
      for (const auto& value : wrong) {
        Json args = required(tool);
        args[it.key()] = value;
        expectRefused(tool["name"], args, it.key());
      }
    }
  }
}

// The schemas carry the vocabulary in force as enums; a word outside it is a tool error that
// lists the known words (the model reads it), and no record changes (a refused write is logged).
TEST_F(ServerArguments, VocabularyEnumsAreListedAndAWordOutsideThemIsAToolError) {
  int checked = 0;
  for (const auto& tool : server_->tools(rt_->vocabulary())) {
    const Json& props = tool["inputSchema"]["properties"];
    for (auto it = props.begin(); it != props.end(); ++it) {
      const Json& p = it.value();
      const Json& e = p["type"] == "array" ? p["items"] : p;
      if (!e.contains("x-khive-vocabulary")) continue;
      ASSERT_TRUE(e.contains("enum")) << tool["name"] << "." << it.key();
      EXPECT_FALSE(e["enum"].empty());
      Json args = required(tool);
      args[it.key()] = p["type"] == "array" ? Json::array({"not-a-word"}) : Json("not-a-word");
      const std::string before = records();
      Json r = call(tool["name"], args);
      ASSERT_TRUE(r.contains("result")) << r.dump();
      EXPECT_EQ(r["result"]["isError"], true) << r.dump();
      const std::string text = r["result"]["content"][0]["text"].get<std::string>();
      EXPECT_NE(text.find("'not-a-word'"), std::string::npos) << text;
      EXPECT_NE(text.find("(invalid_input)"), std::string::npos) << text;
      EXPECT_EQ(records(), before) << tool["name"] << "." << it.key();
      ++checked;
    }
  }
  EXPECT_GE(checked, 8) << "kinds of create_entity, create_note, update, search; relations of link, neighbors, traverse, path";
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
