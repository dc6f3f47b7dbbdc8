// PipelineSpec: the validated, fully resolved description of one pipeline, produced by
// LoadPipelineSpec (config_loader.h) and consumed by the engine. Plain structs with
// documented defaults; every path is absolute. Value type, not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/csv/dialect.h"
#include "core/error/error.h"
#include "core/io/compression.h"
#include "core/io/retry.h"
#include "core/io/text_decoder.h"
#include "core/types/column_type.h"

namespace flowengine {

/// A declared column of the source.
struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kString;
  bool required = false;  ///< an empty value is an error
};

struct SourceSpec {
  /// Every input file, in reading order (a list or a glob expanded, sorted), absolute; or
  /// one "-" for standard input. `path` is the first of them.
  std::vector<std::string> paths;
  std::string path;                     ///< absolute: paths[0]
  Dialect dialect = Dialect::Csv();     ///< from `format`
  bool header = true;                   ///< first record holds the column names
  std::vector<ColumnSpec> columns;      ///< declared columns (may be empty when header: true)
  Encoding encoding = Encoding::kUtf8;  ///< a UTF-8/UTF-16 byte order mark also decides
  int64_t skip_rows = 0;                ///< lines of preamble before the header (or data)
  int64_t max_rows = -1;                ///< records to read at most; -1: all
  bool skip_blank_lines = true;         ///< else a blank line is a record of one empty field
};

/// What to do when the sink's target already exists.
enum class OutputMode { kCreate, kReplace, kAppend };

/// One column of sink.columns: output column `name` takes the value of input column `from`.
struct SinkColumn {
  std::string name;
  std::string from;
  Location where;  ///< the list entry in the pipeline file, for errors about `from`
};

struct SinkSpec {
  std::string path;  ///< absolute
  Dialect dialect = Dialect::Csv();
  OutputMode mode = OutputMode::kCreate;
  OutputStyle style;    ///< lineEnding, quoting
  bool header = true;   ///< write a header line
  bool backup = false;  ///< replace keeps the previous target as <path>.bak
  /// sink.compression: each block written as one gzip member or zstd frame (default from
  /// the target's name: .gz, .zst).
  Compression compression = Compression::kNone;
  /// sink.columns: the columns written, in order, each from a column of the sink's input
  /// (the transform's output, else the source's); empty: every input column as it is.
  std::vector<SinkColumn> columns;
};

/// A named extra sink that scripts send rows to with context.route.send / sendCopy.
struct RouteSpec {
  std::string name;
  SinkSpec sink;  ///< format defaults to the main sink's
};

/// A transform step: a `javascript` step (the fields below `options`), or a node type an
/// application registered (core/engine/node_registry.h) with its options.
struct TransformSpec {
  std::string node = "javascript";  ///< the registered node type
  /// Options of a registered node, checked against its schema, defaults filled in, in the
  /// order of the schema (empty for javascript).
  std::vector<std::pair<std::string, std::string>> options;
  Location where;                  ///< the step in the pipeline file, for errors about it
  std::string script_path;         ///< absolute path of `file`, or "" for inline `code`
  std::string code;                ///< the script text (read from `file` at load time)
  std::string display_name;        ///< for messages: the file path, or "<pipeline.yaml>:transform"
  int code_line_offset = 0;        ///< line of inline code in the YAML file, 0 for a file
  std::vector<ColumnSpec> output;  ///< output columns; empty: the input columns
};

enum class ErrorHandling { kFailFast, kSkipRow };

/// Where rejected rows go under skip-row, and how many are too many.
struct DeadLetterSpec {
  std::string path;  ///< absolute; "" when not configured
  OutputMode mode = OutputMode::kReplace;
};

/// maxErrors: a count, or a percentage of the rows read (checked at the end of the run).
struct MaxErrorsSpec {
  int64_t count = -1;   ///< -1: no count limit
  double percent = -1;  ///< -1: no percentage limit
};

struct LimitsSpec {
  int threads = 0;                       ///< 0: all cores
  int64_t memory = 512ll << 20;          ///< hard budget for block, batch and output buffers
  int64_t max_record_size = 16ll << 20;  ///< bytes; a larger record is an error
  int64_t block_size = 1ll << 20;        ///< bytes read per block
  int64_t script_timeout_ms = 1000;      ///< one process() call; then the script is stopped
  int64_t script_heap = 128ll << 20;     ///< V8 heap per isolate (per thread)
  int64_t timeout_ms = 0;                ///< the whole run; 0: no limit
};

struct PipelineSpec {
  std::string name;
  /// Where each path key was configured ("sink.path" -> YAML line and column, or the --set
  /// option), for messages about those files; empty for a spec built in code.
  std::map<std::string, Location> locations;
  std::string config_path;  ///< absolute path of the YAML file ("" when built in code)
  SourceSpec source;
  std::vector<TransformSpec> transforms;  ///< the steps, run in order
  SinkSpec sink;
  std::vector<RouteSpec> routes;
  ErrorHandling error_handling = ErrorHandling::kFailFast;
  DeadLetterSpec dead_letter;
  MaxErrorsSpec max_errors;
  RetryPolicy retry;  ///< transient I/O failures
  LimitsSpec limits;
};

}  // namespace flowengine
