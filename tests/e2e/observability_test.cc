// Operations through the real binary: JSON logs, the /metrics /healthz /readyz endpoints
// during a run (kept alive by a FIFO input the test feeds), promtool on the metrics, the
// Chrome trace, --sample, limits.timeout, and a memory budget that makes the reader wait
// while RSS stays flat.
#include <fcntl.h>
#include <httplib.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v)) return "";
  return std::string(v);
}

int64_t Int(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  if (e[key].get(v)) return -1;
  return v;
}

TEST(ObservabilityTest, JsonLogsCarryCategoryLevelAndLine) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "id,n\n1,a\n2,b,extra\n3,c\n");
  WriteFile(dir.File("t.js"),
            "function process(ctx) {\n"
            "  ctx.utils.log('info', 'row ' + ctx.input.current().id);\n  return true;\n}\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "sink: { path: out.csv }\nerrorHandling: skip-row\n"
                                "deadLetter: { path: bad.csv }\n");
  // stderr is a file here: JSON lines are the default.
  ProcessResult r = Flowengine({"run", p}, "", {"FLOWENGINE_LOG_FORMAT="});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.err);
  std::string line;
  std::set<std::string> categories;
  bool saw_script = false;
  bool saw_reject = false;
  bool saw_summary = false;
  while (std::getline(in, line)) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    ASSERT_FALSE(parser.parse(line).get(e)) << "not JSON: " << line;
    EXPECT_FALSE(Str(e, "time").empty()) << line;
    EXPECT_FALSE(Str(e, "level").empty()) << line;
    categories.insert(Str(e, "category"));
    if (Str(e, "category") == "script") {
      saw_script = true;
      EXPECT_EQ(Str(e, "level"), "info");
      EXPECT_GE(Int(e, "line"), 2) << line;
      EXPECT_EQ(Str(e, "file"), dir.File("in.csv"));
    }
    if (Str(e, "code") == "FE-INPUT-FIELD-COUNT") {
      saw_reject = true;
      EXPECT_EQ(Str(e, "level"), "warn");
      EXPECT_EQ(Str(e, "category"), "source");
      EXPECT_EQ(Int(e, "line"), 3);
      EXPECT_EQ(Int(e, "column"), 1);
      EXPECT_EQ(Str(e, "stage"), "parse");
      EXPECT_EQ(Str(e, "dead_letter"), dir.File("bad.csv"));
      EXPECT_EQ(Int(e, "dead_letter_row"), 1);  // links to line 2 of bad.csv
    }
    if (Int(e, "rows_read") >= 0) {
      saw_summary = true;
      EXPECT_EQ(Int(e, "rows_read"), 3);
      EXPECT_EQ(Int(e, "rows_rejected"), 1);
      EXPECT_EQ(Int(e, "rows_written"), 2);
    }
  }
  EXPECT_TRUE(saw_script && saw_reject && saw_summary) << r.err;
  EXPECT_TRUE(categories.count("engine")) << r.err;
  const std::string dead = ReadFile(dir.File("bad.csv"));
  EXPECT_EQ(dead.substr(dead.find('\n') + 1, 2), "3,") << dead;

  // A config error in JSON names file, line and column.
  WriteFile(dir.File("bad.yaml"),
            "source: { path: in.csv }\nsink: { path: o.csv, outputMod: x }\n");
  ProcessResult c = Flowengine({"run", dir.File("bad.yaml"), "--log-format", "json"});
  EXPECT_EQ(c.exit_code, 2);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_FALSE(parser.parse(c.err.substr(0, c.err.find('\n'))).get(e)) << c.err;
  EXPECT_EQ(Str(e, "category"), "config");
  EXPECT_EQ(Str(e, "level"), "error");
  EXPECT_EQ(Str(e, "code"), "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_EQ(Int(e, "line"), 2);
  EXPECT_GT(Int(e, "column"), 0);
  EXPECT_FALSE(Str(e, "hint").empty());
}

