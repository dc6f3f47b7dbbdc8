// The block and batch model: a Block holds whole records read from the input; a RowBatch
// holds field spans pointing into the block's bytes plus per-row provenance. A Chunk is the
// unit that flows through the graph (block + batch + formatted output), recycled by a pool,
// so steady state allocates nothing per block, row or field. One stage owns a Chunk at a
// time; no synchronisation inside.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error/error.h"
#include "core/memory/pod_buffer.h"

namespace flowengine {

/// A field: bytes [offset, offset + length) of the block. For a quoted field the span is
/// the text between the quotes; kEscaped means it still holds doubled quotes (""). kArena
/// means the bytes are in the chunk's transform value arena instead (a value a script set,
/// raw text that may need quoting).
struct FieldSpan {
  static constexpr uint32_t kQuoted = 1u << 31;
  static constexpr uint32_t kEscaped = 1u << 30;
  static constexpr uint32_t kArena = 1u << 29;
  static constexpr uint32_t kLengthMask = kArena - 1;

  uint32_t offset;
  uint32_t length_and_flags;

  uint32_t length() const { return length_and_flags & kLengthMask; }
  bool quoted() const { return (length_and_flags & kQuoted) != 0; }
  bool escaped() const { return (length_and_flags & kEscaped) != 0; }
  bool in_arena() const { return (length_and_flags & kArena) != 0; }
};

/// Provenance of one row: where its record starts and ends in the block, and its line
/// relative to the block's first line (0 = the block's first line).
struct RowInfo {
  uint32_t line_delta;
  uint32_t begin;  ///< offset of the record's first byte
  uint32_t end;    ///< offset one past its last byte, line ending excluded
};

/// Bytes of whole records, padded (kPaddingBytes zeroed after size()).
struct Block {
  ByteBuffer bytes;
  uint64_t seq = 0;              ///< 0-based position in the stream of blocks
  int64_t first_line = 1;        ///< 1-based line number of the first record
  int64_t byte_offset = 0;       ///< offset of bytes[0] in the input file
  int64_t line_count = -1;       ///< line breaks in the block; -1: not counted yet
  int64_t delimiter_count = -1;  ///< delimiter bytes in the block; -1: not counted yet
  /// The input file the block comes from (its name in messages, owned by the source, which
  /// outlives the run's blocks); null when the source has one unnamed input.
  const std::string* file = nullptr;
};

/// Rows of a block as field spans, row-major, `num_columns` spans per row.
struct RowBatch {
  uint32_t num_columns = 0;
  size_t num_rows = 0;
  PodBuffer<FieldSpan> fields;
  PodBuffer<RowInfo> rows;

  /// The values of the typed columns as the parse stage read them while validating them,
  /// kept only when asked (BlockParserOptions::keep_values; value_stride is 0 otherwise),
  /// so that a reader of numbers (the JavaScript column views) does not parse them again.
  /// Column c has values when value_slot[c] != kNoValues; its row r is at
  /// i = value_slot[c] * value_stride + r: numbers[i] its number (an int as a double) and
  /// codes[i] 1 when the field is empty, else 0 (bool columns: codes[i] 0 false, 1 true,
  /// 2 empty). value_type[c] is the type they were read as; inexact[slot] is 1 when an int
  /// of the column lies beyond +-(2^53 - 1), which a double does not hold exactly (possibly
  /// in a row the batch dropped after an error: a reader then just reads the text).
  static constexpr uint32_t kNoValues = ~0u;
  size_t value_stride = 0;
  PodBuffer<uint32_t> value_slot;  // per column
  PodBuffer<uint8_t> value_type;   // per column: a ColumnType
  PodBuffer<uint8_t> inexact;      // per slot
  PodBuffer<double> numbers;
  PodBuffer<uint8_t> codes;

  const FieldSpan& Field(size_t row, size_t column) const {
    return fields[row * num_columns + column];
  }
};

/// What a transform made of a chunk's rows: one output row per input row (same RowInfo),
/// spans into the block or the value arena, and where each row goes.
struct TransformOutput {
  bool active = false;                          ///< a transform ran on this chunk
  RowBatch batch;                               ///< output columns
  ByteBuffer values;                            ///< arena for values set by the script
  PodBuffer<uint32_t> main_rows;                ///< rows for the main sink, in order
  std::vector<PodBuffer<uint32_t>> route_rows;  ///< per route, rows in order
  uint64_t filtered = 0;                        ///< rows the script returned false for
  uint64_t routed = 0;                          ///< rows moved to a route with send()
  uint64_t copies = 0;                          ///< copies made with sendCopy()
  uint64_t rejected = 0;  ///< rows set aside by the transform (also in Chunk::rejects)

