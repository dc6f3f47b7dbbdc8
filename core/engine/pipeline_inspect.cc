#include "core/engine/pipeline_inspect.h"

#include <memory>
#include <sstream>

#include "core/csv/scan_kernel.h"
#include "core/graph/pipeline_graph.h"
#include "core/memory/memory_plan.h"

namespace flowengine {
namespace {

std::string SchemaText(const Schema& schema) {
  std::string out;
  for (const ColumnSpec& c : schema.columns) {
    if (!out.empty()) out += ", ";
    out += c.name + ":" + std::string(ColumnTypeName(c.type)) + (c.required ? "!" : "");
  }
  return out;
}

std::string ModeText(OutputMode mode) {
  return mode == OutputMode::kCreate    ? "create"
         : mode == OutputMode::kReplace ? "replace"
                                        : "append";
}

std::string SinkText(const SinkSpec& s) {
  const bool stream = s.path == "-";
  std::string out = (stream ? std::string("standard output (streamed, not atomic)") : s.path) +
                    " (" + std::string(s.dialect.FormatName()) +
                    (stream ? "" : ", " + ModeText(s.mode)) + (s.style.crlf ? ", crlf" : ", lf") +
                    (s.style.quote_all ? ", quote all" : ", minimal quoting") +
                    (s.header ? "" : ", no header") + (s.backup ? ", backup" : "") +
                    (s.compression != Compression::kNone
                         ? ", " + std::string(CompressionName(s.compression)) + " per block"
                         : "") +
                    ")";
  if (!s.columns.empty()) {
    out += "\n               columns:";
    for (const SinkColumn& c : s.columns) {
      out += " " + c.name + (c.from != c.name ? " <- " + c.from : "");
    }
  }
  return out;
}

// The source's input: the file, standard input, or every file of a list or glob.
std::string SourceText(const SourceSpec& src) {
  if (src.path == "-") return "standard input";
  if (src.paths.size() <= 1) return src.path;
  std::string out = std::to_string(src.paths.size()) + " files, in order:";
  for (const std::string& p : src.paths) out += "\n               " + p;
  return out;
}

// A transform step: its node type and what it runs or is configured with.
std::string StepText(const TransformSpec& t) {
  if (t.node == "javascript") {
    return "javascript " +
           (t.script_path.empty() ? "inline code in " + t.display_name : t.script_path);
  }
  std::string out = t.node;
  for (const auto& [key, value] : t.options) out += " " + key + "=" + value;
  return out;
}

// Escapes text for a DOT label.
std::string Dot(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string InspectPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                            InspectFormat format) {
  std::unique_ptr<SourceStage> source = factory.make_source(spec);
  source->Open();
  // The steps are built and opened as a run builds them: each step's input is the previous
  // step's output.
  std::vector<std::unique_ptr<TransformStage>> steps;
  std::vector<std::string> step_in, step_out;
  for (size_t k = 0; k < spec.transforms.size() && factory.make_transform; ++k) {
    const Schema& input = steps.empty() ? source->schema() : steps.back()->output_schema();
    step_in.push_back(SchemaText(input));
    steps.push_back(factory.make_transform(spec, k));
    steps.back()->Open(input);
    step_out.push_back(SchemaText(steps.back()->output_schema()));
  }
  const bool transform = !steps.empty();
  const Schema& in = source->schema();
  const MemoryPlan plan = PlanMemory(spec.limits, spec.transforms.size());
  const std::string in_schema = SchemaText(in);

  // The graph a run builds, built by the same code (core/graph), not run.
  GraphStages stages;
  stages.read = [&](Block& block) { return source->ReadBlock(block); };
  stages.parse = [&](Chunk& chunk) { source->Parse(chunk); };
  for (auto& step : steps) {
    TransformStage* t = step.get();
    stages.transforms.push_back([t](Chunk& chunk) { t->Transform(chunk); });
  }
  stages.format = [](Chunk&) {};
  stages.write = [](const Chunk&) {};
  GraphOptions graph_options;
  graph_options.threads = plan.threads;
  graph_options.tokens = plan.tokens;
  const GraphShape graph = CompileGraph(stages, graph_options);
  // What this pipeline puts in each node, by the node's name.
  const auto detail = [&](const GraphShape::Node& n) -> std::vector<std::string> {
    if (n.name == "read") {
      return {SourceText(spec.source) + " (" + std::string(spec.source.dialect.FormatName()) +
              (spec.source.header ? ", header" : ", no header") +
              "; gzip and zstd decompressed on a thread of their own)"};
    }
    if (n.name == "parse") return {"out: " + in_schema};
    for (size_t k = 0; k < steps.size(); ++k) {
      if (n.name == "transform[" + std::to_string(k) + "]") {
        return {StepText(spec.transforms[k]), "in:  " + step_in[k], "out: " + step_out[k]};
      }
    }
    if (n.detail.empty()) return {};
    return {n.detail};
  };
  const auto dot_id = [](const std::string& name) {
    std::string id;
    for (char c : name) {
      if (c != '[' && c != ']') id += c;
    }
    return id;
  };

  std::ostringstream s;
  if (format == InspectFormat::kDot) {
    s << "digraph \"" << Dot(spec.name) << "\" {\n  rankdir=LR;\n  node [shape=box];\n";
    for (const GraphShape::Node& n : graph.nodes) {
      s << "  " << dot_id(n.name) << " [label=\"" << Dot(n.name)
        << (n.concurrency.empty() ? "" : " (" + n.concurrency + ")");
      for (const std::string& line : detail(n)) s << "\\n" << Dot(line);
      s << "\"];\n";
    }
    for (const GraphShape::Edge& e : graph.edges) {
      s << "  " << dot_id(graph.nodes[e.from].name) << " -> " << dot_id(graph.nodes[e.to].name)
        << (e.label.empty() ? "" : " [style=dashed, label=\"" + e.label + "\"]") << ";\n";
    }
    s << "  sink [shape=cylinder, label=\"" << Dot(spec.sink.path) << "\"];\n  write -> sink;\n";
    for (size_t k = 0; k < spec.routes.size(); ++k) {
      s << "  route" << k << " [shape=cylinder, label=\"route " << Dot(spec.routes[k].name) << "\\n"
        << Dot(spec.routes[k].sink.path) << "\"];\n  write -> route" << k << ";\n";
    }
    if (spec.error_handling == ErrorHandling::kSkipRow) {
      s << "  dead [shape=cylinder, label=\"dead letters\\n"
        << Dot(spec.dead_letter.path) << "\"];\n  write -> dead;\n";
    }
    s << "}\n";
    return s.str();
  }
  s << "pipeline '" << spec.name << "'" << (spec.config_path.empty() ? "" : " (")
    << spec.config_path << (spec.config_path.empty() ? "" : ")") << "\n";
  s << "  threads " << plan.threads << ", blocks in flight " << plan.tokens << ", block size "
    << plan.block_size << " bytes, memory budget " << plan.budget << " bytes, largest record "
    << plan.max_record << " bytes, scan kernel " << BestKernel().name << "\n";
  s << "  memory: " << plan.tokens + 1 << " chunks of " << plan.chunk_bytes
    << " bytes (blocks, spans, transform output, formatted output)"
    << (transform ? ", " + std::to_string(plan.input_chunk_bytes) + " of them for the input" : "")
    << " + " << plan.block_size
    << " bytes of reader buffer; outside the budget: V8 heaps (scriptHeap "
    << spec.limits.script_heap << " bytes per thread per JavaScript step) and per-thread scratch\n";
  s << "  errorHandling "
    << (spec.error_handling == ErrorHandling::kSkipRow ? "skip-row" : "fail-fast") << "\n";
  s << "stages (the compiled graph, in order):\n";
  const auto pad = [](const std::string& text, size_t width) {
    return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
  };
  for (const GraphShape::Node& n : graph.nodes) {
    const std::vector<std::string> lines = detail(n);
    std::string line = "  " + pad(n.name, 11) + pad(n.concurrency, 10) +
                       (lines.empty() ? std::string() : lines[0]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s << line << "\n";
    for (size_t i = 1; i < lines.size(); ++i) s << std::string(23, ' ') << lines[i] << "\n";
  }
  s << "sinks:\n  main         " << SinkText(spec.sink) << "\n";
  for (const RouteSpec& r : spec.routes)
    s << "  route " << r.name << "  " << SinkText(r.sink) << "\n";
  if (spec.error_handling == ErrorHandling::kSkipRow) {
    s << "  dead letters " << spec.dead_letter.path << "\n";
  }
  return s.str();
}

}  // namespace flowengine
