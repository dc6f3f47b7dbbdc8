// The public API (include/flowengine/flowengine.h) in process, through the shared library:
// concurrent runs, cancellation, observer events, and validation of pipelines built in code
// with the same codes and messages as YAML.
#include <flowengine/flowengine.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "scratch_dir_test.h"

namespace {

namespace fs = std::filesystem;

// A transform that spends a millisecond per row, so that a run lasts long enough to be
// observed or cancelled.
constexpr const char* kSlowStep =
    "transform:\n  - javascript:\n      code: |\n"
    "        function process(c) { const t = Date.now(); while (Date.now() - t < 1) {} "
    "return true; }\n";

class ApiTest : public flowengine::testing::ScratchDirTest {
 protected:
  void WriteRows(const std::string& name, int rows) const {
    std::string text = "id,name\n";
    for (int i = 1; i <= rows; ++i) text += std::to_string(i) + ",n" + std::to_string(i) + "\n";
    Write(name, text);
  }
};

TEST_F(ApiTest, ConcurrentRunsOfDifferentPipelinesEachGetTheirOwnOutputAndSummary) {
  WriteRows("a.csv", 50000);
  WriteRows("b.csv", 30000);
  flowengine::Engine engine;
  const flowengine::Pipeline upper = flowengine::Pipeline::FromYaml(
      "pipeline: upper\nsource: { path: a.csv }\n"
      "transform:\n  - javascript:\n      code: |\n"
      "        function process(c) { c.output.setField('name', c.input.getValue('name')"
      ".toUpperCase()); return true; }\n"
      "sink: { path: a-out.csv, outputMode: replace }\n",
      dir_.string());
  const flowengine::Pipeline tsv = flowengine::Pipeline::FromYaml(
      "pipeline: tsv\nsource: { path: b.csv }\nsink: { path: b-out.tsv, format: tsv }\n",
      dir_.string());
  flowengine::RunResult ra, rb;
  std::thread ta([&] { ra = engine.Run(upper); });
  std::thread tb([&] { rb = engine.Run(tsv); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok) << ra.error->ToString();
  ASSERT_TRUE(rb.ok) << rb.error->ToString();
  EXPECT_EQ(ra.rows_written, 50000u);
  EXPECT_EQ(rb.rows_written, 30000u);
  EXPECT_NE(ra.summary_json.find("\"pipeline\":\"upper\""), std::string::npos);
  EXPECT_NE(rb.summary_json.find("\"pipeline\":\"tsv\""), std::string::npos);
  const std::string a = Read("a-out.csv");
  EXPECT_EQ(a.substr(0, 20), "id,name\n1,N1\n2,N2\n3,");
  std::string expected_b = "id\tname\n";
  for (int i = 1; i <= 30000; ++i)
    expected_b += std::to_string(i) + "\tn" + std::to_string(i) + "\n";
  EXPECT_EQ(Read("b-out.tsv"), expected_b);
}

class CountingObserver : public flowengine::RunObserver {
 public:
  void OnProgress(const flowengine::Progress& p) override {
    ++progress;
    last_rows = p.rows_read;
  }
  void OnFinished(const flowengine::RunResult& r) override {
    ++finished;
    finished_ok = r.ok;
  }
  std::atomic<int> progress{0};
  std::atomic<int> finished{0};
  std::atomic<uint64_t> last_rows{0};
  bool finished_ok = false;
};

TEST_F(ApiTest, CancellationStopsTheRunAndLeavesTheTargetUntouched) {
  WriteRows("in.csv", 20000);
  Write("out.csv", "previous\n");
  flowengine::Engine engine;
  // A slow script, so that the run is still going when it is cancelled.
  const flowengine::Pipeline p = flowengine::Pipeline::FromYaml(
      std::string("source: { path: in.csv }\n") + kSlowStep +
          "sink: { path: out.csv, outputMode: replace }\nlimits: { threads: 1 }\n",
      dir_.string());
  flowengine::CancellationToken token;
  CountingObserver observer;
  flowengine::RunResult r;
  std::thread run([&] { r = engine.Run(p, &token, &observer); });
  while (observer.last_rows.load() == 0 && observer.finished.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  token.Cancel();
  run.join();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.cancelled);
  EXPECT_GE(observer.progress.load(), 1);
  EXPECT_EQ(observer.finished.load(), 1);
  EXPECT_FALSE(observer.finished_ok);
  EXPECT_EQ(Read("out.csv"), "previous\n");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().rfind(".out.csv", 0), std::string::npos)
        << "temp or lock file left: " << entry.path();
  }
}

