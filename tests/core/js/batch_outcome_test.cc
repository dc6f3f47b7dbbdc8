// The C++ side of what a script decided for a batch, without V8: output spans (input values
// by name, set values win, the last set wins), declared output checks, and routing.
#include "core/js/batch_outcome.h"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "core/js/js_protocol.h"

namespace flowengine::js {
namespace {

// Two input rows "a,1" and "b,2" of columns (name, n) in a block.
struct Input {
  std::string block = "a,1\nb,2\n";
  RowBatch batch;
  Input() {
    batch.num_columns = 2;
    batch.num_rows = 2;
    batch.fields.Resize(4);
    batch.fields[0] = {0, 1};
    batch.fields[1] = {2, 1};
    batch.fields[2] = {4, 1};
    batch.fields[3] = {6, 1};
    batch.rows.Resize(2);
    batch.rows[0] = {0, 0, 3};
    batch.rows[1] = {1, 4, 7};
  }
};

std::string Text(const Input& in, const TransformOutput& out, size_t r, uint32_t c) {
  const FieldSpan& f = out.batch.Field(r, c);
  return f.in_arena() ? std::string(out.values.data() + f.offset, f.length())
                      : in.block.substr(f.offset, f.length());
}

TEST(BatchOutcomeTest, InputValuesByNameAndTheLastSetWins) {
  Input in;
  TransformOutput out;
  out.values.Append("XYZ", 3);
  // Output columns: n (from input column 1), extra (no input), name (input column 0).
  const std::vector<int> out_from_in{1, -1, 0};
  const SetValue set[] = {{1, {0, FieldSpan::kArena | 1}},   // row 0 extra = "X"
                          {5, {1, FieldSpan::kArena | 1}},   // row 1 name = "Y"
                          {5, {2, FieldSpan::kArena | 1}}};  // row 1 name = "Z" (wins)
  BuildOutputSpans(in.batch, out_from_in, set, out);
  EXPECT_EQ(Text(in, out, 0, 0), "1");
  EXPECT_EQ(Text(in, out, 0, 1), "X");
  EXPECT_EQ(Text(in, out, 0, 2), "a");
  EXPECT_EQ(Text(in, out, 1, 0), "2");
  EXPECT_EQ(Text(in, out, 1, 1), "");  // never set, no input of that name: empty
  EXPECT_EQ(Text(in, out, 1, 2), "Z");
  EXPECT_EQ(out.batch.rows[1].line_delta, 1u);
}

TEST(BatchOutcomeTest, DeclaredOutputTypesAndRequiredColumns) {
  Input in;
  TransformOutput out;
  out.values.Append("fivé", 5);
  const std::vector<int> out_from_in{1, -1};
  const SetValue set[] = {{1, {0, FieldSpan::kArena | 5}}};
  BuildOutputSpans(in.batch, out_from_in, set, out);
  const std::vector<ColumnSpec> columns{{"n", ColumnType::kInt32, false},
                                        {"extra", ColumnType::kInt32, true}};
  EXPECT_EQ(
      CheckOutputRow(out, 0, columns, in.block.data(), Dialect::Csv()),
      std::optional<std::string>("Value of output column 'extra' is not a valid int32: 'fivé'"));
  EXPECT_EQ(CheckOutputRow(out, 1, columns, in.block.data(), Dialect::Csv()),
            std::optional<std::string>("Required output column 'extra' is empty"));
}

TEST(BatchOutcomeTest, RoutingCountsEveryRowOnceAndSkipsCopiesOfRejectedRows) {
  TransformOutput out;
  out.route_rows.resize(2);
  const int32_t moves[] = {kToMain, kFiltered, 1, kRejected, kToMain, 0};
  const std::vector<std::pair<uint32_t, uint32_t>> copies{{4, 1}, {3, 0}, {0, 1}, {9, 0}};
  RouteRows(moves, 6, copies, out);
  EXPECT_EQ(
      std::vector<uint32_t>(out.main_rows.data(), out.main_rows.data() + out.main_rows.size()),
      (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(out.filtered, 1u);
  EXPECT_EQ(out.routed, 2u);
  EXPECT_EQ(out.copies, 2u);  // the copy of rejected row 3 and the out-of-range row 9 are not made
  const PodBuffer<uint32_t>& r1 = out.route_rows[1];
  EXPECT_EQ(std::vector<uint32_t>(r1.data(), r1.data() + r1.size()),
            (std::vector<uint32_t>{0, 2, 4}));  // in input order
}

TEST(BatchOutcomeTest, SourcesHaveNoPlaceholdersLeft) {
  const std::regex placeholder(R"(\$[A-Z_]+\$)");
  const std::vector<ColumnType> types = {ColumnType::kString, ColumnType::kInt64,
                                         ColumnType::kFloat64, ColumnType::kBool};
  for (const std::string& source : {DriverSource(types), ApiSource()}) {
    std::smatch m;
    EXPECT_FALSE(std::regex_search(source, m, placeholder)) << m.str();
  }
  EXPECT_NE(ApiSource().find("const TO_MAIN = -1, FILTERED = -2"), std::string::npos);
  EXPECT_NE(DriverSource(types).find("    return makeRow(\n      str(k + 0),\n"),
            std::string::npos);
  EXPECT_NE(DriverSource(types).find("      nulls[3][r] === 2 ? null : nulls[3][r] === 1\n    );"),
            std::string::npos);
  // Beyond kMaxRowArguments columns, the values go to makeRow as one array.
  const std::vector<ColumnType> wide(kMaxRowArguments + 1, ColumnType::kString);
  EXPECT_NE(DriverSource(wide).find("    return makeRow([\n      str(k + 0),\n"),
            std::string::npos);
  EXPECT_NE(DriverSource({}).find("const SET_EMPTY = -1, SET_TRUE = -2"), std::string::npos);
}

}  // namespace
}  // namespace flowengine::js
