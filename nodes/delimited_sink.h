// DelimitedSink: the format and writer stages of a CSV/TSV/PSV output.
//   Check()   startup checks without side effects (used by `validate` and by Open()).
//   Open()    startup: checks the output mode, creates the temp file, writes the header.
//   Format()  format stage, any thread, concurrently on different chunks.
//   Write()   writer stage, serial, chunks in input order.
//   Commit()  after a successful run: fsync, rename over the target, fsync the directory.
//   Abort()   after a failed run: removes the temp file; the target is untouched.
// The constructor does no I/O.
#pragma once

#include <string>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "core/io/atomic_file.h"

namespace flowengine {

class DelimitedSink final : public SinkStage {
 public:
  /// `input_dialect` is the dialect of the blocks whose spans Format() renders.
  DelimitedSink(SinkSpec spec, Dialect input_dialect, std::vector<std::string> columns);

  /// How transient write failures are retried (call before Open()).
  void SetRetryPolicy(const RetryPolicy& policy) { file_.SetRetryPolicy(policy); }
  void Check() const override;
  void Open() override;
  void Format(const Chunk& chunk, int route, ByteBuffer& out) const override;
  void Write(const ByteBuffer& bytes) override;
  void Commit() override;
  void Abort() noexcept override;

  /// Bytes written to the temp file (including a copied target when appending).
  size_t bytes_written() const { return file_.size(); }

 private:
  // For append: reads the target's first line; "" when the target is missing or empty.
  std::string ExistingHeader(bool* ends_with_newline) const;

  SinkSpec spec_;
  Dialect input_dialect_;
  std::vector<std::string> columns_;
  AtomicFile file_;
};

}  // namespace flowengine
