// embed_example: runs FlowEngine pipelines inside an application, through the installed
// package (find_package(FlowEngine) or pkg-config flowengine). It registers a transform node
// of its own, `mask` (keeps the first `keep` characters of `column`, the rest become '*'),
// usable as a step of any pipeline it runs.
//   embed_example PIPELINE.yaml       runs the pipeline file, prints its summary JSON
//   embed_example --built-in DIR      runs a YAML pipeline (DIR/in.csv, a JavaScript step,
//                                      then the `mask` step, DIR/out.csv) and checks its
//                                      output, while a pipeline built in code runs at the same
//                                      time and is cancelled
// Exit status: 0 when every run did what was expected.
#include <flowengine/flowengine.h>
#include <flowengine/node.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

// The application's own node. Process() is const and keeps its state on the stack: the
// engine calls it from several threads at once.
class Mask : public flowengine::TransformNode {
 public:
  Mask(size_t column, int64_t keep) : column_(column), keep_(keep) {}
  bool Process(flowengine::Row& row) const override {
    const std::string_view value = row.Get(column_);
    std::string out;
    int64_t chars = 0;
    for (size_t i = 0; i < value.size(); ++i) {
      const auto byte = static_cast<unsigned char>(value[i]);
      const bool starts_char = (byte & 0xC0) != 0x80;
      if (starts_char) ++chars;
      if (chars <= keep_) {
        out += value[i];
      } else if (starts_char) {
        out += '*';
      }
    }
    row.Set(column_, out);
    return true;
  }

 private:
  size_t column_;
  int64_t keep_;
};

void RegisterMask() {
  flowengine::RegisterTransformNode(
      {"mask",
       "keeps the first `keep` characters of a column, the rest become '*'",
       {{"column", flowengine::NodeOption::kString, true, "", "the column to mask"},
        {"keep", flowengine::NodeOption::kInteger, false, "1", "characters kept"}},
       [](flowengine::NodeSetup& setup) -> std::unique_ptr<flowengine::TransformNode> {
         const int64_t keep = setup.IntegerOption("keep");
         if (keep < 0) throw std::invalid_argument("keep must be 0 or more");
         return std::make_unique<Mask>(setup.InputColumn(setup.Option("column")), keep);
       }});
}

class PrintProgress : public flowengine::RunObserver {
 public:
  void OnProgress(const flowengine::Progress& p) override {
    ++progress_calls;
    (void)p;
  }
  void OnFinished(const flowengine::RunResult& r) override {
    std::cerr << "finished: " << r.rows_read << " rows read, " << r.rows_written << " written\n";
  }
  int progress_calls = 0;
};

int RunFile(const std::string& path) {
  flowengine::Engine engine;
  try {
    flowengine::Pipeline pipeline = flowengine::Pipeline::FromFile(path);
    pipeline.Validate();
    PrintProgress observer;
    const flowengine::RunResult r = engine.Run(pipeline, nullptr, &observer);
    if (!r.ok) {
      std::cerr << r.error->ToString() << "\n";
      return 1;
    }
    std::cout << r.summary_json << "\n";
    return 0;
  } catch (const flowengine::PipelineError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}

int RunBuiltIn(const std::string& dir) {
  {
    std::ofstream in(dir + "/in.csv");
    in << "id,first_name,last_name\n";
    for (int i = 1; i <= 200000; ++i) in << i << ",Ann" << i << ",Lee\n";
  }
  flowengine::Engine engine;
  const auto build = [&](const std::string& out) {
    return flowengine::Pipeline::Builder(dir)
        .Set("pipeline", "embedded")
        .Set("source.path", "in.csv")
        .Set("source.columns[0].name", "id")
        .Set("source.columns[0].type", "int64")
        .Set("transform[0].javascript.code",
             "function process(c) { const r = c.input.current();"
             " c.output.setField('name', r.first_name + ' ' + r.last_name); return true; }")
        .Set("transform[0].javascript.output[0]", "id")
        .Set("transform[0].javascript.output[1]", "name")
        .Set("sink.path", out)
        .Set("sink.outputMode", "replace")
        .Build();
  };
  // The YAML pipeline: a JavaScript step, then the application's C++ node.
  flowengine::Pipeline first = flowengine::Pipeline::FromYaml(R"(
pipeline: embedded
source: { path: in.csv, columns: [ { name: id, type: int64 } ] }
transform:
  - javascript:
      code: |
        function process(c) {
          const r = c.input.current();
          c.output.setField('name', r.first_name + ' ' + r.last_name);
          return true;
        }
      output: [id, name]
  - mask: { column: name, keep: 3 }
sink: { path: out.csv, outputMode: replace }
)",
                                                              dir);
  flowengine::Pipeline second = build("cancelled.csv");
  flowengine::CancellationToken cancel;
  flowengine::RunResult a, b;
  std::thread t([&] { b = engine.Run(second, &cancel); });
  cancel.Cancel();
  a = engine.Run(first);
  t.join();
  std::cout << "first: ok=" << a.ok << " rows=" << a.rows_written
            << "; second: cancelled=" << b.cancelled << "\n";
  const bool cancelled_file_absent = !std::ifstream(dir + "/cancelled.csv").good();
  std::string header, line1;
  {
    std::ifstream out(dir + "/out.csv");
    std::getline(out, header);
    std::getline(out, line1);
  }
  std::cout << "out.csv: " << header << " / " << line1 << "\n";
  const bool masked = header == "id,name" && line1 == "1,Ann*****";
  // The same mistake built in code and written as YAML gives the same code.
  std::string code_in_code, code_in_yaml;
  try {
    flowengine::Pipeline::Builder(dir)
        .Set("source.path", "in.csv")
        .Set("sink.path", "x.csv")
        .Set("sink.format", "xml")
        .Build();
  } catch (const flowengine::PipelineError& e) {
    code_in_code = e.info().code;
  }
  try {
    flowengine::Pipeline::FromYaml("source: { path: in.csv }\nsink: { path: x.csv, format: xml }\n",
                                   dir);
  } catch (const flowengine::PipelineError& e) {
    code_in_yaml = e.info().code;
  }
  std::cout << "bad format: " << code_in_code << " / " << code_in_yaml << "\n";
  return a.ok && a.rows_written == 200000 && masked && b.cancelled && cancelled_file_absent &&
                 code_in_code == "FE-CONFIG-VALUE" && code_in_code == code_in_yaml
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  RegisterMask();
  if (argc == 3 && std::string(argv[1]) == "--built-in") return RunBuiltIn(argv[2]);
  if (argc == 2) return RunFile(argv[1]);
  std::cerr << "usage: embed_example PIPELINE.yaml | --built-in DIR\n";
  return 2;
}
