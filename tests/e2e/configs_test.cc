// Every example pipeline in configs/ validates and runs (its sink redirected to a scratch
// directory so that the repository stays clean).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Examples() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(std::string(FLOWENGINE_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ConfigsTest, ThereAreExamples) { EXPECT_GE(Examples().size(), 2u); }

TEST(ConfigsTest, EveryExampleValidatesAndRuns) {
  for (const std::string& yaml : Examples()) {
    SCOPED_TRACE(yaml);
    TempDir dir;
    const std::string out = "sink.path=" + dir.File("out");
    ProcessResult v = Flowengine({"validate", yaml, "--set", out});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    ProcessResult r = Flowengine({"run", yaml, "--set", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(" rows written"), std::string::npos) << r.err;
    ASSERT_TRUE(FileExists(dir.File("out")));
    EXPECT_GT(ReadFile(dir.File("out")).size(), 0u);
  }
}

}  // namespace
}  // namespace flowengine::testing
