// Retries of transient I/O failures, driven through the I/O layer's fault-injection seam
// (FLOWENGINE_TEST_FAULTS) of the real binary.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct Fixture {
  TempDir dir;
  std::string pipeline;
  Fixture() {
    WriteFile(dir.File("in.csv"), "a,b\n1,2\n3,4\n");
    WriteFile(dir.File("out.csv"), "previous\n");
    pipeline = WritePipeline(dir, "p.yaml",
                             "source: { path: in.csv }\n"
                             "sink: { path: out.csv, outputMode: replace }\n"
                             "retry: { attempts: 3, initialDelay: 1ms, maxDelay: 5ms }\n");
  }
  ProcessResult Run(const std::string& faults) {
    return Flowengine({"run", pipeline}, "", {"FLOWENGINE_TEST_FAULTS=" + faults});
  }
};

TEST(RetryTest, ReadSucceedsAfterTransientFailures) {
  Fixture f;
  ProcessResult r = f.Run("read:EIO:2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count(r.err, "flowengine: warning: retry "), 2u) << r.err;
  EXPECT_NE(r.err.find("retry 1/2 in "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Reading the input failed: Input/output error"), std::string::npos);
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "a,b\n1,2\n3,4\n");
}

TEST(RetryTest, WriteSucceedsAfterTransientFailures) {
  Fixture f;
  ProcessResult r = f.Run("write:EAGAIN:2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count(r.err, "flowengine: warning: retry "), 2u) << r.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "a,b\n1,2\n3,4\n");
}

TEST(RetryTest, GivesUpAfterAttemptsWithTheOriginalError) {
  Fixture f;
  ProcessResult r = f.Run("read:EIO:10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Count(r.err, "flowengine: warning: retry "), 2u) << r.err;
  EXPECT_NE(r.err.find("FE-INPUT-READ"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Reading the input failed: Input/output error (after 3 attempts)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "previous\n");
}

TEST(RetryTest, NonRetryableErrorsFailAtOnce) {
  Fixture f;
  ProcessResult r = f.Run("write:ENOSPC:1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Count(r.err, "flowengine: warning: retry "), 0u) << r.err;
  EXPECT_NE(r.err.find("FE-OUTPUT-WRITE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "previous\n");
  EXPECT_EQ(f.dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml"}));
}

// Syncing the output to disk fails (fsync at commit): the run fails, the target is untouched
// and no temp file is left.
TEST(RetryTest, FailedSyncAtCommitFailsTheRun) {
  Fixture f;
  ProcessResult r = f.Run("sync:EIO:1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("FE-OUTPUT-WRITE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Flushing the output to disk failed: Input/output error"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "previous\n");
  EXPECT_EQ(f.dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml"}));
}

// An output above 8 MiB is synced in the background while it is written
// (core/io/background_sync.h); the first sync failing there must fail the run, although the
// fsync at commit would no longer report it.
TEST(RetryTest, FailedBackgroundSyncFailsTheRun) {
  Fixture f;
  std::string input = "a,b\n";
  const std::string tail(50, 'x');
  for (int i = 0; i < 200000; ++i) input += std::to_string(i) + "," + tail + "\n";
  WriteFile(f.dir.File("in.csv"), input);
  ProcessResult r = f.Run("sync:EIO:1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Flushing the output to disk failed: Input/output error"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), "previous\n");
  EXPECT_EQ(f.dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml"}));
  ProcessResult ok = f.Run("");  // and without the fault, the same run commits all of it
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ReadFile(f.dir.File("out.csv")), input);
}

}  // namespace
}  // namespace flowengine::testing
