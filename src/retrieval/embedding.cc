#include "khive/retrieval/embedding.h"

#include <fmt/format.h>

#include "embedding_engines.h"
#include "khive/core/error.h"

namespace khive::retrieval {

std::unique_ptr<EmbeddingEngine> makeEmbeddingEngine(const EngineSpec& spec) {
  if (spec.kind == "openai") return makeOpenAiEngine(spec);
  if (spec.kind == "fasttext") return makeFastTextEngine(spec);
  if (spec.kind == "static") return makeStaticEngine(spec);
  throw Error(
      ErrorCode::InvalidInput, "embedding", "open",
      fmt::format("embedding engine '{}': unknown kind '{}' (\"openai\", \"fasttext\" or \"static\")", spec.name, spec.kind));
}

}  // namespace khive::retrieval
