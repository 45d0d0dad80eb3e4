#pragma once
// Embedding engines: turn texts into dense vectors of one fixed dimension, for the vector signal
// of hybrid search (docs/architecture.md). Two kinds, configured by `[[engines]]` in
// khive.toml (runtime/config.h):
//
//   kind = "openai"    an OpenAI-compatible HTTP endpoint: POST {url}/v1/embeddings with
//                      {"model": ..., "input": [...]}, vectors from data[i].embedding (llama.cpp
//                      server, Ollama, TEI, ... on localhost). libcurl.
//   kind = "fasttext"  a fastText model file (.bin), sentence vectors (getSentenceVector).
//                      libfasttext.
//
// No engine header (curl, fasttext) leaks through this file: the implementations live in
// src/retrieval/*_engine.cc. No model is downloaded at run time.

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace khive::retrieval {

// One `[[engines]]` entry. Value type: thread-compatible.
struct EngineSpec {
  std::string name;          // unique; also the model name under which vectors are stored
  std::string kind;          // "openai" or "fasttext"
  std::string url;           // openai: base URL, e.g. "http://127.0.0.1:8080"
  std::string model;         // openai: the "model" field of the request
  std::string path;          // fasttext: the .bin model file
  int dimensions = 0;        // expected dimension; 0 = whatever the engine gives (then fixed)
  int timeoutMs = 30000;     // openai: per request
  int batchSize = 64;        // openai: inputs per request
  std::string apiKeyEnv;     // openai: environment variable holding a bearer token ("" = none)
  bool isDefault = false;    // the engine `search` and writes use; else the first entry
  bool embedOnWrite = true;  // create/update embed the record with the default engine
};

// Thread-safe: embed() may be called from several threads at once.
class EmbeddingEngine {
 public:
  virtual ~EmbeddingEngine() = default;
  EmbeddingEngine() = default;
  EmbeddingEngine(const EmbeddingEngine&) = delete;
  EmbeddingEngine& operator=(const EmbeddingEngine&) = delete;

  virtual const EngineSpec& spec() const noexcept = 0;
  const std::string& name() const noexcept { return spec().name; }
  // A one-line description for people, e.g. "openai http://127.0.0.1:8080 (model m)".
  virtual std::string describe() const = 0;
  // The vector dimension. May ask the engine (one short request) when it is not known yet.
  // Throws like embed().
  virtual int dimension() = 0;
  // One vector per text, in order, every one of dimension(). Inputs are sent in batches of
  // spec().batchSize. Throws Error: Driver (cannot connect, HTTP error status with an excerpt
  // of the body, malformed response), Timeout, NotFound (missing model file), InvalidInput
  // (a vector of the wrong dimension). Each message names the engine and where it looked.
  virtual std::vector<std::vector<float>> embed(std::span<const std::string> texts) = 0;
};

// Builds an engine from its spec. Cheap: a fastText model is loaded on first use, an HTTP
// engine connects on first use. InvalidInput for an unknown kind.
std::unique_ptr<EmbeddingEngine> makeEmbeddingEngine(const EngineSpec& spec);

}  // namespace khive::retrieval
