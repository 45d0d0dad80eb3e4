// The embedding side of the runtime: engines from [[engines]], vectors on write, `reindex`,
// and the `doctor` report (which also covers the text index and the backend's extensions).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "khive/core/error.h"
#include "khive/runtime/runtime.h"
#include "runtime/boundary.h"

namespace khive::runtime {

using Clock = std::chrono::steady_clock;

namespace {
bool isZero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}
std::string dimensionClash(const std::string& engine, int gives, int stored) {
  return fmt::format(
      "engine '{}' gives {}-dimensional vectors but the database holds {}-dimensional ones under that name: "
      "give the engine a new name (vectors are stored per name) and reindex",
      engine, gives, stored);
}
}  // namespace

std::string embeddingText(const Entity& e) {
  return e.description ? e.name + "\n" + *e.description : e.name;
}
std::string embeddingText(const Note& n) {
  return n.name ? *n.name + "\n" + n.content : n.content;
}

// ---- engines ---------------------------------------------------------------------------

retrieval::EmbeddingEngine& Runtime::embeddingEngine(std::string_view name) {
  checkNameField(name, "engine name", limits());
  const auto& specs = options_.config.engines;
  auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
  if (spec == specs.end()) {
    std::string names;
    for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
    throw Error(ErrorCode::InvalidInput, "runtime", "engine",
                specs.empty()
                    ? fmt::format("no embedding engine '{}': none is configured ([[engines]] in khive.toml)", name)
                    : fmt::format("no embedding engine '{}' (configured: {})", name, names));
  }
  std::lock_guard lock(enginesMu_);
  auto& slot = engines_[spec->name];
  if (!slot) slot = retrieval::makeEmbeddingEngine(*spec);
  return *slot;
}

retrieval::EmbeddingEngine* Runtime::defaultEngine() {
  const auto& specs = options_.config.engines;
  if (specs.empty()) return nullptr;
  auto it = std::find_if(specs.begin(), specs.end(), [](const auto& s) { return s.isDefault; });
  return &embeddingEngine((it == specs.end() ? specs.front() : *it).name);
}

std::optional<std::vector<float>> Runtime::vectorForWrite(const std::string& text) {
  if (!hasVectors_) return std::nullopt;
  auto* eng = defaultEngine();
  if (!eng || !eng->spec().embedOnWrite) return std::nullopt;
  try {
    auto v = eng->embed(std::span(&text, 1)).at(0);
    if (isZero(v)) return std::nullopt;
    return v;
  } catch (const Error& e) {
    throw Error(
        e.code(), e.capability(), e.operation(),
        fmt::format("{}; nothing was written (set embed_on_write = false on the engine to write without a vector, "
                    "then `khive reindex`)",
                    e.message()));
  }
}

void Runtime::storeVector(const Uuid& id, const std::string& ns, const std::string& kind, const Json& properties,
                          std::vector<float> values) {
  storage::VectorRecord r;
  r.subjectId = id;
  r.ns = ns;
  r.kind = kind;
  r.model = defaultEngine()->name();
  r.properties = properties;
  r.values = std::move(values);
  backend_->vectors().insertVector(r);
}

std::optional<std::string> Runtime::storedDimensionClash(const std::string& engine, int dims) {
  for (const auto& v : backend_->vectors().vectorInfo())
    if (v.model == engine && v.dims != dims) return dimensionClash(engine, dims, v.dims);
  return std::nullopt;
}

// ---- reindex ---------------------------------------------------------------------------