// Runs promtool check metrics on `text`; "" when clean, else its complaints.
std::string Promtool(const TempDir& dir, const std::string& text) {
  const std::string path = dir.File("metrics.txt");
  WriteFile(path, text);
  ProcessResult r =
      RunProcess({"/bin/sh", "-c", std::string(PROMTOOL_BIN) + " check metrics < " + path});
  return r.exit_code == 0 && r.err.empty()
             ? ""
             : r.out + r.err + " (exit " + std::to_string(r.exit_code) + ")";
}

TEST(ObservabilityTest, EndpointsAnswerDuringARunAndMetricsPassPromtool) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.File("in.csv").c_str(), 0600), 0);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "errorHandling: skip-row\ndeadLetter: { path: bad.csv }\n");
  const int pid = SpawnProcess({FLOWENGINE_BIN, "run", p, "--listen", "127.0.0.1:0",
                                "--metrics-file", dir.File("final.prom")},
                               dir.File("err.txt"), {"FLOWENGINE_LOG_FORMAT=json"});
  const int fd = ::open(dir.File("in.csv").c_str(), O_WRONLY);  // waits for the reader
  ASSERT_GE(fd, 0);
  // More than a block (1 MiB): the run reads its header, starts the graph and writes the
  // first blocks while the FIFO stays open.
  std::string rows = "id,name\n";
  constexpr int kRows = 200000;
  for (int i = 0; i < kRows; ++i) {
    rows += std::to_string(i) + ",xxxxxxxxxxxxxxxx\n";
    if (i == 10) rows += "bad,row,extra\n";
  }
  ASSERT_EQ(::write(fd, rows.data(), rows.size()), static_cast<ssize_t>(rows.size()));

  // The port is in the log line that announces the endpoint.
  int port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::smatch m;
    const std::string err = ReadFile(dir.File("err.txt"));
    static const std::regex re("\"port\":([0-9]+)");
    if (std::regex_search(err, m, re)) port = std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << ReadFile(dir.File("err.txt"));
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // Ready once startup checks passed and the graph runs (it waits on the FIFO now).
  int ready = 0;
  for (int i = 0; i < 500 && ready != 200; ++i) {
    auto r = client.Get("/readyz");
    ready = r ? r->status : 0;
    if (ready != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ready, 200);
  // The rows written so far show up while the run lasts.
  std::string live;
  for (int i = 0; i < 500; ++i) {
    auto m = client.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200);
    live = m->body;
    if (live.find("flowengine_rejects_total{code=\"FE-INPUT-FIELD-COUNT\"} 1") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::smatch parsed;
  ASSERT_TRUE(std::regex_search(
      live, parsed,
      std::regex("flowengine_rows_total\\{stage=\"parse\",outcome=\"ok\"\\} ([0-9]+)")))
      << live;
  EXPECT_GT(std::stoll(parsed[1]), 0) << live;
  EXPECT_NE(live.find("flowengine_rejects_total{code=\"FE-INPUT-FIELD-COUNT\"} 1"),
            std::string::npos)
      << live;
  EXPECT_NE(live.find("flowengine_ready 1"), std::string::npos) << live;
  EXPECT_NE(live.find("flowengine_block_seconds_bucket{stage=\"parse\",le=\"+Inf\"}"),
            std::string::npos)
      << live;
  if (std::string(PROMTOOL_BIN).empty()) {
    ::close(fd);
    WaitProcess(pid);
    FLOWENGINE_SKIP_OR_FAIL_IN_CI(
        "promtool not found (tools/setup.sh unpacks it into third_party/)");
  }
  EXPECT_EQ(Promtool(dir, live), "");

  ::close(fd);  // end of input: the run finishes
  EXPECT_EQ(WaitProcess(pid), 0) << ReadFile(dir.File("err.txt"));
  const std::string final_metrics = ReadFile(dir.File("final.prom"));
  EXPECT_NE(final_metrics.find("flowengine_run_success 1"), std::string::npos) << final_metrics;
  EXPECT_NE(final_metrics.find("flowengine_rows_total{stage=\"write\",outcome=\"written\"} " +
                               std::to_string(kRows)),
            std::string::npos)
      << final_metrics;
  EXPECT_EQ(Promtool(dir, final_metrics), "");
}

TEST(ObservabilityTest, TraceHasSlicesForEveryStage) {
  TempDir dir;
  Generate(dir.File("in.csv"), 20000);
  WriteFile(dir.File("t.js"), "function process(ctx) { return true; }\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "sink: { path: out.csv }\nlimits: { blockSize: 64KiB }\n");
  ProcessResult r = Flowengine({"run", p, "--trace", dir.File("trace.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element trace;
  ASSERT_FALSE(parser.load(dir.File("trace.json")).get(trace));
  simdjson::dom::array events;
  ASSERT_FALSE(trace["traceEvents"].get(events));
  std::map<std::string, std::set<uint64_t>> seqs;  // stage -> blocks seen
  for (simdjson::dom::element e : events) {
    if (Str(e, "ph") != "X") continue;
    double ts = -1;
    double dur = -1;
    EXPECT_FALSE(e["ts"].get(ts));
    EXPECT_FALSE(e["dur"].get(dur));
    EXPECT_GE(dur, 0);
    uint64_t seq = 0;
    uint64_t bytes = 0;
    EXPECT_FALSE(e["args"]["seq"].get(seq));
    EXPECT_FALSE(e["args"]["bytes"].get(bytes));
    EXPECT_FALSE(e["args"]["rows"].error());
    seqs[Str(e, "name")].insert(seq);
  }
  ASSERT_FALSE(seqs["read"].empty());
  const size_t blocks = seqs["read"].size();
  EXPECT_GT(blocks, 10u);
  for (const char* stage : {"parse", "transform", "format", "write"}) {
    EXPECT_EQ(seqs[stage].size(), blocks) << stage;
  }
}

TEST(ObservabilityTest, SampleShowsRowsLeavingEachStage) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "id,name\n1,ann\n2,bob\n3,cy\n4,dan\n");
  WriteFile(dir.File("t.js"),
            "function process(ctx) {\n"
            "  const row = ctx.input.current();\n"
            "  if (row.id === '2') return false;\n"
            "  ctx.output.setField('name', row.name.toUpperCase());\n"
            "  if (row.id === '3') ctx.route.send('odd');\n"
            "  return true;\n}\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "routes: { odd: { path: odd.csv } }\n"
                                "sink: { path: out.csv }\n");
  ProcessResult r = Flowengine({"run", p, "--sample", "3", "--sample-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("source.csv")), "_line,id,name\n2,1,ann\n3,2,bob\n4,3,cy\n");
  EXPECT_EQ(ReadFile(dir.File("transform.csv")),
            "_line,_to,id,name\n2,main,1,ANN\n4,odd,3,CY\n5,main,4,DAN\n");
  // Without --sample-dir the rows are logged.
  ProcessResult logged = Flowengine({"run", p, "--sample", "1", "--set", "sink.outputMode=replace",
                                     "--set", "routes.odd.outputMode=replace"});
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  EXPECT_NE(logged.err.find("flowengine: sample source (line 2): 1,ann"), std::string::npos)
      << logged.err;
  EXPECT_NE(logged.err.find("flowengine: sample transform (line 2, to main): 1,ANN"),
            std::string::npos)
      << logged.err;
}

TEST(ObservabilityTest, JobTimeoutStopsGracefullyWithExitOne) {
  TempDir dir;
  Generate(dir.File("in.csv"), 12000);
  WriteFile(dir.File("out.csv"), "previous\n");
  WriteFile(dir.File("t.js"),
            "function process(ctx) { const t = Date.now(); while (Date.now() - t < 5) {} "
            "return true; }\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "sink: { path: out.csv, outputMode: replace }\n"
                                "limits: { timeout: 1s, blockSize: 4KiB }\n");
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = Flowengine({"run", p, "--metrics-file", dir.File("m.prom")});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error FE-RESOURCE-TIMEOUT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("limits.timeout (1000 ms)"), std::string::npos) << r.err;
  // 12,000 rows x 5 ms would take 60 s (30 s on two threads); the bound leaves room for the
  // process's start and exit under ASan.
  EXPECT_LT(seconds, 15.0);
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "previous\n");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".flowengine-"), std::string::npos)
        << entry.path();
  }
  const std::string m = ReadFile(dir.File("m.prom"));
  EXPECT_NE(m.find("flowengine_job_timeout_seconds 1"), std::string::npos) << m;
  EXPECT_NE(m.find("flowengine_run_success 0"), std::string::npos) << m;
}

