// Transform nodes written in C++ by an embedding application: a node type registered under a
// name is a pipeline step like `javascript`:
//
//   class Upper : public flowengine::TransformNode {
//    public:
//     Upper(size_t in, size_t out) : in_(in), out_(out) {}
//     bool Process(flowengine::Row& row) const override {
//       std::string v(row.Get(in_));
//       for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
//       row.Set(out_, v);
//       return true;                        // false drops the row (counted as filtered)
//     }
//    private:
//     size_t in_, out_;
//   };
//   flowengine::RegisterTransformNode({"upper", "upper-cases a column",
//       {{"column", flowengine::NodeOption::kString, true, "", "the column to upper-case"}},
//       [](flowengine::NodeSetup& setup) {
//         const size_t in = setup.InputColumn(setup.Option("column"));
//         return std::make_unique<Upper>(in, in);   // output columns: the input's (default)
//       }});
//
//   # pipeline.yaml
//   transform:
//     - javascript: { file: enrich.js }
//     - upper: { column: full_name }
//
// Lifetimes: register before loading a pipeline that uses the type (Pipeline::From*,
// Builder::Build); a type stays registered until the process exits. `create` runs once per
// run (and per `validate`/`inspect`) on the thread that starts it; the node it returns lives
// until the run ends.
// Thread safety: RegisterTransformNode may be called from any thread. Process() is called
// concurrently from the run's worker threads, for different rows: it must be safe to call
// at once from several threads (keep per-row state local; guard shared state yourself). It
// must not block on I/O for long: the worker threads are shared by every stage of the run.
// Errors: `create` throws (any std::exception) to refuse the step's options or input: the run
// fails at startup with FE-CONFIG-VALUE at the step's place in the pipeline file. Process()
// throws to fail the row: FE-NODE-ROW at the row's file and line (skip-row sets the row aside
// in the dead letters, fail-fast ends the run).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flowengine {

/// The row a node is processing: the input values (text, UTF-8, unquoted) and the output
/// values it sets. Valid during one Process() call.
class Row {
 public:
  /// The value of input column `column` ("" for an empty field).
  std::string_view Get(size_t column) const;
  /// Sets output column `column` (an output column not set takes the input value of the same
  /// name, else is empty). The value must be UTF-8; a typed output column (an input column
  /// carried over with its type) must get a value of that type, else the row fails with
  /// FE-SCRIPT-OUTPUT.
  void Set(size_t column, std::string_view value);
  /// The row's line in its input file (1-based).
  int64_t line() const;

  Row(const Row&) = delete;  // a Row is only valid during its Process() call
  Row& operator=(const Row&) = delete;

 private:
  friend class RowAccess;
  Row(void* impl, size_t row) : impl_(impl), row_(row) {}
  void* impl_;
  size_t row_;
};

/// One step of a pipeline, built by a registered node type's `create`.
class TransformNode {
 public:
  virtual ~TransformNode() = default;
  /// Called for every row that reaches the step, concurrently (see the top of this file).
  /// True: the row goes on (to the next step or the sink); false: it is dropped.
  virtual bool Process(Row& row) const = 0;
};

/// What `create` gets: the step's options (checked against the type's schema, defaults
/// filled in) and the input columns; it may change the output columns.
class NodeSetup {
 public:
  /// The value of option `name` as written (or its default); "" when absent.
  const std::string& Option(const std::string& name) const;
  int64_t IntegerOption(const std::string& name) const;  ///< for kInteger options
  double NumberOption(const std::string& name) const;    ///< for kNumber options
  bool BooleanOption(const std::string& name) const;     ///< for kBoolean options

  /// The input columns, in order (the source's, or the previous step's output).
  const std::vector<std::string>& input_columns() const { return input_; }
  /// Index of input column `name`; throws std::invalid_argument naming the columns there are.
  size_t InputColumn(const std::string& name) const;

  /// The output columns, in order. Starts as the input columns; `create` may replace it.
  std::vector<std::string>& output_columns() { return output_; }
  /// Index of output column `name`; throws std::invalid_argument.
  size_t OutputColumn(const std::string& name) const;

  NodeSetup(std::vector<std::pair<std::string, std::string>> options,
            std::vector<std::string> input);

 private:
  std::vector<std::pair<std::string, std::string>> options_;
  std::vector<std::string> input_;
  std::vector<std::string> output_;
};

/// One option of a node type, written `name: value` under the step's key.
struct NodeOption {
  enum Type { kString, kInteger, kNumber, kBoolean };
  std::string name;
  Type type = kString;
  bool required = false;
  std::string default_value;  ///< "" for none
  std::string doc;
};

struct TransformNodeType {
  std::string name;  ///< the step's key: lower-case letters, digits and '_'
  std::string doc;   ///< one line, shown by `flowengine schema`
  std::vector<NodeOption> options;
  std::function<std::unique_ptr<TransformNode>(NodeSetup& setup)> create;
};

/// Registers a node type for every pipeline loaded afterwards in this process. Throws
/// std::invalid_argument for a malformed or taken name (`javascript` is built in), a missing
/// `create`, or a default that is not of its option's type.
void RegisterTransformNode(TransformNodeType type);

}  // namespace flowengine