ReindexSummary Runtime::reindex(const ReindexRequest& req) {
  const auto start = Clock::now();
  retrieval::EmbeddingEngine* eng = req.engine ? &embeddingEngine(*req.engine) : defaultEngine();
  if (!eng)
    throw Error(
        ErrorCode::InvalidInput, "runtime", "reindex",
        "no embedding engine configured: add an [[engines]] entry (kind = \"static\", \"openai\" or \"fasttext\") to khive.toml");
  if (!hasVectors_) {
    std::string detail;
    for (const auto& c : backend_->info().capabilities)
      if (c.capability == storage::Capability::Vectors) detail = c.detail;
    throw Error(ErrorCode::Unsupported, "runtime", "reindex",
                fmt::format("the {} backend cannot store vectors: {}", engine_, detail));
  }
  if (req.batchSize < 1 || req.batchSize > 10000)
    throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                fmt::format("batch size must be 1..10000 (got {})", req.batchSize));
  std::vector<std::string> nss = req.namespaces.empty() ? readNs_ : req.namespaces;
  for (const auto& ns : nss) {
    checkNamespace(ns);
    if (std::find(readNs_.begin(), readNs_.end(), ns) == readNs_.end())
      throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                  fmt::format("namespace '{}' is not in the read scope ({}); add it to [actor].visible_namespaces", ns,
                              fmt::join(readNs_, ", ")));
    checkGrant("reindex", ns);
  }

  ReindexSummary sum;
  sum.engine = eng->name();
  try {
    // Ask for the dimension first: an engine that is down or misconfigured fails here, before
    // any vector is written.
    sum.dimensions = eng->dimension();
    // The store fixes one dimension per engine name: a model of another dimension behind the
    // same name would fail on every record, so say what to do before writing anything.
    if (auto clash = storedDimensionClash(eng->name(), sum.dimensions))
      throw Error(ErrorCode::InvalidInput, "runtime", "reindex", *clash);
    ReindexProgress progress;
    progress.total =
        backend_->entities().countEntities({.namespaces = nss}) + backend_->notes().countNotes({.namespaces = nss});
    if (req.progress) req.progress(progress);

    std::vector<std::string> texts;
    std::vector<storage::VectorRecord> records;
    auto flush = [&](std::int64_t& counter) {
      if (texts.empty()) return;
      auto vectors = eng->embed(texts);
      std::vector<storage::VectorRecord> keep;
      keep.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (vectors[i].size() != static_cast<std::size_t>(sum.dimensions))
          throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                      fmt::format("engine '{}' returned a {}-dimensional vector; it gave {} before", eng->name(),
                                  vectors[i].size(), sum.dimensions));
        if (isZero(vectors[i])) {
          ++sum.skipped;
          continue;
        }
        records[i].values = std::move(vectors[i]);
        keep.push_back(std::move(records[i]));
      }
      auto w = backend_->vectors().insertVectors(keep);
      if (w.failed > 0)
        throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                    fmt::format("{} of {} vectors were not written: {}", w.failed, w.attempted,
                                w.firstError.value_or("unknown error")));
      counter += static_cast<std::int64_t>(texts.size());
      progress.done += static_cast<std::int64_t>(texts.size());
      if (req.progress) req.progress(progress);
      texts.clear();
      records.clear();
    };
    auto add = [&](const Uuid& id, const std::string& ns, const std::string& kind, const Json& props,
                   std::string text) {
      storage::VectorRecord r;
      r.subjectId = id;
      r.ns = ns;
      r.kind = kind;
      r.model = eng->name();
      r.properties = props;
      records.push_back(std::move(r));
      texts.push_back(std::move(text));
    };
    // Reads go in pages of at least 5,000: the stores page by offset, and an offset costs a
    // scan of the rows it skips (117k WordNet synsets in pages of 256: 55 s instead of 9 s).
    const storage::PageRequest first{.offset = 0, .limit = std::max<std::int64_t>(req.batchSize, 5000)};
    const auto batch = static_cast<std::size_t>(req.batchSize);
    for (auto page = first;;) {
      auto p = backend_->entities().queryEntities({.namespaces = nss}, page);
      for (const auto& e : p.items) {
        add(e.id, e.ns, e.kind, e.properties, embeddingText(e));
        if (texts.size() == batch) flush(sum.entities);
      }
      flush(sum.entities);
      if (!p.nextOffset) break;
      page.offset = *p.nextOffset;
    }
    for (auto page = first;;) {
      storage::NoteFilter f;
      f.namespaces = nss;
      auto p = backend_->notes().queryNotes(f, page);
      for (const auto& n : p.items) {
        add(n.id, n.ns, n.kind, n.properties, embeddingText(n));
        if (texts.size() == batch) flush(sum.notes);
      }
      flush(sum.notes);
      if (!p.nextOffset) break;
      page.offset = *p.nextOffset;
    }
  } catch (const Error& e) {
    recordEvent("reindex", Substrate::Entity, eng->name(), Outcome::Error,
                Json{{"error", e.message()},
                     {"code", std::string(errorCodeName(e.code()))},
                     {"entities", sum.entities},
                     {"notes", sum.notes}},
                Clock::now() - start);
    if (sum.entities + sum.notes == 0) throw;
    throw Error(e.code(), e.capability(), e.operation(),
                fmt::format("{} (reindex stopped after {} records; those keep their new vectors, rerun to finish)",
                            e.message(), sum.entities + sum.notes));
  }
  // Build (or catch up) the search index now and persist it, so the first search of the next
  // process loads it instead of building it.
  backend_->vectors().prepareVectorIndex(eng->name());
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  recordEvent("reindex", Substrate::Entity, eng->name(), Outcome::Success,
              Json{{"engine", sum.engine},
                   {"dimensions", sum.dimensions},
                   {"entities", sum.entities},
                   {"notes", sum.notes},
                   {"skipped", sum.skipped},
                   {"namespaces", nss}},
              Clock::now() - start);
  return sum;
}

