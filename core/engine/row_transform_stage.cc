#include "core/engine/row_transform_stage.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>

#include "core/csv/block_parser.h"
#include "core/csv/utf8_check.h"
#include "core/engine/node_registry.h"
#include "core/error/error.h"
#include "core/memory/memory_budget.h"
#include "core/types/column_type.h"

namespace flowengine {
namespace {

std::string JoinColumnNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "no columns" : out;
}

}  // namespace

// What a Row points to while Process() runs: the chunk, the row's input values (views into
// the block, the packed values of a fold, or `scratch` for unescaped fields), the values set
// so far (staged apart from the input text, which they must not move), and the first problem
// with a value set (reported after Process() returns, so that a node cannot catch and ignore
// it).
struct RowTransformStage::RowState {
  const RowTransformStage* stage = nullptr;
  Chunk* chunk = nullptr;
  std::vector<std::string_view> in;
  std::vector<std::string> scratch;  // per call: a nested task on this thread has its own
  ByteBuffer* staged = nullptr;      // values set in this chunk, appended to the arena at the end
  std::vector<std::pair<size_t, FieldSpan>> sets;  // (output field, span into `staged`)
  std::optional<std::string> problem;
  std::exception_ptr fatal;  // the memory budget spent while setting a value
};

class RowAccess {
 public:
  static Row Make(RowTransformStage::RowState* state, size_t row) { return Row(state, row); }
  static RowTransformStage::RowState& State(const Row& r) {
    return *static_cast<RowTransformStage::RowState*>(r.impl_);
  }
  static size_t Index(const Row& r) { return r.row_; }
};

std::string_view Row::Get(size_t column) const {
  const auto& s = RowAccess::State(*this);
  if (column >= s.in.size()) {
    throw std::out_of_range("Row::Get(" + std::to_string(column) + "): the input has " +
                            std::to_string(s.in.size()) + " columns");
  }
  return s.in[column];
}

void Row::Set(size_t column, std::string_view value) {
  auto& s = RowAccess::State(*this);
  const Schema& out = s.stage->output_schema();
  if (column >= out.columns.size()) {
    if (!s.problem) {
      s.problem = "Row::Set(" + std::to_string(column) + "): the output has " +
                  std::to_string(out.columns.size()) + " columns";
    }
    return;
  }
  const ColumnSpec& col = out.columns[column];
  if (!IsValidUtf8(value.data(), value.size())) {
    if (!s.problem) s.problem = "Value of output column '" + col.name + "' is not valid UTF-8";
    return;
  }
  if (col.required && value.empty()) {
    if (!s.problem) s.problem = "Required output column '" + col.name + "' is empty";
    return;
  }
  if (col.type != ColumnType::kString && !value.empty() && !IsValidValue(col.type, value)) {
    if (!s.problem) {
      s.problem = "Value of output column '" + col.name + "' is not a valid " +
                  std::string(ColumnTypeName(col.type));
    }
    return;
  }
  if (s.chunk->transform.values.size() + s.staged->size() + value.size() > FieldSpan::kLengthMask) {
    if (!s.problem) s.problem = "The values set in one block pass 512 MiB";
    return;
  }
  const size_t index = RowAccess::Index(*this) * out.columns.size() + column;
  try {
    s.sets.emplace_back(index, FieldSpan{static_cast<uint32_t>(s.staged->size()),
                                         static_cast<uint32_t>(value.size()) | FieldSpan::kArena});
    s.staged->Append(value.data(), value.size());
  } catch (...) {  // limits.memory spent, out of memory: the run's failure, not the row's
    if (!s.fatal) s.fatal = std::current_exception();
  }
}

int64_t Row::line() const {
  const auto& s = RowAccess::State(*this);
  return s.chunk->block.first_line + s.chunk->StepInput().rows[RowAccess::Index(*this)].line_delta;
}

RowTransformStage::RowTransformStage(const PipelineSpec& spec, size_t step, TransformNodeType type)
    : spec_(spec), step_(step), type_(std::move(type)) {}