TEST_F(ApiTest, ObserverSeesProgressAndOneFinish) {
  WriteRows("in.csv", 3000);
  flowengine::Engine engine;
  const flowengine::Pipeline p =
      flowengine::Pipeline::FromYaml(std::string("source: { path: in.csv }\n") + kSlowStep +
                                         "sink: { path: out.csv }\nlimits: { threads: 1 }\n",
                                     dir_.string());
  CountingObserver observer;
  const flowengine::RunResult r = engine.Run(p, nullptr, &observer);
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_GE(observer.progress.load(), 2);  // ~3 s of work, reported every 250 ms
  EXPECT_EQ(observer.finished.load(), 1);
  EXPECT_TRUE(observer.finished_ok);
}

// Every mistake gives the same code and message built in code as written in YAML.
TEST_F(ApiTest, PipelinesBuiltInCodeAreValidatedLikeYaml) {
  WriteRows("in.csv", 3);
  struct Case {
    std::string yaml;
    std::vector<std::pair<std::string, std::string>> keys;
  };
  const std::vector<Case> cases = {
      {"source: { path: in.csv }\nsink: { path: o.csv, format: xml }\n",
       {{"source.path", "in.csv"}, {"sink.path", "o.csv"}, {"sink.format", "xml"}}},
      {"source: { path: in.csv }\nsink: { path: o.csv, pth: x }\n",
       {{"source.path", "in.csv"}, {"sink.path", "o.csv"}, {"sink.pth", "x"}}},
      {"source: { path: in.csv }\n", {{"source.path", "in.csv"}}},
      {"source: { path: in.csv }\nsink: { path: o.csv }\nlimits: { threads: lots }\n",
       {{"source.path", "in.csv"}, {"sink.path", "o.csv"}, {"limits.threads", "lots"}}},
      {"source: { path: in.csv, columns: [{ name: nope, type: int32 }] }\nsink: { path: o.csv }\n",
       {{"source.path", "in.csv"},
        {"source.columns[0].name", "nope"},
        {"source.columns[0].type", "int32"},
        {"sink.path", "o.csv"}}},
  };
  for (const Case& c : cases) {
    flowengine::ErrorInfo from_yaml, from_code;
    try {
      flowengine::Pipeline::FromYaml(c.yaml, dir_.string()).Validate();
      ADD_FAILURE() << "YAML accepted: " << c.yaml;
    } catch (const flowengine::PipelineError& e) {
      from_yaml = e.info();
    }
    try {
      flowengine::Pipeline::Builder b(dir_.string());
      for (const auto& [k, v] : c.keys) b.Set(k, v);
      b.Build().Validate();
      ADD_FAILURE() << "built pipeline accepted: " << c.yaml;
    } catch (const flowengine::PipelineError& e) {
      from_code = e.info();
    }
    EXPECT_EQ(from_code.code, from_yaml.code) << c.yaml;
    EXPECT_EQ(from_code.message, from_yaml.message) << c.yaml;
    EXPECT_EQ(from_code.error_class, "config");
  }
  // And a good one runs.
  flowengine::Engine engine;
  const flowengine::RunResult r = engine.Run(flowengine::Pipeline::Builder(dir_.string())
                                                 .Set("source.path", "in.csv")
                                                 .Set("sink.path", "o.csv")
                                                 .Build());
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(Read("o.csv"), "id,name\n1,n1\n2,n2\n3,n3\n");
}

