// The fastText embedding engine: sentence vectors from a .bin model (libfasttext). The model is
// loaded on first use; a mutex serialises calls into it (FastText::getSentenceVector is not
// const).

#include <fasttext/fasttext.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "embedding_engines.h"
#include "khive/core/error.h"

namespace khive::retrieval {
namespace {

// FastText::loadModel(filename) loops forever on a truncated file (its dictionary reader
// waits for a NUL that never comes at EOF). Loading from our own stream with exceptions on
// makes a short read throw instead; checkModel (protected) still checks magic and version.
class Model : public fasttext::FastText {
 public:
  void load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot open the file");
    in.exceptions(std::ios::failbit | std::ios::badbit);
    try {
      if (!checkModel(in)) throw std::invalid_argument("not a fastText model (wrong magic number or version)");
      loadModel(in);
    } catch (const std::ios_base::failure&) {
      throw std::invalid_argument("the file ends early (truncated?)");
    }
  }
};

class FastTextEngine final : public EmbeddingEngine {
 public:
  explicit FastTextEngine(EngineSpec spec) : spec_(std::move(spec)) {}

  const EngineSpec& spec() const noexcept override { return spec_; }
  std::string describe() const override { return fmt::format("fasttext {}", spec_.path); }

  int dimension() override {
    std::lock_guard lock(mu_);
    return load().getDimension();
  }

  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override {
    std::lock_guard lock(mu_);
    fasttext::FastText& ft = load();
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    fasttext::Vector v(ft.getDimension());
    for (const auto& t : texts) {
      // getSentenceVector reads one line; a newline inside the text would end it early.
      std::string line = t;
      for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
      std::istringstream in(line + "\n");
      ft.getSentenceVector(in, v);
      out.emplace_back(v.data(), v.data() + v.size());
    }
    return out;
  }

 private:
  [[noreturn]] void fail(ErrorCode code, const std::string& message) const {
    throw Error(code, "embedding", "load", fmt::format("embedding engine '{}': {}", spec_.name, message));
  }

  // Caller holds mu_.
  fasttext::FastText& load() {
    if (model_) return *model_;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec_.path, ec))
      fail(ErrorCode::NotFound, fmt::format("fastText model file {} does not exist (train one with `fasttext skipgram "
                                            "-input corpus.txt -output model`, or fix 'path')",
                                            spec_.path));
    auto ft = std::make_unique<Model>();
    try {
      ft->load(spec_.path);
    } catch (const std::exception& e) {
      fail(ErrorCode::InvalidInput, fmt::format("cannot load fastText model {}: {}", spec_.path, e.what()));
    }
    if (spec_.dimensions && ft->getDimension() != spec_.dimensions)
      fail(ErrorCode::InvalidInput,
           fmt::format("fastText model {} has {} dimensions; the engine's 'dimensions' says {}", spec_.path,
                       ft->getDimension(), spec_.dimensions));
    model_ = std::move(ft);
    return *model_;
  }

  const EngineSpec spec_;
  std::mutex mu_;
  std::unique_ptr<Model> model_;  // guarded by mu_; null until first use
};

}  // namespace

std::unique_ptr<EmbeddingEngine> makeFastTextEngine(const EngineSpec& spec) {
  return std::make_unique<FastTextEngine>(spec);
}

}  // namespace khive::retrieval
