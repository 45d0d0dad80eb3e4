// khive demo: creates an embedded SQLite database, writes a small knowledge graph about
// parameter-efficient fine-tuning, and prints a traversal, neighbours and a shortest path.
//
//   khive_demo [database-file]     (default: khive-demo.db in the current directory)

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "khive/backends/sqlite.h"
#include "khive/core/error.h"

using namespace khive;

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "khive-demo.db";
  try {
    backends::SqliteOptions options;
    options.path = path;
    auto db = backends::openSqlite(options);
    const std::string ns = "demo";

    std::map<std::string, Entity> byName;
    auto entity = [&](const std::string& name, const std::string& kind, const std::string& description) {
      Entity e;
      e.id = Uuid::v7();
      e.ns = ns;
      e.kind = kind;
      e.name = name;
      e.description = description;
      byName[name] = db->entities().upsertEntity(e);
    };
    entity("Transformer", "concept", "Attention-based sequence architecture");
    entity("Fine-tuning", "concept", "Adapting a pretrained model to a task");
    entity("PEFT", "concept", "Parameter-efficient fine-tuning");
    entity("LoRA", "concept", "Low-rank adaptation of weight updates");
    entity("QLoRA", "concept", "LoRA over a 4-bit quantised base model");
    entity("DoRA", "concept", "Weight-decomposed low-rank adaptation");
    entity("Prefix tuning", "concept", "Learned prefixes on every layer");
    entity("Microsoft Research", "org", "Research lab");

    auto link = [&](const std::string& from, const std::string& relation, const std::string& to, double weight) {
      Edge e;
      e.id = Uuid::v7();
      e.ns = ns;
      e.sourceId = byName.at(from).id;
      e.targetId = byName.at(to).id;
      e.relation = relation;
      e.weight = weight;
      db->graph().upsertEdge(e);
    };
    link("Fine-tuning", "depends_on", "Transformer", 0.9);
    link("PEFT", "extends", "Fine-tuning", 1.0);
    link("LoRA", "instance_of", "PEFT", 1.0);
    link("Prefix tuning", "instance_of", "PEFT", 0.8);
    link("QLoRA", "extends", "LoRA", 1.0);
    link("DoRA", "variant_of", "LoRA", 0.9);
    link("LoRA", "introduced_by", "Microsoft Research", 0.7);
    link("LoRA", "competes_with", "Prefix tuning", 0.6);

    Note note;
    note.id = Uuid::v7();
    note.ns = ns;
    note.kind = "observation";
    note.content = "QLoRA fine-tunes a 65B model on a single 48 GB GPU.";
    note.salience = 0.8;
    db->notes().upsertNote(note);

    auto name = [&](const Uuid& id) {
      for (const auto& [n, e] : byName)
        if (e.id == id) return n;
      return id.str();
    };

    auto info = db->info();
    fmt::print("khive demo on {} {} ({}), schema v{}\n", info.engine, info.engineVersion, info.location,
               info.schemaVersion);
    storage::EntityFilter all;
    all.namespaces = {ns};
    fmt::print("{} entities, {} notes, {} edges in namespace '{}'\n\n", db->entities().countEntities(all),
               db->notes().countNotes({.namespaces = {ns}}), db->graph().countEdges({.namespaces = {ns}}), ns);

    storage::TraverseRequest walk;
    walk.roots = {byName.at("QLoRA").id};
    walk.namespaces = {ns};
    walk.maxDepth = 4;
    fmt::print("Traversal from QLoRA (out, depth <= 4):\n");
    for (const auto& tree : db->graph().traverse(walk)) {
      for (const auto& n : tree.nodes) {
        fmt::print("  {}{}{}\n", std::string(static_cast<std::size_t>(2 * n.depth), ' '), name(n.id),
                   n.parentId ? fmt::format("  (from {})", name(*n.parentId)) : std::string());
      }
    }

    storage::NeighborQuery around;
    around.namespaces = {ns};
    around.direction = storage::Direction::Both;
    fmt::print("\nNeighbours of LoRA (both directions):\n");
    for (const auto& n : db->graph().neighbors(byName.at("LoRA").id, around)) {
      fmt::print("  {:<20} {:<14} weight {:.1f}\n", name(n.nodeId), n.relation, n.weight);
    }

    storage::PathQuery pq;
    pq.namespaces = {ns};
    if (auto path = db->graph().shortestPath(byName.at("DoRA").id, byName.at("Transformer").id, pq)) {
      fmt::print("\nShortest path DoRA -> Transformer ({} hops):\n  ", path->edges.size());
      for (std::size_t i = 0; i < path->nodes.size(); ++i) fmt::print("{}{}", i ? " -> " : "", name(path->nodes[i]));
      fmt::print("\n");
    }
    fmt::print("\nDatabase written to {}\n", path);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "khive_demo: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "khive_demo: unexpected failure: %s\n", e.what());
    return 1;
  }
}
