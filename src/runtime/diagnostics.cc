#include "khive/runtime/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "khive/core/error.h"
#include "khive/runtime/indexing.h"
#include "khive/runtime/policy.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

std::vector<std::string> Diagnostics::consistency() {
  std::vector<std::string> problems;
  if (!indexing_.hasText()) return problems;
  auto reader = backend_.sql().reader();
  for (auto [table, what] : {std::pair{"entities", "entities"}, std::pair{"notes", "notes"}}) {
    // The same SQL on both engines; subject_id is indexed on both, so this is one probe per
    // live record.
    const std::string sql = fmt::format(
        "SELECT count(*), min(CAST(r.id AS TEXT)) FROM {} AS r WHERE r.deleted_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM text_documents AS d WHERE d.subject_id = r.id)",
        table);
    auto row = reader->queryRow(sql);
    const std::int64_t missing = row ? storage::asInt((*row)[0]) : 0;
    if (missing == 0) continue;
    problems.push_back(fmt::format(
        "{} live {} have no text document (e.g. {}), so search cannot find them: rerun the import that wrote "
        "them (a rerun rewrites each record with its document) or update each record",
        missing, what, storage::asText((*row)[1])));
  }
  return problems;
}

Stats Diagnostics::stats() {
  auto info = backend_.info();
  Stats s;
  s.engine = info.engine;
  s.engineVersion = info.engineVersion;
  if (showLocation_) s.location = info.location;
  s.schemaVersion = info.schemaVersion;
  const auto& readNs = policy_.readNamespaces();
  s.namespaces = readNs;
  s.entities = backend_.entities().countEntities({.namespaces = readNs});
  s.notes = backend_.notes().countNotes({.namespaces = readNs});
  s.edges = backend_.graph().countEdges({.namespaces = readNs});
  s.events = backend_.events().countEvents({.namespaces = readNs});
  if (indexing_.hasText()) s.textDocuments = backend_.text().countDocuments(readNs);
  return s;
}

Json Diagnostics::check() {
  auto info = backend_.info();
  const int expected = info.buildSchemaVersion;
  std::vector<std::string> problems;
  if (info.schemaVersion != expected)
    problems.push_back(fmt::format("schema v{} but this build writes v{}", info.schemaVersion, expected));
  const std::string integrity = backend_.integrityCheck();
  if (integrity != "ok") problems.push_back("integrity_check: " + integrity);
  for (auto& p : consistency()) problems.push_back(std::move(p));
  Json out{{"engine", info.engine},  {"schema_version", info.schemaVersion}, {"integrity", integrity},
           {"ok", problems.empty()}, {"problems", problems}};
  if (showLocation_) out["location"] = info.location;
  return out;
}

// ---- doctor ----------------------------------------------------------------------------

namespace {

// Stale vectors: the first few live records (entities, then notes) are embedded again and
// compared with their stored vectors of the engine. A vector whose cosine with today's is below
// 0.999 was written by another model, by the same word file with other SIF parameters, or for
// an older text of the record (embed_on_write off); a deterministic engine gives the same
// vector for the same text. Returns {compared, differing}.
std::pair<int, int> sampleStaleVectors(storage::Backend& backend, retrieval::EmbeddingEngine& engine,
                                       const std::vector<std::string>& namespaces) {
  constexpr std::int64_t kSample = 8;
  std::vector<Uuid> ids;
  std::vector<std::string> texts;
  for (const auto& e : backend.entities().queryEntities({.namespaces = namespaces}, {.limit = kSample}).items) {
    ids.push_back(e.id);
    texts.push_back(embeddingText(e));
  }
  const auto left = kSample - static_cast<std::int64_t>(ids.size());
  if (left > 0)
    for (const auto& n : backend.notes().queryNotes({.namespaces = namespaces}, {.limit = left}).items) {
      ids.push_back(n.id);
      texts.push_back(embeddingText(n));
    }
  std::map<Uuid, std::vector<float>> stored;
  for (auto& v : backend.vectors().vectorsOf(ids))
    if (v.model == engine.name() && v.field == "text") stored[v.subjectId] = std::move(v.values);
  std::vector<std::string> wanted;
  std::vector<const std::vector<float>*> old;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (auto it = stored.find(ids[i]); it != stored.end()) {
      wanted.push_back(texts[i]);
      old.push_back(&it->second);
    }
  if (wanted.empty()) return {0, 0};
  const auto now = engine.embed(wanted);
  int differ = 0;
  for (std::size_t i = 0; i < now.size(); ++i) {
    const auto& a = now[i];
    const auto& b = *old[i];
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t j = 0; j < std::min(a.size(), b.size()); ++j) {
      ab += static_cast<double>(a[j]) * b[j];
      aa += static_cast<double>(a[j]) * a[j];
      bb += static_cast<double>(b[j]) * b[j];
    }
    if (a.size() != b.size() || !(aa > 0 && bb > 0) || ab / std::sqrt(aa * bb) < 0.999) ++differ;
  }
  return {static_cast<int>(now.size()), differ};
}

}  // namespace

