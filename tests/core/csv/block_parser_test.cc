// The parse stage on a corpus of RFC 4180 edge cases, typed values and malformed records.
// Error tests assert the code, the message and the location.
#include "core/csv/block_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flowengine {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Schema Strings(std::initializer_list<const char*> names) {
  Schema s;
  for (const char* n : names) s.columns.push_back(ColumnSpec{n, ColumnType::kString, false});
  return s;
}

struct Outcome {
  Rows rows;
  std::vector<int64_t> lines;  // absolute line of each row
  std::optional<Error> error;
};

Outcome Parse(const std::string& text, const Schema& schema, Dialect dialect = Dialect::Csv(),
              const ScanKernel* kernel = nullptr) {
  Block block;
  block.bytes.Append(text.data(), text.size());
  block.bytes.ZeroTail();
  block.first_line = 10;
  block.byte_offset = 1000;
  BlockParserOptions options;
  options.file = "in.csv";
  options.dialect = dialect;
  options.schema = &schema;
  options.kernel = kernel;
  RowBatch batch;
  Outcome out;
  out.error = ParseBlock(block, options, batch);
  std::string scratch;
  for (size_t r = 0; r < batch.num_rows; ++r) {
    std::vector<std::string> row;
    for (uint32_t c = 0; c < batch.num_columns; ++c) {
      row.emplace_back(FieldText(block.bytes.data(), batch.Field(r, c), dialect, scratch));
    }
    out.rows.push_back(row);
    out.lines.push_back(block.first_line + batch.rows[r].line_delta);
  }
  return out;
}

// Every case is checked with every kernel.
class BlockParserTest : public ::testing::TestWithParam<const ScanKernel*> {
 protected:
  Outcome P(const std::string& text, const Schema& schema, Dialect d = Dialect::Csv()) {
    return Parse(text, schema, d, GetParam());
  }
};

TEST_P(BlockParserTest, PlainFieldsLfEndings) {
  Outcome o = P("a,b\nc,d\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(o.lines, (std::vector<int64_t>{10, 11}));
}

TEST_P(BlockParserTest, CrlfAndLoneCrRecordEnds) {
  Outcome o = P("a,b\r\nc,d\re,f\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"a", "b"}, {"c", "d"}, {"e", "f"}}));
  EXPECT_EQ(o.lines, (std::vector<int64_t>{10, 11, 12}));
}

TEST_P(BlockParserTest, LastRecordWithoutNewline) {
  Outcome o = P("a,b\nc,d", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"a", "b"}, {"c", "d"}}));
}

TEST_P(BlockParserTest, EmptyFields) {
  Outcome o = P(",\na,\n,b\n\"\",\"\"\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"", ""}, {"a", ""}, {"", "b"}, {"", ""}}));
}

TEST_P(BlockParserTest, QuotedFieldsWithDelimitersAndDoubledQuotes) {
  Outcome o = P("\"a,b\",\"say \"\"hi\"\"\"\n\"\"\"\",x\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"a,b", "say \"hi\""}, {"\"", "x"}}));
}

