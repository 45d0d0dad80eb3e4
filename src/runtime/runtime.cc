#include "khive/runtime/runtime.h"

#include "khive/runtime/diagnostics.h"
#include "khive/runtime/import_sink.h"
#include "khive/runtime/indexing.h"
#include "khive/runtime/policy.h"
#include "runtime/audit_log.h"
#include "runtime/graph_reads.h"
#include "runtime/query_verbs.h"
#include "runtime/record_writes.h"

namespace khive::runtime {

std::string_view recordType(const Record& r) noexcept {
  switch (r.index()) {
    case 0: return "entity";
    case 1: return "note";
    case 2: return "edge";
    default: return "event";
  }
}

namespace {
// The backend's description, read once the backend's read budget is this runtime's [limits].
storage::BackendInfo budgetedInfo(storage::Backend& backend, const Limits& limits) {
  backend.setReadBudget({limits.timeBudget, limits.workBudget});
  return backend.info();
}
}  // namespace

// Members in construction order: each unit only refers to those above it.
struct Runtime::Units {
  Units(storage::Backend& backend, const RuntimeOptions& options)
      : policy(backend, options.config, options.writeNamespace),
        audit(backend, policy, options.sessionId),
        indexing(backend, budgetedInfo(backend, policy.limits()), policy, audit, options.config.engines),
        diagnostics(backend, policy, indexing, !options.hosted),
        writes(backend, policy, audit, indexing),
        reads(backend, policy),
        queries(backend, policy, indexing, options.config.fusion) {}

  Policy policy;
  AuditLog audit;
  Indexing indexing;
  Diagnostics diagnostics;
  RecordWrites writes;
  GraphReads reads;
  QueryVerbs queries;
};

Runtime::Runtime(std::unique_ptr<storage::Backend> backend, RuntimeOptions options)
    : Runtime(std::shared_ptr<storage::Backend>(std::move(backend)), std::move(options)) {}

Runtime::Runtime(std::shared_ptr<storage::Backend> backend, RuntimeOptions options)
    : backend_(std::move(backend)), units_(std::make_unique<Units>(*backend_, options)) {}

Runtime::~Runtime() = default;

const Vocabulary& Runtime::vocabulary() const noexcept { return units_->policy.vocabulary(); }
const std::string& Runtime::writeNamespace() const noexcept { return units_->policy.writeNamespace(); }
const std::vector<std::string>& Runtime::readNamespaces() const noexcept { return units_->policy.readNamespaces(); }
const Limits& Runtime::limits() const noexcept { return units_->policy.limits(); }

const Policy& Runtime::policy() const noexcept { return units_->policy; }
Indexing& Runtime::indexing() noexcept { return units_->indexing; }
Diagnostics& Runtime::diagnostics() noexcept { return units_->diagnostics; }
ImportSink Runtime::importSink() noexcept { return ImportSink(*backend_, units_->policy, units_->audit, units_->indexing); }
ExportSource Runtime::exportSource() noexcept { return ExportSource(*backend_, units_->policy, units_->indexing); }

Uuid Runtime::resolveId(std::string_view text) { return units_->policy.resolveId(text); }

Entity Runtime::createEntity(const EntityInput& in) { return units_->writes.createEntity(in); }
Note Runtime::createNote(const NoteInput& in) { return units_->writes.createNote(in); }
Record Runtime::update(const Uuid& id, const RecordPatch& patch) { return units_->writes.update(id, patch); }
Record Runtime::remove(const Uuid& id, bool hard) { return units_->writes.remove(id, hard); }
Entity Runtime::merge(const Uuid& loser, const Uuid& winner) { return units_->writes.merge(loser, winner); }
Edge Runtime::link(const LinkInput& in) { return units_->writes.link(in); }

std::optional<Record> Runtime::get(const Uuid& id) { return units_->reads.get(id); }
ListResult Runtime::list(const ListRequest& req) { return units_->reads.list(req); }
std::vector<NeighborRow> Runtime::neighbors(const Uuid& id, storage::Direction dir,
                                            const std::vector<std::string>& relations, std::int64_t limit) {
  return units_->reads.neighbors(id, dir, relations, limit);
}
std::vector<TraversePath> Runtime::traverse(const std::vector<Uuid>& roots, int maxDepth, storage::Direction dir,
                                            const std::vector<std::string>& relations, std::int64_t perRootLimit) {
  return units_->reads.traverse(roots, maxDepth, dir, relations, perRootLimit);
}
std::optional<PathResult> Runtime::path(const Uuid& from, const Uuid& to, int maxDepth, storage::Direction dir,
                                        const std::vector<std::string>& relations) {
  return units_->reads.path(from, to, maxDepth, dir, relations);
}
SearchResult Runtime::search(const SearchRequest& req) { return units_->queries.search(req); }
QueryResult Runtime::query(const QueryRequest& req) { return units_->queries.query(req); }

Stats Runtime::stats() { return units_->diagnostics.stats(); }
ReindexSummary Runtime::reindex(const ReindexRequest& req) { return units_->indexing.reindex(req); }
Json Runtime::doctor(bool probeEngines) { return units_->diagnostics.doctor(probeEngines); }

}  // namespace khive::runtime
