// embed_example: runs FlowEngine pipelines inside an application, through the installed
// package (find_package(FlowEngine) or pkg-config flowengine).
//   embed_example PIPELINE.yaml       runs the pipeline file, prints its summary JSON
//   embed_example --built-in DIR      builds a pipeline in code (CSV in DIR/in.csv, a
//                                      JavaScript step, DIR/out.csv) and runs it twice at
//                                      once, the second one cancelled
// Exit status: 0 when every run did what was expected.
#include <flowengine/flowengine.h>

#include <fstream>
#include <iostream>
#include <thread>

namespace {

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
  flowengine::Pipeline first = build("out.csv");
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
  return a.ok && a.rows_written == 200000 && b.cancelled && cancelled_file_absent &&
                 code_in_code == "FE-CONFIG-VALUE" && code_in_code == code_in_yaml
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--built-in") return RunBuiltIn(argv[2]);
  if (argc == 2) return RunFile(argv[1]);
  std::cerr << "usage: embed_example PIPELINE.yaml | --built-in DIR\n";
  return 2;
}
