// Sink options and disk space through the real binary: lineEnding, quoting, header, backup;
// the free-space check before the run and ENOSPC during it (on a small tmpfs).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

TEST(SinkOptionsTest, LineEndingQuotingAndHeader) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\n1,\"x,y\"\n2,z\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "sink: { path: out.csv, lineEnding: crlf, quoting: all }\n");
  ASSERT_EQ(Flowengine({"run", p}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "\"a\",\"b\"\r\n\"1\",\"x,y\"\r\n\"2\",\"z\"\r\n");
  ProcessResult r = Flowengine({"run", p, "--set", "sink.path=" + dir.File("nohead.csv"), "--set",
                                "sink.header=false", "--set", "sink.quoting=minimal"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("nohead.csv")), "1,\"x,y\"\r\n2,z\r\n");
}

TEST(SinkOptionsTest, BackupKeepsThePreviousTarget) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  WriteFile(dir.File("out.csv"), "previous\n");
  WriteFile(dir.File("out.csv.bak"), "older\n");
  std::string p = WritePipeline(
      dir, "p.yaml",
      "source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace, backup: true }\n");
  ASSERT_EQ(Flowengine({"run", p}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a\n1\n");
  EXPECT_EQ(ReadFile(dir.File("out.csv.bak")), "previous\n");
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"in.csv", "out.csv", "out.csv.bak", "p.yaml"}));
}

// A 1 MiB tmpfs mounted by the test (root); skipped where mounting is not allowed.
class TmpfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_point_ = dir_.File("small");
    std::filesystem::create_directory(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=1m") != 0) {
      FLOWENGINE_SKIP_OR_FAIL_IN_CI("cannot mount a tmpfs here (not root, or not permitted)");
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount(mount_point_.c_str());
  }
  TempDir dir_;
  std::string mount_point_;
  bool mounted_ = false;
};

TEST_F(TmpfsTest, NotEnoughSpaceIsFoundBeforeTheRun) {
  Generate(dir_.File("in.csv"), 20000);  // ~2.8 MB
  WriteFile(mount_point_ + "/out.csv", "previous\n");
  std::string p = WritePipeline(dir_, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: " + mount_point_ +
                                    "/out.csv, outputMode: replace }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-OUTPUT-SPACE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Not enough free space for the output: "), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(mount_point_ + "/out.csv"), "previous\n");
  ProcessResult v = Flowengine({"validate", p});
  EXPECT_EQ(v.exit_code, 2);
}

TEST_F(TmpfsTest, DiskFullDuringTheRunLeavesTheTargetUntouchedAndNoTemp) {
  // Passes the estimate (input < free space) but quoting every field makes the output larger.
  Generate(dir_.File("in.csv"), 6600);  // ~944 KB, under the 1 MiB free
  WriteFile(mount_point_ + "/out.csv", "previous\n");
  std::string p =
      WritePipeline(dir_, "p.yaml",
                    "source: { path: in.csv }\nsink: { path: " + mount_point_ +
                        "/out.csv, outputMode: replace, quoting: all, lineEnding: crlf }\n"
                        "limits: { blockSize: 64KiB }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-OUTPUT-WRITE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(mount_point_ + "/out.csv"), "previous\n");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(mount_point_)) {
    left.push_back(e.path().filename());
  }
  EXPECT_EQ(left, std::vector<std::string>{"out.csv"});
}

}  // namespace
}  // namespace flowengine::testing
