// Round trips through the real binary on generated files: byte-identical passthrough for
// CSV, TSV and PSV; identical output for 1 thread and all cores; dialect conversions.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

std::string Pipeline(const std::string& in, const std::string& format, const std::string& out,
                     const std::string& extra = "") {
  return "pipeline: roundtrip\nsource:\n  path: " + in + "\n  format: " + format +
         "\n  columns:\n    - { name: id, type: int64, required: true }\n"
         "    - { name: age, type: int32 }\n    - { name: amount, type: float64 }\n"
         "    - { name: active, type: bool }\nsink:\n  path: " +
         out + "\n  outputMode: replace\n" + extra;
}

class RoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTripTest, PassthroughIsByteIdentical) {
  const std::string format = GetParam();
  TempDir dir;
  Generate(dir.File("in." + format), 30000, format);
  std::string p = WritePipeline(dir, "p.yaml", Pipeline("in." + format, format, "out." + format));
  // Default blocks, and small ones so that hundreds of block edges are crossed.
  for (const char* block : {"1MiB", "4KiB"}) {
    ProcessResult r = Flowengine({"run", p, "--set", std::string("limits.blockSize=") + block});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("30000 rows read, 30000 rows written"), std::string::npos) << r.err;
    ASSERT_EQ(ReadFile(dir.File("out." + format)), ReadFile(dir.File("in." + format)))
        << format << " block " << block;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTripTest, ::testing::Values("csv", "tsv", "psv"));

TEST(RoundTripTest, OneThreadAndAllCoresAreByteIdentical) {
  TempDir dir;
  Generate(dir.File("in.csv"), 200000, "csv", 7);
  const std::string content = ReadFile(dir.File("in.csv"));
  ASSERT_NE(content.find("\nsecond line"), std::string::npos);  // quoted newlines present
  std::string p = WritePipeline(dir, "p.yaml", Pipeline("in.csv", "csv", "out.csv"));
  for (const char* threads : {"1", "0"}) {
    for (const char* block : {"1MiB", "64KiB"}) {
      const std::string out = std::string("out-") + threads + "-" + block + ".tsv";
      ProcessResult r = Flowengine({"run", p, "--set", std::string("limits.threads=") + threads,
                                    "--set", std::string("limits.blockSize=") + block, "--set",
                                    "sink.path=" + dir.File(out), "--set", "sink.format=tsv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  const std::string reference = ReadFile(dir.File("out-1-1MiB.tsv"));
  EXPECT_GT(reference.size(), content.size() / 2);
  EXPECT_EQ(ReadFile(dir.File("out-0-1MiB.tsv")), reference);
  EXPECT_EQ(ReadFile(dir.File("out-1-64KiB.tsv")), reference);
  EXPECT_EQ(ReadFile(dir.File("out-0-64KiB.tsv")), reference);
}

TEST(RoundTripTest, CsvToTsvToPsvToCsvGetsTheOriginalBack) {
  TempDir dir;
  Generate(dir.File("in.csv"), 20000, "csv", 3);
  std::string to_tsv = WritePipeline(dir, "a.yaml", Pipeline("in.csv", "csv", "mid.tsv"));
  ProcessResult a = Flowengine({"run", to_tsv, "--set", "sink.format=tsv"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::string to_psv = WritePipeline(dir, "b.yaml", Pipeline("mid.tsv", "tsv", "mid.psv"));
  ProcessResult b = Flowengine({"run", to_psv, "--set", "sink.format=psv"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string to_csv = WritePipeline(dir, "c.yaml", Pipeline("mid.psv", "psv", "back.csv"));
  ProcessResult c = Flowengine({"run", to_csv, "--set", "sink.format=csv"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(ReadFile(dir.File("back.csv")), ReadFile(dir.File("in.csv")));
}

TEST(RoundTripTest, CrlfInputBecomesLfOutput) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n");
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("o.csv")), "a,b\n1,\"x\r\ny\"\n2,z\n");
}

TEST(RoundTripTest, AppendModeAddsRowsWithoutASecondHeader) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\n1,2\n");
  std::string p = WritePipeline(
      dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv, outputMode: append }\n");
  ASSERT_EQ(Flowengine({"run", p}).exit_code, 0);
  ASSERT_EQ(Flowengine({"run", p}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir.File("o.csv")), "a,b\n1,2\n1,2\n");
}

}  // namespace
}  // namespace flowengine::testing
