#pragma once
// The verbs of khive with all semantic validation in one place (docs/architecture.md):
// vocabulary, endpoint rules, weight and salience ranges, non-empty names, namespaces, the
// grant gate, and an event appended for every write verb. Every CLI command and MCP tool is
// a thin call into this class.
//
// The policy layer: every id lookup of every verb applies the read scope (readNamespaces());
// a record outside it is NotFound with the message a missing record gets. Every write is
// checked by checkGrant() in the namespace it changes (PermissionDenied). The event of a
// write verb goes to the namespace of the record it describes (docs/design-notes.md, "Namespaces, grants
// and the audit log").
//
// Thread-safe: holds the backend (thread-safe) and immutable settings.

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
  std::string engine, engineVersion, location;
  int schemaVersion = 0;
  std::vector<std::string> namespaces;
  std::int64_t entities = 0, notes = 0, edges = 0, events = 0, textDocuments = 0;
};

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

  storage::Backend& backend() noexcept { return *backend_; }
  const Vocabulary& vocabulary() const noexcept { return vocabulary_; }
  const std::string& writeNamespace() const noexcept { return writeNs_; }
  const std::vector<std::string>& readNamespaces() const noexcept { return readNs_; }
  const std::string& actor() const noexcept { return options_.config.actor.id; }
  // The [limits] of khive.toml: what validateEntity, validateNote, validateEdge, validateEvent
  // and import enforce.
  const Limits& limits() const noexcept { return options_.config.limits; }
  // True when the backend's text capability is supported (search documents are written).
  bool hasText() const noexcept { return hasText_; }
  const std::string& engine() const noexcept { return engine_; }

  // True when records of `ns` are visible to this runtime (ns is in readNamespaces()).
  bool inReadScope(std::string_view ns) const noexcept;

  // Resolves a full UUID or a unique prefix of >= 8 hex characters (hyphens optional) among
  // the entities, notes and edges of the read scope, then (when none matches) its events.
  // NotFound when nothing matches, InvalidInput when the prefix is too short or ambiguous (the
  // message names visible ids only). A full UUID is returned as given: the verb that uses it
  // applies the scope.
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

  // Embedding engines ([[engines]]). The default is the entry with `default = true`, else the
  // first; nullptr when none is configured. Engines are built on first use (a fastText model
  // is loaded then). InvalidInput for an unknown name, listing the configured ones.
  retrieval::EmbeddingEngine* defaultEngine();
  retrieval::EmbeddingEngine& embeddingEngine(std::string_view name);
  const std::vector<retrieval::EngineSpec>& engineSpecs() const noexcept { return options_.config.engines; }
  bool hasVectors() const noexcept { return hasVectors_; }

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

  // Summaries of many nodes (batched reads).
  std::vector<NodeSummary> summarize(const std::vector<Uuid>& ids);

  // Appends an event for a verb done outside this class (import), in namespace `ns` (empty:
  // the write namespace). Never throws Error for a failed append of an error-outcome event:
  // the original error matters more.
  void recordEvent(std::string_view verb, Substrate substrate, std::string_view kind, Outcome outcome, Json payload,
                   std::chrono::steady_clock::duration took, std::optional<Uuid> target = std::nullopt,
                   std::string_view ns = {});

  // Validation used by the verbs and by import (throw Error(InvalidInput)): vocabulary and
  // ranges, and every text field and JSON value against limits() (UTF-8 without NUL, sizes,
  // nesting), naming the field and the [limits] key.
  void validateEntity(const Entity& e) const;
  void validateNote(const Note& n) const;
  // An imported event's fields (events the verbs append are khive's own).
  void validateEvent(const Event& e) const;
  // Endpoint rules need the substrate of each endpoint ("entity" or "note").
  void validateEdge(const Edge& e, std::string_view sourceType, std::string_view targetType) const;
  // The substrate of a live entity or note of the read scope, or "" when there is none.
  std::string substrateOf(const Uuid& id);
  // The write rule. Without [[grants]] a write is allowed in the namespaces of the read scope;
  // with grants, one must match (actor, verb, namespace). Otherwise throws
  // Error(PermissionDenied) naming the actor, the verb and the namespace.
  void checkGrant(std::string_view verb, std::string_view ns) const;
  void indexText(const Entity& e);
  void indexText(const Note& n);

 private:
  // Where a write verb's event goes when it fails: the write namespace, until the verb finds
  // the record it is about in the read scope and sets it (with the record's substrate).
  struct AuditTarget {
    Substrate substrate;
    std::string ns;
  };
  template <class F>
  auto write(std::string_view verb, AuditTarget& target, std::string_view kind, F&& body);
  // NotFound ("no live entity or note") unless every id is a live entity or note in the read scope.
  void requireVisibleNodes(std::string_view op, const std::vector<Uuid>& ids);
  // The namespace of a stored edge, soft-deleted ones included (getEdge returns live ones).
  std::optional<std::string> storedEdgeNamespace(const Uuid& id);

  std::shared_ptr<storage::Backend> backend_;
  RuntimeOptions options_;
  Vocabulary vocabulary_;
  std::string writeNs_;
  std::vector<std::string> readNs_;
  bool hasText_ = false;
  bool hasVectors_ = false;
  std::string engine_;
  std::mutex enginesMu_;
  std::map<std::string, std::unique_ptr<retrieval::EmbeddingEngine>, std::less<>> engines_;  // guarded by enginesMu_

  // The vector to store for a record on write, or nullopt (no engine, embed_on_write off,
  // no vector capability, or a zero vector).
  std::optional<std::vector<float>> vectorForWrite(const std::string& text);
  void storeVector(const Uuid& id, const std::string& ns, const std::string& kind, const Json& properties,
                   std::vector<float> values);
  // What to tell the user when the store holds vectors under `engine`'s name whose dimension
  // is not `dims` (the model behind the name changed), or nullopt when they agree.
  std::optional<std::string> storedDimensionClash(const std::string& engine, int dims);
};

// The text khive embeds for a record: the name, then a newline and the description (entity)
// or content (note). A note without a name embeds its content alone.
std::string embeddingText(const Entity& e);
std::string embeddingText(const Note& n);

// Namespaces are 1..64 characters of [A-Za-z0-9_.:-]. Throws Error(InvalidInput).
void checkNamespace(std::string_view ns);

}  // namespace khive::runtime
