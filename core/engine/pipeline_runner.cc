#include "core/engine/pipeline_runner.h"

#include <chrono>

#include "core/graph/pipeline_graph.h"

namespace flowengine {
void ValidatePipeline(const PipelineSpec& spec, const NodeFactory& factory) {
  std::unique_ptr<SourceStage> source = factory.make_source(spec);
  source->Open();
  std::unique_ptr<SinkStage> sink = factory.make_sink(spec, source->schema());
  sink->Check();
}

RunSummary RunPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                       const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary;
  std::unique_ptr<SourceStage> source;
  std::unique_ptr<SinkStage> sink;
  try {
    source = factory.make_source(spec);
    source->Open();
    sink = factory.make_sink(spec, source->schema());
    sink->Open();
  } catch (const ErrorException& e) {
    if (sink) sink->Abort();
    summary.error = e.error();
    return summary;
  }

  GraphStages stages;
  stages.read = [&](Block& block) { return source->ReadBlock(block); };
  stages.parse = [&](Chunk& chunk) { source->Parse(chunk); };
  stages.format = [&](Chunk& chunk) { sink->Format(chunk); };
  stages.write = [&](const Chunk& chunk) { sink->Write(chunk); };
  GraphOptions graph_options;
  graph_options.threads = spec.limits.threads;
  graph_options.stop = options.stop;
  GraphResult result = RunGraph(stages, graph_options);

  summary.threads = result.threads;
  summary.rows_read = result.rows;
  summary.rows_written = result.rows;
  summary.bytes_read = result.bytes_read;
  summary.error = result.error;
  summary.stopped = result.stopped;
  if (!summary.error && summary.stopped) {
    summary.error =
        MakeError("FE-RESOURCE-INTERRUPTED", "The run was interrupted by a signal", {}, "run");
  }
  if (summary.error) {
    sink->Abort();
  } else {
    try {
      sink->Commit();
    } catch (const ErrorException& e) {
      sink->Abort();
      summary.error = e.error();
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace flowengine
