// FoldForNextStep against a model: random blocks (quoted, escaped, multi-byte and empty
// fields, CSV and TSV-with-backslashes dialects) parsed for real, a random "step" output on
// top (some columns set to arena values, some rows filtered or routed), folded; the folded
// batch must hold, row for row and field for field, exactly the text the step's output means,
// with the rows' provenance, every span in the arena, and the counts carried.
#include "core/engine/step_fold.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/csv/block_parser.h"

namespace flowengine {
namespace {

std::string RandomValue(std::mt19937& rng) {
  static const char* kPieces[] = {"a", "bc", ",", "\"", "é", "𝄞", " ", "x\ny", "\\", "\t", ""};
  std::string v;
  const int n = static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) v += kPieces[rng() % (sizeof(kPieces) / sizeof(*kPieces))];
  return v;
}

std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

TEST(StepFoldTest, FoldedRowsHoldExactlyWhatTheStepMeant) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    const auto cols = static_cast<uint32_t>(1 + rng() % 4);
    const size_t rows = rng() % 40;
    std::vector<std::vector<std::string>> values(rows, std::vector<std::string>(cols));
    std::string text;
    for (size_t r = 0; r < rows; ++r) {
      for (uint32_t c = 0; c < cols; ++c) {
        values[r][c] = RandomValue(rng);
        text += (c > 0 ? "," : "") + Quote(values[r][c]);
      }
      text += rng() % 2 ? "\n" : "\r\n";
    }
    Chunk chunk;
    chunk.block.bytes.Append(text.data(), text.size());
    chunk.block.bytes.ZeroTail();
    chunk.block.first_line = 7;
    Schema schema;
    for (uint32_t c = 0; c < cols; ++c) schema.columns.push_back({"c" + std::to_string(c)});
    BlockParserOptions options;
    options.dialect = Dialect::Csv();
    options.schema = &schema;
    ASSERT_FALSE(ParseBlock(chunk.block, options, chunk.batch).has_value()) << text;
    ASSERT_EQ(chunk.batch.num_rows, rows);

    // The step: each field kept (a span into the block) or set (an arena value); each row
    // kept, filtered or routed.
    chunk.BeginTransformStep();
    TransformOutput& t = chunk.transform;
    t.batch.num_columns = cols;
    t.batch.num_rows = rows;
    t.batch.fields.ResizeDiscard(rows * cols);
    t.batch.rows.ResizeDiscard(rows);
    chunk.EnsureRoutes(1);
    std::vector<std::vector<std::string>> meant;
    std::vector<RowInfo> meant_rows;
    for (size_t r = 0; r < rows; ++r) {
      t.batch.rows[r] = chunk.batch.rows[r];
      std::vector<std::string> row;
      for (uint32_t c = 0; c < cols; ++c) {
        if (rng() % 3 == 0) {
          const std::string v = RandomValue(rng);
          t.batch.fields[r * cols + c] =
              FieldSpan{static_cast<uint32_t>(t.values.size()),
                        static_cast<uint32_t>(v.size()) | FieldSpan::kArena};
          t.values.Append(v.data(), v.size());
          row.push_back(v);
        } else {
          t.batch.fields[r * cols + c] = chunk.batch.Field(r, c);
          row.push_back(values[r][c]);
        }
      }
      const auto r32 = static_cast<uint32_t>(r);
      const auto fate = rng() % 5;
      if (fate == 0) {
        ++t.filtered;
      } else if (fate == 1) {
        t.route_rows[0].Append(&r32, 1);
        ++t.routed;
      } else {
        t.main_rows.Append(&r32, 1);
        meant.push_back(row);
        meant_rows.push_back(chunk.batch.rows[r]);
      }
    }
    const uint64_t filtered = t.filtered, routed = t.routed;

    FoldForNextStep(chunk, Dialect::Csv());

    const RowBatch& in = chunk.StepInput();
    ASSERT_EQ(in.num_rows, meant.size());
    ASSERT_EQ(in.num_columns, cols);
    EXPECT_EQ(chunk.batch.num_rows, rows);  // the parse batch stays
    const std::string_view folded = chunk.BatchText();
    std::string scratch;
    for (size_t r = 0; r < meant.size(); ++r) {
      EXPECT_EQ(in.rows[r].line_delta, meant_rows[r].line_delta);
      EXPECT_EQ(in.rows[r].begin, meant_rows[r].begin);
      for (uint32_t c = 0; c < cols; ++c) {
        const FieldSpan& span = in.Field(r, c);
        EXPECT_TRUE(span.in_arena());
        EXPECT_FALSE(span.quoted() || span.escaped());
        ASSERT_LE(span.offset + span.length(), folded.size());
        EXPECT_EQ(FieldText(folded.data(), span, Dialect::Csv(), scratch), meant[r][c])
            << "round " << round << " row " << r << " column " << c;
      }
    }
    // The next step starts with the counts carried and the packed values kept.
    chunk.BeginTransformStep();
    EXPECT_EQ(chunk.transform.filtered, filtered);
    EXPECT_EQ(chunk.transform.routed, routed);
    EXPECT_EQ(chunk.transform.values.size(), folded.size());
    EXPECT_EQ(chunk.transform.main_rows.size(), 0u);
  }
}

}  // namespace
}  // namespace flowengine
