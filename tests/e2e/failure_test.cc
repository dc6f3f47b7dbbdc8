// Failed and interrupted runs through the real binary: exit codes, messages, and targets
// that stay exactly as they were, with no temp file left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/e2e/e2e_util.h"

extern char** environ;

namespace flowengine::testing {
namespace {

TEST(FailureTest, BadRowFailsTheRunAndLeavesThePreviousTargetUntouched) {
  TempDir dir;
  Generate(dir.File("in.csv"), 50000);
  std::string content = ReadFile(dir.File("in.csv"));
  content += "50001,only,three\n";
  WriteFile(dir.File("in.csv"), content);
  WriteFile(dir.File("out.csv"), "previous,content\n");
  std::string p = WritePipeline(
      dir, "p.yaml", "source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n");
  ProcessResult r = Flowengine({"run", p, "--set", "limits.blockSize=64KiB"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-INPUT-FIELD-COUNT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected 10, got 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was committed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "previous,content\n");
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml"}));
}

TEST(FailureTest, EarliestBadRowIsReportedWhateverTheThreads) {
  TempDir dir;
  Generate(dir.File("in.csv"), 40000);
  std::string content = ReadFile(dir.File("in.csv"));
  // Two bad rows far apart; with many small blocks in flight the first must be reported.
  size_t second_line_start = content.find('\n') + 1;
  content.insert(second_line_start, "x,y\n");
  content += "again,bad\n";
  WriteFile(dir.File("in.csv"), content);
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  for (int i = 0; i < 5; ++i) {
    ProcessResult r = Flowengine({"run", p, "--set", "limits.blockSize=4KiB"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(dir.File("in.csv") + ":2:1: error FE-INPUT-FIELD-COUNT"),
              std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(FileExists(dir.File("o.csv")));
}

TEST(FailureTest, BadTypedValueNamesLineColumnValueAndType) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "id,age\n1,30\n2,thirty\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source:\n  path: in.csv\n  columns: [ { name: age, type: int32 } "
                                "]\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":3:3: error FE-SCHEMA-TYPE"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Value is not a valid int32 in column 'age': 'thirty'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hint: "), std::string::npos);
}

TEST(FailureTest, CreateModeRefusesAnExistingTarget) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  WriteFile(dir.File("out.csv"), "keep me\n");
  std::string p =
      WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: out.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-OUTPUT-EXISTS"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "keep me\n");
}

TEST(FailureTest, MissingInputFails) {
  TempDir dir;
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-INPUT-OPEN"), std::string::npos) << r.err;
  EXPECT_EQ(dir.List(), std::vector<std::string>{"p.yaml"});
}

// Starts flowengine reading from a FIFO that never ends, signals it, and checks the exit
// code and that nothing was committed or left behind.
void ExpectSignalStopsCleanly(int sig, int expected_exit) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.File("in.csv").c_str(), 0600), 0);
  WriteFile(dir.File("out.csv"), "previous\n");
  std::string p = WritePipeline(
      dir, "p.yaml", "source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n");
  const std::string bin = FLOWENGINE_BIN;
  std::vector<char*> argv{const_cast<char*>(bin.c_str()), const_cast<char*>("run"),
                          const_cast<char*>(p.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, dir.File("stderr.txt").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Feed a header and some rows, keep the FIFO open: the run is now waiting for more.
  int fd = ::open(dir.File("in.csv").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string rows = "a,b\n";
  for (int i = 0; i < 1000; ++i) rows += std::to_string(i) + ",x\n";
  ASSERT_EQ(::write(fd, rows.data(), rows.size()), static_cast<ssize_t>(rows.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, sig);
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(fd);
      FAIL() << "flowengine did not stop within 10 s of the signal";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), expected_exit);
  const std::string err = ReadFile(dir.File("stderr.txt"));
  EXPECT_NE(err.find("interrupted by"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "previous\n");
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "p.yaml", "stderr.txt"}));
}

TEST(FailureTest, SigintStopsWithExit130AndCommitsNothing) {
  ExpectSignalStopsCleanly(SIGINT, 130);
}

TEST(FailureTest, SigtermStopsWithExit143AndCommitsNothing) {
  ExpectSignalStopsCleanly(SIGTERM, 143);
}

}  // namespace
}  // namespace flowengine::testing