TEST(ObservabilityTest, JobTimeoutEndsAWaitForAFifoThatNeverGetsAWriter) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.File("in.csv").c_str(), 0600), 0);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "limits: { timeout: 500ms }\n");
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = Flowengine({"run", p});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error FE-RESOURCE-TIMEOUT"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 15.0);  // room for the process's start and exit under ASan
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(ObservabilityTest, SmallMemoryBudgetMakesTheReaderWaitWithFlatRss) {
  TempDir dir;
  Generate(dir.File("small.csv"), 100000);
  Generate(dir.File("large.csv"), 400000);
  double rss[2] = {0, 0};
  int i = 0;
  for (const char* input : {"small.csv", "large.csv"}) {
    std::string p = WritePipeline(dir, "p.yaml",
                                  std::string("source: { path: ") + input +
                                      " }\nsink: { path: out.tsv, format: tsv, outputMode: "
                                      "replace }\nlimits: { memory: 4MiB, threads: 2 }\n");
    ProcessResult r = Flowengine({"run", p, "--metrics-file", dir.File("m.prom")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("the reader waited for memory"), std::string::npos) << r.err;
    const std::string m = ReadFile(dir.File("m.prom"));
    std::smatch match;
    ASSERT_TRUE(std::regex_search(m, match, std::regex("flowengine_reader_waits_total ([0-9]+)")));
    EXPECT_GT(std::stoll(match[1]), 0) << m;
    ASSERT_TRUE(std::regex_search(m, match, std::regex("flowengine_peak_rss_bytes ([0-9.e+]+)")));
    rss[i++] = std::stod(match[1]);
  }
  // Four times the input, the same memory: the process does not grow (2 MiB of slack).
  EXPECT_GT(rss[0], 0);
  EXPECT_LT(rss[1], rss[0] + (2 << 20)) << "peak RSS " << rss[0] << " then " << rss[1];
}

TEST(ObservabilityTest, BadListenAddressIsAUsageError) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  std::string p = WritePipeline(dir, "p.yaml", "source: { path: in.csv }\nsink: { path: o.csv }\n");
  ProcessResult r = Flowengine({"run", p, "--listen", "127.0.0.1:99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error FE-OPS-LISTEN"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir.File("o.csv")));
}

TEST(ObservabilityTest, ProgressLineOnATerminalOnly) {
  TempDir dir;
  Generate(dir.File("in.csv"), 300000);
  WriteFile(dir.File("t.js"),
            "function process(ctx) { const t = Date.now(); while (Date.now() - t < 1) {} "
            "return true; }\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "sink: { path: out.csv }\nlimits: { timeout: 2s }\n");
  // script(1) gives the run a pseudo-terminal; the timeout ends it after a few redraws.
  ProcessResult tty =
      RunProcess({"/usr/bin/script", "-qec",
                  std::string(FLOWENGINE_BIN) + " run " + p + " --log-format text", "/dev/null"});
  EXPECT_NE(tty.out.find(" rows/s  ETA "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(" MB of "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("\r\033[K"), std::string::npos) << tty.out;  // redrawn, then erased
  // Not a terminal: no progress line.
  ProcessResult pipe = Flowengine({"run", p, "--set", "limits.timeout=500ms"});
  EXPECT_EQ(pipe.err.find("ETA"), std::string::npos) << pipe.err;
}

}  // namespace
}  // namespace flowengine::testing
