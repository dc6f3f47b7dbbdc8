// Source dialects and encodings through the real binary: backslash escapes, no quoting,
// byte order marks (UTF-8 stripped, UTF-16 LE/BE transcoded, UTF-32 refused), latin-1 and
// windows-1252 transcoding, skipRows, maxRows and skipBlankLines.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

// Runs `source_keys` (inside source: { path: in.csv, ... }) on `input`; returns the result
// and leaves the output in dir/out.csv.
ProcessResult RunSource(TempDir& dir, const std::string& input, const std::string& source_keys,
                        const std::string& extra = "") {
  WriteFile(dir.File("in.csv"), input);
  const std::string p =
      WritePipeline(dir, "p.yaml",
                    "source: { path: in.csv" + (source_keys.empty() ? "" : ", " + source_keys) +
                        " }\nsink: { path: out.csv }\n" + extra);
  return Flowengine({"run", p});
}

// UTF-16 code units of ASCII/BMP text given as UTF-8 (no surrogates needed in these tests,
// except where written by hand).
std::string Utf16(const std::u16string& text, bool little_endian) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  for (char16_t u : text) {
    const char lo = static_cast<char>(u & 0xFF);
    const char hi = static_cast<char>(u >> 8);
    out += little_endian ? std::string{lo, hi} : std::string{hi, lo};
  }
  return out;
}

TEST(SourceOptionsTest, BackslashEscapesAreDecoded) {
  TempDir dir;
  const std::string input =
      "id,text\n"
      "1,comma\\, inside\n"
      "2,\"quote \\\" inside\"\n"
      "3,line\\nbreak and tab\\tend\n"
      "4,back\\\\slash\n";
  ProcessResult r = RunSource(dir, input, "escape: '\\'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")),
            "id,text\n"
            "1,\"comma, inside\"\n"
            "2,\"quote \"\" inside\"\n"
            "3,\"line\nbreak and tab\tend\"\n"
            "4,back\\slash\n");
}