  /// Back to "no transform ran": counters zero, row lists empty (buffers keep capacity).
  void Reset() {
    active = false;
    values.Clear();
    ClearRows();
    filtered = routed = copies = rejected = 0;
  }
  /// The output batch and the row lists emptied; values and counters kept.
  void ClearRows() {
    batch.num_rows = 0;
    main_rows.Clear();
    for (PodBuffer<uint32_t>& r : route_rows) r.Clear();
  }
};

/// A row set aside under errorHandling: skip-row: why, and where its original bytes are.
struct Reject {
  Error error;         ///< what is wrong, located where it is wrong
  uint32_t raw_begin;  ///< the record's bytes in the block (line ending excluded)
  uint32_t raw_end;
  int64_t line;         ///< line where the record starts
  int64_t byte_offset;  ///< offset of the record's first byte in the input
};

/// The unit of work in the graph. `error` set by any stage makes the later stages pass the
/// chunk through untouched; the writer, seeing chunks in order, reports the earliest one.
struct Chunk {
  Block block;
  RowBatch batch;
  /// Records the parse stage read from the block: rows parsed plus records rejected by the
  /// parse. Set once by the parse stage; the writer checks that every one of them is
  /// accounted for (written, routed, filtered or rejected).
  uint64_t records = 0;
  TransformOutput transform;
  ByteBuffer output;                     ///< formatted main-sink bytes
  std::vector<ByteBuffer> route_output;  ///< formatted bytes per route
  std::vector<Reject> rejects;           ///< skip-row: rows set aside, in input order
  ByteBuffer dead_output;                ///< formatted dead-letter rows
  std::optional<Error> error;
  bool skipped = false;            ///< work skipped because the run is stopping
  MemoryBudget* budget = nullptr;  ///< where every buffer of the chunk is accounted (or null)
  /// Between two transform steps (core/engine/step_fold.h) the previous step's main rows
  /// become `fold_batch`, the next step's input, their values packed at the start of
  /// transform.values (every span kArena, `folded_bytes` bytes); the next step appends its
  /// own values after them and keeps counting filtered, routed and rejected rows from where
  /// the last step left off. `batch` stays the parse stage's (samples, accounting).
  bool folded = false;
  size_t folded_bytes = 0;
  RowBatch fold_batch;     ///< the input of a step after the first
  ByteBuffer fold_values;  ///< scratch: the fold's packing, a C++ node's staged values

  /// The rows a transform step reads: the parsed batch, or after a fold the previous step's.
  const RowBatch& StepInput() const { return folded ? fold_batch : batch; }
  /// The bytes StepInput()'s spans point into: the block's, or after a fold the packed values.
  std::string_view BatchText() const {
    return folded ? std::string_view(transform.values.data(), folded_bytes)
                  : std::string_view(block.bytes.data(), block.bytes.size());
  }

  /// Called by a transform step before it writes chunk.transform: a first step starts from
  /// nothing; a later step keeps the values its input spans point into and the counts.
  void BeginTransformStep() {
    if (folded) {
      transform.values.Resize(folded_bytes);
      transform.ClearRows();
    } else {
      transform.Reset();
    }
    transform.active = true;
  }

  /// Makes room for `n` routes (transform row lists and formatted outputs); new buffers are
  /// attached to the chunk's budget like the others.
  void EnsureRoutes(size_t n) {
    while (transform.route_rows.size() < n) {
      transform.route_rows.emplace_back();
      transform.route_rows.back().AttachBudget(budget);
    }
    while (route_output.size() < n) {
      route_output.emplace_back();
      route_output.back().AttachBudget(budget);
    }
  }

  /// Everything a stage wrote on the chunk is cleared before the chunk is reused; buffers
  /// keep their capacity. The one place that knows every per-chunk field.
  void ResetForReuse() {
    batch.num_rows = 0;
    batch.value_stride = 0;
    records = 0;
    transform.Reset();
    output.Clear();
    for (ByteBuffer& b : route_output) b.Clear();
    rejects.clear();
    dead_output.Clear();
    error.reset();
    skipped = false;
    folded = false;
    folded_bytes = 0;
  }
};

}  // namespace flowengine
