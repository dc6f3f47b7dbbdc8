// JavaScript transforms through the real binary: the whole context API, routes, typed
// values, filtering, errors, limits and the sandbox.
#include <gtest/gtest.h>

#include <regex>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

constexpr const char* kInput =
    "id,name,age,amount,active,big\n"
    "1,Ann,34,10.5,true,9007199254740993\n"
    "2,Bob,,2000,false,1\n"
    "3,Cé,70,12000.25,true,\n";

// A pipeline over kInput with typed columns, the script inline and extra YAML appended.
std::string Pipeline(const TempDir& dir, const std::string& script, const std::string& output,
                     const std::string& extra = "") {
  WriteFile(dir.File("in.csv"), kInput);
  WriteFile(dir.File("script.js"), script);
  return WritePipeline(dir, "p.yaml",
                       "source:\n  path: in.csv\n  columns:\n"
                       "    - { name: id, type: int64 }\n    - { name: age, type: int32 }\n"
                       "    - { name: amount, type: float64 }\n    - { name: active, type: bool }\n"
                       "    - { name: big, type: int64 }\n"
                       "transform:\n  - javascript:\n      file: script.js\n" +
                           (output.empty() ? "" : "      output: " + output + "\n") +
                           "sink: { path: out.csv }\n" + extra);
}

TEST(JavascriptTest, TypedValuesArriveAsJavaScriptTypes) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  const row = context.input.current();
  context.output.setField('types', [typeof row.id, typeof row.name, row.age === null ? 'null' : typeof row.age,
      typeof row.amount, typeof row.active, row.big === null ? 'null' : typeof row.big].join(' '));
  return true;
})",
                           "[id, types]");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")),
            "id,types\n"
            "1,number string number number boolean bigint\n"
            "2,number string null number boolean number\n"
            "3,number string number number boolean null\n");
}

TEST(JavascriptTest, NumbersAreWrittenTheWayJavaScriptPrintsThem) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  const row = context.input.current();
  context.output.setField('a', row.amount * 1.2);
  context.output.setField('b', (row.amount * 1.2).toFixed(2));
  const big = row.big;
  context.output.setField('c', big === null ? null : typeof big === 'bigint' ? big + 1n : big + 1);
  context.output.setField('d', row.active);
  return true;
})",
                           "[id, a, b, c, d]");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")),
            "id,a,b,c,d\n"
            "1,12.6,12.60,9007199254740994,true\n"
            "2,2400,2400.00,2,false\n"
            "3,14400.3,14400.30,,true\n");
}

TEST(JavascriptTest, InputApiAndUnsetColumnsKeepTheirInputValue) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  const schema = context.input.schema().map(c => c.name + ':' + c.type).join(' ');
  context.output.setField('info', context.input.getValue('name') + '|' + schema);
  return true;
})",
                           "[id, name, info, missing]");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string schema = "id:int64 name:string age:int32 amount:float64 active:bool big:int64";
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name,info,missing\n1,Ann,Ann|" + schema + ",\n" +
                                               "2,Bob,Bob|" + schema + ",\n3,Cé,Cé|" + schema +
                                               ",\n");
}

TEST(JavascriptTest, DefaultOutputIsTheInputColumns) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  context.output.setField('name', context.input.getValue('name').toUpperCase());
  return true;
})",
                           "");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")),
            "id,name,age,amount,active,big\n1,ANN,34,10.5,true,9007199254740993\n"
            "2,BOB,,2000,false,1\n3,CÉ,70,12000.25,true,\n");
}

TEST(JavascriptTest, FilteringValidateAndRoutes) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  const row = context.input.current();
  if (!context.validate.required(['age'])) return false;
  if (row.amount > 10000) context.route.send('review');
  context.route.sendCopy('audit');
  return true;
})",
                           "[id, name]",
                           "routes:\n  review: { path: review.csv }\n"
                           "  audit: { path: audit.tsv, format: tsv }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name\n1,Ann\n");
  EXPECT_EQ(ReadFile(dir.File("review.csv")), "id,name\n3,Cé\n");
  EXPECT_EQ(ReadFile(dir.File("audit.tsv")), "id\tname\n1\tAnn\n3\tCé\n");
  // read = written + routed + filtered; copies counted apart.
  EXPECT_NE(r.err.find("3 rows read, 1 rows written, 1 routed, 1 filtered, 0 rejected, 2 copies"),
            std::string::npos)
      << r.err;
}

