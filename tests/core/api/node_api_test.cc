// Transform steps through the public API (include/flowengine/node.h): C++ nodes an
// application registers, chained after JavaScript steps; their options checked like any key;
// their failures located and set aside like a script's. The oracle for chaining: N steps give
// the same output as one step doing the same work, with 1 and 2 threads and with blocks small
// enough that every run crosses many block boundaries.
#include <flowengine/flowengine.h>
#include <flowengine/node.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "scratch_dir_test.h"

namespace {

namespace fs = std::filesystem;

// Appends `suffix` to `column`; drops rows whose `drop_column` equals `drop_value`; throws
// for rows whose `column` equals "boom"; sets `bad` output values on request.
class Suffix : public flowengine::TransformNode {
 public:
  Suffix(size_t in, size_t out, std::string suffix, std::string set_raw)
      : in_(in), out_(out), suffix_(std::move(suffix)), set_raw_(std::move(set_raw)) {}
  bool Process(flowengine::Row& row) const override {
    const std::string_view v = row.Get(in_);
    if (v == "boom") throw std::runtime_error("cannot suffix 'boom'");
    if (v == "int") throw 42;  // not a std::exception
    if (v == "line") {
      row.Set(out_, std::to_string(row.line()));
      return true;
    }
    if (v == "huge") {
      row.Set(out_, std::string(8 << 20, 'h'));  // more than limits.memory allows
      return true;
    }
    if (v == "drop") return false;
    calls.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(threads_mutex);
      threads.insert(std::this_thread::get_id());
    }
    if (!set_raw_.empty() && v == "raw") {
      // "cut": half of a two-byte character, which is not UTF-8.
      row.Set(out_, set_raw_ == "cut" ? std::string(1, '\xc3') : set_raw_);
      return true;
    }
    row.Set(out_, std::string(v) + suffix_);
    return true;
  }
  static std::atomic<uint64_t> calls;
  static std::mutex threads_mutex;
  static std::set<std::thread::id> threads;

 private:
  size_t in_, out_;
  std::string suffix_, set_raw_;
};
std::atomic<uint64_t> Suffix::calls{0};
std::mutex Suffix::threads_mutex;
std::set<std::thread::id> Suffix::threads;

// Copies column `from` into `to` after setting a 4 KiB value: the values set must not move the
// input text that Get() views point into (after a fold, both live in the chunk's arena).
class GrowAndCopy : public flowengine::TransformNode {
 public:
  GrowAndCopy(size_t pad, size_t from, size_t to) : pad_(pad), from_(from), to_(to) {}
  bool Process(flowengine::Row& row) const override {
    const std::string_view before = row.Get(from_);
    row.Set(pad_, std::string(4096, 'p'));
    row.Set(to_, row.Get(from_));
    if (row.Get(from_) != before) throw std::runtime_error("the input moved");
    return true;
  }

 private:
  size_t pad_, from_, to_;
};

static_assert(!std::is_copy_constructible_v<flowengine::Row>, "a Row lives for one call");

void RegisterOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    flowengine::RegisterTransformNode(
        {"grow_and_copy",
         "sets a 4 KiB pad column, then copies name into copy",
         {},
         [](flowengine::NodeSetup& setup) -> std::unique_ptr<flowengine::TransformNode> {
           setup.output_columns().push_back("pad");
           setup.output_columns().push_back("copy");
           return std::make_unique<GrowAndCopy>(
               setup.OutputColumn("pad"), setup.InputColumn("name"), setup.OutputColumn("copy"));
         }});
    flowengine::RegisterTransformNode(
        {"suffix",
         "appends a suffix to a column",
         {{"column", flowengine::NodeOption::kString, true, "", "input column"},
          {"into", flowengine::NodeOption::kString, false, "", "output column (default: column)"},
          {"suffix", flowengine::NodeOption::kString, false, "!", "text appended"},
          {"raw", flowengine::NodeOption::kString, false, "", "value set for rows 'raw'"},
          {"repeat", flowengine::NodeOption::kInteger, false, "1", "times the suffix is added"}},
         [](flowengine::NodeSetup& setup) -> std::unique_ptr<flowengine::TransformNode> {
           if (setup.Option("column") == "throw-int") throw 7;
           const size_t in = setup.InputColumn(setup.Option("column"));
           const std::string into =
               setup.Option("into").empty() ? setup.Option("column") : setup.Option("into");
           bool present = false;
           for (const std::string& c : setup.output_columns()) present = present || c == into;
           if (!present) setup.output_columns().push_back(into);
           const int64_t repeat = setup.IntegerOption("repeat");
           if (repeat < 1) throw std::invalid_argument("repeat must be at least 1");
           std::string suffix;
           for (int64_t i = 0; i < repeat; ++i) suffix += setup.Option("suffix");
           return std::make_unique<Suffix>(in, setup.OutputColumn(into), suffix,
                                           setup.Option("raw"));
         }});
  });
}

