// RowTransformStage: the TransformStage of a C++ node an application registered
// (include/flowengine/node.h). Open() builds the node with the step's options and input
// columns; Transform() calls TransformNode::Process for each row of the chunk and turns what
// it did into the chunk's transform output (values set in the chunk's value arena, rows kept
// or dropped, failing rows rejected under skip-row or ending the run under fail-fast).
// Thread safety: Transform() runs concurrently on different chunks (the node's Process() must
// be thread-safe, as node.h says); Open() runs once on the starting thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "flowengine/node.h"

namespace flowengine {

class RowTransformStage final : public TransformStage {
 public:
  /// Step `step` of `spec`, of the registered type `type`. No work until Open().
  RowTransformStage(const PipelineSpec& spec, size_t step, TransformNodeType type);
  void Open(const Schema& input) override;
  const Schema& output_schema() const override { return output_; }
  void Transform(Chunk& chunk) override;

 private:
  struct RowState;
  friend class RowAccess;
  const PipelineSpec& spec_;
  size_t step_;
  TransformNodeType type_;
  std::unique_ptr<TransformNode> node_;
  Schema input_;
  Schema output_;
  std::vector<int> out_from_in_;  // output column -> input column of the same name, or -1
  bool skip_bad_rows_ = false;
  std::string input_file_;
};

/// Makes `type` a registered node type (core/engine/node_registry.h) built as a
/// RowTransformStage.
void RegisterRowTransformNode(TransformNodeType type);

}  // namespace flowengine
