// UTF-8 well-formedness (RFC 3629, table 3-7 of the Unicode standard) and the printable form
// error messages use.
#include <gtest/gtest.h>

#include "khive/core/error.h"
#include "khive/core/utf8.h"

using namespace khive;

TEST(Utf8, AcceptsWellFormedText) {
  for (const char* s : {"", "plain ascii", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x90\x95",
                        "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "0123456789abcdef\xc2\x80"})
    EXPECT_FALSE(firstInvalidUtf8(s)) << s;
}

TEST(Utf8, FindsTheFirstBadByte) {
  struct Case {
    std::string text;
    std::size_t at;
  };
  for (const auto& c : std::vector<Case>{
           {"bad\xff", 3},
           {"\x80", 0},                       // a lone continuation byte
           {"ab\xc3", 2},                     // truncated
           {"\xc0\xaf", 0},                   // overlong '/'
           {"\xc1\xbf", 0},                   // overlong
           {"\xe0\x80\xaf", 0},               // overlong in three bytes
           {"\xf0\x80\x80\xaf", 0},           // overlong in four bytes
           {"x\xed\xa0\x80", 1},              // U+D800, a surrogate
           {"\xed\xbf\xbf", 0},               // U+DFFF
           {"\xf4\x90\x80\x80", 0},           // past U+10FFFF
           {"\xf5\x80\x80\x80", 0},
           {"0123456789abcdef\xe2\x82", 16},  // truncated after an ASCII run
       })
    EXPECT_EQ(firstInvalidUtf8(c.text), c.at) << c.text;
}

TEST(Utf8, ErrorMessagesAreAlwaysUtf8) {
  EXPECT_EQ(printableUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(printableUtf8("bad\xff" "name\xc3"), "bad\\xFFname\\xC3");
  Error e(ErrorCode::InvalidInput, "cli", "args", "name 'bad\xff'");
  EXPECT_EQ(e.message(), "name 'bad\\xFF'");
  EXPECT_TRUE(isValidUtf8(e.what()));
}

TEST(Utf8, AppendEncodesEveryLength) {
  std::string s;
  for (char32_t cp : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600', U'\U000F00A1'}) appendUtf8(s, cp);
  EXPECT_EQ(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf3\xb0\x82\xa1");
  EXPECT_TRUE(isValidUtf8(s));
}
