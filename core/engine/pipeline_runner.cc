#include "core/engine/pipeline_runner.h"

#include <chrono>

#include "core/graph/pipeline_graph.h"
#include "core/memory/memory_plan.h"

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
  const MemoryPlan plan = PlanMemory(spec.limits);
  MemoryBudget budget(plan.budget);
  GraphOptions graph_options;
  graph_options.threads = plan.threads;
  graph_options.tokens = plan.tokens;
  graph_options.budget = &budget;
  graph_options.stop = options.stop;
  const auto graph_start = std::chrono::steady_clock::now();
  GraphResult result = RunGraph(stages, graph_options);
  summary.graph_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - graph_start).count();
  summary.memory_peak = budget.peak();
  summary.memory_budget = budget.limit();
  summary.tokens = plan.tokens;

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
      const auto commit_start = std::chrono::steady_clock::now();
      sink->Commit();
      summary.commit_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count();
    } catch (const ErrorException& e) {
      sink->Abort();
      summary.error = e.error();
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace flowengine
