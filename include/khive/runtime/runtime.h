#pragma once
// The verbs of khive: every command-table handler is a thin call into this class. Runtime is a
// facade over units with one responsibility each (docs/architecture.md, "The runtime"):
//
//   Policy       read scope, grants, validation, id lookups scoped to the caller (policy.h)
//   AuditLog     the event of every write verb and the unit of work it commits in
//   Indexing     text documents and vectors of records, embedding engines, reindex (indexing.h)
//   Diagnostics  stats, doctor, db check (diagnostics.h)
//   the verb families: record writes, graph reads, search and query (src/runtime)
//
// The policy layer: every id lookup of every verb applies the read scope (readNamespaces());
// a record outside it is NotFound with the message a missing record gets. Every write is
// checked by Policy::checkGrant() in the namespace it changes (PermissionDenied). The event of
// a write verb goes to the namespace of the record it describes (docs/design-notes.md,
// "Namespaces, grants and the audit log").
//
// Thread-safe: holds the backend (thread-safe) and units that are thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "khive/core/records.h"
#include "khive/retrieval/embedding.h"
#include "khive/retrieval/hybrid_search.h"
#include "khive/runtime/config.h"
#include "khive/runtime/vocabulary.h"
#include "khive/storage/backend.h"

namespace khive::runtime {

struct RuntimeOptions {
  Config config;
  // Write namespace; nullopt = [actor].namespace. It is always part of the read scope.
  std::optional<std::string> writeNamespace;
  std::optional<std::string> sessionId;  // recorded on events (MCP session)
  // A runtime of `khive serve`: stats, doctor and db check leave out the store's location (a
  // file path or database URL of the server, which a token holder has no use for).
  bool hosted = false;
};

struct EntityInput {
  std::optional<Uuid> id;  // nullopt: a new v7 id
  std::string kind;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> entityType;
  Json properties = Json::object();
  std::vector<std::string> tags;
};

struct NoteInput {
  std::optional<Uuid> id;
  std::string kind;
  std::string content;
  std::optional<std::string> name;
  std::optional<double> salience;
  std::optional<double> decayFactor;
  std::optional<Micros> expiresAt;
  NoteStatus status = NoteStatus::Active;
  Json properties = Json::object();
};

// Fields left nullopt are unchanged. properties are merged key by key (a null value removes
// the key); tags replace the list.
struct RecordPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> kind;
  std::optional<std::string> entityType;
  std::optional<std::string> content;
  std::optional<double> salience;
  std::optional<NoteStatus> status;
  std::optional<Json> properties;
  std::optional<std::vector<std::string>> tags;
};

struct LinkInput {
  Uuid source;
  Uuid target;
  std::string relation;
  double weight = 1.0;
  Json metadata = Json::object();
};

using Record = std::variant<Entity, Note, Edge, Event>;
std::string_view recordType(const Record& r) noexcept;  // "entity", "note", "edge", "event"

struct ListRequest {
  std::string type = "entity";  // "entity", "note", "edge", "event"
  std::vector<std::string> kinds;      // entity/note kinds, edge relations, event verbs
  std::optional<std::string> namePrefix;
  std::vector<std::string> tags;
  std::int64_t offset = 0;
  std::int64_t limit = 50;
};
struct ListResult {
  std::vector<Record> items;
  std::optional<std::int64_t> nextOffset;
};

// A node of a walk result with what a person needs to read it.
struct NodeSummary {
  Uuid id;
  std::string type;  // "entity", "note", or "missing" (outside the read scope)
  std::string kind;
  std::string name;
};

struct NeighborRow {
  NodeSummary node;
  storage::Neighbor edge;
};

struct TraverseNodeRow {
  NodeSummary node;
  int depth = 0;
  std::optional<Uuid> viaEdge;
  std::optional<Uuid> parentId;
};
struct TraversePath {
  Uuid rootId;
  std::vector<TraverseNodeRow> nodes;
  bool truncated = false;
};

struct PathResult {
  std::vector<NodeSummary> nodes;
  std::vector<Edge> edges;
};

struct SearchRequest {
  std::string text;
  std::vector<std::string> kinds;
  retrieval::Scope scope = retrieval::Scope::Mixed;
  std::int64_t topK = 10;
};
struct SearchResult {
  std::vector<retrieval::HybridHit> hits;
  std::string mode;  // "hybrid" (text + vector) or "text"
  std::optional<std::string> engine;  // the embedding engine that embedded the query
  // Why the search is text-only (no engine configured, the engine failed, no vector
  // capability, the stored vectors of the engine have another dimension than it gives now),
  // or that the engine has no vectors stored yet; nullopt when nothing to say.
  std::optional<std::string> notice;
};

struct ReindexProgress {
  std::int64_t done = 0;   // records embedded so far
  std::int64_t total = 0;  // live entities + notes in scope when the run started
};
struct ReindexRequest {
  std::optional<std::string> engine;    // nullopt = the default engine
  std::vector<std::string> namespaces;  // empty = the read scope; each must be in it
  std::int64_t batchSize = 256;         // records read, embedded and written per step
  std::function<void(const ReindexProgress&)> progress;
};
struct ReindexSummary {
  std::string engine;
  int dimensions = 0;
  std::int64_t entities = 0, notes = 0;
  std::int64_t skipped = 0;  // records whose text embedded to a zero vector (nothing to compare)
  double seconds = 0;
};

