#include "fixture_graph.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

namespace khive::testing {

namespace {

struct E {
  int n;
  const char* ns;
  const char* kind;
  std::optional<std::string> type;
  std::string name;
  Json props;
  bool deleted = false;
};

struct N {
  int n;
  const char* ns;
  const char* kind;
  std::optional<std::string> name;
  std::string content;
  std::optional<double> salience;
  Json props;
  bool archived = false;
  bool deleted = false;
};

struct L {
  int n;  // edge id number (200+)
  const char* ns;
  int from;
  int to;
  const char* relation;
  double weight = 1.0;
  Json metadata = Json::object();
  bool deleted = false;
};

std::map<std::string, std::string>& names() {
  static std::map<std::string, std::string> m;
  return m;
}

const std::vector<E>& entities() {
  static const std::vector<E> v = {
      {1, "main", "concept", "method", "LoRA", {{"year", 2021}, {"venue", "ICLR"}, {"score", 9.5}, {"open", true}, {"meta", {{"lab", "Microsoft"}, {"size", 8}}}}},
      {2, "main", "concept", "method", "QLoRA", {{"year", 2023}, {"venue", "NeurIPS"}, {"score", 8.75}, {"open", true}}},
      {3, "main", "concept", "method", "DoRA", {{"year", 2024}, {"venue", "ICML"}, {"open", false}}},
      {4, "main", "concept", "method", "Adapter", {{"year", 2019}, {"venue", "ICML"}}},
      {5, "main", "concept", "method", "Prefix Tuning", {{"year", 2021.0}, {"venue", "ACL"}, {"note", nullptr}}},
      {6, "main", "concept", "architecture", "Transformer", {{"year", 2017}, {"meta", {{"lab", "Google"}, {"size", 65}}}}},
      {7, "main", "concept", "mechanism", "Attention", {{"year", 2014}}},
      {8, "main", "document", "paper", "LoRA Paper", {{"year", 2021}, {"pages", 26}, {"venue", "iclr"}}},
      {9, "main", "document", "paper", "QLoRA Paper", {{"year", "2023"}}},
      {10, "main", "person", std::nullopt, "Edward Hu", {{"affiliation", "Microsoft"}}},
      {11, "main", "person", std::nullopt, "Tim Dettmers", {{"affiliation", "UW"}}},
      {12, "main", "org", std::nullopt, "Microsoft", Json::object()},
      {13, "main", "org", std::nullopt, "HuggingFace", Json::object()},
      {14, "main", "artifact", "library", "PEFT", {{"language", "python"}, {"stars", 15000}}},
      {15, "main", "artifact", "library", "bitsandbytes", {{"language", "python"}}},
      {16, "main", "dataset", "benchmark", "GLUE", Json::object()},
      {17, "main", "dataset", std::nullopt, "Alpaca", Json::object()},
      {18, "main", "project", std::nullopt, "khive", Json::object()},
      {19, "main", "service", std::nullopt, "Inference API", Json::object()},
      {20, "main", "resource", std::nullopt, "arXiv", Json::object()},
      {21, "main", "concept", "model", "GPT-3", {{"year", 2020}, {"params", 175}}},
      {22, "main", "concept", "model", "BERT", {{"year", 2018}}},
      {23, "main", "concept", "method", "Pruning", {{"year", 1990}}},
      {24, "main", "concept", "method", "Quantization", Json::object()},
      {25, "main", "artifact", std::nullopt, "50%_Off\\Sale", Json::object()},
      {26, "main", "artifact", std::nullopt, "50XOffYSale", Json::object()},
      {27, "main", "document", std::nullopt, "O'Reilly Book", {{"quote", "it's"}}},
      {28, "main", "concept", std::nullopt, "\xC3\x89lan", Json::object()},
      {29, "main", "concept", std::nullopt, "\xC3\xA9lan", Json::object()},
      {30, "main", "concept", "method", "Deleted Concept", {{"year", 2022}}, true},
      {31, "main", "concept", std::nullopt, "Cycle A", Json::object()},
      {32, "main", "concept", std::nullopt, "Cycle B", Json::object()},
      {33, "main", "concept", std::nullopt, "Cycle C", Json::object()},
      {50, "other", "concept", "method", "LoRA", {{"year", 1999}}},
      {51, "other", "concept", std::nullopt, "Other Thing", Json::object()},
  };
  return v;
}

std::vector<E> chain() {
  std::vector<E> v;
  for (int i = 0; i <= 11; ++i) v.push_back({34 + i, "main", "project", std::nullopt, fmt::format("K{}", i), {{"step", i}}});
  return v;
}

const std::vector<N>& notes() {
  static const std::vector<N> v = {
      {60, "main", "observation", "LoRA rank note", "LoRA uses rank 8 by default", 0.9, {{"rank", 8}}},
      {61, "main", "insight", std::nullopt, "QLoRA quantizes weights to 4 bits", 0.5, Json::object()},
      {62, "main", "question", "Why low rank?", "Why does a low rank update work?", std::nullopt, Json::object(), true},
      {63, "main", "decision", "Use PEFT", "We use PEFT for adapters", 0.7, {{"approved", true}}},
      {64, "main", "reference", "arXiv link", "https://arxiv.org/abs/2106.09685", std::nullopt, Json::object()},
      {65, "main", "observation", "Deleted note", "This note was deleted", std::nullopt, Json::object(), false, true},
      {66, "other", "observation", "Other note", "A note in another namespace", std::nullopt, Json::object()},
  };
  return v;
}

std::vector<L> edges() {
  std::vector<L> v = {
      {200, "main", 18, 14, "contains"},
      {201, "main", 12, 10, "contains"},
      {202, "main", 14, 13, "part_of", 0.6},
      {203, "main", 22, 6, "instance_of"},
      {204, "main", 2, 1, "extends", 0.9, {{"strength", "strong"}, {"since", 2023}}},
      {205, "main", 3, 1, "extends", 0.8},
      {206, "main", 1, 4, "extends", 0.5},
      {207, "main", 30, 4, "extends"},  // endpoint soft-deleted
      {208, "main", 5, 4, "variant_of"},
      {209, "main", 3, 1, "variant_of", 0.4},
      {210, "main", 1, 8, "introduced_by"},
      {211, "main", 2, 9, "introduced_by"},
      {212, "main", 9, 11, "introduced_by"},
      {213, "main", 2, 1, "supersedes"},
      {214, "main", 3, 2, "supersedes", 1.0, Json::object(), true},  // soft-deleted edge
      {215, "main", 17, 21, "derived_from"},
      {216, "main", 31, 32, "precedes"},
      {217, "main", 32, 33, "precedes"},
      {218, "main", 33, 31, "precedes"},
      {219, "main", 7, 6, "precedes"},
      {220, "main", 2, 15, "depends_on"},
      {221, "main", 24, 2, "enables"},
      {222, "main", 1, 3, "enables", 1.0, Json::object(), true},  // soft-deleted edge
      {223, "main", 14, 1, "implements", 0.9, {{"since", "0.1"}, {"verified", true}}},
      {224, "main", 14, 2, "implements", 0.8},
      {225, "main", 14, 3, "implements", 0.5},
      {226, "main", 15, 24, "implements"},
      {227, "main", 1, 5, "competes_with", 0.7},
      {228, "main", 3, 2, "competes_with", 0.6},  // stored canonically as 2 -> 3
      {229, "main", 24, 2, "composed_with"},     // stored canonically as 2 -> 24
      {230, "main", 60, 1, "annotates"},
      {231, "main", 61, 2, "annotates"},
      {232, "main", 62, 1, "annotates"},
      {233, "main", 63, 14, "annotates"},
      {234, "main", 65, 1, "annotates"},  // note soft-deleted
      {235, "main", 64, 8, "annotates"},
      {236, "main", 64, 8, "supports"},
      {237, "main", 8, 1, "supports"},
      {238, "main", 62, 23, "refutes"},
      {239, "main", 1, 30, "extends"},  // target soft-deleted
      {240, "other", 1, 51, "extends"},  // other-namespace edge from a main node
      {241, "main", 2, 51, "supports"},  // main edge into an other-namespace node
      {242, "other", 50, 51, "extends"},
      {243, "other", 66, 50, "annotates"},
      {244, "main", 23, 24, "precedes"},
      {245, "main", 16, 22, "supports"},
  };
  for (int i = 0; i < 11; ++i) v.push_back({250 + i, "main", 34 + i, 35 + i, "depends_on"});
  return v;
}

}  // namespace

Uuid fixtureId(int n) { return Uuid::parse(fmt::format("01890000-0000-7000-8000-{:012x}", n)); }

std::string fixtureName(const std::string& idText) {
  auto it = names().find(idText);
  return it == names().end() ? idText : it->second;
}

void loadFixtureGraph(storage::Backend& backend) {
  auto all = entities();
  for (auto& c : chain()) all.push_back(c);
  for (auto& e : all) {
    Entity rec;
    rec.id = fixtureId(e.n);
    rec.ns = e.ns;
    rec.kind = e.kind;
    rec.entityType = e.type;
    rec.name = e.name;
    rec.properties = e.props;
    rec.createdAt = 1'700'000'000'000'000 + e.n;
    rec.updatedAt = rec.createdAt;
    backend.entities().upsertEntity(rec);
    names()[rec.id.str()] = "@" + e.name + (std::string(e.ns) == "main" ? "" : "(" + std::string(e.ns) + ")");
  }
  for (auto& n : notes()) {
    Note rec;
    rec.id = fixtureId(n.n);
    rec.ns = n.ns;
    rec.kind = n.kind;
    rec.name = n.name;
    rec.content = n.content;
    rec.salience = n.salience;
    rec.properties = n.props;
    rec.status = n.archived ? NoteStatus::Archived : NoteStatus::Active;
    rec.createdAt = 1'700'000'000'000'000 + n.n;
    rec.updatedAt = rec.createdAt;
    backend.notes().upsertNote(rec);
    names()[rec.id.str()] = "@" + n.name.value_or("note" + std::to_string(n.n));
  }
  for (auto& l : edges()) {
    Edge rec;
    rec.id = fixtureId(l.n);
    rec.ns = l.ns;
    rec.sourceId = fixtureId(l.from);
    rec.targetId = fixtureId(l.to);
    rec.relation = l.relation;
    rec.weight = l.weight;
    rec.metadata = l.metadata;
    backend.graph().upsertEdge(rec);
    names()[rec.id.str()] = fmt::format("edge#{}", l.n);
  }
  // Deletes last, so the edges above were written while both endpoints were live.
  for (auto& l : edges()) {
    if (l.deleted) backend.graph().deleteEdge(fixtureId(l.n), storage::DeleteMode::Soft);
  }
  for (auto& e : all) {
    if (e.deleted) backend.entities().deleteEntity(fixtureId(e.n), storage::DeleteMode::Soft);
  }
  for (auto& n : notes()) {
    if (n.deleted) backend.notes().deleteNote(fixtureId(n.n), storage::DeleteMode::Soft);
  }
  for (int i = 0; i < 2; ++i) {
    Event ev;
    ev.id = fixtureId(300 + i);
    ev.ns = "main";
    ev.verb = i == 0 ? "create" : "link";
    ev.substrate = Substrate::Entity;
    ev.actor = "alice";
    ev.kind = i == 0 ? "entity.created" : "edge.created";
    ev.payload = {{"count", i + 1}};
    ev.targetId = fixtureId(1);
    ev.createdAt = 1'700'000'000'000'000 + 300 + i;
    backend.events().appendEvent(ev);
    names()[ev.id.str()] = fmt::format("!event{}", i);
  }
}

}  // namespace khive::testing
