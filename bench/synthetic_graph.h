#pragma once
// A seeded synthetic knowledge graph for benchmarks: N entities and M edges with uniformly
// random endpoints, relations from the default vocabulary and weights in [0, 1]. The same
// seed gives the same graph (ids included), so runs and engines compare like for like.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/core/vocabulary.h"
#include "khive/storage/backend.h"

namespace khive::bench {

struct SyntheticGraph {
  std::vector<Entity> entities;
  std::vector<Edge> edges;
};

inline Uuid seededUuid(std::mt19937_64& rng, std::uint64_t millis) {
  Uuid::Bytes b{};
  std::uint64_t r1 = rng(), r2 = rng();
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
  for (int i = 6; i < 16; ++i) b[i] = static_cast<std::uint8_t>((i < 11 ? r1 : r2) >> (8 * (i % 8)));
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0F));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));
  return Uuid(b);
}

inline SyntheticGraph makeGraph(std::size_t nEntities, std::size_t nEdges, std::uint64_t seed = 42,
                                const std::string& ns = "bench") {
  std::mt19937_64 rng(seed);
  SyntheticGraph g;
  g.entities.reserve(nEntities);
  const auto kinds = vocab::defaultEntityKinds();
  const auto relations = vocab::defaultRelations();
  const std::uint64_t base = 1'700'000'000'000;  // ms
  for (std::size_t i = 0; i < nEntities; ++i) {
    Entity e;
    e.id = seededUuid(rng, base + i);
    e.ns = ns;
    e.kind = std::string(kinds[rng() % kinds.size()]);
    e.name = "entity-" + std::to_string(i);
    e.description = "synthetic entity number " + std::to_string(i);
    e.properties = Json{{"i", i}, {"bucket", static_cast<int>(i % 100)}};
    e.tags = {"t" + std::to_string(i % 10)};
    g.entities.push_back(std::move(e));
  }
  g.edges.reserve(nEdges);
  std::uniform_real_distribution<double> w(0.0, 1.0);
  for (std::size_t i = 0; i < nEdges; ++i) {
    Edge e;
    e.id = seededUuid(rng, base + nEntities + i);
    e.ns = ns;
    e.sourceId = g.entities[rng() % nEntities].id;
    e.targetId = g.entities[rng() % nEntities].id;
    e.relation = std::string(relations[rng() % relations.size()]);
    e.weight = w(rng);
    g.edges.push_back(std::move(e));
  }
  return g;
}

// Writes the graph through khive's batch upserts, `batch` records per call: entities first,
// then edges. Returns the seconds each half took, by the wall clock and in this process's CPU
// time (user + system): on a shared machine the CPU figures move far less with its load.
struct LoadTimes {
  double entitySecs = 0, edgeSecs = 0;
  double entityCpuSecs = 0, edgeCpuSecs = 0;
  double edgeWrittenBytes = 0;  // this process's write() bytes during the edge half (Linux; else 0)
};

// The bytes this process has passed to write() calls so far (/proc/self/io "wchar"); 0 where
// there is no such file. An embedded engine's WAL and checkpoint writes count; a server's not.
inline double processWrittenBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  double value = 0;
  while (io >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

inline double processCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

inline LoadTimes loadGraph(storage::Backend& db, const SyntheticGraph& graph, std::size_t batch) {
  using Steady = std::chrono::steady_clock;
  LoadTimes t;
  auto t0 = Steady::now();
  double c0 = processCpuSeconds();
  for (std::size_t i = 0; i < graph.entities.size(); i += batch) {
    auto n = std::min(batch, graph.entities.size() - i);
    db.entities().upsertEntities(std::span<const Entity>(graph.entities.data() + i, n));
  }
  t.entitySecs = std::chrono::duration<double>(Steady::now() - t0).count();
  t.entityCpuSecs = processCpuSeconds() - c0;
  t0 = Steady::now();
  c0 = processCpuSeconds();
  const double w0 = processWrittenBytes();
  for (std::size_t i = 0; i < graph.edges.size(); i += batch) {
    auto n = std::min(batch, graph.edges.size() - i);
    db.graph().upsertEdges(std::span<const Edge>(graph.edges.data() + i, n));
  }
  t.edgeSecs = std::chrono::duration<double>(Steady::now() - t0).count();
  t.edgeCpuSecs = processCpuSeconds() - c0;
  t.edgeWrittenBytes = processWrittenBytes() - w0;
  return t;
}

}  // namespace khive::bench
