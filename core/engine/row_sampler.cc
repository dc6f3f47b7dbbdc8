#include "core/engine/row_sampler.h"

#include <algorithm>
#include <span>

#include "core/csv/formatter.h"
#include "core/error/error.h"
#include "core/io/atomic_file.h"
#include "core/io/file_identity.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

// The header: the sample's own columns (`_line`, `_to`), each with one more leading
// underscore while a column of the schema has its name (a file with two columns of one name
// could not be read back), then the schema's columns.
std::string HeaderWith(const std::vector<std::string>& extra, const Schema& schema) {
  const auto taken = [&](const std::string& name) {
    return std::any_of(schema.columns.begin(), schema.columns.end(),
                       [&](const ColumnSpec& c) { return c.name == name; });
  };
  std::vector<std::string> names;
  for (std::string name : extra) {
    while (taken(name)) name.insert(0, "_");
    names.push_back(name);
  }
  for (const ColumnSpec& c : schema.columns) names.push_back(c.name);
  return FormatHeader(std::span<const std::string>(names), Dialect::Csv());
}

}  // namespace

RowSampler::RowSampler(size_t rows, std::string dir) : limit_(rows), dir_(std::move(dir)) {
  if (dir_.empty()) return;
  source_file_ = ResolvePath(dir_ + "/source.csv").real;
  transform_file_ = ResolvePath(dir_ + "/transform.csv").real;
}

void RowSampler::Start(const Schema& source, const Schema* transform_out,
                       const Dialect& source_dialect, std::vector<std::string> routes) {
  in_ = source_dialect;
  routes_ = std::move(routes);
  has_transform_ = transform_out != nullptr;
  source_csv_ = HeaderWith({"_line"}, source);
  if (has_transform_) transform_csv_ = HeaderWith({"_line", "_to"}, *transform_out);
}

void RowSampler::Take(const std::string& stage, std::string& csv, size_t& taken, const Chunk& chunk,
                      const RowBatch& batch, const char* arena, const std::vector<uint32_t>& rows,
                      const std::vector<std::string>& destinations) {
  ByteBuffer line;
  for (size_t i = 0; i < rows.size() && taken < limit_; ++i, ++taken) {
    FormatSelectedRows(chunk.block.bytes.data(), arena, batch, &rows[i], 1, in_, Dialect::Csv(),
                       line);
    std::string text(line.data(), line.size());
    const int64_t input_line = chunk.block.first_line + batch.rows[rows[i]].line_delta;
    std::string prefix = std::to_string(input_line) + ",";
    if (!destinations.empty()) {
      std::string to;
      AppendField(destinations[i], Dialect::Csv(), to);
      prefix += to + ",";
    }
    csv += prefix + text;
    if (dir_.empty()) {
      while (!text.empty() && text.back() == '\n') text.pop_back();
      std::vector<LogField> fields{LogField::Str("stage", stage),
                                   LogField::Num("line", input_line)};
      if (!destinations.empty()) fields.push_back(LogField::Str("to", destinations[i]));
      Log(LogLevel::kInfo, LogCategory::kEngine,
          "sample " + stage + " (line " + std::to_string(input_line) +
              (destinations.empty() ? std::string() : ", to " + destinations[i]) + "): " + text,
          fields);
    }
  }
}

void RowSampler::Observe(const Chunk& chunk) {
  if (source_taken_ < limit_) {
    std::vector<uint32_t> rows;
    for (size_t r = 0; r < chunk.batch.num_rows && rows.size() < limit_ - source_taken_; ++r) {
      rows.push_back(static_cast<uint32_t>(r));
    }
    Take("source", source_csv_, source_taken_, chunk, chunk.batch, nullptr, rows, {});
  }
  const TransformOutput& t = chunk.transform;
  if (!has_transform_ || !t.active || transform_taken_ >= limit_) return;
  // Output rows in input order with their destination: the main sink, or a route.
  std::vector<std::pair<uint32_t, std::string>> out;
  for (size_t i = 0; i < t.main_rows.size(); ++i) out.emplace_back(t.main_rows[i], "main");
  for (size_t k = 0; k < t.route_rows.size() && k < routes_.size(); ++k) {
    for (size_t i = 0; i < t.route_rows[k].size(); ++i) {
      out.emplace_back(t.route_rows[k][i], routes_[k]);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<uint32_t> rows;
  std::vector<std::string> to;
  for (const auto& [row, dest] : out) {
    if (rows.size() >= limit_ - transform_taken_) break;
    rows.push_back(row);
    to.push_back(dest);
  }
  Take("transform", transform_csv_, transform_taken_, chunk, t.batch, t.values.data(), rows, to);
}

void RowSampler::Finish() const {
  if (dir_.empty()) return;
  WriteFileAtomically(source_file_, source_csv_);
  if (has_transform_) WriteFileAtomically(transform_file_, transform_csv_);
}

}  // namespace flowengine
