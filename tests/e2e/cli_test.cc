// The command line: commands, help, usage errors and exit codes.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

TEST(CliTest, VersionPrintsTheVersionAndKernel) {
  ProcessResult r = Flowengine({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("flowengine 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("scan kernel"), std::string::npos);
}

TEST(CliTest, HelpOnEveryCommand) {
  for (const char* cmd : {"run", "validate", "version"}) {
    ProcessResult r = Flowengine({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find(std::string("Usage: flowengine ") + cmd), std::string::npos) << r.out;
  }
  ProcessResult top = Flowengine({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Commands:"), std::string::npos);
}

TEST(CliTest, UsageErrorsExitWith2) {
  ProcessResult none = Flowengine({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("FE-USAGE"), std::string::npos);
  EXPECT_NE(none.err.find("Missing command"), std::string::npos);

  ProcessResult unknown = Flowengine({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("Unknown command 'frobnicate'"), std::string::npos);

  ProcessResult no_file = Flowengine({"run"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("Missing the pipeline file"), std::string::npos);

  ProcessResult bad_opt = Flowengine({"run", "p.yaml", "--fast"});
  EXPECT_EQ(bad_opt.exit_code, 2);
  EXPECT_NE(bad_opt.err.find("Unknown option '--fast'"), std::string::npos);
}

TEST(CliTest, ConfigErrorExitsWith2AndNamesFileLineAndHint) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source:\n  path: in.csv\nsink:\n  path: out.csv\n  outputMod: "
                                "replace\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(p + ":5:3: error FE-CONFIG-UNKNOWN-KEY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Did you mean 'outputMode'?"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(CliTest, SkipRowWithoutDeadLetterIsRefusedWithExit2) {
  TempDir dir;
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "errorHandling: skip-row\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Missing key 'deadLetter.path' (required with errorHandling: skip-row)"),
            std::string::npos)
      << r.err;
}

TEST(CliTest, ValidateChecksHeaderAndSink) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "id,name\n1,a\n");
  std::string good = WritePipeline(
      dir, "good.yaml",
      "source:\n  path: in.csv\n  columns: [ { name: id, type: int64 } ]\nsink: { path: o.csv }\n");
  ProcessResult ok = Flowengine({"validate", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("is valid"), std::string::npos);
  EXPECT_FALSE(FileExists(dir.File("o.csv")));  // validate writes nothing

  std::string bad = WritePipeline(dir, "bad.yaml",
                                  "source:\n  path: in.csv\n  columns: [ { name: idd, type: int64 "
                                  "} ]\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"validate", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Declared column 'idd' is not in the header; header found: id,name"),
            std::string::npos)
      << r.err;

  ProcessResult missing = Flowengine({"validate", good, "--set", "source.path=nope.csv"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("FE-INPUT-OPEN"), std::string::npos) << missing.err;
}

TEST(CliTest, SetOverridesApply) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\n1,2\n");
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p, "--set", "sink.format=psv", "--set=limits.threads=1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("o.csv")), "a|b\n1|2\n");
  EXPECT_NE(r.err.find("1 rows read, 1 rows written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 threads"), std::string::npos) << r.err;
}

TEST(CliTest, SummaryReportsRowsAndRate) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\n1,2\n3,4\n5,6\n");
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.err.find("3 rows read, 3 rows written, 0 routed, 0 filtered, 0 rejected, 0 copies in "),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(" rows/s"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flowengine::testing
