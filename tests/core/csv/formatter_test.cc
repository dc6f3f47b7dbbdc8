#include "core/csv/formatter.h"

#include <gtest/gtest.h>

#include <string>

#include "core/csv/block_parser.h"

namespace flowengine {
namespace {

// Parses `text` as `in` (two columns) and formats it as `out`.
std::string Reformat(const std::string& text, Dialect in, Dialect out, OutputStyle style = {}) {
  Schema schema;
  schema.columns = {{"a", ColumnType::kString, false}, {"b", ColumnType::kString, false}};
  Block block;
  block.bytes.Append(text.data(), text.size());
  block.bytes.ZeroTail();
  BlockParserOptions options;
  options.dialect = in;
  options.schema = &schema;
  RowBatch batch;
  auto error = ParseBlock(block, options, batch);
  EXPECT_FALSE(error) << error->ToString();
  ByteBuffer buffer;
  FormatBatch(block.bytes.data(), batch, in, out, buffer, style);
  return std::string(buffer.data(), buffer.size());
}

TEST(FormatterTest, MinimalQuotingIsAPassthrough) {
  const std::string text = "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"l1\nl2\",\n";
  EXPECT_EQ(Reformat(text, Dialect::Csv(), Dialect::Csv()), text);
}

TEST(FormatterTest, NeedlessQuotesAreDroppedAndCrlfBecomesLf) {
  EXPECT_EQ(Reformat("\"a\",\"b\"\r\nc,d\r", Dialect::Csv(), Dialect::Csv()), "a,b\nc,d\n");
}

TEST(FormatterTest, CsvToTsvQuotesOnlyWhatTsvNeeds) {
  EXPECT_EQ(Reformat("\"x,y\",a\tb\n\"q\"\"\",\"l\nm\"\n", Dialect::Csv(), Dialect::Tsv()),
            "x,y\t\"a\tb\"\n\"q\"\"\"\t\"l\nm\"\n");
}

TEST(FormatterTest, TsvToPsv) {
  EXPECT_EQ(Reformat("a|b\tc\n", Dialect::Tsv(), Dialect::Psv()), "\"a|b\"|c\n");
}

TEST(FormatterTest, CrlfAndQuoteAll) {
  const std::string text = "a,\"b,c\"\n\"q\"\"\",\n";
  EXPECT_EQ(Reformat(text, Dialect::Csv(), Dialect::Csv(), {true, false}),
            "a,\"b,c\"\r\n\"q\"\"\",\r\n");
  EXPECT_EQ(Reformat(text, Dialect::Csv(), Dialect::Csv(), {false, true}),
            "\"a\",\"b,c\"\n\"q\"\"\",\"\"\n");
  EXPECT_EQ(Reformat(text, Dialect::Csv(), Dialect::Tsv(), {true, true}),
            "\"a\"\t\"b,c\"\r\n\"q\"\"\"\t\"\"\r\n");
}

// Quoted exactly when the value holds the delimiter, the quote, CR or LF: every length
// around the sixteen-byte steps, each special byte at every position, and values of the
// other bytes only (the pad bytes of the last partial sixteen among them).
TEST(FormatterTest, ValuesAreQuotedExactlyWhenTheyHoldASpecialByte) {
  for (const Dialect d : {Dialect::Csv(), Dialect::Tsv(), Dialect::Psv()}) {
    const std::string specials = {d.delimiter, d.quote, '\n', '\r'};
    const std::string plain = "abcz 09\x80\xff;|\t,";  // the others, after removing d's
    std::string fillers;
    for (char c : plain) {
      if (specials.find(c) == std::string::npos) fillers += c;
    }
    for (size_t n = 0; n <= 49; ++n) {
      for (char filler : fillers) {
        const std::string value(n, filler);
        std::string out;
        AppendField(value, d, out);
        EXPECT_EQ(out, value) << "n " << n << " filler " << int{filler};
        for (size_t at = 0; at < n; ++at) {
          for (char special : specials) {
            std::string v = value;
            v[at] = special;
            std::string quoted;
            AppendField(v, d, quoted);
            ASSERT_TRUE(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"')
                << "n " << n << " at " << at << " byte " << int{special};
          }
        }
      }
    }
  }
}

TEST(FormatterTest, Header) {
  std::vector<std::string> names = {"id", "full name", "a,b", "q\""};
  EXPECT_EQ(FormatHeader(names, Dialect::Csv()), "id,full name,\"a,b\",\"q\"\"\"\n");
  EXPECT_EQ(FormatHeader(names, Dialect::Tsv()), "id\tfull name\ta,b\t\"q\"\"\"\n");
  EXPECT_EQ(FormatHeader(names, Dialect::Csv(), {true, true}),
            "\"id\",\"full name\",\"a,b\",\"q\"\"\"\r\n");
}

}  // namespace
}  // namespace flowengine
