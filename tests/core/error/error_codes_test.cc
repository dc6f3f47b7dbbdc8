#include "core/error/error_codes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace flowengine {
namespace {

TEST(ErrorCodesTest, CodesAreUniqueAndComplete) {
  std::set<std::string_view> seen;
  for (const ErrorCodeInfo& info : AllErrorCodes()) {
    EXPECT_TRUE(seen.insert(info.code).second) << info.code;
    EXPECT_EQ(info.code.substr(0, 3), "FE-") << info.code;
    EXPECT_FALSE(info.summary.empty()) << info.code;
    EXPECT_FALSE(info.hint.empty()) << info.code;
  }
}

TEST(ErrorCodesTest, MakeErrorFillsClassHintAndRetryable) {
  Error e = MakeError("FE-INPUT-READ", "Reading the input failed: EIO", {}, "read");
  EXPECT_EQ(e.error_class, ErrorClass::kInput);
  EXPECT_TRUE(e.retryable);
  EXPECT_FALSE(e.hint.empty());
}

TEST(ErrorCodesTest, ToStringPutsLocationFirstAndHintLast) {
  Location loc;
  loc.file = "in.csv";
  loc.line = 3;
  loc.column = 7;
  loc.field = "age";
  Error e =
      MakeError("FE-SCHEMA-TYPE", "Value is not a valid int32 in column 'age': 'x'", loc, "parse");
  EXPECT_EQ(e.ToString(),
            "in.csv:3:7: error FE-SCHEMA-TYPE (schema, stage parse): Value is not a valid int32 "
            "in column 'age': 'x'\n  at: field 'age'\n  hint: Fix the value, or declare the "
            "column with a type that fits (e.g. string).");
}

// docs/errors.md documents exactly the codes in the catalogue.
TEST(ErrorCodesTest, DocsListEveryCode) {
  std::ifstream in(std::string(FLOWENGINE_SOURCE_DIR) + "/docs/errors.md");
  ASSERT_TRUE(in) << "docs/errors.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  std::set<std::string> documented;
  std::regex heading("### (FE-[A-Z0-9-]+)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), heading);
       it != std::sregex_iterator(); ++it) {
    documented.insert((*it)[1]);
  }
  std::set<std::string> catalogue;
  for (const ErrorCodeInfo& info : AllErrorCodes()) catalogue.insert(std::string(info.code));
  EXPECT_EQ(documented, catalogue);
}

}  // namespace
}  // namespace flowengine
