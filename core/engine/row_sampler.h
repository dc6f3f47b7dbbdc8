// RowSampler: `flowengine run --sample N`: the first N rows leaving the source (entering
// the transform, or the sink when there is none) and the first N rows leaving the
// transform, with their input line numbers. Written as log lines (stderr), or with
// --sample-dir DIR as DIR/source.csv and DIR/transform.csv (RFC 4180, a header, a `_line`
// column first; transform.csv also says where each row went in `_to`; each with one more
// leading underscore while an input column has that name). Observe() is
// called by the writer stage, one chunk at a time in input order; not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/csv/dialect.h"
#include "core/types/schema.h"

namespace flowengine {

class RowSampler {
 public:
  /// `dir` "" writes to the log. The sample files' paths are resolved here (at startup, as
  /// they are checked): a link planted at them during the run is replaced, not followed.
  RowSampler(size_t rows, std::string dir);

  /// Called once before the run with the schemas in and out of the transform
  /// (`transform_out` null when the pipeline has no transform) and the route names (for
  /// the `_to` column).
  void Start(const Schema& source, const Schema* transform_out, const Dialect& source_dialect,
             std::vector<std::string> routes);
  /// Takes rows from a written chunk until N of each were seen.
  void Observe(const Chunk& chunk);
  /// Writes the sample files (with --sample-dir), atomically. Throws ErrorException.
  void Finish() const;

 private:
  void Take(const std::string& stage, std::string& csv, size_t& taken, const Chunk& chunk,
            const RowBatch& batch, const char* arena, const std::vector<uint32_t>& rows,
            const std::vector<std::string>& destinations);

  size_t limit_;
  std::string dir_;
  std::string source_file_;     // dir_/source.csv, resolved at construction
  std::string transform_file_;  // dir_/transform.csv, likewise
  Dialect in_;
  bool has_transform_ = false;
  std::vector<std::string> routes_;
  std::string source_csv_;
  std::string transform_csv_;
  size_t source_taken_ = 0;
  size_t transform_taken_ = 0;
};

}  // namespace flowengine
