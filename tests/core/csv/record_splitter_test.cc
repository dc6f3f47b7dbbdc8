// SkipRecords (source.maxRows) ends records exactly where SplitOneRecord does, in every
// quoting mode, and counts blank lines only when asked.
#include "core/csv/record_splitter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace flowengine {
namespace {

TEST(RecordSplitterTest, SkipRecordsAgreesWithSplitOneRecord) {
  std::mt19937_64 rng(7);
  const std::string pieces[] = {"a", ",", "\"", "\"\"", "\\", "\\\"", "\n", "\r", "\r\n", "x,y"};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i) text += pieces[rng() % std::size(pieces)];
    Dialect d = Dialect::Csv();
    if (rng() % 2) d.escape = '\\';
    if (rng() % 3 == 0) d.quote = '\0';
    const bool count_blank = rng() % 2;
    const int64_t limit = static_cast<int64_t>(rng() % 6) + 1;
    // Reference: split record by record.
    size_t at = 0;
    int64_t left = limit;
    while (at < text.size() && left > 0) {
      const bool blank = text[at] == '\n' || text[at] == '\r';
      at = SplitOneRecord(text.data(), at, text.size(), d).end;
      if (!blank || count_blank) --left;
    }
    int64_t got_left = limit;
    const size_t got = SkipRecords(text.data(), text.size(), d, count_blank, &got_left);
    ASSERT_EQ(got, at) << ::testing::PrintToString(text);
    ASSERT_EQ(got_left, left) << ::testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace flowengine