struct QueryRequest {
  std::string text;
  std::optional<std::string> language;  // "gql", "sparql"; nullopt = detected
  std::int64_t rowCap = 500;
  Json parameters = Json::object();
  bool explain = false;  // compile and plan only: QueryResult::explain, no rows
};
// The compiled statement of a query, its bound values and the engine's plan of it (EXPLAIN QUERY
// PLAN / EXPLAIN, which do not run the statement).
struct QueryExplain {
  std::string sql;
  std::vector<Json> parameters;  // parameters[i] binds placeholder i+1
  std::vector<std::string> plan;
};
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Json>> rows;
  bool truncated = false;
  std::string language;
  std::optional<QueryExplain> explain;
};

struct Stats {
  std::string engine, engineVersion;
  std::optional<std::string> location;  // absent for a hosted runtime
  int schemaVersion = 0;
  std::vector<std::string> namespaces;
  std::int64_t entities = 0, notes = 0, edges = 0, events = 0, textDocuments = 0;
};

class AuditLog;
class Diagnostics;
class ImportSink;
class ExportSource;
class Indexing;
class Policy;

class Runtime {
 public:
  // Owns the backend. Throws Error(InvalidInput) for a bad namespace or vocabulary.
  Runtime(std::unique_ptr<storage::Backend> backend, RuntimeOptions options);
  // Shares the backend with other runtimes: one per caller (actor, scope and grants) over one
  // store, as `khive serve` builds for each token. Sets the backend's read budget to this
  // runtime's [limits], as the owning constructor does.
  Runtime(std::shared_ptr<storage::Backend> backend, RuntimeOptions options);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  storage::Backend& backend() noexcept { return *backend_; }
  const Vocabulary& vocabulary() const noexcept;
  const std::string& writeNamespace() const noexcept;
  const std::vector<std::string>& readNamespaces() const noexcept;
  // The [limits] of khive.toml: what the verbs and import enforce.
  const Limits& limits() const noexcept;

  // The units the verbs are made of (docs/architecture.md, "The runtime"): the caller's policy
  // (read scope, grants, validation, scoped lookups), the indexing of text and vectors, and
  // the diagnostics. Each lives as long as this runtime.
  const Policy& policy() const noexcept;
  Indexing& indexing() noexcept;
  Diagnostics& diagnostics() noexcept;
  // What bulk import and export may reach (khive/runtime/import_sink.h).
  ImportSink importSink() noexcept;
  ExportSource exportSource() noexcept;

  // Resolves a full UUID or a unique prefix of >= 8 hex characters among the ids of the read
  // scope (Policy::resolveId).
  Uuid resolveId(std::string_view text);

  // Write verbs. Each appends an event (success, denied or error outcome) in the namespace of
  // the record it describes; an event about a record that is not found (or is outside the read
  // scope) goes to the write namespace. A write outside the caller's grants (checkGrant) is
  // Error(PermissionDenied) and writes nothing but its "denied" event. create writes in the
  // write namespace; update and delete need the grant in the record's namespace; merge needs
  // "merge" in both entities' namespaces and in that of every edge it moves; link writes the
  // edge in the write namespace, needs both endpoints in the read scope (else NotFound) and
  // "link" in the write namespace and in each endpoint's namespace.
  Entity createEntity(const EntityInput& in);
  Note createNote(const NoteInput& in);
  Record update(const Uuid& id, const RecordPatch& patch);
  // NotFound when there is no such live record (or, with hard, no such record at all).
  Record remove(const Uuid& id, bool hard);
  // Moves loser's edges to winner, unions tags, merges properties (winner wins on conflict),
  // soft-deletes loser with merged_into. Returns the updated winner.
  Entity merge(const Uuid& loser, const Uuid& winner);
  Edge link(const LinkInput& in);

  // Read verbs. A record, root or endpoint outside the read scope is treated as missing: get
  // returns nullopt, neighbors, traverse and path throw NotFound ("no live entity or note").
  std::optional<Record> get(const Uuid& id);
  ListResult list(const ListRequest& req);
  std::vector<NeighborRow> neighbors(const Uuid& id, storage::Direction dir, const std::vector<std::string>& relations,
                                     std::int64_t limit);
  std::vector<TraversePath> traverse(const std::vector<Uuid>& roots, int maxDepth, storage::Direction dir,
                                     const std::vector<std::string>& relations, std::int64_t perRootLimit);
  std::optional<PathResult> path(const Uuid& from, const Uuid& to, int maxDepth, storage::Direction dir,
                                 const std::vector<std::string>& relations);
  SearchResult search(const SearchRequest& req);
  QueryResult query(const QueryRequest& req);
  Stats stats();

  // (Re)embeds every live entity and note in scope with one engine, in batches, replacing
  // each record's vector for that engine (a rerun replaces, never duplicates). The engine is
  // asked for its dimension before anything is written, so an engine that is down fails with
  // nothing written; a failure later leaves the batches before it written (rerun to finish).
  // Appends one "reindex" event. InvalidInput when no engine is configured; Unsupported when
  // the backend has no vector capability.
  ReindexSummary reindex(const ReindexRequest& req);

  // What `khive doctor` reports: backend, versions, schema, extensions, index state (text
  // documents and vectors against live records) and each engine's state. probeEngines asks
  // each engine for one vector (HTTP: at most 3 s; fastText: loads the model). Never throws
  // for an engine or extension problem: those are reported in "problems".
  Json doctor(bool probeEngines = true);

 private:
  struct Units;  // the policy, audit log, indexing, diagnostics and verb families (runtime.cc)

  // Constant after construction.
  std::shared_ptr<storage::Backend> backend_;
  std::unique_ptr<Units> units_;
};

// The text khive embeds for a record: the name, then a newline and the description (entity)
// or content (note). A note without a name embeds its content alone.
std::string embeddingText(const Entity& e);
std::string embeddingText(const Note& n);

// Namespaces are 1..64 characters of [A-Za-z0-9_.:-]. Throws Error(InvalidInput).
void checkNamespace(std::string_view ns);

}  // namespace khive::runtime