void RowTransformStage::Open(const Schema& input) {
  input_ = input;
  skip_bad_rows_ = spec_.error_handling == ErrorHandling::kSkipRow;
  input_file_ = spec_.source.path == "-" ? "<stdin>" : spec_.source.path;
  const TransformSpec& t = spec_.transforms.at(step_);
  std::vector<std::string> names;
  for (const ColumnSpec& c : input.columns) names.push_back(c.name);
  NodeSetup setup(t.options, names);
  const std::string where = "transform[" + std::to_string(step_) + "] (" + type_.name + ")";
  std::string refused;
  try {
    node_ = type_.create(setup);
  } catch (const std::exception& e) {
    refused = e.what();
  } catch (...) {
    refused = "create threw an exception that is not a std::exception";
  }
  if (!refused.empty()) {
    Error err = MakeError("FE-CONFIG-VALUE", where + ": " + refused, t.where, "startup");
    err.hint = "Fix the step's options or its input columns (" + JoinColumnNames(names) + ").";
    throw ErrorException(std::move(err));
  }
  if (!node_)
    ThrowError("FE-CONFIG-VALUE", where + ": the node type made no node", t.where, "startup");
  output_.columns.clear();
  out_from_in_.clear();
  for (const std::string& name : setup.output_columns()) {
    if (name.empty() || output_.IndexOf(name) >= 0) {
      ThrowError(
          "FE-CONFIG-VALUE",
          where + ": output column '" + name + "' is " + (name.empty() ? "empty" : "there twice"),
          t.where, "startup");
    }
    const int from = input.IndexOf(name);
    // A column carried over keeps its declared type; a new one is a string.
    output_.columns.push_back(from >= 0 ? input.columns[static_cast<size_t>(from)]
                                        : ColumnSpec{name, ColumnType::kString, false});
    out_from_in_.push_back(from);
  }
}

