// The search helpers both engines share (storage/text_snippet.cc): bounded snippet windows,
// the words of a search text, the term limit.

#include <gtest/gtest.h>

#include <string>

#include "khive/core/error.h"
#include "khive/storage/text_search.h"

namespace khive::storage {
namespace {

std::size_t wordsIn(const std::string& s) { return countWords(s); }

std::string repeat(std::string_view piece, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += piece;
  return out;
}

TEST(TextSnippet, WindowAroundTheFirstMatchWithHighlights) {
  const std::vector<std::string> terms = {"zebra"};
  EXPECT_EQ(makeSnippet("", "the quick brown zebra jumps", terms), "the quick brown **zebra** jumps");
  const std::string body = repeat("lorem ", 100) + "a Zebra here " + repeat("ipsum ", 100);
  const std::string s = makeSnippet("", body, terms);
  EXPECT_EQ(s, "…lorem lorem lorem a **Zebra** here ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum…");
  EXPECT_EQ(wordsIn(s), kSnippetTokens);
}

TEST(TextSnippet, TheWindowIsBoundedHoweverManyWordsMatch) {
  // Every word of a 40,000-word body matches: the snippet is still one window of
  // kSnippetTokens words, made in one pass over its start.
  const std::string body = repeat("a ", 40'000);
  const std::vector<std::string> terms = {"a"};
  const std::string s = makeSnippet("", body, terms);
  EXPECT_EQ(wordsIn(s), kSnippetTokens);
  EXPECT_EQ(s.rfind("**a** **a**", 0), 0u) << s;
  EXPECT_EQ(s.substr(s.size() - 3), "…");
}

TEST(TextSnippet, TitleWhenTheBodyHasNoMatchAndTheStartWhenNeitherHas) {
  const std::vector<std::string> terms = {"lora"};
  EXPECT_EQ(makeSnippet("LoRA adapters", "low rank", terms), "**LoRA** adapters");
  EXPECT_EQ(makeSnippet("title", "café au lait", {}), "café au lait");
  EXPECT_EQ(makeSnippet("only a title", "", terms), "only a title");
  EXPECT_EQ(makeSnippet("", "", terms), "");
}

TEST(TextSearchTerms, DistinctWordsFoldCaseAndDropRepeats) {
  EXPECT_EQ(distinctWords("Graph graph GRAPH, multi-agent: graph!"),
            (std::vector<std::string>{"graph", "multi", "agent"}));
  EXPECT_EQ(distinctWords(repeat("a ", 2000)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(distinctWords("日本語 ünïcödé"), (std::vector<std::string>{"日本語", "ünïcödé"}));
  EXPECT_EQ(countWords("a a, b"), 3u);
}

TEST(TextSearchTerms, TooManyTermsIsInvalidInputNamingTheLimit) {
  try {
    throwTooManySearchTerms(65, "text");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    EXPECT_NE(std::string(e.message()).find("64"), std::string::npos);
    return;
  }
  FAIL();
}

}  // namespace
}  // namespace khive::storage
