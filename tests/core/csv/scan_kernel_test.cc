// Every SIMD kernel must equal the scalar kernel, on random inputs full of quotes,
// delimiters, CR, LF and multi-byte UTF-8, at every position relative to the 64-byte chunk
// edges. And the kernels' splitting must reproduce generated records exactly.
#include "core/csv/scan_kernel.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/csv/block_parser.h"

namespace flowengine {
namespace {

// A zero-padded copy of `text`, as kernels require.
std::vector<char> Padded(const std::string& text) {
  std::vector<char> buf(text.size() + kPaddingBytes, '\0');
  std::memcpy(buf.data(), text.data(), text.size());
  return buf;
}

struct Parsed {
  ParseResult result;
  std::vector<FieldSpan> fields;
  std::vector<RowInfo> rows;
};

Parsed RunParse(const ScanKernel& k, const std::string& text, uint32_t ncols, char delim,
                char quote = '"', char escape = '\0') {
  std::vector<char> buf = Padded(text);
  Parsed p;
  const BoundaryResult counts =
      ScalarKernel().find_boundary(buf.data(), text.size(), delim, quote, escape, /*at_eof=*/true);
  EXPECT_EQ(counts.end, text.size());
  // Spans beyond the capacity would overwrite the canary that follows them.
  const FieldSpan kCanary{0xDEADBEEF, 0xDEADBEEF};
  p.fields.assign(FieldCapacity(counts, ncols) + 1, FieldSpan{0, 0});
  p.fields.back() = kCanary;
  p.rows.resize(RowCapacity(counts) + 1);
  p.rows.back() = RowInfo{0xDEADBEEF, 0, 0};
  ParseArgs args{buf.data(), text.size(), delim,           quote,        escape,
                 false,      ncols,       p.fields.data(), p.rows.data()};
  p.result = k.parse(args);
  EXPECT_EQ(p.fields.back().offset, kCanary.offset) << "field capacity overrun";
  EXPECT_EQ(p.rows.back().line_delta, 0xDEADBEEFu) << "row capacity overrun";
  p.rows.resize(p.result.num_rows);
  // Spans past the last complete row are scratch; compare only those of complete rows.
  p.fields.resize(p.result.num_rows * ncols);
  return p;
}

std::string RandomText(std::mt19937_64& rng, size_t size) {
  static const std::vector<std::string> kPieces = {
      "a",  "b",  "x",       ",",     ",", "\"",       "\"",           "\"\"",
      "\n", "\r", "\r\n",    "\t",    "|", "\xC3\xA9", "\xE5\x8C\x97", "\xF0\x9F\x98\x80",
      " ",  "1",  "\"a,b\"", "\"\n\""};
  std::string s;
  while (s.size() < size) s += kPieces[rng() % kPieces.size()];
  s.resize(size);  // may cut a UTF-8 sequence: fine, kernels are byte-oriented
  return s;
}

bool SameSpans(const std::vector<FieldSpan>& a, const std::vector<FieldSpan>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].offset != b[i].offset || a[i].length_and_flags != b[i].length_and_flags) return false;
  }
  return true;
}

bool SameRows(const std::vector<RowInfo>& a, const std::vector<RowInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].line_delta != b[i].line_delta || a[i].begin != b[i].begin || a[i].end != b[i].end) {
      return false;
    }
  }
  return true;
}