void RowTransformStage::Transform(Chunk& chunk) {
  chunk.BeginTransformStep();
  TransformOutput& t = chunk.transform;
  const RowBatch& in = chunk.StepInput();
  const size_t n = in.num_rows;
  const auto n_out = static_cast<uint32_t>(output_.columns.size());
  RowBatch& ob = t.batch;
  ob.num_columns = n_out;
  ob.num_rows = n;
  ob.fields.ResizeDiscard(n * n_out);
  ob.rows.ResizeDiscard(n);
  const std::string_view text = chunk.BatchText();
  const size_t parse_rejects = chunk.rejects.size();
  RowState state;
  state.stage = this;
  state.chunk = &chunk;
  state.in.resize(in.num_columns);
  state.scratch.resize(in.num_columns);
  // After a fold, fold_values is free (the packed input moved to transform.values).
  ByteBuffer& staged = chunk.fold_values;
  staged.Clear();
  state.staged = &staged;
  for (size_t r = 0; r < n; ++r) {
    ob.rows[r] = in.rows[r];
    for (uint32_t c = 0; c < n_out; ++c) {
      const int from = out_from_in_[c];
      ob.fields[r * n_out + c] =
          from >= 0 ? in.Field(r, static_cast<size_t>(from)) : FieldSpan{0, FieldSpan::kArena};
    }
    for (uint32_t c = 0; c < in.num_columns; ++c) {
      state.in[c] = FieldText(text.data(), in.Field(r, c), spec_.source.dialect, state.scratch[c]);
    }
    state.problem.reset();
    const size_t sets_before = state.sets.size();
    Row row = RowAccess::Make(&state, r);
    bool keep = false;
    std::optional<std::string> failure;
    try {
      keep = node_->Process(row);
    } catch (const MemoryBudgetExceeded&) {
      throw;  // the run's failure (FE-RESOURCE-MEMORY), not the row's
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (state.fatal) std::rethrow_exception(state.fatal);
    std::string code = "FE-NODE-ROW";
    std::string message;
    if (failure) {
      message = "transform[" + std::to_string(step_) + "] (" + type_.name + ") failed: " + *failure;
    } else if (state.problem) {
      code = "FE-SCRIPT-OUTPUT";
      message = "transform[" + std::to_string(step_) + "] (" + type_.name + "): " + *state.problem;
    }
    if (!message.empty()) {
      const RowInfo& info = in.rows[r];
      Location loc;
      loc.file = chunk.block.file != nullptr ? *chunk.block.file : input_file_;
      loc.line = chunk.block.first_line + info.line_delta;
      loc.byte_offset = chunk.block.byte_offset + info.begin;
      Error err = MakeError(code, message, loc, "transform");
      if (!skip_bad_rows_) {
        chunk.error = std::move(err);
        return;
      }
      state.sets.resize(sets_before);  // what a failing row set goes nowhere
      ++t.rejected;
      chunk.rejects.push_back(
          Reject{std::move(err), info.begin, info.end, loc.line, loc.byte_offset});
      continue;
    }
    if (keep) {
      const auto row32 = static_cast<uint32_t>(r);
      t.main_rows.Append(&row32, 1);
    } else {
      ++t.filtered;
    }
  }
  // The values set, after the input text they must not have moved.
  const size_t base = t.values.size();
  if (base + staged.size() > FieldSpan::kLengthMask) {
    ThrowError("FE-RESOURCE-MEMORY", "The values set in one block pass 512 MiB", {}, "transform");
  }
  t.values.Append(staged.data(), staged.size());
  for (const auto& [index, span] : state.sets) {
    ob.fields[index] = FieldSpan{span.offset + static_cast<uint32_t>(base), span.length_and_flags};
  }
  // Rejects in input order: the earlier stages', then this step's, merged by position.
  auto by_position = [](const Reject& x, const Reject& y) { return x.raw_begin < y.raw_begin; };
  std::inplace_merge(chunk.rejects.begin(),
                     chunk.rejects.begin() + static_cast<std::ptrdiff_t>(parse_rejects),
                     chunk.rejects.end(), by_position);
}

void RegisterRowTransformNode(TransformNodeType type) {
  NodeType entry;
  entry.name = type.name;
  entry.doc = type.doc;
  for (const NodeOption& o : type.options) {
    entry.options.push_back(NodeOptionSpec{o.name, static_cast<NodeOptionSpec::Type>(o.type),
                                           o.required, o.default_value, o.doc});
  }
  if (!type.create) throw std::invalid_argument("Node type '" + type.name + "' has no create");
  entry.make = [type](const PipelineSpec& spec, size_t step) {
    return std::make_unique<RowTransformStage>(spec, step, type);
  };
  NodeRegistry::Instance().Register(std::move(entry));
}

// ---- the public API of include/flowengine/node.h ----

void RegisterTransformNode(TransformNodeType type) { RegisterRowTransformNode(std::move(type)); }

NodeSetup::NodeSetup(std::vector<std::pair<std::string, std::string>> options,
                     std::vector<std::string> input)
    : options_(std::move(options)), input_(std::move(input)), output_(input_) {}

const std::string& NodeSetup::Option(const std::string& name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : options_) {
    if (key == name) return value;
  }
  return kEmpty;
}

int64_t NodeSetup::IntegerOption(const std::string& name) const {
  const std::string& v = Option(name);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
    throw std::invalid_argument("option '" + name + "' is not an integer: '" + v + "'");
  }
  return out;
}

double NodeSetup::NumberOption(const std::string& name) const {
  const std::string& v = Option(name);
  double out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
    throw std::invalid_argument("option '" + name + "' is not a number: '" + v + "'");
  }
  return out;
}

bool NodeSetup::BooleanOption(const std::string& name) const {
  const std::string& v = Option(name);
  if (v == "true") return true;
  if (v == "false") return false;
  throw std::invalid_argument("option '" + name + "' is not true or false: '" + v + "'");
}

size_t NodeSetup::InputColumn(const std::string& name) const {
  for (size_t i = 0; i < input_.size(); ++i) {
    if (input_[i] == name) return i;
  }
  throw std::invalid_argument("no input column '" + name + "'; the input has " +
                              JoinColumnNames(input_));
}

size_t NodeSetup::OutputColumn(const std::string& name) const {
  for (size_t i = 0; i < output_.size(); ++i) {
    if (output_[i] == name) return i;
  }
  throw std::invalid_argument("no output column '" + name + "'; the output has " +
                              JoinColumnNames(output_));
}

}  // namespace flowengine