// ---- doctor ----------------------------------------------------------------------------

Json Runtime::doctor(bool probeEngines) {
  auto info = backend_->info();
  Json problems = Json::array();
  Json caps = Json::object();
  for (const auto& c : info.capabilities)
    caps[storage::capabilityName(c.capability)] = Json{{"supported", c.supported}, {"detail", c.detail}};
  const int expectedSchema = info.buildSchemaVersion;
  // Extensions: what the engine itself provides for text and vectors.
  auto diagnostics = backend_->diagnostics();
  if (info.schemaVersion != expectedSchema && diagnostics.schemaNote.empty())
    problems.push_back(fmt::format("schema v{} but this build writes v{}: run `khive db migrate`", info.schemaVersion,
                                   expectedSchema));
  Json ext = std::move(diagnostics.extensions);
  for (auto& p : diagnostics.problems) problems.push_back(std::move(p));

  // Index state: derived indexes against the live records they are derived from. Soft delete
  // keeps a record's text document and vectors (retrieval drops the record when it fuses), so
  // only those of live records count as indexed; the rest are reported apart, as "of deleted
  // records", and are no problem.
  const std::int64_t entities = backend_->entities().countEntities({.namespaces = readNs_});
  const std::int64_t notes = backend_->notes().countNotes({.namespaces = readNs_});
  const std::int64_t live = entities + notes;
  Json index{{"live_records", live}, {"entities", entities}, {"notes", notes}};
  if (hasText_) {
    const std::int64_t docs = backend_->text().countLiveDocuments(readNs_);
    const std::int64_t all = backend_->text().countDocuments(readNs_);
    index["text"] = Json{{"documents", docs}, {"deleted_records", all - docs}, {"in_sync", docs == live}};
    if (docs != live) problems.push_back(fmt::format("text index holds documents for {} of {} live records", docs, live));
  }
  Json vectors = Json::array();
  if (hasVectors_) {
    for (const auto& v : backend_->vectors().vectorInfo())
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
  auto* def = defaultEngine();
  for (const auto& spec : options_.config.engines) {
    auto eng = retrieval::makeEmbeddingEngine(spec);
    Json e{{"name", spec.name},
           {"kind", spec.kind},
           {"target", eng->describe()},
           {"default", def && def->name() == spec.name},
           {"embed_on_write", spec.embedOnWrite}};
    if (hasVectors_) {
      const std::int64_t n = backend_->vectors().countLiveVectors(spec.name, readNs_);
      e["vectors"] = n;
      e["missing"] = std::max<std::int64_t>(0, live - n);
      e["deleted_records"] = backend_->vectors().countVectors(spec.name, readNs_) - n;
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
        auto v = retrieval::makeEmbeddingEngine(probe)->embed(std::span(&text, 1));
        e["ok"] = true;
        e["dimensions"] = v.at(0).size();
        for (const auto& stored : vectors)
          if (stored["model"] == spec.name && stored["dimensions"] != e["dimensions"])
            problems.push_back(
                dimensionClash(spec.name, static_cast<int>(v.at(0).size()), stored["dimensions"].get<int>()));
      } catch (const Error& err) {
        e["ok"] = false;
        e["error"] = err.message();
        problems.push_back(err.message());
      }
    }
    engines.push_back(std::move(e));
  }
  if (options_.config.engines.empty()) index["note"] = "no embedding engine configured: search is text-only";

  return Json{
      {"khive_version", "0.1.0"},
      {"engine", info.engine},
      {"engine_version", info.engineVersion},
      {"location", info.location},
      {"schema_version", info.schemaVersion},
      {"expected_schema_version", expectedSchema},
      {"schema_note", diagnostics.schemaNote.empty() ? Json(nullptr) : Json(diagnostics.schemaNote)},
      {"actor", actor()},
      {"write_namespace", writeNs_},
      {"read_namespaces", readNs_},
      {"capabilities", caps},
      {"extensions", ext},
      {"index", index},
      {"engines", engines},
      {"problems", problems},
      {"ok", problems.empty()}};
}

}  // namespace khive::runtime