TEST_F(ApiTest, FilesNameEveryPathTheRunTouches) {
  WriteRows("in.csv", 3);
  Write("s.js", "function process(c) { return true; }\n");
  const flowengine::Pipeline p = flowengine::Pipeline::FromYaml(
      "pipeline: files\nsource: { path: in.csv }\n"
      "transform:\n  - javascript: { file: s.js }\n"
      "sink: { path: out.csv }\nerrorHandling: skip-row\ndeadLetter: { path: dl.csv }\n"
      "limits: { memory: 64MiB }\n",
      dir_.string());
  std::map<std::string, std::pair<std::string, std::pair<bool, bool>>> files;
  for (const flowengine::Pipeline::File& f : p.Files()) {
    files[f.key] = {f.path, {f.output, f.data}};
  }
  EXPECT_EQ(files["source.path"], std::make_pair(Path("in.csv"), std::make_pair(false, true)));
  EXPECT_EQ(files["sink.path"], std::make_pair(Path("out.csv"), std::make_pair(true, true)));
  EXPECT_EQ(files["deadLetter.path"], std::make_pair(Path("dl.csv"), std::make_pair(true, true)));
  EXPECT_EQ(files["transform[0].javascript.file"],
            std::make_pair(Path("s.js"), std::make_pair(false, false)));
  EXPECT_FALSE(p.uses_standard_streams());
  EXPECT_EQ(p.memory_budget(), 64 << 20);
  EXPECT_EQ(p.script_heap(), int64_t{128} << 20);  // the default, with a JavaScript step
  EXPECT_EQ(p.threads(), 0);
  const flowengine::Pipeline piped = flowengine::Pipeline::FromYaml(
      "pipeline: piped\nsource: { path: in.csv }\nsink: { path: '-' }\n", dir_.string());
  EXPECT_TRUE(piped.uses_standard_streams());
  EXPECT_EQ(piped.script_heap(), 0);  // no JavaScript step
  for (const flowengine::Pipeline::File& f : piped.Files()) EXPECT_NE(f.key, "sink.path");
}

TEST_F(ApiTest, ThreadCapAndWarmIsolatesWithoutStateBetweenRuns) {
  WriteRows("in.csv", 2000);
  const flowengine::Pipeline p = flowengine::Pipeline::FromYaml(
      "pipeline: warm\nsource: { path: in.csv }\n"
      "transform:\n  - javascript:\n      code: |\n"
      "        globalThis.loads = (globalThis.loads || 0) + 1;\n"
      "        function process(c) { c.output.setField('name', String(globalThis.loads)); "
      "return true; }\n"
      "sink: { path: out.csv, outputMode: replace }\nlimits: { threads: 0 }\n",
      dir_.string());
  const flowengine::Engine::IsolateStats before = flowengine::Engine::Isolates();
  {
    flowengine::EngineOptions options;
    options.threads = 1;
    options.warm_isolates = 2;
    flowengine::Engine engine(options);
    for (int i = 0; i < 3; ++i) {
      const flowengine::RunResult r = engine.Run(p);
      ASSERT_TRUE(r.ok) << r.error->ToString();
      EXPECT_EQ(r.threads, 1);  // limits.threads 0 (all cores) capped by the engine
      std::string expected = "id,name\n";
      for (int row = 1; row <= 2000; ++row) expected += std::to_string(row) + ",1\n";
      EXPECT_EQ(Read("out.csv"), expected) << "run " << i;  // the top level ran once
    }
    // The last run's isolate becomes idle once the janitor has collected its garbage.
    for (int i = 0; i < 500 && flowengine::Engine::Isolates().idle == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const flowengine::Engine::IsolateStats after = flowengine::Engine::Isolates();
    EXPECT_EQ(after.created - before.created, 1u);
    EXPECT_EQ(after.reused - before.reused, 2u);
    EXPECT_EQ(after.idle, 1u);
  }
  EXPECT_EQ(flowengine::Engine::Isolates().idle, 0u);  // released with the engine
}

TEST_F(ApiTest, SchemaAndVersion) {
  EXPECT_NE(flowengine::Pipeline::JsonSchema().find("draft/2020-12"), std::string::npos);
  EXPECT_EQ(flowengine::Engine::Version(), FLOWENGINE_VERSION);
}

}  // namespace

namespace {

// Collects a run's log records.
class LogCollector : public flowengine::RunObserver {
 public:
  void OnLog(const flowengine::LogRecord& r) override {
    EXPECT_FALSE(busy_.exchange(true)) << "OnLog called concurrently";
    records.push_back(r);
    busy_ = false;
  }
  std::vector<flowengine::LogRecord> records;

