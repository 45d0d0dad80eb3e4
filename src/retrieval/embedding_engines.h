#pragma once
// Private to khive_embedding: one constructor per engine kind (embedding.cc dispatches).

#include <memory>

#include "khive/retrieval/embedding.h"

namespace khive::retrieval {

std::unique_ptr<EmbeddingEngine> makeOpenAiEngine(const EngineSpec& spec);
std::unique_ptr<EmbeddingEngine> makeFastTextEngine(const EngineSpec& spec);
std::unique_ptr<EmbeddingEngine> makeStaticEngine(const EngineSpec& spec);

}  // namespace khive::retrieval
