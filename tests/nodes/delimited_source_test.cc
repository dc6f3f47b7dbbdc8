// The reader: blocks of whole records whatever the block size, the header, limits.
#include "nodes/delimited_source.h"

#include <gtest/gtest.h>

#include "core/csv/formatter.h"
#include "tests/test_util.h"

namespace flowengine {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct ReadAll {
  std::string output;  // every block re-formatted as CSV
  std::vector<int64_t> first_lines;
  std::vector<int64_t> offsets;
  std::optional<Error> error;
  Schema schema;
};

ReadAll Read(const std::string& content, int64_t block_size, bool header = true,
             int64_t max_record = 1 << 20) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), content);
  SourceSpec spec;
  spec.path = dir.File("in.csv");
  spec.header = header;
  if (!header)
    spec.columns = {{"a", ColumnType::kString, false}, {"b", ColumnType::kString, false}};
  LimitsSpec limits;
  limits.block_size = block_size;
  limits.max_record_size = max_record;
  DelimitedSource source(spec, limits);
  ReadAll out;
  try {
    source.Open();
    out.schema = source.schema();
    Chunk chunk;
    while (source.ReadBlock(chunk.block)) {
      out.first_lines.push_back(chunk.block.first_line);
      out.offsets.push_back(chunk.block.byte_offset);
      source.Parse(chunk);
      if (chunk.error) {
        out.error = chunk.error;
        break;
      }
      FormatBatch(chunk.block.bytes.data(), chunk.batch, Dialect::Csv(), Dialect::Csv(),
                  chunk.output);
      out.output.append(chunk.output.data(), chunk.output.size());
      chunk.output.Clear();
    }
  } catch (const ErrorException& e) {
    out.error = e.error();
  }
  return out;
}

TEST(DelimitedSourceTest, HeaderBecomesTheSchema) {
  ReadAll r = Read("id,name\n1,a\n", 4096);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.schema.size(), 2u);
  EXPECT_EQ(r.schema.columns[0].name, "id");
  EXPECT_EQ(r.schema.columns[1].name, "name");
  EXPECT_EQ(r.output, "1,a\n");
}

TEST(DelimitedSourceTest, Utf8BomIsStripped) {
  ReadAll r = Read("\xEF\xBB\xBFid,name\n1,a\n", 4096);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.schema.columns[0].name, "id");
  EXPECT_EQ(r.offsets, std::vector<int64_t>{11});
}

TEST(DelimitedSourceTest, EveryBlockSizeGivesTheSameRows) {
  std::string content = "a,b\n";
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    std::string row = std::to_string(i) + ",";
    if (i % 7 == 0)
      row += "\"multi\nline " + std::to_string(i) + "\"";
    else if (i % 5 == 0)
      row += "\"with \"\"quotes\"\", and comma\"";
    else
      row += "plain";
    content += row + (i % 3 == 0 ? "\r\n" : "\n");
    expected += row + "\n";
  }
  // A 4 KiB block holds ~150 rows: hundreds of block edges, CRLF split at some of them.
  for (int64_t block : {4096, 4097, 4099, 5000, 65536}) {
    ReadAll r = Read(content, block);
    ASSERT_FALSE(r.error) << r.error->ToString();
    ASSERT_EQ(r.output, expected) << "block size " << block;
    for (size_t i = 1; i < r.first_lines.size(); ++i) {
      ASSERT_GT(r.first_lines[i], r.first_lines[i - 1]);
    }
  }
}

TEST(DelimitedSourceTest, LineNumbersSurviveBlockEdges) {
  std::string content = "a,b\n";
  for (int i = 0; i < 2000; ++i) content += "\"x\ny\",z\n";  // each record spans 2 lines
  content += "bad\n";
  ReadAll r = Read(content, 4096);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-INPUT-FIELD-COUNT");
  EXPECT_EQ(r.error->location.line, 2 + 2 * 2000);
  EXPECT_EQ(r.error->location.byte_offset, static_cast<int64_t>(content.size() - 4));
}

TEST(DelimitedSourceTest, RecordLargerThanABlockGrowsTheBlock) {
  std::string big(20000, 'x');
  ReadAll r = Read("a,b\n1,\"" + big + "\"\n2,y\n", 4096);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.output, "1," + big + "\n2,y\n");
}

TEST(DelimitedSourceTest, RecordLargerThanMaxRecordSizeFails) {
  std::string big(20000, 'x');
  ReadAll r = Read("a,b\n1,y\n2,\"" + big + "\"\n", 4096, true, 8192);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-INPUT-RECORD-TOO-LARGE");
  EXPECT_EQ(r.error->message,
            "Record starting at line 3 is larger than the record size limit (8192 bytes: "
            "limits.maxRecordSize, or less when limits.memory is small)");
  EXPECT_EQ(r.error->location.line, 3);
}

TEST(DelimitedSourceTest, UnterminatedQuoteAtEndOfFile) {
  ReadAll r = Read("a,b\n1,y\n2,\"open\nstill open\n", 4096);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-INPUT-UNTERMINATED-QUOTE");
  EXPECT_EQ(r.error->location.line, 3);
}

TEST(DelimitedSourceTest, EmptyInputWithHeaderIsAnError) {
  ReadAll r = Read("", 4096);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-INPUT-NO-HEADER");
}

TEST(DelimitedSourceTest, HeaderOnlyGivesNoRows) {
  ReadAll r = Read("a,b\n", 4096);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.output, "");
}

TEST(DelimitedSourceTest, NoHeaderUsesDeclaredColumns) {
  ReadAll r = Read("1,2\n3,4", 4096, false);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.output, "1,2\n3,4\n");
}

TEST(DelimitedSourceTest, DuplicateHeaderName) {
  ReadAll r = Read("a,b,a\n1,2,3\n", 4096);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-CONFIG-HEADER");
  EXPECT_EQ(r.error->message, "Duplicate column name 'a'; header found: a,b,a");
}

TEST(DelimitedSourceTest, EmptyHeaderName) {
  ReadAll r = Read("a,,c\n1,2,3\n", 4096);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-CONFIG-HEADER");
  EXPECT_EQ(r.error->message, "Empty column name at position 2; header found: a,,c");
}

TEST(DelimitedSourceTest, DeclaredColumnMissingFromHeader) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a,b\n1,2\n");
  SourceSpec spec;
  spec.path = dir.File("in.csv");
  spec.columns = {{"c", ColumnType::kInt32, false}};
  DelimitedSource source(spec, LimitsSpec{});
  try {
    source.Open();
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-CONFIG-HEADER");
    EXPECT_EQ(e.error().message, "Declared column 'c' is not in the header; header found: a,b");
  }
}

TEST(DelimitedSourceTest, MissingInputFile) {
  SourceSpec spec;
  spec.path = "/nonexistent/in.csv";
  DelimitedSource source(spec, LimitsSpec{});
  try {
    source.Open();
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-INPUT-OPEN");
    EXPECT_EQ(e.error().message, "Cannot open the input file: No such file or directory");
    EXPECT_EQ(e.error().location.file, "/nonexistent/in.csv");
  }
}

}  // namespace
}  // namespace flowengine
