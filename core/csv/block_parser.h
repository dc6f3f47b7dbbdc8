// Parse stage of the delimited source: splits a Block into a RowBatch with the scanning
// kernel, then validates typed and required columns. Errors become rich Errors naming the
// file, line, column, byte offset and field; within a block the earliest error in file order
// is returned. Stateless; safe to call from many threads on different blocks.
#pragma once

#include <optional>
#include <string>

#include "core/batch/row_batch.h"
#include "core/csv/dialect.h"
#include "core/csv/scan_kernel.h"
#include "core/types/schema.h"

namespace flowengine {

struct BlockParserOptions {
  std::string file;  ///< input path, for messages
  Dialect dialect;
  const Schema* schema = nullptr;
  const ScanKernel* kernel = nullptr;  ///< nullptr: BestKernel()
  bool keep_blank_lines = false;       ///< source.skipBlankLines: false
  /// Keep the typed columns' values read while validating them in the batch (RowBatch::
  /// numbers), for a first transform step that reads numbers (JavaScript).
  bool keep_values = false;
};

/// Fills `batch` from `block`. Fail-fast (`rejects` null): returns the earliest error; rows
/// before it stay in `batch`. Skip-row (`rejects` given): every bad record is appended to
/// `rejects` in input order and left out of `batch`; returns nullopt.
std::optional<Error> ParseBlock(const Block& block, const BlockParserOptions& options,
                                RowBatch& batch, std::vector<Reject>* rejects = nullptr);

/// The value of a field as text, unescaping doubled quotes or backslash escapes (as the
/// dialect says) into `scratch` when needed.
std::string_view FieldText(const char* block_data, const FieldSpan& span, const Dialect& dialect,
                           std::string& scratch);

}  // namespace flowengine
