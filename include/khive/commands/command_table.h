#pragma once
// The command table: every verb of khive described once (name, help, arguments with types,
// enums, bounds and defaults, read-only flag, HTTP route, handler). The CLI subcommands
// (src/cli), the MCP tools (src/mcp) and the HTTP API are generated from it, and every
// surface validates arguments with parseArguments(), so a value is refused the same way
// everywhere. Adding a verb or an argument is one entry here (docs/architecture.md, "Adding a
// verb").
//
// A handler takes arguments parseArguments() has checked and completed (defaults filled in,
// aliases replaced by their canonical value) and returns the verb's JSON result; it is a thin
// call into runtime::Runtime, which applies the policy layer (read scope, grants, limits).
//
// The table is built once and immutable: thread-safe. Handlers are as thread-safe as the
// Runtime they are given.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/runtime/runtime.h"
#include "khive/runtime/vocabulary.h"

namespace khive::commands {

enum class ArgType {
  String,
  Integer,  // a JSON integer (int64)
  Number,   // any JSON number
  Boolean,
  StringList,
  Object,   // a JSON object
  Id,       // a record id or a unique prefix (a JSON string, resolved by the handler)
  IdList,
};

// Where an argument's allowed values come from: a fixed list, or the vocabulary in force
// (defaults plus [vocabulary]), which is why schemas are built for a Runtime's vocabulary.
enum class EnumSource { None, Fixed, EntityKinds, NoteKinds, NodeKinds /* entity and note kinds */, Relations };

struct EnumSpec {
  EnumSource source = EnumSource::None;
  std::vector<std::string> values;                            // Fixed
  std::vector<std::pair<std::string, std::string>> aliases;  // also accepted: spelling -> value
};

// How an argument is spelled on the command line.
struct CliSpelling {
  std::string names;     // CLI11 names, "--kind,-k"; a positional is a name without dashes, "id"
  std::string keyValue;  // Object: a repeatable key=value option merged over the JSON one ("--prop")
  bool onePerFlag = false;  // list: each occurrence is one value as typed ("[a,b]" stays one value)
  bool negated = false;     // Boolean: a flag that sets the argument to false ("--no-probe")
  bool words = false;       // String positional: all remaining words, and the words after `--`
};

// The surfaces a command or argument appears on.
enum Surface : unsigned { kCli = 1, kMcp = 2, kHttp = 4, kAllSurfaces = 7 };

struct Arg {
  std::string name;  // the JSON name: MCP argument, HTTP body member or query parameter
  ArgType type = ArgType::String;
  std::string help;
  bool required = false;  // a required list must hold at least one value
  Json defaultValue;      // null: none (the argument is absent unless given)
  std::optional<double> minimum, maximum;  // Integer and Number
  EnumSpec enumSpec;      // String and StringList (each item)
  CliSpelling cli;        // cli.names empty: not on the command line
  unsigned surfaces = kAllSurfaces;
  // Record content (a kind, a relation, a weight): the schema lists its enum and bounds, but
  // the verb checks the value, so that a refused write is logged as an error event like every
  // other refusal of the runtime's validation.
  bool checkedByVerb = false;
};

// The HTTP shape of a command: method and path template; {name} segments are arguments, the
// other arguments are query parameters (GET, DELETE) or members of the JSON body.
struct HttpRoute {
  std::string method;  // "GET", "POST", "PATCH", "DELETE"
  std::string path;    // "/v1/records/{id}"
  int status = 200;    // the HTTP status of success (201 for a verb that creates)
};

struct CallContext {
  // Long verbs (reindex) report progress through it; empty: no reports.
  std::function<void(const runtime::ReindexProgress&)> progress;
};

using Handler = std::function<Json(runtime::Runtime& rt, const Json& args, const CallContext& ctx)>;

struct Command {
  std::string name;                  // MCP tool name and the command's key: "create_entity"
  std::vector<std::string> cliPath;  // {"create", "entity"}
  std::string summary;               // one line: CLI help, MCP description
  std::string details;               // more help: CLI footer, appended to the MCP description
  bool readOnly = true;
  bool boundedRead = false;          // a read under the time budget: the CLI gives it --timeout-ms
  std::vector<Arg> args;
  std::optional<HttpRoute> http;
  unsigned surfaces = kAllSurfaces;
  // Null for the CLI-only commands the command line runs itself (import, export, db, mcp).
  Handler handler;
};

// Every command, in CLI help order.
const std::vector<Command>& commandTable();
// The command named `name`, or nullptr.
const Command* findCommand(std::string_view name);

// How messages name an argument: as a JSON argument of a tool ("argument 'limit' of tool
// 'list'") or as a command-line option ("--limit", positional "ID").
enum class Naming { Json, Cli };

// What is wrong with an argument. Unknown, Type and Enum (a fixed enum) are shape problems a
// schema-checking client would have caught (MCP answers them with invalid params, -32602);
// Required, Range and Vocabulary (a kind or relation the vocabulary lacks) are tool errors
// (MCP isError results the model can read). All are ErrorCode::InvalidInput.
enum class Problem { Unknown, Type, Enum, Required, Range, Vocabulary };
std::string_view problemName(Problem p) noexcept;

// A refused argument. Thread-compatible value type.
class ArgumentError : public Error {
 public:
  ArgumentError(Problem problem, std::string argument, std::string message, Json data);
  Problem problem() const noexcept { return problem_; }
  const std::string& argument() const noexcept { return argument_; }
  // {"argument", "problem", and "allowed" or "expected" when there is a list or a type}.
  const Json& data() const noexcept { return data_; }

