// DelimitedSource: the reader and parse stages of a CSV/TSV/PSV input.
//   Open()      startup, on the calling thread: opens the file (or standard input for "-"),
//               recognises gzip and zstd by their magic bytes (then decompressed on a thread
//               of its own), reads the header, resolves the schema (header names + declared
//               types). Throws ErrorException.
//   ReadBlock() reader stage, serial: the next block of whole records. Throws ErrorException.
//               With several files (source.path as a list or a glob), blocks never span two
//               files; each file's header must match the first's (checked by Open() too),
//               and line numbers and byte offsets count from each file's start.
//   Parse()     parse stage, any thread, concurrently on different chunks.
// The constructor does no I/O.
#pragma once

#include <memory>
#include <string>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/csv/block_parser.h"
#include "core/csv/grammar.h"
#include "core/engine/stages.h"
#include "core/io/decompressing_reader.h"
#include "core/io/input_file.h"
#include "core/io/text_decoder.h"
#include "core/memory/memory_plan.h"
#include "core/types/schema.h"

namespace flowengine {

class DelimitedSource final : public SourceStage {
 public:
  /// With `skip_bad_rows` (errorHandling: skip-row), Parse() sets bad records aside in
  /// chunk.rejects instead of failing the chunk. `transform_steps`: blocks leave room in
  /// the memory plan for the transform steps' output.
  DelimitedSource(SourceSpec spec, LimitsSpec limits, bool skip_bad_rows = false,
                  size_t transform_steps = 0);

  /// How transient read failures are retried (call before Open()).
  void SetRetryPolicy(const RetryPolicy& policy) { retry_ = policy; }
  /// Keeps the typed columns' values read while validating them in each batch
  /// (RowBatch::numbers), for a first transform step that reads numbers (call before Open()).
  void KeepTypedValues(bool keep) { parser_options_.keep_values = keep; }
  void SetStopFlag(const std::atomic<bool>* stop) override { stop_ = stop; }
  void AttachMemoryBudget(MemoryBudget* budget) override { pending_.AttachBudget(budget); }
  void Open() override;
  const Schema& schema() const override { return schema_; }
  /// Input size in bytes, every file's (0 when unknown: standard input, a pipe).
  int64_t input_size() const override { return input_size_; }

  /// Fills `block` with whole records; false when the input is exhausted.
  bool ReadBlock(Block& block) override;
  /// Splits and validates `chunk.block` into `chunk.batch`; sets `chunk.error` on a bad row.
  void Parse(Chunk& chunk) const override;

 private:
  // The input's bytes, decompressed when it is gzip or zstd.
  size_t ReadInput(char* dst, size_t n);
  size_t ReadInputSome(char* dst, size_t n);
  // Up to `size` first bytes (less from a pipe once a line ending is among them).
  size_t ReadHead(char* head, size_t size);
  // Reads more input into pending_ (decoded to UTF-8 when the encoding asks) until it holds
  // at least `want` bytes or the file ends.
  void Fill(size_t want);
  // Reads what one read gives (at least a byte, unless the input ends), for the preamble and
  // the header: a pipe's first lines are enough to open the run, no full block needed.
  void FillMore();
  // Reads the byte order mark and sets up decoding; the bytes after the mark are pending.
  void StartDecoding();
  // Drops source.skipRows lines of preamble.
  void SkipPreamble();
  // With source.maxRows: the prefix of `boundary` holding the records still allowed.
  BoundaryResult LimitRows(BoundaryResult boundary);
  // Forgets pending_[0, n), the bytes before the next record to hand out.
  void DropPending(size_t n);
  void ReadHeader();
  // Reads and checks the header record: the column names (throws FE-CONFIG-HEADER and the
  // grammar and encoding errors).
  std::vector<std::string> ReadHeaderNames();
  // Opens paths_[index] and reads up to its header (decoding, preamble); the header is left
  // for ReadHeader / ReadHeaderNames.
  void OpenFile(size_t index);
  // At the end of a file: opens the next one and checks that its header matches the first
  // file's; false when there is none.
  bool NextFile();
  // Every file after the first opens and has the first file's header (checked at startup,
  // so that validate reports a mismatch too).
  void CheckOtherFiles() const;
  // Where byte `offset` of the header starting at pending_[begin] is in the file.
  Location HeaderLocation(size_t begin, size_t offset) const;
  [[noreturn]] void FailHeaderGrammar(const RecordScan& header, size_t begin) const;
  // Throws FE-ENCODING-UTF8 for invalid UTF-8 in the header bytes pending_[begin, end).
  void CheckHeaderUtf8(size_t begin, size_t end) const;
  // With backslash escapes: throws FE-INPUT-BAD-ESCAPE for a bad escape in the header
  // record pending_[begin, end).
  void CheckHeaderEscapes(size_t begin, size_t end) const;
  [[noreturn]] void FailHeader(const std::string& message, const std::string& header) const;

  // The largest prefix of a block of whole records (`boundary`) whose chunk fits the memory
  // plan; throws FE-RESOURCE-MEMORY when not even one record fits.
  BoundaryResult FitToMemory(BoundaryResult boundary) const;
  [[noreturn]] void FailRecordTooLarge() const;
  // File, line and byte offset of the next record to be handed out.
  Location NextRecordLocation() const;

  SourceSpec spec_;
  MemoryPlan plan_;
  bool skip_bad_rows_;
  // The input files (source.paths, or "-") and their names in messages ("<stdin>" for "-"):
  // every block points at the name of the file it comes from (Block::file).
  std::vector<std::string> paths_;
  std::vector<std::string> names_;
  size_t file_index_ = 0;
  int64_t input_size_ = 0;
  RetryPolicy retry_;
  const std::atomic<bool>* stop_ = nullptr;
  std::unique_ptr<InputFile> file_;             // the file being read
  std::unique_ptr<DecompressingReader> unzip_;  // ... when it is gzip or zstd
  Compression compression_ = Compression::kNone;
  Schema schema_;
  BlockParserOptions parser_options_;
  ByteBuffer pending_;                    // bytes read (decoded) but not yet handed out
  std::unique_ptr<TextDecoder> decoder_;  // null: the input is read as UTF-8
  std::string raw_;                       // undecoded bytes of one read
  bool eof_ = false;
  int64_t rows_left_ = -1;  // source.maxRows still to hand out; -1: no limit
  bool rows_done_ = false;  // maxRows reached: no more blocks
  uint64_t next_seq_ = 0;
  std::string header_text_;  // the first file's header record, for messages
  int64_t next_line_ = 1;
  int64_t next_offset_ = 0;
};

}  // namespace flowengine
