// importJsonl on a stream that fails to read (a directory opened as a file) is an error, not an
// empty input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/transfer.h"

using namespace khive;
using namespace khive::runtime;

TEST(ImportInput, AStreamThatCannotBeReadIsAnError) {
  Runtime rt(openBackendUrl("sqlite::memory:", {"*"}), RuntimeOptions{});
  std::ifstream dir(std::filesystem::temp_directory_path(), std::ios::binary);
  ASSERT_TRUE(dir.is_open()) << "opening a directory as a file succeeds on Linux; reading it fails";
  try {
    importJsonl(rt, dir);
    FAIL() << "a directory read as JSONL is not an empty import";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    EXPECT_NE(e.message().find("line 1: the input could not be read"), std::string::npos) << e.message();
  }
}