TEST_P(BlockParserTest, LineBreaksInsideQuotesCountAsLines) {
  Outcome o = P("\"l1\nl2\",a\n\"l1\r\nl2\",b\n\"l1\rl2\",c\nd,e\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"l1\nl2", "a"}, {"l1\r\nl2", "b"}, {"l1\rl2", "c"}, {"d", "e"}}));
  EXPECT_EQ(o.lines, (std::vector<int64_t>{10, 12, 14, 16}));
}

TEST_P(BlockParserTest, BlankLinesAreSkipped) {
  Outcome o = P("a,b\n\n\r\nc,d\n\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(o.lines, (std::vector<int64_t>{10, 13}));
}

TEST_P(BlockParserTest, TabAndPipeDialects) {
  Outcome t = P("a,1\t\"b\tc\"\n", Strings({"x", "y"}), Dialect::Tsv());
  ASSERT_FALSE(t.error);
  EXPECT_EQ(t.rows, (Rows{{"a,1", "b\tc"}}));
  Outcome p = P("a|\"b|c\"\n", Strings({"x", "y"}), Dialect::Psv());
  ASSERT_FALSE(p.error);
  EXPECT_EQ(p.rows, (Rows{{"a", "b|c"}}));
}

TEST_P(BlockParserTest, Utf8PassesThrough) {
  Outcome o = P("Zoë,北京\n", Strings({"x", "y"}));
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.rows, (Rows{{"Zoë", "北京"}}));
}

TEST_P(BlockParserTest, TooFewFields) {
  Outcome o = P("a,b,c\nd,e\n", Strings({"x", "y", "z"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-FIELD-COUNT");
  EXPECT_EQ(o.error->message, "Record has the wrong number of fields: expected 3, got 2");
  EXPECT_EQ(o.error->location.file, "in.csv");
  EXPECT_EQ(o.error->location.line, 11);
  EXPECT_EQ(o.error->location.column, 1);
  EXPECT_EQ(o.error->location.byte_offset, 1006);
  EXPECT_EQ(o.rows.size(), 1u);  // rows before the error are kept
}

TEST_P(BlockParserTest, TooManyFields) {
  Outcome o = P("a,b\n\"x\ny\",b,c,d\n", Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-FIELD-COUNT");
  EXPECT_EQ(o.error->message, "Record has the wrong number of fields: expected 2, got 4");
  EXPECT_EQ(o.error->location.line, 11);
}

TEST_P(BlockParserTest, UnterminatedQuoteNamesTheLineWhereTheFieldBegan) {
  Outcome o = P("a,b\nc,d\ne,\"open\nmore\nlines\n", Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-UNTERMINATED-QUOTE");
  EXPECT_EQ(o.error->location.line, 12);
  EXPECT_EQ(o.error->location.column, 3);
  EXPECT_EQ(o.error->message,
            "Quoted field starting at line 12 is not closed before the end of the input; it "
            "swallows the rest of the file");
  EXPECT_EQ(o.rows.size(), 2u);
}

TEST_P(BlockParserTest, QuoteInsideUnquotedField) {
  Outcome o = P("a,b\nab\"c\"d,e\n", Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-STRAY-QUOTE");
  EXPECT_EQ(o.error->message, "Quote character inside an unquoted field");
  EXPECT_EQ(o.error->location.line, 11);
  EXPECT_EQ(o.error->location.column, 3);
}

TEST_P(BlockParserTest, TextAfterClosingQuote) {
  Outcome o = P("\"abc\"def,x\n", Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-AFTER-QUOTE");
  EXPECT_EQ(o.error->message, "Unexpected character after a closing quote: 'd'");
  EXPECT_EQ(o.error->location.line, 10);
  EXPECT_EQ(o.error->location.column, 6);
}

// Found by the fuzzer: a quote in an early chunk was forgotten when the field went on through
// a chunk without quotes, so text after a closing quote passed as an unquoted field.
TEST_P(BlockParserTest, TextAfterClosingQuoteSpanningChunks) {
  const std::string tail(150, 'x');
  Outcome o = P("a,b\n1,\"q\"" + tail + "\n", Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-INPUT-AFTER-QUOTE");
  EXPECT_EQ(o.error->location.line, 11);
  Outcome eof = P("1,\"q\"" + tail, Strings({"x", "y"}));
  ASSERT_TRUE(eof.error);
  EXPECT_EQ(eof.error->code, "FE-INPUT-AFTER-QUOTE");
  Outcome stray = P("1,ab" + tail + "\"" + tail + "\"\n", Strings({"x", "y"}));
  ASSERT_TRUE(stray.error);
  EXPECT_EQ(stray.error->code, "FE-INPUT-STRAY-QUOTE");
}

TEST_P(BlockParserTest, InvalidUtf8NamesLineColumnFieldAndByte) {
  Outcome o =
      P("a,b\nc,d\x80"
        "e\nf,g\n",
        Strings({"x", "y"}));
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-ENCODING-UTF8");
  EXPECT_EQ(o.error->error_class, ErrorClass::kEncoding);
  EXPECT_EQ(o.error->message, "Invalid UTF-8 in column 'y': byte 0x80");
  EXPECT_EQ(o.error->location.line, 11);
  EXPECT_EQ(o.error->location.column, 4);
  EXPECT_EQ(o.error->location.field, "y");
  EXPECT_EQ(o.rows.size(), 1u);
}

TEST_P(BlockParserTest, EarlierTypeErrorBeatsLaterInvalidUtf8) {
  Schema s;
  s.columns = {{"n", ColumnType::kInt32, false}, {"t", ColumnType::kString, false}};
  Outcome o = P("x,a\n1,\xE9\n", s);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-SCHEMA-TYPE");
}

TEST_P(BlockParserTest, TypedValues) {
  Schema s;
  s.columns = {{"i", ColumnType::kInt32, false},
               {"l", ColumnType::kInt64, false},
               {"f", ColumnType::kFloat64, false},
               {"b", ColumnType::kBool, false}};
  Outcome o = P("1,-9223372036854775808,1.5e3,true\n,,,\n\"7\",+3,-0.25,FALSE\n", s);
  ASSERT_FALSE(o.error) << o.error->ToString();
  EXPECT_EQ(o.rows.size(), 3u);
}

TEST_P(BlockParserTest, BadTypedValueNamesLineColumnValueAndType) {
  Schema s;
  s.columns = {{"id", ColumnType::kInt64, false}, {"age", ColumnType::kInt32, false}};
  Outcome o = P("1,30\n2,abc\n3,4000000000\n", s);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-SCHEMA-TYPE");
  EXPECT_EQ(o.error->message, "Value is not a valid int32 in column 'age': 'abc'");
  EXPECT_EQ(o.error->location.line, 11);
  EXPECT_EQ(o.error->location.column, 3);
  EXPECT_EQ(o.error->location.field, "age");
  EXPECT_EQ(o.rows.size(), 1u);
}

TEST_P(BlockParserTest, EarliestValueErrorWinsAcrossColumns) {
  Schema s;
  s.columns = {{"a", ColumnType::kInt32, false}, {"b", ColumnType::kBool, false}};
  Outcome o = P("1,true\n2,maybe\nx,true\n", s);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->message, "Value is not a valid bool in column 'b': 'maybe'");
  EXPECT_EQ(o.error->location.line, 11);
}

TEST_P(BlockParserTest, ValueErrorBeforeScanErrorWins) {
  Schema s;
  s.columns = {{"a", ColumnType::kInt32, false}, {"b", ColumnType::kString, false}};
  Outcome o = P("1,x\nbad,x\n3\n", s);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-SCHEMA-TYPE");
  EXPECT_EQ(o.error->location.line, 11);
}

TEST_P(BlockParserTest, RequiredValueMissing) {
  Schema s;
  s.columns = {{"id", ColumnType::kString, true}, {"x", ColumnType::kString, false}};
  Outcome o = P("a,1\n,2\n", s);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "FE-SCHEMA-REQUIRED");
  EXPECT_EQ(o.error->message, "Required value is empty in column 'id'");
  EXPECT_EQ(o.error->location.line, 11);
  EXPECT_EQ(o.error->location.field, "id");
}

// Values kept by the parse stage (keep_values) equal each kept row's field read on its own,
// in fail-fast mode (rows before a bad value) and in skip-row mode with bad rows between
// good ones (the kept values move with their rows); empty fields, quoted numbers, bools and
// an int64 beyond 2^53 (inexact) included.
TEST_P(BlockParserTest, KeptValuesEqualTheFieldsOfTheKeptRows) {
  Schema schema;
  schema.columns = {
      ColumnSpec{"id", ColumnType::kInt64, false}, ColumnSpec{"ok", ColumnType::kBool, false},
      ColumnSpec{"s", ColumnType::kString, false}, ColumnSpec{"x", ColumnType::kFloat64, false},
      ColumnSpec{"n", ColumnType::kInt32, false}};
  std::string text;
  for (int i = 0; i < 300; ++i) {
    const bool bad = i % 7 == 3;
    text += (i % 11 == 0 ? std::string() : std::to_string(i * 1000003 - 150000000)) + ",";
    text += std::string(i % 5 == 0 ? "" : i % 2 ? "TRUE" : "0") + ",";
    text += "\"s," + std::to_string(i) + "\",";
    text += (i % 13 == 0 ? std::string("\"-1.5e3\"") : std::to_string(i) + ".25") + ",";
    text += bad ? std::string("x") + std::to_string(i) : std::to_string(-i);
    text += "\n";
  }
  text += "9007199254740993,1,last,0.5,7\n";
  for (const bool skip : {false, true}) {
    Block block;
    block.bytes.Append(text.data(), text.size());
    block.bytes.ZeroTail();
    BlockParserOptions options;
    options.file = "in.csv";
    options.schema = &schema;
    options.kernel = GetParam();
    options.keep_values = true;
    RowBatch batch;
    std::vector<Reject> rejects;
    const std::optional<Error> error = ParseBlock(block, options, batch, skip ? &rejects : nullptr);
    EXPECT_EQ(error.has_value(), !skip);
    EXPECT_EQ(batch.num_rows, skip ? 301 - 43 : 3u);  // rows 3, 10, 17, ... are bad
    ASSERT_GE(batch.value_stride, batch.num_rows);
    std::string scratch;
    for (uint32_t c = 0; c < 5; ++c) {
      const ColumnType type = schema.columns[c].type;
      if (type == ColumnType::kString) {
        EXPECT_EQ(batch.value_slot[c], RowBatch::kNoValues);
        continue;
      }
      const size_t at = size_t{batch.value_slot[c]} * batch.value_stride;
      for (size_t r = 0; r < batch.num_rows; ++r) {
        const std::string field(
            FieldText(block.bytes.data(), batch.Field(r, c), options.dialect, scratch));
        const uint8_t code = batch.codes[at + r];
        if (field.empty()) {
          EXPECT_EQ(code, type == ColumnType::kBool ? 2 : 1) << r << "," << c;
          continue;
        }
        double want = 0;
        bool exact = true;
        ASSERT_TRUE(ParseTypedValue(type, field, &want, &exact)) << field;
        EXPECT_EQ(batch.numbers[at + r], want) << "row " << r << " column " << c << ": " << field;
        EXPECT_EQ(code, type == ColumnType::kBool ? (want != 0 ? 1 : 0) : 0) << r << "," << c;
      }
      // 9007199254740993 is in column 0 (in fail-fast mode the flag may also come from a row
      // after the error, which only makes a reader take the text).
      if (skip || c != 0) {
        EXPECT_EQ(batch.inexact[batch.value_slot[c]], c == 0 ? 1 : 0) << c;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKernels, BlockParserTest,
                         ::testing::ValuesIn(AvailableKernels().begin(), AvailableKernels().end()),
                         [](const ::testing::TestParamInfo<const ScanKernel*>& param_info) {
                           return std::string(param_info.param->name);
                         });

}  // namespace
}  // namespace flowengine
