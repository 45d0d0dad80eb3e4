#include "khive/retrieval/hybrid_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "khive/core/error.h"

namespace khive::retrieval {

namespace {
constexpr std::int64_t kMaxTopK = 1'000;
constexpr std::int64_t kMaxCandidates = 10'000;  // the stores' own top-k limit

[[noreturn]] void invalid(const std::string& why) { throw Error(ErrorCode::InvalidInput, "retrieval", "search", why); }

bool hasText(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") != std::string::npos; }

template <class Hit>
CandidateStream streamOf(Signal signal, const std::vector<Hit>& hits) {
  CandidateStream s{signal, {}};
  s.items.reserve(hits.size());
  for (const auto& h : hits) s.items.push_back({h.subjectId, h.ns, h.kind, h.score, h.rank});
  return s;
}

// What the alive check learned about a subject.
struct Subject {
  SubjectType type;
  std::string title;
};
}  // namespace

std::vector<HybridHit> HybridSearch::search(const HybridQuery& q) {
  if (q.namespaces.empty()) invalid("hybrid search needs at least one namespace in `namespaces`");
  if (q.topK < 1 || q.topK > kMaxTopK) invalid(fmt::format("top_k must be 1..{} (got {})", kMaxTopK, q.topK));
  if (q.candidates < 0 || q.candidates > kMaxCandidates) {
    invalid(fmt::format("candidates must be 0 (automatic) or 1..{} (got {})", kMaxCandidates, q.candidates));
  }
  const auto only = singleSignal(q.fusion.strategy);
  const bool runText = hasText(q.text) && (!only || *only == Signal::Text);
  const bool runVector = !q.vector.empty() && (!only || *only == Signal::Vector);
  const bool runSparse = !q.sparse.indices.empty() && (!only || *only == Signal::Sparse);
  if (only && !(runText || runVector || runSparse)) {
    invalid("the single-signal strategy's input is missing (text, vector or sparse vector)");
  }
  if (!runText && !runVector && !runSparse) invalid("hybrid search needs text, a vector or a sparse vector");
  if (runVector && q.vectorModel.empty()) invalid("a vector query needs `vectorModel`");
  if (runSparse && q.sparseModel.empty()) invalid("a sparse query needs `sparseModel`");

  std::int64_t candidates = q.candidates ? q.candidates : std::max<std::int64_t>(50, 5 * q.topK);
  candidates = std::max(candidates, q.topK);
  std::unordered_map<Uuid, std::optional<Subject>> known;  // alive check results, kept across rounds
  std::unordered_map<Uuid, std::string> snippets;

  while (true) {
    // 1. Candidate streams.
    std::vector<CandidateStream> streams;
    bool truncated = false;
    if (runText) {
      storage::TextQuery tq;
      tq.text = q.text;
      tq.mode = q.textMode;
      tq.namespaces = q.namespaces;
      tq.kinds = q.kinds;
      tq.topK = candidates;
      tq.snippets = q.snippets;
      auto hits = backend_.text().searchText(tq);
      truncated = truncated || static_cast<std::int64_t>(hits.size()) == candidates;
      for (auto& h : hits)
        if (h.snippet) snippets[h.subjectId] = *h.snippet;
      streams.push_back(streamOf(Signal::Text, hits));
    }
    if (runVector) {
      storage::VectorSearchRequest vq;
      vq.query = q.vector;
      vq.model = q.vectorModel;
      vq.field = q.vectorField;
      vq.topK = candidates;
      vq.namespaces = q.namespaces;
      vq.kinds = q.kinds;
      vq.properties = q.vectorProperties;
      auto hits = backend_.vectors().searchVectors(vq);
      truncated = truncated || static_cast<std::int64_t>(hits.size()) == candidates;
      streams.push_back(streamOf(Signal::Vector, hits));
    }
    if (runSparse) {
      storage::SparseSearchRequest sq;
      sq.query = q.sparse;
      sq.model = q.sparseModel;
      sq.topK = candidates;
      sq.namespaces = q.namespaces;
      sq.kinds = q.kinds;
      auto hits = backend_.sparse().searchSparse(sq);
      truncated = truncated || static_cast<std::int64_t>(hits.size()) == candidates;
      streams.push_back(streamOf(Signal::Sparse, hits));
    }

    // 2. Fusion over everything the signals found.
    auto fused = fuse(streams, q.fusion);

    // 3. Alive check after fusion and before the cut, in chunks of the fused order: a subject
    // must be a live entity or note (in scope) and, unless asked otherwise, not the target of
    // a live `supersedes` edge.
    std::vector<HybridHit> out;
    const std::size_t chunk = static_cast<std::size_t>(std::max<std::int64_t>(8, q.topK + 5));
    for (std::size_t start = 0; start < fused.size() && static_cast<std::int64_t>(out.size()) < q.topK;
         start += chunk) {
      const std::size_t end = std::min(fused.size(), start + chunk);
      std::vector<Uuid> ask;
      for (std::size_t i = start; i < end; ++i)
        if (!known.contains(fused[i].subjectId)) ask.push_back(fused[i].subjectId);
      if (!ask.empty()) {
        // Point lookups by id: each is a primary-key probe, where a filtered list query
        // (ids IN (...) with ORDER BY created_at) may be planned as a namespace scan.
        std::map<Uuid, Subject> found;
        auto inScope = [&](const std::string& ns) {
          return std::find(q.namespaces.begin(), q.namespaces.end(), ns) != q.namespaces.end();
        };
        for (const auto& id : ask) {
          if (q.scope != Scope::Notes) {
            if (auto e = backend_.entities().getEntity(id)) {
              if (inScope(e->ns)) found.emplace(id, Subject{SubjectType::Entity, e->name});
              continue;
            }
          }
          if (q.scope != Scope::Entities) {
            if (auto n = backend_.notes().getNote(id); n && inScope(n->ns)) {
              found.emplace(id, Subject{SubjectType::Note, n->name.value_or("")});
            }
          }
        }
        std::vector<Uuid> alive;
        for (const auto& [id, s] : found) alive.push_back(id);
        if (!q.includeSuperseded && !alive.empty()) {
          storage::NeighborQuery nq;
          nq.namespaces = q.namespaces;
          nq.direction = storage::Direction::In;
          nq.relations = {"supersedes"};
          nq.limit = 1;
          for (const auto& [id, sources] : backend_.graph().neighborsBatch(alive, nq))
            if (!sources.empty()) found.erase(id);
        }
        for (const auto& id : ask) {
          auto it = found.find(id);
          known[id] = it == found.end() ? std::nullopt : std::optional<Subject>(it->second);
        }
      }
      for (std::size_t i = start; i < end && static_cast<std::int64_t>(out.size()) < q.topK; ++i) {
        const auto& f = fused[i];
        const auto& s = known[f.subjectId];
        if (!s) continue;
        HybridHit h;
        h.subjectId = f.subjectId;
        h.subjectType = s->type;
        h.ns = f.ns;
        h.kind = f.kind;
        h.title = s->title;
        h.score = f.score;
        h.rank = static_cast<int>(out.size()) + 1;
        h.signals = f.signals;
        if (auto sn = snippets.find(f.subjectId); sn != snippets.end()) h.snippet = sn->second;
        out.push_back(std::move(h));
      }
    }

    // 4. Enough live hits, or nothing more to fetch: done. Otherwise fetch deeper.
    if (static_cast<std::int64_t>(out.size()) >= q.topK || !truncated || candidates >= kMaxCandidates) return out;
    candidates = std::min(kMaxCandidates, candidates * 4);
  }
}

std::vector<HybridHit> HybridSearch::searchEntities(HybridQuery query) {
  query.scope = Scope::Entities;
  return search(query);
}

std::vector<HybridHit> HybridSearch::searchNotes(HybridQuery query) {
  query.scope = Scope::Notes;
  return search(query);
}

storage::TextDocument textDocumentOf(const Entity& e) {
  storage::TextDocument d;
  d.subjectId = e.id;
  d.ns = e.ns;
  d.kind = e.kind;
  d.title = e.name;
  d.body = e.description.value_or("");
  d.tags = e.tags;
  if (e.entityType) d.metadata = Json{{"entity_type", *e.entityType}};
  d.updatedAt = e.updatedAt;
  return d;
}

storage::TextDocument textDocumentOf(const Note& n) {
  storage::TextDocument d;
  d.subjectId = n.id;
  d.ns = n.ns;
  d.kind = n.kind;
  d.title = n.name.value_or("");
  d.body = n.content;
  d.updatedAt = n.updatedAt;
  return d;
}

}  // namespace khive::retrieval
