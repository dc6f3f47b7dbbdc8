// The record grammar (core/csv/grammar.h) and the kernels' agreement with it: on random
// inputs full of stray and misplaced quotes, every kernel's record boundary must be the one
// the grammar finds, in every quoting mode, before and at the end of the input.
#include "core/csv/grammar.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/csv/record_splitter.h"

namespace flowengine {
namespace {

std::vector<char> Padded(const std::string& text) {
  std::vector<char> buf(text.size() + kPaddingBytes, '\0');
  std::memcpy(buf.data(), text.data(), text.size());
  return buf;
}

Dialect Mode(int mode) {
  Dialect d = Dialect::Csv();
  if (mode == 1) d.escape = '\\';
  if (mode == 2) d.quote = '\0';
  return d;
}

// The grammar's answer to find_boundary: the end of the last record that ends in [0, size)
// (data[size] being the real next byte when not at the end), or size at the end.
size_t GrammarBoundary(const std::vector<char>& buf, size_t size, const Dialect& d, bool at_eof) {
  if (at_eof) return size;
  size_t end = 0;
  while (end < size) {
    const RecordScan r = ScanRecord(buf.data(), end, size + 1, d, /*at_eof=*/false);
    if (r.end != RecordEnd::kLineEnding || r.next > size) break;
    end = r.next;
  }
  return end;
}

std::string RandomText(std::mt19937_64& rng, size_t size) {
  static const std::vector<std::string> kPieces = {
      "a",    "b",  ",",     ",",      "\"",      "\"",       "\"\"", "\n",  "\r",
      "\r\n", "\\", "5\" x", "\"q\"z", "\"a,b\"", "\xC3\xA9", " ",    "x\"", "\"\n\""};
  std::string s;
  while (s.size() < size) s += kPieces[rng() % kPieces.size()];
  s.resize(size);
  return s;
}

TEST(GrammarTest, StrayQuoteIsDataAndTheRecordEndsAtTheLine) {
  const std::string text = "1,5\" screw,x\n2,\"a\nb\",c\n";
  const RecordScan r = ScanRecord(text.data(), 0, text.size(), Dialect::Csv(), true);
  EXPECT_EQ(r.end, RecordEnd::kLineEnding);
  EXPECT_EQ(r.next, 13u);
  EXPECT_EQ(r.problem, ScanStatus::kStrayQuote);
  EXPECT_EQ(r.problem_offset, 3u);
  const RecordScan second = ScanRecord(text.data(), r.next, text.size(), Dialect::Csv(), true);
  EXPECT_EQ(second.problem, ScanStatus::kOk);
  EXPECT_EQ(second.line_breaks, 2);
  EXPECT_EQ(second.fields, 3u);
}

TEST(GrammarTest, AfterQuoteAndUnterminatedQuote) {
  const std::string after = "\"ab\"x,\"c\"\n";
  RecordScan r = ScanRecord(after.data(), 0, after.size(), Dialect::Csv(), true);
  EXPECT_EQ(r.problem, ScanStatus::kAfterQuote);
  EXPECT_EQ(r.problem_offset, 4u);
  EXPECT_EQ(r.next, after.size());
  const std::string open = "1,\"abc\n2,x\n";
  r = ScanRecord(open.data(), 0, open.size(), Dialect::Csv(), true);
  EXPECT_EQ(r.problem, ScanStatus::kUnterminatedQuote);
  EXPECT_EQ(r.problem_offset, 2u);
  EXPECT_EQ(r.end, RecordEnd::kEndOfData);
  r = ScanRecord(open.data(), 0, open.size(), Dialect::Csv(), false);
  EXPECT_EQ(r.end, RecordEnd::kIncomplete);
}

TEST(GrammarTest, CrAtTheEndWaitsForTheNextByte) {
  const std::string text = "a,b\r";
  EXPECT_EQ(ScanRecord(text.data(), 0, text.size(), Dialect::Csv(), false).end,
            RecordEnd::kIncomplete);
  const RecordScan r = ScanRecord(text.data(), 0, text.size(), Dialect::Csv(), true);
  EXPECT_EQ(r.end, RecordEnd::kLineEnding);
  EXPECT_EQ(r.next, 4u);
}

TEST(GrammarTest, SplitValuesUnescape) {
  const std::string text = "\"a\"\"b\",c\\,d\n";
  SplitRecord csv = SplitOneRecord(text.data(), 0, text.size(), Dialect::Csv());
  EXPECT_EQ(csv.fields, (std::vector<std::string>{"a\"b", "c\\", "d"}));
  Dialect esc = Dialect::Csv();
  esc.escape = '\\';
  const std::string text2 = "\"a\\\"b\",c\\,d\\n\n";
  SplitRecord e = SplitOneRecord(text2.data(), 0, text2.size(), esc);
  EXPECT_EQ(e.fields, (std::vector<std::string>{"a\"b", "c,d\n"}));
}

TEST(GrammarTest, EveryKernelFindsTheGrammarsBoundary) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 30000; ++iter) {
    const int mode = static_cast<int>(rng() % 3);
    const Dialect d = Mode(mode);
    const std::string text = RandomText(rng, 1 + rng() % 300);
    const std::vector<char> buf = Padded(text);
    const bool at_eof = rng() % 4 == 0;
    // Before the end, the last byte is the look-ahead the reader keeps out of the search.
    const size_t size = at_eof ? text.size() : text.size() - 1;
    const size_t want = GrammarBoundary(buf, size, d, at_eof);
    for (const ScanKernel* k : AvailableKernels()) {
      const BoundaryResult got =
          k->find_boundary(buf.data(), size, d.delimiter, d.quote, d.escape, at_eof);
      ASSERT_EQ(got.end, want) << k->name << " mode " << mode << " at_eof " << at_eof
                               << " text: " << ::testing::PrintToString(text);
      const BoundaryResult counts =
          CountLinesAndDelimiters(buf.data(), got.end, d.delimiter, d.quote, d.escape);
      ASSERT_EQ(got.line_count, counts.line_count) << k->name << ::testing::PrintToString(text);
      ASSERT_EQ(got.delimiter_count, counts.delimiter_count)
          << k->name << ::testing::PrintToString(text);
    }
  }
}

