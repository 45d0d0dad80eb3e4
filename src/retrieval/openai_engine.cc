// The OpenAI-compatible HTTP embedding engine (libcurl). One easy handle per request, so
// embed() is thread-safe without a lock.

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "embedding_engines.h"
#include "khive/core/error.h"
#include "khive/core/json.h"

namespace khive::retrieval {
namespace {

[[noreturn]] void fail(ErrorCode code, const EngineSpec& s, std::string message) {
  throw Error(code, "embedding", "embed", fmt::format("embedding engine '{}': {}", s.name, message));
}

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// {url}/v1/embeddings, accepting a base URL with or without /v1 or the whole endpoint.
std::string endpointOf(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.ends_with("/embeddings")) return url;
  if (url.ends_with("/v1")) return url + "/embeddings";
  return url + "/v1/embeddings";
}

// Loopback never goes through a proxy (an http_proxy in the environment would otherwise
// route a local llama.cpp or Ollama through it); the user's no_proxy list still applies.
std::string noProxyList() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* var : {"no_proxy", "NO_PROXY"})
    if (const char* v = std::getenv(var); v && *v) return list + "," + v;
  return list;
}

std::string excerpt(std::string body) {
  std::replace(body.begin(), body.end(), '\n', ' ');
  std::replace(body.begin(), body.end(), '\r', ' ');
  if (body.size() > 200) body = body.substr(0, 200) + "...";
  return body.empty() ? "(empty body)" : body;
}

class OpenAiEngine final : public EmbeddingEngine {
 public:
  explicit OpenAiEngine(EngineSpec spec)
      : spec_(std::move(spec)), endpoint_(endpointOf(spec_.url)), dims_(spec_.dimensions) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  const EngineSpec& spec() const noexcept override { return spec_; }
  std::string describe() const override {
    return fmt::format("openai {} (model {})", endpoint_, spec_.model.empty() ? "-" : spec_.model);
  }

  int dimension() override {
    {
      std::lock_guard lock(mu_);
      if (dims_ > 0) return dims_;
    }
    static const std::string probe = "dimension probe";
    embed(std::span(&probe, 1));
    std::lock_guard lock(mu_);
    return dims_;
  }

  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    const std::size_t batch = static_cast<std::size_t>(std::max(1, spec_.batchSize));
    for (std::size_t i = 0; i < texts.size(); i += batch) {
      auto part = request(texts.subspan(i, std::min(batch, texts.size() - i)));
      for (auto& v : part) out.push_back(std::move(v));
    }
    return out;
  }

 private:
  std::vector<std::vector<float>> request(std::span<const std::string> texts) {
    Json body{{"input", Json::array()}};
    if (!spec_.model.empty()) body["model"] = spec_.model;
    for (const auto& t : texts) body["input"].push_back(t);
    const std::string payload = body.dump(-1, ' ', false, Json::error_handler_t::replace);

    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) fail(ErrorCode::Driver, spec_, "cannot create an HTTP handle (libcurl)");
    std::string auth;
    if (!spec_.apiKeyEnv.empty()) {
      const char* key = std::getenv(spec_.apiKeyEnv.c_str());
      if (!key || !*key)
        fail(ErrorCode::InvalidInput, spec_, fmt::format("api_key_env names ${}, which is not set", spec_.apiKeyEnv));
      auth = fmt::format("Authorization: Bearer {}", key);
    }
    curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
    if (!auth.empty())
      if (curl_slist* more = curl_slist_append(list, auth.c_str())) list = more;
    std::unique_ptr<curl_slist, SlistDeleter> headers(list);
    std::string response;
    const std::string noProxy = noProxyList();
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, endpoint_.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(spec_.timeoutMs));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(spec_.timeoutMs, 10000)));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, noProxy.c_str());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "khive/0.1.0");

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OPERATION_TIMEDOUT)
      fail(ErrorCode::Timeout, spec_,
           fmt::format("no answer from {} within {} ms (raise timeout_ms)", endpoint_, spec_.timeoutMs));
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
      fail(ErrorCode::Driver, spec_,
           fmt::format("cannot connect to {} ({}); is the embedding server running?", endpoint_,
                       curl_easy_strerror(rc)));
    if (rc != CURLE_OK)
      fail(ErrorCode::Driver, spec_, fmt::format("request to {} failed: {}", endpoint_, curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300)
      fail(ErrorCode::Driver, spec_, fmt::format("HTTP {} from {}: {}", status, endpoint_, excerpt(response)));
    return parse(response, texts.size());
  }

  std::vector<std::vector<float>> parse(const std::string& response, std::size_t expected) {
    auto bad = [&](std::string_view why) -> void {
      fail(ErrorCode::Driver, spec_,
           fmt::format("malformed response from {} ({}): {}", endpoint_, why, excerpt(response)));
    };
    Json j = Json::parse(response, nullptr, false);
    if (j.is_discarded() || !j.is_object()) bad("not a JSON object");
    if (!j.contains("data") || !j["data"].is_array()) bad("no 'data' array");
    const Json& data = j["data"];
    if (data.size() != expected) bad(fmt::format("{} embeddings for {} inputs", data.size(), expected));
    std::vector<std::vector<float>> out(expected);
    std::vector<bool> seen(expected, false);
    for (std::size_t i = 0; i < data.size(); ++i) {
      const Json& item = data[i];
      if (!item.is_object() || !item.contains("embedding") || !item["embedding"].is_array())
        bad("an item has no 'embedding' array");
      // Servers return items in input order; `index`, when present, is authoritative.
      std::size_t at = i;
      if (item.contains("index")) {
        if (!item["index"].is_number_unsigned() || item["index"].get<std::size_t>() >= expected)
          bad("an item's 'index' is out of range");
        at = item["index"].get<std::size_t>();
      }
      if (seen[at]) bad("two items share an index");
      seen[at] = true;
      auto& v = out[at];
      v.reserve(item["embedding"].size());
      for (const auto& x : item["embedding"]) {
        if (!x.is_number()) bad("an embedding holds a non-number");
        v.push_back(x.get<float>());
        if (!std::isfinite(v.back())) bad("an embedding holds a non-finite number");
      }
    }
    std::lock_guard lock(mu_);
    for (const auto& v : out) {
      const int d = static_cast<int>(v.size());
      if (d == 0) fail(ErrorCode::Driver, spec_, fmt::format("{} returned an empty embedding", endpoint_));
      if (dims_ == 0) dims_ = d;
      if (d != dims_)
        fail(ErrorCode::InvalidInput, spec_,
             fmt::format("{} returned a {}-dimensional vector; expected {} ({})", endpoint_, d, dims_,
                         spec_.dimensions ? "the engine's 'dimensions'" : "the first vector it returned"));
    }
    return out;
  }

  const EngineSpec spec_;
  const std::string endpoint_;
  std::mutex mu_;
  int dims_;  // guarded by mu_; 0 until known
};

}  // namespace

std::unique_ptr<EmbeddingEngine> makeOpenAiEngine(const EngineSpec& spec) {
  return std::make_unique<OpenAiEngine>(spec);
}

}  // namespace khive::retrieval