TEST(JavascriptTest, UtilsNowGuidFormatAndLog) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  const u = context.utils;
  const row = context.input.current();
  context.output.setField('guid', u.newGuid());
  context.output.setField('now', u.now() instanceof Date);
  context.output.setField('money', u.format(row.amount * 1000, 'N2'));
  context.output.setField('date', u.format(new Date(Date.UTC(2024, 0, 5, 7, 8, 9)), 'yyyy-MM-dd HH:mm:ss'));
  context.output.setField('pct', u.format(0.256, 'P1'));
  u.log('info', 'saw ' + row.name);
  return true;
})",
                           "[id, guid, now, money, date, pct]");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = ReadFile(dir.File("out.csv"));
  std::regex line(
      R"(1,[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12},true,"10,500.00",2024-01-05 07:08:09,25.6 %)");
  EXPECT_TRUE(std::regex_search(out, line)) << out;
  EXPECT_NE(r.err.find("script info [" + dir.File("in.csv") + ":4]: saw Cé"), std::string::npos)
      << r.err;
}

TEST(JavascriptTest, UnknownOutputColumnIsAnError) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) { context.output.setField('nope', 1); return true; })",
                           "[id]");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-SCRIPT-ERROR"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Unknown output column 'nope'; output columns: id"), std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(JavascriptTest, ThrownErrorNamesScriptLocationInputLineAndStack) {
  TempDir dir;
  std::string p = Pipeline(dir,
                           "function process(context) {\n"
                           "  const row = context.input.current();\n"
                           "  if (row.id === 2) throw new Error('bad customer');\n"
                           "  return true;\n}\n",
                           "[id]");
  ProcessResult r = Flowengine({"run", p, "--set", "limits.threads=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.File("in.csv") + ":3: error FE-SCRIPT-ERROR"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Uncaught Error: bad customer (at " + dir.File("script.js") + ":3:"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("stack: Error: bad customer"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(JavascriptTest, SyntaxErrorIsFoundBeforeReadingData) {
  TempDir dir;
  std::string p = Pipeline(dir, "function process(context) {\n  return true\n  }}\n", "[id]");
  for (const char* command : {"validate", "run"}) {
    ProcessResult r = Flowengine({command, p});
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_NE(r.err.find(dir.File("script.js") + ":3:4: error FE-SCRIPT-SYNTAX"), std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(JavascriptTest, InlineCodeErrorsPointIntoTheYamlFile) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform:\n"
                                "  - javascript:\n"
                                "      code: |\n"
                                "        function process(context) {\n"
                                "          return true +;\n"
                                "        }\n"
                                "sink: { path: out.csv }\n");
  ProcessResult r = Flowengine({"validate", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(p + ":6:"), std::string::npos) << r.err;
}

TEST(JavascriptTest, MissingProcessFunction) {
  TempDir dir;
  std::string p = Pipeline(dir, "function transform(row) { return true; }\n", "[id]");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("FE-SCRIPT-NO-PROCESS"), std::string::npos) << r.err;
}

TEST(JavascriptTest, NonBooleanReturnIsAnError) {
  TempDir dir;
  std::string p = Pipeline(dir, "function process(context) { return 'yes'; }\n", "[id]");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":2: error FE-SCRIPT-RETURN"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("process() must return true or false, got string yes"), std::string::npos)
      << r.err;
}

TEST(JavascriptTest, EndlessLoopIsStoppedByTheTimeout) {
  TempDir dir;
  std::string p = Pipeline(dir, "function process(context) { while (true) {} }\n", "[id]",
                           "limits: { scriptTimeout: 200ms }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-SCRIPT-TIMEOUT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Script ran longer than limits.scriptTimeout (200 ms)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

TEST(JavascriptTest, UnboundedAllocationEndsWithACleanError) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
const hoard = [];
function process(context) {
  for (;;) hoard.push({ payload: 'x'.repeat(64) + hoard.length });
})",
                           "[id]", "limits: { scriptHeap: 32MiB, scriptTimeout: 60s }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-SCRIPT-HEAP"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Script exceeded limits.scriptHeap (33554432 bytes)"), std::string::npos)
      << r.err;
}

TEST(JavascriptTest, SandboxHasNoEvalRequireOrProcess) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) {
  // (globalThis.process is the script's own process function, not Node's.)
  context.output.setField('env', [typeof require, typeof module, typeof fetch,
      globalThis.process === process].join(' '));
  return true;
})",
                           "[id, env]");
  ProcessResult ok = Flowengine({"run", p});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ReadFile(dir.File("out.csv")).find("1,undefined undefined undefined true"),
            std::string::npos);

  TempDir dir2;
  std::string e = Pipeline(dir2, "function process(context) { return eval('true'); }\n", "[id]");
  ProcessResult r = Flowengine({"run", e});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("code generation from strings (eval, new Function) is disabled"),
            std::string::npos)
      << r.err;
  TempDir dir3;
  std::string f = Pipeline(
      dir3, "function process(context) { return new Function('return true')(); }\n", "[id]");
  ProcessResult r2 = Flowengine({"run", f});
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.err.find("code generation from strings"), std::string::npos) << r2.err;
}

