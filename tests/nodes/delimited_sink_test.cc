// The sink's output modes and its atomic commit: nothing half-written is ever visible.
#include "nodes/delimited_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/csv/block_parser.h"
#include "tests/test_util.h"

namespace flowengine {
namespace {

using testing::FileExists;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// A chunk holding `text` parsed as two string columns, formatted by `sink`.
void Fill(Chunk& chunk, const std::string& text, const DelimitedSink& sink) {
  static Schema schema{{{"a", ColumnType::kString, false}, {"b", ColumnType::kString, false}}};
  chunk.block.bytes.Clear();
  chunk.block.bytes.Append(text.data(), text.size());
  chunk.block.bytes.ZeroTail();
  BlockParserOptions options;
  options.dialect = Dialect::Csv();
  options.schema = &schema;
  ASSERT_FALSE(ParseBlock(chunk.block, options, chunk.batch));
  sink.Format(chunk, -1, chunk.output);
}

DelimitedSink MakeSink(const std::string& path, OutputMode mode, Dialect d = Dialect::Csv()) {
  SinkSpec spec;
  spec.path = path;
  spec.mode = mode;
  spec.dialect = d;
  return DelimitedSink(spec, Dialect::Csv(), {"a", "b"});
}

std::string ErrorCode(const std::function<void()>& f) {
  try {
    f();
  } catch (const ErrorException& e) {
    return e.error().code;
  }
  return "";
}

TEST(DelimitedSinkTest, CreateWritesHeaderAndRowsAtCommit) {
  TempDir dir;
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kCreate);
  sink.Open();
  Chunk chunk;
  Fill(chunk, "1,x\n2,\"y,z\"\n", sink);
  sink.Write(chunk.output);
  EXPECT_FALSE(FileExists(dir.File("out.csv")));  // nothing visible before the commit
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a,b\n1,x\n2,\"y,z\"\n");
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.csv"});
}

TEST(DelimitedSinkTest, CreateRefusesAnExistingTarget) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "old\n");
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kCreate);
  EXPECT_EQ(ErrorCode([&] { sink.Open(); }), "FE-OUTPUT-EXISTS");
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "old\n");
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.csv"});
}

TEST(DelimitedSinkTest, CreateRefusesATargetThatAppearsDuringTheRun) {
  TempDir dir;
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kCreate);
  sink.Open();
  WriteFile(dir.File("out.csv"), "someone else\n");
  EXPECT_EQ(ErrorCode([&] { sink.file().Commit(); }), "FE-OUTPUT-EXISTS");
  sink.Abort();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "someone else\n");
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.csv"});
}

TEST(DelimitedSinkTest, ReplaceReplacesAndKeepsPermissions) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "old\n");
  std::filesystem::permissions(dir.File("out.csv"), std::filesystem::perms(0640));
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kReplace);
  sink.Open();
  Chunk chunk;
  Fill(chunk, "1,x\n", sink);
  sink.Write(chunk.output);
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "old\n");
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a,b\n1,x\n");
  EXPECT_EQ(std::filesystem::status(dir.File("out.csv")).permissions(),
            std::filesystem::perms(0640));
}

TEST(DelimitedSinkTest, AppendAddsRowsWithoutASecondHeader) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "a,b\n0,old\n");
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kAppend);
  sink.Open();
  Chunk chunk;
  Fill(chunk, "1,x\n", sink);
  sink.Write(chunk.output);
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a,b\n0,old\n1,x\n");
}

TEST(DelimitedSinkTest, AppendToAMissingFileWritesTheHeader) {
  TempDir dir;
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kAppend);
  sink.Open();
  Chunk chunk;
  Fill(chunk, "1,x\n", sink);
  sink.Write(chunk.output);
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a,b\n1,x\n");
}

TEST(DelimitedSinkTest, AppendAfterALastLineWithoutNewline) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "a,b\n0,old");
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kAppend);
  sink.Open();
  Chunk chunk;
  Fill(chunk, "1,x\n", sink);
  sink.Write(chunk.output);
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "a,b\n0,old\n1,x\n");
}

TEST(DelimitedSinkTest, AppendRefusesADifferentHeader) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "x,y\n1,2\n");
  DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kAppend);
  try {
    sink.Open();
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-OUTPUT-APPEND-HEADER");
    EXPECT_EQ(e.error().message,
              "The target's header differs from the output columns: found 'x,y', expected 'a,b'");
  }
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "x,y\n1,2\n");
}

TEST(DelimitedSinkTest, AbortLeavesTheTargetUntouchedAndNoTempFile) {
  TempDir dir;
  WriteFile(dir.File("out.csv"), "old\n");
  {
    DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kReplace);
    sink.Open();
    Chunk chunk;
    Fill(chunk, "1,x\n", sink);
    sink.Write(chunk.output);
    // The temp file has no name until the commit (O_TMPFILE): only the lock is beside it.
    EXPECT_EQ(dir.List(), (std::vector<std::string>{".out.csv.flowengine-lock", "out.csv"}));
    sink.Abort();
  }
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "old\n");
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.csv"});
}

TEST(DelimitedSinkTest, DestructorWithoutCommitRemovesTheTemp) {
  TempDir dir;
  {
    DelimitedSink sink = MakeSink(dir.File("out.csv"), OutputMode::kReplace);
    sink.Open();
  }
  EXPECT_TRUE(dir.List().empty());
}

TEST(DelimitedSinkTest, MissingDirectoryIsAStartupError) {
  TempDir dir;
  DelimitedSink sink = MakeSink(dir.File("nope/out.csv"), OutputMode::kReplace);
  try {
    sink.Check();
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-OUTPUT-OPEN");
    EXPECT_EQ(e.error().message, "The output directory does not exist: '" + dir.File("nope") + "'");
  }
}

TEST(DelimitedSinkTest, TsvOutput) {
  TempDir dir;
  DelimitedSink sink = MakeSink(dir.File("out.tsv"), OutputMode::kCreate, Dialect::Tsv());
  sink.Open();
  Chunk chunk;
  Fill(chunk, "\"a,b\",c\td\n", sink);
  sink.Write(chunk.output);
  sink.file().Commit();
  EXPECT_EQ(ReadFile(dir.File("out.tsv")), "a\tb\na,b\t\"c\td\"\n");
}

}  // namespace
}  // namespace flowengine