void ExpectSameAsScalar(const ScanKernel& k, const std::string& text, uint32_t ncols, char delim,
                        char quote = '"', char escape = '\0') {
  const ScanKernel& ref = ScalarKernel();
  Parsed want = RunParse(ref, text, ncols, delim, quote, escape);
  Parsed got = RunParse(k, text, ncols, delim, quote, escape);
  ASSERT_EQ(got.result.status, want.result.status)
      << k.name << " on " << ::testing::PrintToString(text);
  ASSERT_EQ(got.result.num_rows, want.result.num_rows) << k.name;
  ASSERT_EQ(got.result.error_offset, want.result.error_offset) << k.name;
  ASSERT_EQ(got.result.error_record_begin, want.result.error_record_begin) << k.name;
  ASSERT_TRUE(SameSpans(got.fields, want.fields)) << k.name;
  ASSERT_TRUE(SameRows(got.rows, want.rows)) << k.name;

  // Boundary search, with the real next byte (or padding) after the range.
  std::vector<char> buf = Padded(text);
  for (size_t size : {text.size(), text.size() / 2, text.size() > 0 ? text.size() - 1 : 0}) {
    for (bool at_eof : {false, true}) {
      BoundaryResult b1 = ref.find_boundary(buf.data(), size, delim, quote, escape, at_eof);
      BoundaryResult b2 = k.find_boundary(buf.data(), size, delim, quote, escape, at_eof);
      ASSERT_EQ(b1.end, b2.end) << k.name;
      ASSERT_EQ(b1.line_count, b2.line_count) << k.name;
      ASSERT_EQ(b1.delimiter_count, b2.delimiter_count) << k.name;
    }
  }
  // Special-character bitmaps.
  std::vector<uint64_t> m1((text.size() + 63) / 64 + 1, 0), m2(m1.size(), 0);
  ref.mark_special(buf.data(), text.size(), delim, '"', m1.data());
  k.mark_special(buf.data(), text.size(), delim, '"', m2.data());
  ASSERT_EQ(m1, m2) << k.name;
}

TEST(ScanKernelTest, ScalarIsAlwaysAvailableAndBestIsListed) {
  ASSERT_FALSE(AvailableKernels().empty());
  EXPECT_STREQ(AvailableKernels()[0]->name, "scalar");
  bool found = false;
  for (const ScanKernel* k : AvailableKernels()) found |= k == &BestKernel();
  EXPECT_TRUE(found);
}

