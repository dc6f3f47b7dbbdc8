// Crash safety through the real binary: kill -9 at random moments leaves the target either
// the old file or the complete new one; the next run removes what a killed run left; one
// writer per target.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

TEST(CrashSafetyTest, KillNineAtRandomMomentsLeavesOldOrCompleteNewTarget) {
  TempDir dir;
  Generate(dir.File("in.csv"), 100000, "csv", 21);
  const std::string expected = ReadFile(dir.File("in.csv"));
  std::string p = WritePipeline(
      dir, "p.yaml", "source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n");
  std::mt19937 rng(7);
  int old_seen = 0, new_seen = 0;
  for (int i = 0; i < 24; ++i) {
    WriteFile(dir.File("out.csv"), "old\n");
    const pid_t pid = SpawnProcess({FLOWENGINE_BIN, "run", p}, dir.File("err.txt"));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 120000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const std::string target = ReadFile(dir.File("out.csv"));
    ASSERT_TRUE(target == "old\n" || target == expected) << "iteration " << i;
    (target == "old\n" ? old_seen : new_seen)++;
    // Only temp and lock files of the killed run may be left, and the next run removes them.
    for (const std::string& name : dir.List()) {
      const bool known = name == "in.csv" || name == "out.csv" || name == "p.yaml" ||
                         name == "err.txt" || name.rfind(".out.csv.flowengine-", 0) == 0;
      EXPECT_TRUE(known) << name;
    }
  }
  EXPECT_GT(old_seen, 0);
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), expected);
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"err.txt", "in.csv", "out.csv", "p.yaml"}));
  std::cout << "kill -9 outcomes: " << old_seen << " old, " << new_seen << " new\n";
}

TEST(CrashSafetyTest, NextRunRemovesTempFilesOfDeadProcessesAndIgnoresStaleLocks) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  WriteFile(dir.File(".out.csv.flowengine-tmp.999999.0"), "partial");
  // A commit journal's temp file, killed before its rename (seen in CI as a leftover).
  WriteFile(dir.File(".out.csv.flowengine-journal.flowengine-tmp.999999.journal"), "flowengine");
  WriteFile(dir.File(".out.csv.flowengine-lock"), "999999\n");
  std::string p =
      WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: out.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("a temp file left by an interrupted run (pid 999999)"), std::string::npos)
      << r.err;
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml"}));
}

TEST(CrashSafetyTest, SecondConcurrentRunOnTheSameTargetFailsNamingTheFirst) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.File("in.csv").c_str(), 0600), 0);
  WriteFile(dir.File("in2.csv"), "a,b\n1,2\n");
  std::string p =
      WritePipeline(dir, "p.yaml",
                    "source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n"
                    "retry: { attempts: 2, initialDelay: 1ms, maxDelay: 2ms }\n");
  const pid_t first = SpawnProcess({FLOWENGINE_BIN, "run", p}, dir.File("first.txt"));
  const int fd = ::open(dir.File("in.csv").c_str(), O_WRONLY);  // waits for the reader
  ASSERT_GE(fd, 0);
  // More than a block, so that the first run gets past its header read and opens (locks) the
  // target, then waits for more input.
  std::string rows = "a,b\n";
  while (rows.size() < (2u << 20)) rows += "1,2\n";
  for (size_t at = 0; at < rows.size();) {
    const ssize_t n = ::write(fd, rows.data() + at, rows.size() - at);
    ASSERT_GT(n, 0);
    at += static_cast<size_t>(n);
  }
  // Wait until the first run holds the lock, at most 20 s: the lock file is created before it
  // is locked, and the run writes its pid ("PID\n") into it once it holds the lock.
  const std::string lock = dir.File(".out.csv.flowengine-lock");
  const std::string pid_line = std::to_string(first) + "\n";
  const auto holds_lock = [&] { return FileExists(lock) && ReadFile(lock) == pid_line; };
  for (int i = 0; i < 2000 && !holds_lock(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(holds_lock()) << ReadFile(dir.File("first.txt"));
  ProcessResult second = Flowengine({"run", p, "--set", "source.path=" + dir.File("in2.csv")});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("FE-OUTPUT-LOCKED"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("Another flowengine run (pid " + std::to_string(first) +
                            ") is writing this target"),
            std::string::npos)
      << second.err;
  ProcessResult validate =
      Flowengine({"validate", p, "--set", "source.path=" + dir.File("in2.csv")});
  EXPECT_EQ(validate.exit_code, 2);
  EXPECT_NE(validate.err.find("FE-OUTPUT-LOCKED"), std::string::npos) << validate.err;
  ::close(fd);  // end of input: the first run completes
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(dir.File("first.txt"));
  EXPECT_EQ(ReadFile(dir.File("out.csv")), rows);
}

}  // namespace
}  // namespace flowengine::testing