Json Diagnostics::doctor(bool probeEngines) {
  const auto& readNs = policy_.readNamespaces();
  auto info = backend_.info();
  Json problems = Json::array();
  Json caps = Json::object();
  for (const auto& c : info.capabilities)
    caps[storage::capabilityName(c.capability)] = Json{{"supported", c.supported}, {"detail", c.detail}};
  const int expectedSchema = info.buildSchemaVersion;
  // Extensions: what the engine itself provides for text and vectors.
  auto diagnostics = backend_.diagnostics();
  if (info.schemaVersion != expectedSchema && diagnostics.schemaNote.empty())
    problems.push_back(fmt::format("schema v{} but this build writes v{}: run `khive db migrate`", info.schemaVersion,
                                   expectedSchema));
  Json ext = std::move(diagnostics.extensions);
  for (auto& p : diagnostics.problems) problems.push_back(std::move(p));

  // Index state: derived indexes against the live records they are derived from. Soft delete
  // keeps a record's text document and vectors (retrieval drops the record when it fuses), so
  // only those of live records count as indexed; the rest are reported apart, as "of deleted
  // records", and are no problem.
  const std::int64_t entities = backend_.entities().countEntities({.namespaces = readNs});
  const std::int64_t notes = backend_.notes().countNotes({.namespaces = readNs});
  const std::int64_t live = entities + notes;
  Json index{{"live_records", live}, {"entities", entities}, {"notes", notes}};
  if (indexing_.hasText()) {
    const std::int64_t docs = backend_.text().countLiveDocuments(readNs);
    const std::int64_t all = backend_.text().countDocuments(readNs);
    index["text"] = Json{{"documents", docs}, {"deleted_records", all - docs}, {"in_sync", docs == live}};
    if (docs != live) problems.push_back(fmt::format("text index holds documents for {} of {} live records", docs, live));
  }
  Json vectors = Json::array();
  if (indexing_.hasVectors()) {
    for (const auto& v : backend_.vectors().vectorInfo())
      vectors.push_back(Json{{"model", v.model},
                             {"field", v.field},
                             {"dimensions", v.dims},
                             {"count", v.count},
                             {"index", v.indexKind},
                             {"index_stale", v.stale}});
  }
  index["vectors"] = vectors;

  // Engines: configuration, and whether each answers.
  Json engines = Json::array();
  auto* def = indexing_.defaultEngine();
  for (const auto& spec : indexing_.engineSpecs()) {
    auto eng = retrieval::makeEmbeddingEngine(spec);
    Json e{{"name", spec.name},
           {"kind", spec.kind},
           {"target", eng->describe()},
           {"default", def && def->name() == spec.name},
           {"embed_on_write", spec.embedOnWrite}};
    if (indexing_.hasVectors()) {
      const std::int64_t n = backend_.vectors().countLiveVectors(spec.name, readNs);
      e["vectors"] = n;
      e["missing"] = std::max<std::int64_t>(0, live - n);
      e["deleted_records"] = backend_.vectors().countVectors(spec.name, readNs) - n;
      if (n < live)
        problems.push_back(fmt::format("engine '{}' has vectors for {} of {} live records: run `khive reindex --engine {}`",
                                       spec.name, n, live, spec.name));
    }
    if (probeEngines) {
      // A short probe: one vector, at most 3 s for an HTTP engine.
      retrieval::EngineSpec probe = spec;
      probe.timeoutMs = std::min(spec.timeoutMs, 3000);
      try {
        static const std::string text = "khive doctor probe";
        auto probed = retrieval::makeEmbeddingEngine(probe);
        auto v = probed->embed(std::span(&text, 1));
        e["ok"] = true;
        e["dimensions"] = v.at(0).size();
        bool clash = false;
        for (const auto& stored : vectors)
          if (stored["model"] == spec.name && stored["dimensions"] != e["dimensions"]) {
            clash = true;
            problems.push_back(
                dimensionClash(spec.name, static_cast<int>(v.at(0).size()), stored["dimensions"].get<int>()));
          }
        if (indexing_.hasVectors() && !clash) {
          const auto [compared, differ] = sampleStaleVectors(backend_, *probed, readNs);
          e["stale_sample"] = Json{{"compared", compared}, {"differ", differ}};
          if (differ > 0)
            problems.push_back(fmt::format(
                "engine '{}' gives other vectors than the stored ones for {} of {} sampled records (its model or "
                "its parameters changed since they were written, or the records changed without embed_on_write): "
                "run `khive reindex --engine {}`",
                spec.name, differ, compared, spec.name));
        }
      } catch (const Error& err) {
        e["ok"] = false;
        e["error"] = err.message();
        problems.push_back(err.message());
      }
    }
    engines.push_back(std::move(e));
  }
  if (indexing_.engineSpecs().empty()) index["note"] = "no embedding engine configured: search is text-only";

  Json out{
      {"khive_version", "0.1.0"},
      {"engine", info.engine},
      {"engine_version", info.engineVersion},
      {"schema_version", info.schemaVersion},
      {"expected_schema_version", expectedSchema},
      {"schema_note", diagnostics.schemaNote.empty() ? Json(nullptr) : Json(diagnostics.schemaNote)},
      {"actor", policy_.actor()},
      {"write_namespace", policy_.writeNamespace()},
      {"read_namespaces", readNs},
      {"capabilities", caps},
      {"extensions", ext},
      {"index", index},
      {"engines", engines},
      {"problems", problems},
      {"ok", problems.empty()}};
  if (showLocation_) out["location"] = info.location;
  return out;
}

}  // namespace khive::runtime
