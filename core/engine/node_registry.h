// NodeRegistry: transform node types by name — the key a pipeline step is written with
// (`transform: [ { javascript: {...} }, { my_node: {...} } ]`) — each with the schema of its
// options and the factory that builds it. The built-in `javascript` step registers here like
// an application's node (nodes/node_factory.cc; applications through
// include/flowengine/node.h). The loader checks a step's options against the schema,
// `flowengine schema` and docs list them, and runs and `inspect` build steps through `make`.
//
// Thread safety: one process-wide registry; Register and the lookups take a mutex. Register a
// node type before loading pipelines that use it; a type cannot be replaced or removed.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"

namespace flowengine {

/// One option of a node type: `name: value` under the step's key.
struct NodeOptionSpec {
  enum class Type { kString, kInteger, kNumber, kBoolean };
  std::string name;
  Type type = Type::kString;
  bool required = false;
  std::string default_value;  ///< used when the option is absent ("" for none)
  std::string doc;
};

struct NodeType {
  std::string name;  ///< [a-z][a-z0-9_]*, the step's key
  std::string doc;
  /// The options (checked by the loader); empty for `javascript`, whose keys are in the
  /// configuration table (core/config/config_keys.h).
  std::vector<NodeOptionSpec> options;
  /// Builds step `step` of `spec` (spec.transforms[step].node == name); no I/O.
  std::function<std::unique_ptr<TransformStage>(const PipelineSpec& spec, size_t step)> make;
};

class NodeRegistry {
 public:
  static NodeRegistry& Instance();

  /// Throws std::invalid_argument for a malformed or taken name, a name reserved for the
  /// built-in nodes (`javascript`), or a type without `make`.
  void Register(NodeType type);
  /// As Register, for the engine's own nodes (nodes/node_factory.cc), which may take the
  /// reserved names.
  void RegisterBuiltIn(NodeType type);
  /// The type called `name`, or nullopt.
  std::optional<NodeType> Find(const std::string& name) const;
  /// Every type, in the order they were registered.
  std::vector<NodeType> All() const;

 private:
  NodeRegistry() = default;
  void Add(NodeType type, bool built_in);
  mutable std::mutex mutex_;
  std::vector<NodeType> types_;
};

/// The schema of option values: whether `text` is a valid `type` (integer: a whole number
/// that fits 64 bits; number: a finite decimal; boolean: true or false).
bool IsValidOption(NodeOptionSpec::Type type, const std::string& text);
const char* OptionTypeName(NodeOptionSpec::Type type);

}  // namespace flowengine
