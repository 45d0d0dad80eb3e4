#pragma once
// The pattern-parity fixture graph, written through the storage API so every backend holds
// the same records. Ids are fixed (…-0000000000NN) so expected rows can name records:
// fixtureName(id) maps an id back to "@Name" (edges: "edge#NNN", events: "!eventN").
//
// Shape (namespace main unless noted):
//  - method concepts LoRA, QLoRA, DoRA, Adapter, Prefix Tuning with JSON properties
//    (year, venue, score, open, meta.lab) of every JSON type, Transformer/Attention/GPT-3/BERT;
//  - documents, persons, orgs, artifacts, datasets, a project, a service, a resource;
//  - names that need escaping: 50%_Off\Sale, 50XOffYSale, O'Reilly Book, Élan, élan;
//  - a precedes-cycle Cycle A -> Cycle B -> Cycle C -> Cycle A;
//  - a depends_on chain K0 -> K1 -> ... -> K11 (11 hops) for the depth cap;
//  - symmetric competes_with / composed_with edges written in both orders;
//  - soft-deleted: entity "Deleted Concept" (with edges), note "Deleted note", edge
//    DoRA -supersedes-> QLoRA and LoRA -enables-> DoRA;
//  - namespace other: a second "LoRA", "Other Thing", "Other note", an other-namespace edge from
//    main's LoRA, and a main edge into other's node;
//  - notes of every kind, annotating entities; two events.

#include <map>
#include <string>

#include "khive/core/uuid.h"
#include "khive/storage/backend.h"

namespace khive::testing {

void loadFixtureGraph(storage::Backend& backend);

// "@LoRA" for a fixture id (text form), or the text unchanged.
std::string fixtureName(const std::string& idText);

// The fixture's id for a number (…-0000000000NN).
Uuid fixtureId(int n);

}  // namespace khive::testing
