// DelimitedSink: the format and writer stages of a CSV/TSV/PSV output.
//   Check()   startup checks without side effects (used by `validate` and by Open()).
//   Open()    startup: checks the output mode, creates the temp file, writes the header.
//             Appending copies the target first and writes rows with the target's own line
//             ending (detected from its first line).
//   Format()  format stage, any thread, concurrently on different chunks.
//   Write()   writer stage, serial, chunks in input order.
//   file()    after a successful run: the AtomicFile the engine commits with the others.
//   Abort()   after a failed run: removes the temp file; the target is untouched.
// With sink.compression, every block is one gzip member or zstd frame, compressed in the
// format stage (concurrently); the header is a member of its own.
// With sink.path "-" the sink streams to standard output instead: no temp file, no lock, no
// commit (Streams() is true, Finish() ends the output); a reader that closes the pipe ends
// the run with FE-OUTPUT-CLOSED. SIGPIPE must be ignored by the process (the CLI does).
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
  /// `input_dialect` is the dialect of the blocks whose spans Format() renders; `columns`
  /// the names of the sink's input columns. Throws ErrorException FE-CONFIG-VALUE for a
  /// sink.columns entry naming none of them.
  DelimitedSink(SinkSpec spec, Dialect input_dialect, std::vector<std::string> columns);

  /// How transient write failures are retried (call before Open()).
  void SetRetryPolicy(const RetryPolicy& policy) { file_.SetRetryPolicy(policy); }
  void SetStopFlag(const std::atomic<bool>* stop) override {
    file_.SetStopFlag(stop);
    stop_ = stop;
  }
  void Check() const override;
  void Open() override;
  void Format(const Chunk& chunk, int route, ByteBuffer& out) const override;
  void Write(const ByteBuffer& bytes) override;
  AtomicFile& file() override { return file_; }
  bool Streams() const override { return streams_; }
  void Finish() override;
  void Abort() noexcept override;

  /// Bytes written to the temp file (including a copied target when appending).
  size_t bytes_written() const { return file_.size(); }

 private:
  // What an existing target (for append) starts with.
  struct Existing {
    bool present = false;           // the target exists and is not empty
    std::string header;             // its first line, line ending excluded
    bool ends_with_newline = true;  // its last byte is CR or LF
    bool crlf = false;              // its first line ends with CRLF
    bool lone_cr = false;           // its first line ends with a lone CR
  };
  Existing ReadExisting() const;
  // Format() before compression.
  void FormatPlain(const Chunk& chunk, int route, ByteBuffer& out) const;
  // Writes `data` to the temp file, as one member when the sink compresses.
  void WriteFile(const char* data, size_t size);
  // Check(); with `lock_free_now`, another run's lock on the target is an error at once
  // (validate), else Open() waits for it.
  void CheckTarget(bool lock_free_now) const;
  // The checks of a target to append to (its header and line endings), from what it holds.
  void CheckAppendTarget(const Existing& existing) const;

  SinkSpec spec_;
  Dialect input_dialect_;
  std::vector<std::string> columns_;  // the columns written (after sink.columns)
  std::vector<uint32_t> select_;      // sink.columns: input column of each; empty: all
  OutputStyle style_;                 // spec_.style, with the line ending of an appended-to target
  AtomicFile file_;
  // sink.path "-": rows go to standard output as they come (no temp file, no commit); the
  // header waits for the first rows or the end of the run, so a run that fails at once
  // writes nothing.
  bool streams_ = false;
  std::string pending_header_;
  const std::atomic<bool>* stop_ = nullptr;
  void WriteStdout(const char* data, size_t size);
};

}  // namespace flowengine
