// The built-in offline engine (`kind = "static"`): SIF sentence vectors from a word vector file
// (khive/retrieval/word_vectors.h). The file is opened on first use (memory-mapped in khive's
// binary form, parsed in the text format); embedding is pure computation over it, so calls run
// in parallel once it is open.

#include <fmt/format.h>

#include <filesystem>
#include <mutex>

#include "embedding_engines.h"
#include "khive/core/error.h"
#include "khive/retrieval/word_vectors.h"

namespace khive::retrieval {
namespace {

class StaticEngine final : public EmbeddingEngine {
 public:
  explicit StaticEngine(EngineSpec spec) : spec_(std::move(spec)) {}

  const EngineSpec& spec() const noexcept override { return spec_; }
  std::string describe() const override { return fmt::format("static {} (SIF over word vectors)", spec_.path); }
  int dimension() override { return words().dims(); }

  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override {
    const auto& wv = words();
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const auto& t : texts) out.push_back(wv.sentenceVector(t));
    return out;
  }

 private:
  const WordVectors& words() {
    std::lock_guard lock(mu_);
    if (words_) return *words_;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec_.path, ec))
      throw Error(ErrorCode::NotFound, "embedding", "load",
                  fmt::format("embedding engine '{}': word vector file {} does not exist (scripts/static-model.sh "
                              "installs the default one; or give a word2vec/GloVe text file)",
                              spec_.name, spec_.path));
    try {
      words_ = WordVectors::open(spec_.path);
    } catch (const Error& e) {
      throw Error(e.code(), "embedding", "load", fmt::format("embedding engine '{}': {}", spec_.name, e.message()));
    }
    if (spec_.dimensions && words_->dims() != spec_.dimensions) {
      const int dims = words_->dims();
      words_.reset();
      throw Error(ErrorCode::InvalidInput, "embedding", "load",
                  fmt::format("embedding engine '{}': {} has {} dimensions; the engine's 'dimensions' says {}",
                              spec_.name, spec_.path, dims, spec_.dimensions));
    }
    return *words_;
  }

  const EngineSpec spec_;
  std::mutex mu_;
  std::shared_ptr<const WordVectors> words_;  // guarded by mu_ until set, immutable after
};

}  // namespace

std::unique_ptr<EmbeddingEngine> makeStaticEngine(const EngineSpec& spec) {
  return std::make_unique<StaticEngine>(spec);
}

}  // namespace khive::retrieval
