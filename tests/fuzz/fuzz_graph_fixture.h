#pragma once
// A small graph in a private in-memory SQLite database, for the targets that execute what
// they build: entities in namespaces "main" and "other", notes, and edges of a few relations
// (a chain, a symmetric pair), with properties and tags. Built once per process.

#include <memory>

#include "khive/runtime/backend_factory.h"
#include "khive/runtime/runtime.h"

namespace khive::fuzz {

inline runtime::Runtime& fixtureRuntime() {
  static std::unique_ptr<runtime::Runtime> rt = [] {
    runtime::Config config;
    config.actor.visibleNamespaces = {"main", "other"};
    auto r = std::make_unique<runtime::Runtime>(runtime::openBackendUrl("sqlite::memory:", {"*"}),
                                                runtime::RuntimeOptions{config, "main", std::nullopt});
    auto lora = r->createEntity({.kind = "concept", .name = "LoRA", .description = "low-rank adaptation",
                                 .entityType = "method", .properties = Json{{"year", 2021}, {"tags", {"peft"}}},
                                 .tags = {"peft", "finetuning"}});
    auto qlora = r->createEntity({.kind = "concept", .name = "QLoRA", .entityType = "method",
                                  .properties = Json{{"year", 2023}, {"quantized", true}}});
    auto paper = r->createEntity({.kind = "document", .name = "LoRA paper", .properties = Json{{"venue", "ICLR"}}});
    auto org = r->createEntity({.kind = "org", .name = "Microsoft"});
    auto note = r->createNote({.kind = "observation", .content = "QLoRA quantizes the base model", .name = "q4"});
    r->link({.source = qlora.id, .target = lora.id, .relation = "extends", .weight = 0.9});
    r->link({.source = lora.id, .target = paper.id, .relation = "introduced_by"});
    r->link({.source = paper.id, .target = org.id, .relation = "part_of", .weight = 0.5,
             .metadata = Json{{"role", "author"}}});
    r->link({.source = lora.id, .target = qlora.id, .relation = "competes_with"});
    r->link({.source = note.id, .target = qlora.id, .relation = "annotates"});
    return r;
  }();
  return *rt;
}

}  // namespace khive::fuzz
