// The C++ side of what a script decided for a batch, without V8: output spans (input values
// by name, set values win, the last set wins), declared output checks, and routing.
#include "core/js/batch_outcome.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
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

// Output spans against the plain model (each output column its input column's span, or an
// empty arena span; then the values set, in order) for random mappings: runs of following
// input columns, repeated and reordered columns, columns with no input, sets on top.
TEST(BatchOutcomeTest, OutputSpansAgreeWithTheModelForRandomMappings) {
  std::mt19937 rng(1307);
  for (int round = 0; round < 2000; ++round) {
    RowBatch in;
    in.num_columns = 1 + rng() % 8;
    in.num_rows = rng() % 5;
    in.fields.Resize(in.num_rows * in.num_columns);
    for (size_t f = 0; f < in.fields.size(); ++f) {
      in.fields[f] = {static_cast<uint32_t>(rng() % 1000), static_cast<uint32_t>(rng() % 50)};
    }
    in.rows.Resize(in.num_rows);
    for (size_t r = 0; r < in.num_rows; ++r) in.rows[r] = {static_cast<uint32_t>(r), 0, 0};
    std::vector<int> out_from_in(rng() % 10);
    int next = static_cast<int>(rng() % in.num_columns);
    for (int& from : out_from_in) {
      const unsigned pick = rng() % 4;
      from = pick == 0 ? -1 : pick == 1 ? static_cast<int>(rng() % in.num_columns) : next;
      next = from < 0 || from + 1 >= static_cast<int>(in.num_columns) ? 0 : from + 1;
    }
    std::vector<SetValue> set;
    const size_t cells = in.num_rows * out_from_in.size();
    const size_t sets = cells > 0 ? rng() % 6 : 0;
    for (size_t k = 0; k < sets; ++k) {
      set.push_back({static_cast<uint32_t>(rng() % cells),
                     {static_cast<uint32_t>(k), FieldSpan::kArena | static_cast<uint32_t>(k)}});
    }
    TransformOutput out;
    BuildOutputSpans(in, out_from_in, set, out);
    ASSERT_EQ(out.batch.num_rows, in.num_rows);
    ASSERT_EQ(out.batch.num_columns, out_from_in.size());
    for (size_t r = 0; r < in.num_rows; ++r) {
      for (size_t c = 0; c < out_from_in.size(); ++c) {
        FieldSpan want = out_from_in[c] >= 0 ? in.Field(r, static_cast<size_t>(out_from_in[c]))
                                             : FieldSpan{0, FieldSpan::kArena};
        for (const SetValue& v : set) {
          if (v.index == r * out_from_in.size() + c) want = v.span;
        }
        const FieldSpan got = out.batch.Field(r, c);
        ASSERT_EQ(got.offset, want.offset) << "round " << round << " row " << r << " col " << c;
        ASSERT_EQ(got.length_and_flags, want.length_and_flags) << "round " << round;
      }
    }
  }
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