 private:
  Problem problem_;
  std::string argument_;
  Json data_;
};

// Checks `args` (a JSON object) against the command: unknown members (and members of another
// surface), JSON types (null included: leave an optional argument out), enums, bounds, required
// arguments. Returns the arguments with defaults filled in and aliases replaced. Throws
// ArgumentError naming the argument as `naming` says. `surface` is the surface asking (kCli,
// kMcp or kHttp): an argument not on it is unknown. Thread-safe.
Json parseArguments(const Command& cmd, const Json& args, const runtime::Vocabulary& vocabulary, Naming naming,
                    Surface surface = kMcp);

// How messages of `naming` call an argument: "argument 'limit' of tool 'list'", "--limit", or
// for a positional "ID".
std::string argumentLabel(const Command& cmd, const Arg& arg, Naming naming);

// The JSON value of one scalar argument given as text (a CLI option, an HTTP query or path
// parameter): Integer and Number parsed whole ("12", "0.5"), Boolean "true"/"false", a string
// as it is. Throws ArgumentError (Problem::Type) naming the argument for text that is not of
// the argument's type. Lists are one call per item; objects are JSON text the surface parses.
Json valueFromText(const Command& cmd, const Arg& arg, const std::string& text, Naming naming);

// The command whose HTTP route is `method` + a path matching its template, or nullptr; sets
// `pathArgs` to the template's {name} segments as strings ("/v1/records/0190a1b2" ->
// {"id": "0190a1b2"}).
const Command* matchRoute(std::string_view method, std::string_view path, Json& pathArgs);

// The allowed values of an argument (or of its items), empty when it has no enum.
std::vector<std::string> allowedValues(const Arg& arg, const runtime::Vocabulary& vocabulary);

// The JSON Schema of a command's arguments on `surface` (MCP inputSchema; the HTTP request
// schema): "type": "object", "properties" (type, description, enum, minimum, maximum, default,
// "x-khive-vocabulary" naming the vocabulary list an enum comes from), "required",
// "additionalProperties": false.
Json inputSchema(const Command& cmd, const runtime::Vocabulary& vocabulary, Surface surface = kMcp);

// An OpenAPI 3.1 document of the commands with an HTTP route: path parameters from the route
// template, query parameters (GET, DELETE) or a JSON request body, the success status, the
// error responses ({"error": {...}}) and the bearer security scheme.
Json openApiDocument(const runtime::Vocabulary& vocabulary);

// Runs a command on `rt`: parseArguments(Naming::Json) then its handler. The one entry point
// for the request/response surfaces (MCP tools/call, HTTP). Throws ArgumentError for a bad
// argument, Error(NotFound) for an unknown command or one without a handler, and whatever the
// verb throws.
Json callCommand(runtime::Runtime& rt, std::string_view name, const Json& args, const CallContext& ctx = {},
                 Surface surface = kMcp);

}  // namespace khive::commands