TEST(JavascriptTest, DeclaredOutputTypesAreChecked) {
  TempDir dir;
  std::string p = Pipeline(dir, R"(
function process(context) { context.output.setField('n', 'many'); return true; })",
                           "[id, { name: n, type: int32 }]");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FE-SCRIPT-OUTPUT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Value of output column 'n' is not a valid int32: 'many'"),
            std::string::npos)
      << r.err;
}

TEST(JavascriptTest, OneThreadAndAllCoresAreByteIdentical) {
  TempDir dir;
  Generate(dir.File("in.csv"), 200000, "csv", 11);
  WriteFile(dir.File("t.js"), R"(
function process(context) {
  const row = context.input.current();
  if (!row.active) return false;
  context.output.setField('full_name', row.first_name + ' ' + row.last_name);
  context.output.setField('amount_with_tax', (row.amount * 1.2).toFixed(2));
  if (row.amount > 19000) context.route.send('big');
  if (row.age > 80) context.route.sendCopy('old');
  return true;
})");
  std::string p =
      WritePipeline(dir, "p.yaml",
                    "source:\n  path: in.csv\n  columns:\n    - { name: amount, type: float64 }\n"
                    "    - { name: active, type: bool }\n    - { name: age, type: int32 }\n"
                    "transform:\n  - javascript:\n      file: t.js\n"
                    "      output: [id, full_name, email, amount_with_tax, notes]\n"
                    "sink: { path: out.csv, outputMode: replace }\n"
                    "routes:\n  big: { path: big.csv, outputMode: replace }\n"
                    "  old: { path: old.csv, outputMode: replace }\n");
  std::string outputs[2];
  int i = 0;
  for (const char* threads : {"1", "0"}) {
    ProcessResult r = Flowengine({"run", p, "--set", std::string("limits.threads=") + threads,
                                  "--set", "limits.blockSize=64KiB"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    outputs[i++] = ReadFile(dir.File("out.csv")) + ReadFile(dir.File("big.csv")) +
                   ReadFile(dir.File("old.csv"));
  }
  EXPECT_GT(outputs[0].size(), 1000000u);
  EXPECT_EQ(outputs[0], outputs[1]);
}

// A script that fails while loading, with two threads and an input of several blocks, is
// reported once, at startup, and nothing is written.
TEST(JavascriptTest, LoadFailuresAreReportedOnceWithTwoThreads) {
  TempDir dir;
  Generate(dir.File("in.csv"), 20000, "csv", 5);  // ~2.8 MB: three blocks
  const struct {
    const char* script;
    const char* code;
    int exit_code;
  } cases[] = {
      {"function process(context) {\n  return true\n  }}\n", "FE-SCRIPT-SYNTAX", 2},
      {"throw new Error('not today');\nfunction process(context) { return true; }\n",
       "FE-SCRIPT-ERROR", 1},
      {"while (true) {}\nfunction process(context) { return true; }\n", "FE-SCRIPT-TIMEOUT", 1},
  };
  for (const auto& c : cases) {
    WriteFile(dir.File("t.js"), c.script);
    std::string p = WritePipeline(dir, "p.yaml",
                                  "source: { path: in.csv }\n"
                                  "transform: [ { javascript: { file: t.js } } ]\n"
                                  "sink: { path: out.csv }\n"
                                  "limits: { threads: 2, scriptTimeout: 300ms }\n");
    ProcessResult r = Flowengine({"run", p, "--log-format", "text"});
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    const std::string needle = std::string("error ") + c.code;
    size_t count = 0;
    for (size_t at = r.err.find(needle); at != std::string::npos; at = r.err.find(needle, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << r.err;
    EXPECT_FALSE(FileExists(dir.File("out.csv")));
  }
}

TEST(JavascriptTest, ScriptLoopingAtTopLevelIsStoppedAtStartup) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "a\n1\n");
  WriteFile(dir.File("t.js"), "while (true) {}\nfunction process(ctx) { return true; }\n");
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\n"
                                "transform: [ { javascript: { file: t.js } } ]\n"
                                "sink: { path: out.csv }\nlimits: { scriptTimeout: 300ms }\n");
  ProcessResult r = Flowengine({"run", p});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error FE-SCRIPT-TIMEOUT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("top level"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir.File("out.csv")));
}

}  // namespace
}  // namespace flowengine::testing