TEST(SourceOptionsTest, BadEscapeNamesLineAndColumn) {
  TempDir dir;
  ProcessResult r = RunSource(dir, "id,text\n1,ok\n2,bad \\q here\n", "escape: '\\'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":3:7: error FE-INPUT-BAD-ESCAPE"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("out.csv")));
}

TEST(SourceOptionsTest, BadEscapeInTheHeaderIsAnError) {
  TempDir dir;
  ProcessResult r = RunSource(dir, "id,na\\me\n1,x\n", "escape: '\\'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":1:6: error FE-INPUT-BAD-ESCAPE"), std::string::npos)
      << r.err;
}

TEST(SourceOptionsTest, QuoteNoneKeepsQuotesAsData) {
  TempDir dir;
  ProcessResult r = RunSource(dir, "id,text\n1,say \"hi\"\n2,\"\n", "quote: none");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,text\n1,\"say \"\"hi\"\"\"\n2,\"\"\"\"\n");
}

TEST(SourceOptionsTest, Utf8ByteOrderMarkIsNotPartOfTheFirstColumnName) {
  TempDir dir;
  ProcessResult r =
      RunSource(dir, "\xEF\xBB\xBFid,name\n1,Zoë\n", "columns: [{ name: id, type: int64 }]");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name\n1,Zoë\n");
}

TEST(SourceOptionsTest, Utf16LittleAndBigEndianAreTranscoded) {
  const std::u16string text = u"id,name\r\n1,Zoë\r\n2,北京\r\n3,\"a,b\"\r\n";
  for (bool le : {true, false}) {
    TempDir dir;
    std::string input = Utf16(text, le);
    // A character outside the BMP: a surrogate pair (U+1F600).
    input += le ? std::string("4\0,\0=\xD8\0\xDE\r\0\n\0", 12)
                : std::string("\0004\0,\xD8=\xDE\0\0\r\0\n", 12);
    ProcessResult r = RunSource(dir, input, "", "limits: { blockSize: 4KiB }\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFile(dir.File("out.csv")),
              "id,name\n1,Zoë\n2,北京\n3,\"a,b\"\n4,\xF0\x9F\x98\x80\n")
        << (le ? "LE" : "BE");
  }
}

TEST(SourceOptionsTest, Utf16ManyBlocksMatchUtf8Input) {
  TempDir dir;
  std::u16string text = u"id,name\n";
  std::string expected = "id,name\n";
  for (int i = 0; i < 20000; ++i) {
    const std::string n = std::to_string(i);
    text += std::u16string(n.begin(), n.end()) + u",Zoë 北京\n";
    expected += n + ",Zoë 北京\n";
  }
  ProcessResult r = RunSource(dir, Utf16(text, true), "", "limits: { blockSize: 4KiB }\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), expected);
}

TEST(SourceOptionsTest, UnpairedSurrogateIsAnEncodingError) {
  TempDir dir;
  ProcessResult r = RunSource(dir, Utf16(u"id\n1\n", true) + std::string("\x00\xDC\n\0", 4), "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error FE-ENCODING-UTF16"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Low surrogate without a high surrogate"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("out.csv")));
}

TEST(SourceOptionsTest, Utf32ByteOrderMarkIsAClearError) {
  TempDir dir;
  ProcessResult r = RunSource(dir, std::string("\xFF\xFE\0\0i\0\0\0", 8), "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":1: error FE-ENCODING-BOM"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("UTF-32"), std::string::npos) << r.err;
}

TEST(SourceOptionsTest, ByteOrderMarkContradictingEncodingIsRefused) {
  TempDir dir;
  ProcessResult r = RunSource(dir, Utf16(u"id\n1\n", true), "encoding: latin-1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("utf-16le byte order mark but source.encoding is latin-1"),
            std::string::npos)
      << r.err;
}

TEST(SourceOptionsTest, Latin1AndWindows1252AreTranscoded) {
  TempDir dir;
  // 0xE9 é, 0xFF ÿ; 0x80 is € in windows-1252 and U+0080 in latin-1.
  const std::string input = "id,name\n1,caf\xE9 \xFF\n2,\x80 5\n";
  ProcessResult r = RunSource(dir, input, "encoding: latin-1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name\n1,café ÿ\n2,\xC2\x80 5\n");
  TempDir dir2;
  r = RunSource(dir2, input, "encoding: windows-1252");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir2.File("out.csv")), "id,name\n1,café ÿ\n2,€ 5\n");
}

TEST(SourceOptionsTest, SkipRowsDropsAPreamble) {
  TempDir dir;
  ProcessResult r =
      RunSource(dir, "Report of 2026-11-29\nexported by X\nid,v\n1,a\n2,b\n", "skipRows: 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,v\n1,a\n2,b\n");
  // Line numbers in messages still count the preamble.
  TempDir dir2;
  r = RunSource(dir2, "pre\nid,v\n1,a\n2,b,c\n", "skipRows: 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir2.File("in.csv") + ":4:1: error FE-INPUT-FIELD-COUNT"), std::string::npos)
      << r.err;
}

TEST(SourceOptionsTest, LongPreambleAcrossBlocksAndPreambleLongerThanTheFile) {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 3000; ++i) input += "# preamble line " + std::to_string(i) + "\n";
  input += "id,v\n1,a\n";
  ProcessResult r = RunSource(dir, input, "skipRows: 3000", "limits: { blockSize: 4KiB }\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,v\n1,a\n");
  TempDir dir2;
  r = RunSource(dir2, "a\nb\n", "skipRows: 1000000000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-INPUT-NO-HEADER"), std::string::npos) << r.err;
}

TEST(SourceOptionsTest, EscapedQuoteWithoutQuoting) {
  TempDir dir;
  ProcessResult r =
      RunSource(dir, "id,text\n1,say \\\"hi\\\" \\, ok\n", "quote: none, escape: '\\'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,text\n1,\"say \"\"hi\"\" , ok\"\n");
}

TEST(SourceOptionsTest, MaxRowsStopsReadingAfterThatManyRecords) {
  TempDir dir;
  std::string input = "id,v\n";
  std::string expected = input;
  for (int i = 0; i < 50000; ++i) {
    input += std::to_string(i) + ",\"x\ny\"\n";
    if (i < 12345) expected += std::to_string(i) + ",\"x\ny\"\n";
  }
  input += "broken,\"\n";  // never read
  ProcessResult r = RunSource(dir, input, "maxRows: 12345", "limits: { blockSize: 4KiB }\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), expected);
  EXPECT_NE(r.err.find("12345 rows read"), std::string::npos) << r.err;
}

TEST(SourceOptionsTest, BlankLinesAreSkippedOrKept) {
  TempDir dir;
  ProcessResult r = RunSource(dir, "v\na\n\nb\n", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "v\na\nb\n");
  TempDir dir2;
  r = RunSource(dir2, "v\na\n\nb\n", "skipBlankLines: false");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir2.File("out.csv")), "v\na\n\"\"\nb\n");
  // With two columns a kept blank line has the wrong number of fields.
  TempDir dir3;
  r = RunSource(dir3, "k,v\na,1\n\nb,2\n", "skipBlankLines: false");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":3:1: error FE-INPUT-FIELD-COUNT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flowengine::testing