TEST(ScanKernelTest, SimdKernelsEqualScalarOnRandomInputs) {
  std::mt19937_64 rng(12345);
  int compared = 0;
  for (int i = 0; i < 100000; ++i) {
    // Sizes cluster around the 64-byte chunk edges.
    size_t size = (rng() % 2) ? rng() % 300 : 64 * (1 + rng() % 4) + (rng() % 5) - 2;
    std::string text = RandomText(rng, size);
    uint32_t ncols = static_cast<uint32_t>(1 + rng() % 4);
    char delim = (rng() % 3 == 0) ? '\t' : ',';
    for (const ScanKernel* k : AvailableKernels()) {
      ExpectSameAsScalar(*k, text, ncols, delim);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 100000);
}

TEST(ScanKernelTest, SimdKernelsEqualScalarOnChunkEdgeCases) {
  // A structural byte at each position around the 64-byte edges.
  for (size_t pos = 56; pos < 136; ++pos) {
    for (const char* piece : {"\"", "\r", "\n", "\r\n", ",", "\"\""}) {
      std::string text(200, 'a');
      text.replace(pos, std::strlen(piece), piece);
      text[199] = '\n';
      for (const ScanKernel* k : AvailableKernels()) {
        ExpectSameAsScalar(*k, text, 2, ',');
        ExpectSameAsScalar(*k, text, 1, ',');
      }
    }
  }
}

// Generated records with known values must split back into exactly those values.
TEST(ScanKernelTest, SplitsGeneratedRecordsIntoTheirValues) {
  std::mt19937_64 rng(777);
  const std::vector<std::string> kValues = {"",   "a",      "hello world", "a,b", "say \"hi\"",
                                            "\"", "l1\nl2", "l1\r\nl2",    "\r",  "é北😀"};
  for (int round = 0; round < 3000; ++round) {
    const uint32_t ncols = static_cast<uint32_t>(1 + rng() % 5);
    const size_t nrows = 1 + rng() % 20;
    std::vector<std::vector<std::string>> rows;
    std::string text;
    for (size_t r = 0; r < nrows; ++r) {
      std::vector<std::string> row;
      for (uint32_t c = 0; c < ncols; ++c) {
        std::string v = kValues[rng() % kValues.size()];
        if (ncols == 1 && v.empty()) v = "x";  // a lone empty field is a blank line
        row.push_back(v);
        if (c > 0) text += ',';
        const bool must_quote = v.find_first_of(",\"\r\n") != std::string::npos;
        if (must_quote || rng() % 4 == 0) {
          text += '"';
          for (char ch : v) {
            if (ch == '"') text += '"';
            text += ch;
          }
          text += '"';
        } else {
          text += v;
        }
      }
      const int ending = static_cast<int>(rng() % 4);
      if (r + 1 < nrows || ending != 3) text += ending == 0 ? "\r\n" : ending == 1 ? "\r" : "\n";
      rows.push_back(row);
    }
    for (const ScanKernel* k : AvailableKernels()) {
      Parsed p = RunParse(*k, text, ncols, ',');
      ASSERT_EQ(p.result.status, ScanStatus::kOk) << k->name << ::testing::PrintToString(text);
      ASSERT_EQ(p.result.num_rows, nrows) << k->name << ::testing::PrintToString(text);
      std::string scratch;
      for (size_t r = 0; r < nrows; ++r) {
        for (uint32_t c = 0; c < ncols; ++c) {
          std::string_view got =
              FieldText(text.data(), p.fields[r * ncols + c], Dialect::Csv(), scratch);
          ASSERT_EQ(got, rows[r][c]) << k->name << " row " << r << " col " << c;
        }
      }
    }
  }
}

TEST(ScanKernelTest, BoundaryIgnoresNewlinesInsideQuotes) {
  const std::string text = "a,\"x\ny\"\nb,\"open\n";
  std::vector<char> buf = Padded(text);
  for (const ScanKernel* k : AvailableKernels()) {
    BoundaryResult b = k->find_boundary(buf.data(), text.size(), ',', '"', '\0', false);
    EXPECT_EQ(b.end, 8u) << k->name;  // after "a,"x\ny"\n"
    EXPECT_EQ(b.line_count, 2) << k->name;
    EXPECT_EQ(b.delimiter_count, 1) << k->name;
    BoundaryResult all = k->find_boundary(buf.data(), text.size(), ',', '"', '\0', true);
    EXPECT_EQ(all.end, text.size()) << k->name;
    EXPECT_EQ(all.line_count, 3) << k->name;
    EXPECT_EQ(all.delimiter_count, 2) << k->name;
  }
}

TEST(ScanKernelTest, BoundaryDoesNotSplitCrlf) {
  // The caller passes size - 1 so that a trailing CR is judged with its next byte:
  // "a\r\nb" then "a\r\nb\r" (whose CR is followed by LF) both end after the first CRLF.
  const std::string text = "a\r\nb\r\n";
  std::vector<char> buf = Padded(text);
  for (const ScanKernel* k : AvailableKernels()) {
    BoundaryResult b = k->find_boundary(buf.data(), text.size() - 2, ',', '"', '\0', false);
    EXPECT_EQ(b.end, 3u) << k->name;
    BoundaryResult c = k->find_boundary(buf.data(), text.size() - 1, ',', '"', '\0', false);
    EXPECT_EQ(c.end, 3u) << k->name;
  }
}

}  // namespace
}  // namespace flowengine

