#pragma once
// TextSearch: full-text documents attached to subjects (entities or notes).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/types.h"

namespace khive::storage {

struct TextDocument {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  std::string title;
  std::string body;
  std::vector<std::string> tags;
  Json metadata = Json::object();
  Micros updatedAt = 0;
};

enum class TextMode {
  Plain,   // every term must occur (AND)
  Phrase,  // the terms in order, adjacent
  AnyTerm  // at least one term (OR)
};

struct TextQuery {
  std::string text;  // user text: any characters; never a syntax error
  TextMode mode = TextMode::Plain;
  std::vector<std::string> namespaces;  // required
  std::vector<std::string> kinds;
  std::vector<Uuid> ids;
  std::int64_t topK = 10;  // 1..10,000
  bool snippets = false;
};

struct TextHit {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  std::string title;
  double score = 0;  // in [0,1], from BM25, deterministic
  int rank = 0;      // 1-based
  std::optional<std::string> snippet;
};

struct TextStats {
  std::int64_t documents = 0;
  std::int64_t namespaces = 0;
};

// ---- helpers both engines' text search share (text_snippet.cc) -------------------------------

// A search text may name at most this many terms (distinct ones in plain and any-term mode,
// every word of a phrase): the query builders throw Error(InvalidInput) past it
// (throwTooManySearchTerms). Repeated terms are searched once.
inline constexpr std::size_t kMaxSearchTerms = 64;
[[noreturn]] void throwTooManySearchTerms(std::size_t terms, std::string_view capability);

// The words of a text as snippets and the PostgreSQL query builder see them: runs of letters
// and digits (ASCII ones, and non-ASCII characters outside the punctuation and symbol blocks;
// everything else separates), ASCII lower-cased, each once, in order of first appearance.
std::vector<std::string> distinctWords(std::string_view text);
// The number of words of the text, repeats included (the same words as distinctWords).
std::size_t countWords(std::string_view text);

// Tokens a snippet shows at most.
inline constexpr std::size_t kSnippetTokens = 16;

// A snippet of a document: up to kSnippetTokens words of its body (else its title) around the
// first word equal (ASCII case folded) to one of `terms` (as distinctWords gives them), with
// every matching word in the window wrapped in ** **, and … where the window cuts the text.
// When neither matches (the engine matched a folded form): the first words of the body (the
// title when the body is empty). The cost is at most two passes over the text, whatever the
// number of matches, so snippets cost time linear in the size of the documents returned.
std::string makeSnippet(std::string_view title, std::string_view body, std::span<const std::string> terms);

// Thread-safe.
class TextSearch {
 public:
  virtual ~TextSearch() = default;
  virtual void upsertDocument(const TextDocument& doc) = 0;
  virtual BatchWriteSummary upsertDocuments(std::span<const TextDocument> docs) = 0;
  virtual bool deleteDocument(const Uuid& subjectId) = 0;
  virtual std::optional<TextDocument> getDocument(const Uuid& subjectId) = 0;
  virtual std::vector<TextHit> searchText(const TextQuery& query) = 0;
  virtual std::int64_t countDocuments(std::span<const std::string> namespaces) = 0;
  // Like countDocuments, but only the documents of live subjects: entities and notes that exist
  // and are not soft-deleted (soft delete keeps a record's document).
  virtual std::int64_t countLiveDocuments(std::span<const std::string> namespaces) = 0;
  virtual TextStats textStats() = 0;
  virtual void rebuildText() = 0;
};

}  // namespace khive::storage
