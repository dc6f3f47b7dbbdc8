// The memory budget through the real binary: small budgets still give correct output, the
// reported peak stays under the budget, and records that cannot fit fail clearly.
#include <gtest/gtest.h>

#include <regex>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

// Peak and budget in MiB from the run summary.
std::pair<double, double> MemoryFigures(const std::string& err) {
  std::smatch m;
  std::regex re("memory peak ([0-9.]+) MiB of ([0-9.]+) MiB");
  if (!std::regex_search(err, m, re)) return {-1, -1};
  return {std::stod(m[1]), std::stod(m[2])};
}

TEST(MemoryTest, SmallBudgetStillProducesTheSameOutput) {
  TempDir dir;
  Generate(dir.File("in.csv"), 100000);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "limits: { memory: 4MiB }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), ReadFile(dir.File("in.csv")));
  auto [peak, budget] = MemoryFigures(r.err);
  EXPECT_EQ(budget, 4.0) << r.err;
  EXPECT_GT(peak, 0.0) << r.err;
  EXPECT_LE(peak, budget) << r.err;
}

TEST(MemoryTest, DenseDataIsCutIntoSmallerBlocksToStayInBudget) {
  // One-byte fields: span memory is 8x the input, so blocks must shrink to fit.
  TempDir dir;
  std::string content = "a,b,c,d,e,f,g,h\n";
  std::string row = "1,2,3,4,5,6,7,8\n";
  for (int i = 0; i < 300000; ++i) content += row;
  WriteFile(dir.File("in.csv"), content);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "limits: { memory: 4MiB }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), content);
  auto [peak, budget] = MemoryFigures(r.err);
  EXPECT_LE(peak, budget) << r.err;
}

TEST(MemoryTest, RecordLargerThanTheBudgetAllowsFailsClearly) {
  TempDir dir;
  std::string content = "a,b\n1," + std::string(3 << 20, 'x') + "\n";
  WriteFile(dir.File("in.csv"), content);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "limits: { memory: 4MiB }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":2: error FE-INPUT-RECORD-TOO-LARGE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("or less when limits.memory is small"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

}  // namespace
}  // namespace flowengine::testing