TEST(GrammarTest, EveryKernelReportsTheGrammarsFirstProblem) {
  std::mt19937_64 rng(11);
  int compared = 0;
  for (int iter = 0; iter < 40000; ++iter) {
    const Dialect d = Mode(static_cast<int>(rng() % 2));
    const std::string text = RandomText(rng, 1 + rng() % 150);
    const std::vector<char> buf = Padded(text);
    const BoundaryResult counts =
        ScalarKernel().find_boundary(buf.data(), text.size(), d.delimiter, d.quote, d.escape, true);
    // The kernels stop at the first bad record; with many columns every record is bad (too
    // few fields), so compare where the first non-blank record has a grammar problem.
    size_t at = 0;
    RecordScan first;
    while (at < text.size()) {
      first = ScanRecord(buf.data(), at, text.size(), d, true);
      if (!first.blank) break;
      at = first.next;
    }
    if (at >= text.size() || first.problem == ScanStatus::kOk) continue;
    ++compared;
    const ScanStatus want = first.problem;
    const size_t want_offset = first.problem_offset;
    for (const ScanKernel* k : AvailableKernels()) {
      std::vector<FieldSpan> fields(FieldCapacity(counts, 1000));
      std::vector<RowInfo> rows(RowCapacity(counts));
      // Many columns: no field-count error comes before a quote problem.
      ParseArgs args{buf.data(), text.size(), d.delimiter,   d.quote,    d.escape,
                     false,      1000,        fields.data(), rows.data()};
      const ParseResult got = k->parse(args);
      if (got.status == ScanStatus::kBadEscape) continue;  // escapes are checked per field
      ASSERT_EQ(got.status, want) << k->name << " " << ::testing::PrintToString(text);
      ASSERT_EQ(got.error_offset, want_offset) << k->name << " " << ::testing::PrintToString(text);
    }
  }
  EXPECT_GT(compared, 5000);  // the generator does produce bad first records
}

}  // namespace
}  // namespace flowengine
