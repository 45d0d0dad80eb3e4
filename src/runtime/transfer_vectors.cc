#include "runtime/transfer_vectors.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "khive/core/error.h"
#include "khive/runtime/import_sink.h"

namespace khive::runtime {

namespace {
[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::InvalidInput, "import", "jsonl", message); }
constexpr int kMaxDims = 16'384;
}  // namespace

Json vectorsToJson(std::span<const storage::VectorRecord> vectors) {
  Json out = Json::array();
  for (const auto& v : vectors) {
    Json values = Json::array();
    char buf[32];
    for (float x : v.values) {
      // The shortest text of the float, read as a double: JSON prints that double as the
      // same short text, and reading it as a float gives x back.
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
      values.push_back(ec == std::errc() ? std::strtod(std::string(buf, end).c_str(), nullptr) : static_cast<double>(x));
    }
    Json j{{"engine", v.model}, {"dims", v.values.size()}, {"values", std::move(values)}};
    if (v.field != "text") j["field"] = v.field;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<storage::VectorRecord> vectorsFromJson(const Json& value) {
  if (!value.is_array()) invalid("\"vectors\" must be an array of {\"engine\", \"dims\", \"values\"} objects");
  std::vector<storage::VectorRecord> out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const Json& j = value[i];
    const auto where = fmt::format("vectors[{}]", i);
    if (!j.is_object()) invalid(fmt::format("{} must be an object with \"engine\", \"dims\" and \"values\"", where));
    for (const auto& [key, _] : j.items())
      if (key != "engine" && key != "dims" && key != "values" && key != "field")
        invalid(fmt::format("{} has an unknown field \"{}\" (engine, dims, values, field)", where, key));
    auto engine = j.find("engine");
    if (engine == j.end() || !engine->is_string() || engine->get_ref<const std::string&>().empty())
      invalid(fmt::format("{}.engine must be the name of an embedding engine", where));
    auto dims = j.find("dims");
    if (dims == j.end() || !dims->is_number_integer() || dims->get<std::int64_t>() < 1 || dims->get<std::int64_t>() > kMaxDims)
      invalid(fmt::format("{}.dims must be an integer in 1..{}", where, kMaxDims));
    auto values = j.find("values");
    if (values == j.end() || !values->is_array()) invalid(fmt::format("{}.values must be an array of numbers", where));
    if (static_cast<std::int64_t>(values->size()) != dims->get<std::int64_t>())
      invalid(fmt::format("{} says dims {} but has {} values", where, dims->get<std::int64_t>(), values->size()));
    storage::VectorRecord r;
    r.model = engine->get<std::string>();
    if (auto f = j.find("field"); f != j.end()) {
      if (!f->is_string() || f->get_ref<const std::string&>().empty()) invalid(fmt::format("{}.field must be a non-empty string", where));
      r.field = f->get<std::string>();
    }
    r.values.reserve(values->size());
    bool nonZero = false;
    for (std::size_t k = 0; k < values->size(); ++k) {
      const Json& x = (*values)[k];
      if (!x.is_number() || !std::isfinite(x.get<double>()))
        invalid(fmt::format("{}.values[{}] is not a finite number", where, k));
      r.values.push_back(x.get<float>());
      nonZero = nonZero || r.values.back() != 0.0f;
    }
    if (!nonZero) invalid(fmt::format("{} is all zeros, which has no direction for cosine similarity", where));
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.model == r.model && o.field == r.field; }))
      invalid(fmt::format("{} repeats engine '{}' (field '{}')", where, r.model, r.field));
    out.push_back(std::move(r));
  }
  return out;
}

void ImportedVectorCheck::check(const storage::VectorRecord& v) {
  const int dims = static_cast<int>(v.values.size());
  auto known = dims_.find(v.model);
  if (known == dims_.end()) {
    if (!sink_.hasVectors())
      invalid(fmt::format("the line carries vectors of engine '{}' but the {} backend cannot store vectors (see khive "
                          "doctor); remove the \"vectors\" field to import without them",
                          v.model, sink_.backendName()));
    const auto& specs = sink_.engineSpecs();
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == v.model; });
    if (spec == specs.end()) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      invalid(fmt::format("vectors of engine '{}', which is not configured ({}); add an [[engines]] entry named '{}' "
                          "(the same model), or remove the \"vectors\" field",
                          v.model, names.empty() ? "no [[engines]] in khive.toml" : "configured: " + names, v.model));
    }
    // The dimension the engine is known to give: declared, or (a local model file) read from it.
    int expected = spec->dimensions;
    std::string source = "its 'dimensions'";
    if (!expected && spec->kind != "openai") {
      expected = sink_.engineDimension(v.model);
      source = fmt::format("its model {}", spec->path);
    }
    for (const auto& info : sink_.stores().vectors().vectorInfo())
      if (info.model == v.model) {
        if (expected && info.dims != expected) break;  // reported below against the engine
        expected = info.dims;
        source = "the vectors stored under that name";
      }
    known = dims_.emplace(v.model, expected ? expected : dims).first;
    if (expected && expected != dims)
      invalid(fmt::format("a {}-dimensional vector of engine '{}', which gives {} dimensions ({}); export and import "
                          "with the same model, or remove the \"vectors\" field",
                          dims, v.model, expected, source));
  }
  if (known->second != dims)
    invalid(fmt::format("a {}-dimensional vector of engine '{}', whose vectors have {} dimensions", dims, v.model,
                        known->second));
}

std::vector<std::string> ImportedVectorCheck::engines() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : dims_) out.push_back(name);
  return out;
}

}  // namespace khive::runtime
