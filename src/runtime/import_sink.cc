#include "khive/runtime/import_sink.h"

#include "khive/runtime/indexing.h"
#include "khive/runtime/policy.h"
#include "runtime/audit_log.h"

namespace khive::runtime {

namespace {
void fillNamespace(std::string& ns, const std::string& writeNs) {
  if (ns.empty()) ns = writeNs;
}
}  // namespace

const std::string& ImportSink::writeNamespace() const noexcept { return policy_.writeNamespace(); }
const Limits& ImportSink::limits() const noexcept { return policy_.limits(); }
bool ImportSink::hasText() const noexcept { return indexing_.hasText(); }

void ImportSink::checkGrant(std::string_view ns) const { policy_.checkGrant("import", ns); }

void ImportSink::admit(Entity& e) const {
  fillNamespace(e.ns, policy_.writeNamespace());
  policy_.validateEntity(e);
  checkGrant(e.ns);
}

void ImportSink::admit(Note& n) const {
  fillNamespace(n.ns, policy_.writeNamespace());
  policy_.validateNote(n);
  checkGrant(n.ns);
}

void ImportSink::admit(Event& e) const {
  fillNamespace(e.ns, policy_.writeNamespace());
  policy_.validateEvent(e);
  checkGrant(e.ns);  // no line writes another namespace's audit log
}

void ImportSink::admit(Edge& e, std::string_view sourceType, std::string_view targetType) const {
  fillNamespace(e.ns, policy_.writeNamespace());
  policy_.validateEdge(e, sourceType, targetType);
  checkGrant(e.ns);
}

std::string ImportSink::substrateOf(const Uuid& id) const { return policy_.substrateOf(id); }

bool ImportSink::hasVectors() const noexcept { return indexing_.hasVectors(); }
const std::vector<retrieval::EngineSpec>& ImportSink::engineSpecs() const noexcept { return indexing_.engineSpecs(); }
int ImportSink::engineDimension(std::string_view name) const { return indexing_.embeddingEngine(name).dimension(); }
const std::string& ImportSink::backendName() const noexcept { return indexing_.backendName(); }

void ImportSink::recordImport(std::string_view kind, Outcome outcome, Json payload,
                              std::chrono::steady_clock::duration took) const {
  audit_.record("import", Substrate::Entity, kind, outcome, std::move(payload), took);
}

const std::vector<std::string>& ExportSource::namespaces() const noexcept { return policy_.readNamespaces(); }
bool ExportSource::hasVectors() const noexcept { return indexing_.hasVectors(); }

}  // namespace khive::runtime