namespace flowengine {
namespace {

// Backslash escapes and no-quote dialects: every kernel equals the scalar one, on random
// text full of backslash runs that cross the 64-byte chunk edges.
TEST(ScanKernelEscapeTest, SimdKernelsEqualScalarWithEscapesAndWithoutQuotes) {
  std::mt19937_64 rng(2026);
  static const std::vector<std::string> kPieces = {"a",    "b",    ",",   ",",   "\"", "\\",   "\\",
                                                   "\\\\", "\\\"", "\\,", "\\n", "\n", "\r\n", "x"};
  for (int i = 0; i < 40000; ++i) {
    const size_t size = (rng() % 2) ? rng() % 300 : 64 * (1 + rng() % 4) + (rng() % 5) - 2;
    std::string text;
    while (text.size() < size) text += kPieces[rng() % kPieces.size()];
    text.resize(size);
    const uint32_t ncols = static_cast<uint32_t>(1 + rng() % 3);
    const char quote = rng() % 3 == 0 ? '\0' : '"';
    for (const ScanKernel* k : AvailableKernels()) {
      ExpectSameAsScalar(*k, text, ncols, ',', quote, '\\');
      if (quote == '\0') ExpectSameAsScalar(*k, text, ncols, ',', quote, '\0');
    }
  }
}

// Values written with backslash escapes (quoted or not) split back into exactly those
// values, and into what the byte-at-a-time splitter reads.
TEST(ScanKernelEscapeTest, SplitsBackslashEscapedRecordsIntoTheirValues) {
  std::mt19937_64 rng(99);
  const std::vector<std::string> kValues = {
      "", "a", "a,b", "say \"hi\"", "back\\slash", "l1\nl2", "tab\there", "\\", "\r", "é北😀"};
  Dialect d = Dialect::Csv();
  d.escape = '\\';
  for (int round = 0; round < 2000; ++round) {
    const uint32_t ncols = static_cast<uint32_t>(1 + rng() % 4);
    const size_t nrows = 1 + rng() % 12;
    std::vector<std::vector<std::string>> rows;
    std::string text;
    for (size_t r = 0; r < nrows; ++r) {
      std::vector<std::string> row;
      const bool quoted = rng() % 2 == 0;
      for (uint32_t c = 0; c < ncols; ++c) {
        std::string v = kValues[rng() % kValues.size()];
        if (ncols == 1 && v.empty()) v = "x";
        row.push_back(v);
        if (c > 0) text += ',';
        if (quoted) text += '"';
        for (char ch : v) {
          if (ch == '\n') {
            text += "\\n";
          } else if (ch == '\t') {
            text += "\\t";
          } else if (ch == '\r') {
            text += "\\r";
          } else if (ch == '\\' || ch == '"' || ch == ',') {
            text += '\\';
            text += ch;
          } else {
            text += ch;
          }
        }
        if (quoted) text += '"';
      }
      text += "\n";
      rows.push_back(row);
    }
    for (const ScanKernel* k : AvailableKernels()) {
      Parsed p = RunParse(*k, text, ncols, ',', '"', '\\');
      ASSERT_EQ(p.result.status, ScanStatus::kOk) << k->name << ::testing::PrintToString(text);
      ASSERT_EQ(p.result.num_rows, nrows) << k->name << ::testing::PrintToString(text);
      std::string scratch;
      for (size_t r = 0; r < nrows; ++r) {
        for (uint32_t c = 0; c < ncols; ++c) {
          ASSERT_EQ(FieldText(text.data(), p.fields[r * ncols + c], d, scratch), rows[r][c])
              << k->name << " row " << r << " col " << c << ::testing::PrintToString(text);
        }
      }
    }
  }
}

TEST(ScanKernelEscapeTest, ReportsBadEscapesWhereTheyAre) {
  for (const ScanKernel* k : AvailableKernels()) {
    Parsed p = RunParse(*k, "a,b\nok,x\\q\n", 2, ',', '"', '\\');
    EXPECT_EQ(p.result.status, ScanStatus::kBadEscape) << k->name;
    EXPECT_EQ(p.result.error_offset, 8u) << k->name;
    EXPECT_EQ(p.result.num_rows, 1u) << k->name;
    // A backslash that ends a field escapes nothing.
    p = RunParse(*k, "a\\,b\n", 2, ',', '"', '\\');
    EXPECT_EQ(p.result.status, ScanStatus::kFieldCount) << k->name;  // "a\,b" is one field
    p = RunParse(*k, "a,b\\\n", 2, ',', '"', '\\');
    EXPECT_EQ(p.result.status, ScanStatus::kBadEscape) << k->name;
    EXPECT_EQ(p.result.error_offset, 3u) << k->name;
  }
}

TEST(ScanKernelEscapeTest, WithoutQuotesAQuoteIsData) {
  for (const ScanKernel* k : AvailableKernels()) {
    Parsed p = RunParse(*k, "say \"hi\",\"\n", 2, ',', '\0', '\0');
    ASSERT_EQ(p.result.status, ScanStatus::kOk) << k->name;
    ASSERT_EQ(p.result.num_rows, 1u);
    std::string scratch;
    Dialect d = Dialect::Csv();
    d.quote = '\0';
    const std::string text = "say \"hi\",\"\n";
    EXPECT_EQ(FieldText(text.data(), p.fields[0], d, scratch), "say \"hi\"");
    EXPECT_EQ(FieldText(text.data(), p.fields[1], d, scratch), "\"");
  }
}

}  // namespace
}  // namespace flowengine
