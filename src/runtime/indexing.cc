#include "khive/runtime/indexing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "khive/core/error.h"
#include "khive/runtime/policy.h"
#include "runtime/audit_log.h"
#include "runtime/boundary.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

using Clock = std::chrono::steady_clock;

namespace {
bool isZero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}
}  // namespace

std::string dimensionClash(const std::string& engine, int gives, int stored) {
  return fmt::format(
      "engine '{}' gives {}-dimensional vectors but the database holds {}-dimensional ones under that name: "
      "give the engine a new name (vectors are stored per name) and reindex",
      engine, gives, stored);
}

std::string embeddingText(const Entity& e) {
  return e.description ? e.name + "\n" + *e.description : e.name;
}
std::string embeddingText(const Note& n) {
  return n.name ? *n.name + "\n" + n.content : n.content;
}

Indexing::Indexing(storage::Backend& backend, const storage::BackendInfo& info, const Policy& policy,
                   const AuditLog& audit, std::vector<retrieval::EngineSpec> engines)
    : backend_(backend), policy_(policy), audit_(audit), specs_(std::move(engines)), backendName_(info.engine) {
  for (const auto& c : info.capabilities) {
    if (c.capability == storage::Capability::Text) hasText_ = c.supported;
    if (c.capability == storage::Capability::Vectors) hasVectors_ = c.supported;
  }
}

// ---- engines ---------------------------------------------------------------------------

retrieval::EmbeddingEngine& Indexing::embeddingEngine(std::string_view name) {
  checkNameField(name, "engine name", policy_.limits());
  const auto& specs = specs_;
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

retrieval::EmbeddingEngine* Indexing::defaultEngine() {
  const auto& specs = specs_;
  if (specs.empty()) return nullptr;
  auto it = std::find_if(specs.begin(), specs.end(), [](const auto& s) { return s.isDefault; });
  return &embeddingEngine((it == specs.end() ? specs.front() : *it).name);
}

std::optional<std::vector<float>> Indexing::vectorForWrite(const std::string& text) {
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

void Indexing::storeVector(const Uuid& id, const std::string& ns, const std::string& kind, const Json& properties,
                          std::vector<float> values) {
  storage::VectorRecord r;
  r.subjectId = id;
  r.ns = ns;
  r.kind = kind;
  r.model = defaultEngine()->name();
  r.properties = properties;
  r.values = std::move(values);
  backend_.vectors().insertVector(r);
}

std::optional<std::string> Indexing::storedDimensionClash(const std::string& engine, int dims) {
  for (const auto& v : backend_.vectors().vectorInfo())
    if (v.model == engine && v.dims != dims) return dimensionClash(engine, dims, v.dims);
  return std::nullopt;
}

void Indexing::index(const Entity& e, std::optional<std::vector<float>> vector) {
  if (hasText_) backend_.text().upsertDocument(retrieval::textDocumentOf(e));
  if (vector) storeVector(e.id, e.ns, e.kind, e.properties, std::move(*vector));
}

void Indexing::index(const Note& n, std::optional<std::vector<float>> vector) {
  if (hasText_) backend_.text().upsertDocument(retrieval::textDocumentOf(n));
  if (vector) storeVector(n.id, n.ns, n.kind, n.properties, std::move(*vector));
}

// ---- reindex ---------------------------------------------------------------------------

ReindexSummary Indexing::reindex(const ReindexRequest& req) {
  const auto start = Clock::now();
  retrieval::EmbeddingEngine* eng = req.engine ? &embeddingEngine(*req.engine) : defaultEngine();
  if (!eng)
    throw Error(
        ErrorCode::InvalidInput, "runtime", "reindex",
        "no embedding engine configured: add an [[engines]] entry (kind = \"static\", \"openai\" or \"fasttext\") to khive.toml");
  if (!hasVectors_) {
    std::string detail;
    for (const auto& c : backend_.info().capabilities)
      if (c.capability == storage::Capability::Vectors) detail = c.detail;
    throw Error(ErrorCode::Unsupported, "runtime", "reindex",
                fmt::format("the {} backend cannot store vectors: {}", backendName_, detail));
  }
  if (req.batchSize < 1 || req.batchSize > 10000)
    throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                fmt::format("batch size must be 1..10000 (got {})", req.batchSize));
  const auto& readNs = policy_.readNamespaces();
  std::vector<std::string> nss = req.namespaces.empty() ? readNs : req.namespaces;
  for (const auto& ns : nss) {
    checkNamespace(ns);
    if (!policy_.inReadScope(ns))
      throw Error(ErrorCode::InvalidInput, "runtime", "reindex",
                  fmt::format("namespace '{}' is not in the read scope ({}); add it to [actor].visible_namespaces", ns,
                              fmt::join(readNs, ", ")));
    policy_.checkGrant("reindex", ns);
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
        backend_.entities().countEntities({.namespaces = nss}) + backend_.notes().countNotes({.namespaces = nss});
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
      auto w = backend_.vectors().insertVectors(keep);
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
    // Every page of one record type (`read(page)`), embedded in batches into `counter`.
    auto embedAll = [&](auto read, std::int64_t& counter) {
      for (auto page = first;;) {
        auto p = read(page);
        for (const auto& r : p.items) {
          add(r.id, r.ns, r.kind, r.properties, embeddingText(r));
          if (texts.size() == batch) flush(counter);
        }
        flush(counter);
        if (!p.nextOffset) break;
        page.offset = *p.nextOffset;
      }
    };
    embedAll([&](const storage::PageRequest& page) { return backend_.entities().queryEntities({.namespaces = nss}, page); },
             sum.entities);
    embedAll(
        [&](const storage::PageRequest& page) {
          storage::NoteFilter f;
          f.namespaces = nss;
          return backend_.notes().queryNotes(f, page);
        },
        sum.notes);
  } catch (const Error& e) {
    audit_.record("reindex", Substrate::Entity, eng->name(), Outcome::Error,
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
  backend_.vectors().prepareVectorIndex(eng->name());
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  audit_.record("reindex", Substrate::Entity, eng->name(), Outcome::Success,
              Json{{"engine", sum.engine},
                   {"dimensions", sum.dimensions},
                   {"entities", sum.entities},
                   {"notes", sum.notes},
                   {"skipped", sum.skipped},
                   {"namespaces", nss}},
              Clock::now() - start);
  return sum;
}

}  // namespace khive::runtime