class NodeApiTest : public flowengine::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    RegisterOnce();
    ScratchDirTest::SetUp();
  }
  flowengine::RunResult Run(const std::string& yaml) {
    flowengine::Engine engine;
    return engine.Run(flowengine::Pipeline::FromYaml(yaml, dir_.string()));
  }
  flowengine::ErrorInfo LoadError(const std::string& yaml) {
    try {
      flowengine::Pipeline::FromYaml(yaml, dir_.string()).Validate();
    } catch (const flowengine::PipelineError& e) {
      return e.info();
    }
    ADD_FAILURE() << "accepted: " << yaml;
    return {};
  }
};

// Hostile values: delimiters, quotes, line breaks, multi-byte and astral characters, empty.
std::string HostileInput(int rows) {
  const char* names[] = {
      "plain",     "\"a,b\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"", "Dé", "𝄞x", "", "\"\"",
      "tab\there", "x|y"};
  std::string text = "id,name,city\n";
  for (int i = 1; i <= rows; ++i) {
    text += std::to_string(i) + "," + names[i % 10] + ",c" + std::to_string(i % 7) + "\n";
  }
  return text;
}

TEST_F(NodeApiTest, JavascriptThenCppStepEqualsOneScriptDoingBoth) {
  Write("in.csv", HostileInput(30000));
  Write("first.js",
        "function process(c) { const r = c.input.current(); if (r.id % 11 === 0) return false;\n"
        "  c.output.setField('full', r.name + ',' + r.city + '\"'); return true; }\n");
  Write("both.js",
        "function process(c) { const r = c.input.current(); if (r.id % 11 === 0) return false;\n"
        "  c.output.setField('full', r.name + ',' + r.city + '\"' + '!!'); return true; }\n");
  for (const char* threads : {"1", "2"}) {
    for (const char* block : {"64KiB", "1MiB"}) {
      const std::string limits =
          std::string("limits: { threads: ") + threads + ", blockSize: " + block + " }\n";
      const std::string source =
          "source: { path: in.csv, columns: [ { name: id, type: int64 } ] }\n";
      const flowengine::RunResult two =
          Run(source +
              "transform:\n  - javascript: { file: first.js, output: [id, name, full] }\n"
              "  - suffix: { column: full, repeat: 2 }\n"
              "sink: { path: two.csv, outputMode: replace }\n" +
              limits);
      ASSERT_TRUE(two.ok) << two.error->ToString();
      const flowengine::RunResult one =
          Run(source +
              "transform:\n  - javascript: { file: both.js, output: [id, name, full] }\n"
              "sink: { path: one.csv, outputMode: replace }\n" +
              limits);
      ASSERT_TRUE(one.ok) << one.error->ToString();
      EXPECT_EQ(Read("two.csv"), Read("one.csv")) << threads << " threads, " << block;
      EXPECT_EQ(two.rows_read, 30000u);
      EXPECT_EQ(two.rows_filtered, 30000u / 11);
      EXPECT_EQ(two.rows_written + two.rows_filtered, two.rows_read);
    }
  }
}

TEST_F(NodeApiTest, CppNodeFiltersAndRunsOnSeveralThreads) {
  std::string text = "id,name\n";
  for (int i = 1; i <= 200000; ++i)
    text += std::to_string(i) + "," + (i % 5 == 0 ? "drop" : "k") + "\n";
  Write("in.csv", text);
  Suffix::calls = 0;
  {
    std::lock_guard<std::mutex> lock(Suffix::threads_mutex);
    Suffix::threads.clear();
  }
  const flowengine::RunResult r = Run(
      "source: { path: in.csv }\ntransform:\n  - suffix: { column: name, into: tagged }\n"
      "sink: { path: out.csv, outputMode: replace }\nlimits: { threads: 2, blockSize: 64KiB }\n");
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(r.rows_written, 160000u);
  EXPECT_EQ(r.rows_filtered, 40000u);
  EXPECT_EQ(Suffix::calls.load(), 160000u);
  const std::string out = Read("out.csv");
  EXPECT_EQ(out.substr(0, 30), "id,name,tagged\n1,k,k!\n2,k,k!\n3");
  std::lock_guard<std::mutex> lock(Suffix::threads_mutex);
  EXPECT_GE(Suffix::threads.size(), 1u);
}