 private:
  std::atomic<bool> busy_{false};
};

}  // namespace

TEST_F(ApiTest, ConcurrentRunsKeepSeparateLogs) {
  WriteRows("a.csv", 20000);
  WriteRows("b.csv", 20000);
  std::mutex sink_mutex;
  std::vector<flowengine::LogRecord> sunk;
  flowengine::EngineOptions eo;
  eo.log_level = "info";
  eo.log_sink = [&](const flowengine::LogRecord& r) {
    std::lock_guard<std::mutex> lock(sink_mutex);
    sunk.push_back(r);
  };
  flowengine::Engine engine(eo);
  const auto pipeline = [&](const std::string& name) {
    // Every 1000th row logs from the script, every 5000th fails (skip-row: a warning).
    return flowengine::Pipeline::FromYaml(
        "pipeline: " + name + "\nsource: { path: " + name + ".csv }\n" +
            "transform:\n  - javascript:\n      code: |\n"
            "        function process(c) { const id = +c.input.getValue('id');\n"
            "          if (id % 1000 === 0) console.log('" +
            name +
            " row ' + id);\n"
            "          if (id % 5000 === 0) throw new Error('" +
            name +
            " bad ' + id);\n"
            "          return true; }\n"
            "sink: { path: " +
            name +
            "-out.csv, outputMode: replace }\n"
            "errorHandling: skip-row\ndeadLetter: { path: " +
            name +
            "-dead.csv }\n"
            "limits: { threads: 2, blockSize: 64KiB }\n",
        dir_.string());
  };
  const flowengine::Pipeline a = pipeline("a");
  const flowengine::Pipeline b = pipeline("b");
  LogCollector la, lb;
  flowengine::RunResult ra, rb;
  std::thread ta([&] { ra = engine.Run(a, nullptr, &la); });
  std::thread tb([&] { rb = engine.Run(b, nullptr, &lb); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok) << ra.error->ToString();
  ASSERT_TRUE(rb.ok) << rb.error->ToString();
  for (const auto& [collector, name] :
       {std::pair{&la, std::string("a")}, std::pair{&lb, std::string("b")}}) {
    int script_lines = 0, rejects = 0, outcome = 0;
    for (const flowengine::LogRecord& r : collector->records) {
      EXPECT_EQ(r.pipeline, name);
      const std::string other = name == "a" ? "b " : "a ";
      EXPECT_EQ(r.message.find(other + "row"), std::string::npos) << r.message;
      EXPECT_EQ(r.message.find(other + "bad"), std::string::npos) << r.message;
      if (r.category == "script") ++script_lines;
      if (r.error && r.error->code == "FE-SCRIPT-ERROR") ++rejects;
      if (r.message.find("run '" + name + "' ok") != std::string::npos) ++outcome;
    }
    // 20 logged rows, minus the 4 that throw after logging... they log first, then throw.
    EXPECT_EQ(script_lines, 20) << name;
    EXPECT_EQ(rejects, 4) << name;
    EXPECT_EQ(outcome, 1) << name;
  }
  // The engine's sink got both runs' lines, and nothing else.
  EXPECT_EQ(sunk.size(), la.records.size() + lb.records.size());
}

TEST_F(ApiTest, RunReportsWriteTheRunsFilesLikeTheCli) {
  WriteRows("in.csv", 1000);
  fs::create_directories(dir_ / "samples");
  flowengine::Engine engine;
  const flowengine::Pipeline p = flowengine::Pipeline::FromYaml(
      "pipeline: reports\nsource: { path: in.csv }\n"
      "transform:\n  - javascript: { code: 'function process(c) { return true; }' }\n"
      "sink: { path: out.csv, outputMode: replace }\n",
      dir_.string());
  flowengine::RunReports reports;
  reports.summary_file = Path("summary.json");
  reports.metrics_file = Path("metrics.prom");
  reports.trace_file = Path("trace.json");
  reports.sample_rows = 3;
  reports.sample_dir = Path("samples");
  reports.metrics_listen = "127.0.0.1:0";
  const flowengine::RunResult r = engine.Run(p, nullptr, nullptr, reports);
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(Read("summary.json"), r.summary_json);
  EXPECT_NE(Read("metrics.prom").find("flowengine_rows_total{"), std::string::npos);
  EXPECT_NE(Read("trace.json").find("traceEvents"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "samples" / "source.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "samples" / "transform.csv"));
  EXPECT_EQ(r.targets_replaced, 1u);

  // A report file that is the input: refused before anything runs, the input untouched.
  const std::string before = Read("in.csv");
  flowengine::RunReports alias;
  alias.summary_file = Path("in.csv");
  const flowengine::RunResult a = engine.Run(p, nullptr, nullptr, alias);
  ASSERT_FALSE(a.ok);
  EXPECT_EQ(a.error->code, "FE-CONFIG-ALIAS");
  EXPECT_EQ(Read("in.csv"), before);
  // A port that cannot be bound, and a sample directory that is not one: errors, no run.
  flowengine::RunReports bad;
  bad.metrics_listen = "256.0.0.1:1";
  EXPECT_FALSE(engine.Run(p, nullptr, nullptr, bad).ok);
  flowengine::RunReports nodir;
  nodir.sample_rows = 1;
  nodir.sample_dir = Path("missing");
  const flowengine::RunResult n = engine.Run(p, nullptr, nullptr, nodir);
  ASSERT_FALSE(n.ok);
  EXPECT_EQ(n.error->code, "FE-CONFIG-VALUE");
}

namespace {

// When each run started and ended (its first progress report, its finish).
class Span : public flowengine::RunObserver {
 public:
  void OnProgress(const flowengine::Progress&) override {
    if (!started) started = std::chrono::steady_clock::now();
  }
  void OnFinished(const flowengine::RunResult&) override {
    ended = std::chrono::steady_clock::now();
  }
  std::optional<std::chrono::steady_clock::time_point> started;
  std::chrono::steady_clock::time_point ended;
};

}  // namespace

TEST_F(ApiTest, EngineMemoryBudgetAdmitsRunsInTurn) {
  WriteRows("in.csv", 600);
  flowengine::EngineOptions eo;
  eo.memory_budget = 64ll << 20;  // two runs of 32 MiB at once
  flowengine::Engine engine(eo);
  const auto pipeline = [&](int i) {
    return flowengine::Pipeline::FromYaml(
        "source: { path: in.csv }\n" + std::string(kSlowStep) + "sink: { path: out" +
            std::to_string(i) + ".csv, outputMode: replace }\n" +
            "limits: { threads: 1, memory: 16MiB, scriptHeap: 16MiB }\n",
        dir_.string());
  };
  std::vector<flowengine::Pipeline> pipelines;
  for (int i = 0; i < 4; ++i) pipelines.push_back(pipeline(i));
  Span spans[4];
  flowengine::RunResult results[4];
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = engine.Run(pipelines[i], nullptr, &spans[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(results[i].ok) << results[i].error->ToString();
    ASSERT_TRUE(spans[i].started.has_value());
  }
  // At no moment were more than two runs between their first progress and their end.
  for (int i = 0; i < 4; ++i) {
    int running = 0;
    for (int j = 0; j < 4; ++j) {
      if (*spans[j].started <= *spans[i].started && *spans[i].started < spans[j].ended) ++running;
    }
    EXPECT_LE(running, 2) << "run " << i;
  }
  // Larger than the whole budget: refused at once.
  const flowengine::RunResult big = engine.Run(flowengine::Pipeline::FromYaml(
      "source: { path: in.csv }\nsink: { path: big.csv }\nlimits: { memory: 128MiB }\n",
      dir_.string()));
  ASSERT_FALSE(big.ok);
  EXPECT_EQ(big.error->code, "FE-RESOURCE-MEMORY");
  // A run cancelled while it waits stops waiting.
  flowengine::CancellationToken cancel;
  std::thread holder([&] { engine.Run(pipelines[0]); });
  std::thread holder2([&] { engine.Run(pipelines[1]); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  flowengine::RunResult waited;
  std::thread waiter([&] { waited = engine.Run(pipelines[2], &cancel); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  cancel.Cancel();
  waiter.join();
  holder.join();
  holder2.join();
  EXPECT_TRUE(waited.cancelled);
  EXPECT_FALSE(waited.ok);
}
