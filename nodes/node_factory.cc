#include "nodes/node_factory.h"

#include <mutex>
#include <optional>

#include "core/engine/node_registry.h"
#include "nodes/dead_letter_sink.h"
#include "nodes/delimited_sink.h"
#include "nodes/delimited_source.h"
#include "nodes/javascript_plugin.h"

namespace flowengine {

NodeFactory DelimitedNodeFactory() {
  NodeFactory factory;
  factory.make_source = [](const PipelineSpec& spec) -> std::unique_ptr<SourceStage> {
    auto source = std::make_unique<DelimitedSource>(spec.source, spec.limits,
                                                    spec.error_handling == ErrorHandling::kSkipRow,
                                                    spec.transforms.size());
    source->SetRetryPolicy(spec.retry);
    source->KeepTypedValues(!spec.transforms.empty() && spec.transforms[0].node == "javascript");
    return source;
  };
  static std::once_flag built_in;
  std::call_once(built_in, [] {
    NodeType js;
    js.name = "javascript";
    js.doc = "a JavaScript step (docs/javascript.md)";
    js.make = [](const PipelineSpec& spec, size_t step) {
      return LoadJavascriptTransform(spec, step);
    };
    NodeRegistry::Instance().RegisterBuiltIn(std::move(js));
  });
  factory.make_transform = [](const PipelineSpec& spec,
                              size_t step) -> std::unique_ptr<TransformStage> {
    const TransformSpec& t = spec.transforms.at(step);
    std::optional<NodeType> type = NodeRegistry::Instance().Find(t.node);
    if (!type) {
      ThrowError("FE-CONFIG-UNKNOWN-KEY",
                 "Node type '" + t.node + "' of transform[" + std::to_string(step) +
                     "] is not registered in this process",
                 t.where, "startup");
    }
    return type->make(spec, step);
  };
  factory.make_sink = [](const PipelineSpec& spec, const SinkSpec& sink,
                         const Schema& input) -> std::unique_ptr<SinkStage> {
    std::vector<std::string> names;
    for (const ColumnSpec& c : input.columns) names.push_back(c.name);
    auto out = std::make_unique<DelimitedSink>(sink, spec.source.dialect, std::move(names));
    out->SetRetryPolicy(spec.retry);
    return out;
  };
  factory.make_dead_letter = [](const PipelineSpec& spec) -> std::unique_ptr<SinkStage> {
    auto dead = std::make_unique<DeadLetterSink>(spec.dead_letter);
    dead->SetRetryPolicy(spec.retry);
    return dead;
  };
  return factory;
}

}  // namespace flowengine