TEST_F(NodeApiTest, FailingRowsAreRejectedWithTheirOriginalRecordAndLine) {
  Write("in.csv", "id,name\n1,a\n2,\"bo\"\"om\"\n3,boom\n4,\"b\nc\"\n5,boom\n6,z\n");
  const flowengine::RunResult r =
      Run("source: { path: in.csv }\n"
          "transform:\n  - javascript: { code: 'function process(c) { return true; }' }\n"
          "  - suffix: { column: name }\n"
          "sink: { path: out.csv, outputMode: replace }\n"
          "errorHandling: skip-row\ndeadLetter: { path: dead.csv }\n");
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(r.rows_rejected, 2u);
  EXPECT_EQ(Read("out.csv"), "id,name\n1,a!\n2,\"bo\"\"om!\"\n4,\"b\nc!\"\n6,z!\n");
  const std::string dead = Read("dead.csv");
  EXPECT_NE(dead.find("FE-NODE-ROW"), std::string::npos) << dead;
  EXPECT_NE(dead.find("\"3,boom\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("\"5,boom\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("\n4,23,transform,FE-NODE-ROW"), std::string::npos) << dead;
  EXPECT_NE(dead.find("\n7,38,transform,FE-NODE-ROW"), std::string::npos)
      << dead;  // after a two-line record

  // Fail-fast: the run fails at the first such row and the target stays untouched.
  Write("out.csv", "before\n");
  const flowengine::RunResult f =
      Run("source: { path: in.csv }\ntransform:\n  - suffix: { column: name }\n"
          "sink: { path: out.csv, outputMode: replace }\n");
  ASSERT_FALSE(f.ok);
  EXPECT_EQ(f.error->code, "FE-NODE-ROW");
  EXPECT_EQ(f.error->line, 4);
  EXPECT_NE(f.error->message.find("cannot suffix 'boom'"), std::string::npos);
  EXPECT_EQ(Read("out.csv"), "before\n");
}

TEST_F(NodeApiTest, ValuesANodeSetsAreCheckedLikeAScripts) {
  Write("in.csv", "id,name\n1,raw\n");
  const flowengine::RunResult cut =
      Run("source: { path: in.csv }\ntransform:\n  - suffix: { column: name, raw: cut }\n"
          "sink: { path: out.csv, outputMode: replace }\n");
  ASSERT_FALSE(cut.ok);
  EXPECT_EQ(cut.error->code, "FE-SCRIPT-OUTPUT");
  EXPECT_NE(cut.error->message.find("not valid UTF-8"), std::string::npos) << cut.error->message;
  EXPECT_FALSE(fs::exists(Path("out.csv")));
  // A typed column carried over must keep its type.
  const flowengine::RunResult typed =
      Run("source: { path: in.csv, columns: [ { name: id, type: int64 } ] }\n"
          "transform:\n  - suffix: { column: id, suffix: x }\n"
          "sink: { path: out.csv, outputMode: replace }\n");
  ASSERT_FALSE(typed.ok);
  EXPECT_EQ(typed.error->code, "FE-SCRIPT-OUTPUT");
  EXPECT_NE(typed.error->message.find("not a valid int64"), std::string::npos);
  EXPECT_EQ(typed.error->line, 2);
}

TEST_F(NodeApiTest, OptionsAreCheckedAgainstTheNodesSchema) {
  Write("in.csv", "id,name\n1,a\n");
  const std::string head = "source: { path: in.csv }\nsink: { path: o.csv }\ntransform:\n";
  flowengine::ErrorInfo e = LoadError(head + "  - suffix: { colum: name }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_NE(e.hint.find("Did you mean 'column'"), std::string::npos) << e.hint;
  EXPECT_EQ(e.line, 4);
  e = LoadError(head + "  - suffix: { into: x }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_NE(e.message.find("transform[0].suffix.column"), std::string::npos) << e.message;
  e = LoadError(head + "  - suffix: { column: name, repeat: twice }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.message.find("Expected integer"), std::string::npos) << e.message;
  e = LoadError(head + "  - sufix: { column: name }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_NE(e.hint.find("Did you mean 'suffix'"), std::string::npos) << e.hint;
  e = LoadError(head + "  - suffix: { column: name }\n    javascript: { code: x }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  // `create` refusing its options or input: FE-CONFIG-VALUE at the step, found by Validate.
  e = LoadError(head + "  - suffix: { column: nope }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.message.find("transform[0] (suffix): no input column 'nope'"), std::string::npos)
      << e.message;
  EXPECT_EQ(e.line, 4);
  e = LoadError(head + "  - suffix: { column: name, repeat: 0 }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.message.find("repeat must be at least 1"), std::string::npos);
  // --set reaches a node's options like any key.
  flowengine::Engine engine;
  const flowengine::RunResult r = engine.Run(
      flowengine::Pipeline::FromYaml(head + "  - suffix: { column: name }\n", dir_.string(),
                                     {"transform[0].suffix.suffix=?", "sink.outputMode=replace"}));
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(Read("o.csv"), "id,name\n1,a?\n");
}

TEST_F(NodeApiTest, RegistrationRefusesBadTypes) {
  const auto make = [](flowengine::NodeSetup&) -> std::unique_ptr<flowengine::TransformNode> {
    return nullptr;
  };
  EXPECT_THROW(flowengine::RegisterTransformNode({"javascript", "", {}, make}),
               std::invalid_argument);
  EXPECT_THROW(flowengine::RegisterTransformNode({"suffix", "", {}, make}), std::invalid_argument);
  EXPECT_THROW(flowengine::RegisterTransformNode({"Bad-Name", "", {}, make}),
               std::invalid_argument);
  EXPECT_THROW(flowengine::RegisterTransformNode({"nocreate", "", {}, nullptr}),
               std::invalid_argument);
  EXPECT_THROW(
      flowengine::RegisterTransformNode(
          {"baddefault", "", {{"n", flowengine::NodeOption::kInteger, false, "x", ""}}, make}),
      std::invalid_argument);
}

TEST_F(NodeApiTest, SchemaListsRegisteredNodes) {
  const std::string schema = flowengine::Pipeline::JsonSchema();
  EXPECT_NE(schema.find("\"suffix\":{"), std::string::npos);
  EXPECT_NE(schema.find("\"repeat\":{\"type\":\"integer\""), std::string::npos);
  EXPECT_NE(schema.find("\"minProperties\":1,\"maxProperties\":1"), std::string::npos);
}

TEST_F(NodeApiTest, TwoJavascriptStepsRoutesFromTheLastStepOnly) {
  Write("in.csv", "id,name\n1,a\n2,b\n3,c\n");
  const std::string base =
      "source: { path: in.csv }\n"
      "routes: { review: { path: review.csv, outputMode: replace } }\n"
      "sink: { path: out.csv, outputMode: replace }\ntransform:\n";
  const flowengine::RunResult ok =
      Run(base +
          "  - javascript: { code: \"function process(c) { c.output.setField('name', "
          "c.input.getValue('name') + '1'); return true; }\" }\n"
          "  - javascript: { code: \"function process(c) { if (c.input.getValue('id') === '2') "
          "c.route.send('review'); c.output.setField('name', c.input.getValue('name') + '2'); "
          "return true; }\" }\n");
  ASSERT_TRUE(ok.ok) << ok.error->ToString();
  EXPECT_EQ(Read("out.csv"), "id,name\n1,a12\n3,c12\n");
  EXPECT_EQ(Read("review.csv"), "id,name\n2,b12\n");
  EXPECT_EQ(ok.rows_routed, 1u);
  const flowengine::RunResult early = Run(
      base +
      "  - javascript: { code: \"function process(c) { c.route.send('review'); return true; }\" }\n"
      "  - javascript: { code: \"function process(c) { return true; }\" }\n");
  ASSERT_FALSE(early.ok);
  EXPECT_EQ(early.error->code, "FE-SCRIPT-ERROR");
  EXPECT_NE(early.error->message.find("routes take rows from the last transform step only"),
            std::string::npos)
      << early.error->message;
}

TEST_F(NodeApiTest, ValuesSetNeverMoveTheInputTheyRead) {
  Write("in.csv", HostileInput(20000));
  Write("first.js",
        "function process(c) { c.output.setField('name', (c.input.getValue('name') ?? '') + "
        "'\u00e9'); return true; }\n");
  const flowengine::RunResult r =
      Run("source: { path: in.csv }\ntransform:\n  - javascript: { file: first.js }\n"
          "  - grow_and_copy:\nsink: { path: out.csv, outputMode: replace }\n"
          "limits: { threads: 2, blockSize: 64KiB }\n");
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(r.rows_written, 20000u);
  // The same work in JavaScript gives the same bytes.
  const flowengine::RunResult js = Run(
      "source: { path: in.csv }\ntransform:\n  - javascript: { file: first.js }\n"
      "  - javascript:\n      code: \"function process(c) { c.output.setField('pad', "
      "'p'.repeat(4096)); c.output.setField('copy', c.input.getValue('name')); return true; }\"\n"
      "      output: [id, name, city, pad, copy]\n"
      "sink: { path: js.csv, outputMode: replace }\nlimits: { threads: 2, blockSize: 64KiB }\n");
  ASSERT_TRUE(js.ok) << js.error->ToString();
  const std::string out = Read("out.csv");
  EXPECT_EQ(out.substr(0, 23), "id,name,city,pad,copy\n1");
  EXPECT_TRUE(out == Read("js.csv")) << "C++ and JavaScript outputs differ";
}

TEST_F(NodeApiTest, RunFailuresInsideANodeAreNotRowRejects) {
  Write("in.csv", "id,name\n1,a\n2,huge\n3,b\n");
  Write("out.csv", "before\n");
  const flowengine::RunResult r =
      Run("source: { path: in.csv }\ntransform:\n  - suffix: { column: name }\n"
          "sink: { path: out.csv, outputMode: replace }\n"
          "errorHandling: skip-row\ndeadLetter: { path: dead.csv }\n"
          "limits: { memory: 4MiB }\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error->code, "FE-RESOURCE-MEMORY") << r.error->ToString();
  EXPECT_EQ(Read("out.csv"), "before\n");
  EXPECT_FALSE(fs::exists(Path("dead.csv")));
  // An exception that is not a std::exception: the row fails, the run goes on.
  Write("in.csv", "id,name\n1,a\n2,int\n");
  const flowengine::RunResult i =
      Run("source: { path: in.csv }\ntransform:\n  - suffix: { column: name }\n"
          "sink: { path: out.csv, outputMode: replace }\n"
          "errorHandling: skip-row\ndeadLetter: { path: dead.csv }\n");
  ASSERT_TRUE(i.ok) << i.error->ToString();
  EXPECT_EQ(i.rows_rejected, 1u);
  EXPECT_NE(Read("dead.csv").find("not a std::exception"), std::string::npos);
  // ... and from create: the step is refused, nothing escapes.
  const flowengine::ErrorInfo e = LoadError(
      "source: { path: in.csv }\nsink: { path: o.csv }\n"
      "transform:\n  - suffix: { column: throw-int }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
}

TEST_F(NodeApiTest, RowLineIsTheLineOfTheRecordInItsFile) {
  // After a CRLF header, a quoted two-line record and a filtering step: lines 4 and 6.
  Write("in.csv", "id,name\r\n1,\"a\nb\"\r\n2,line\r\n3,drop\r\n4,line\r\n");
  const flowengine::RunResult r =
      Run("source: { path: in.csv }\ntransform:\n"
          "  - javascript: { code: \"function process(c) { return c.input.getValue('id') !== '1'; "
          "}\" }\n  - suffix: { column: name, into: at }\n"
          "sink: { path: out.csv, outputMode: replace }\nlimits: { blockSize: 4KiB }\n");
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(Read("out.csv"), "id,name,at\n2,line,4\n4,line,6\n");
}

TEST_F(NodeApiTest, RoutesNeedAScriptAsTheLastStep) {
  Write("in.csv", "id,name\n1,a\n");
  const flowengine::ErrorInfo e = LoadError(
      "source: { path: in.csv }\nsink: { path: o.csv }\n"
      "transform:\n  - javascript: { code: 'function process(c) { return true; }' }\n"
      "  - suffix: { column: name }\nroutes: { review: { path: r.csv } }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.message.find("transform[1] (suffix) is a node that cannot send rows to routes"),
            std::string::npos)
      << e.message;
}

TEST_F(NodeApiTest, AThrowingLogSinkLosesOnlyItsLine) {
  Write("in.csv", "id,name\n1,a\n2,boom\n3,b\n");
  flowengine::EngineOptions eo;
  eo.log_level = "debug";
  eo.log_sink = [](const flowengine::LogRecord&) { throw std::runtime_error("sink down"); };
  flowengine::Engine engine(eo);
  const flowengine::RunResult r = engine.Run(flowengine::Pipeline::FromYaml(
      "source: { path: in.csv }\ntransform:\n  - javascript: { code: \"function process(c) { "
      "console.log('row'); return true; }\" }\n  - suffix: { column: name }\n"
      "sink: { path: out.csv, outputMode: replace }\n"
      "errorHandling: skip-row\ndeadLetter: { path: dead.csv }\n",
      dir_.string()));
  ASSERT_TRUE(r.ok) << r.error->ToString();
  EXPECT_EQ(r.rows_rejected, 1u);
  EXPECT_EQ(Read("out.csv"), "id,name\n1,a!\n3,b!\n");
}

}  // namespace
