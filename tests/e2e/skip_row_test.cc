// errorHandling: skip-row through the real binary: bad rows go to the dead-letter file with
// their line, byte offset, code and original bytes; good rows around them are untouched;
// maxErrors; script errors; the JSON summary; `explain` for every code.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "core/error/error_codes.h"
#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

const std::string kData = std::string(FLOWENGINE_SOURCE_DIR) + "/tests/data/malformed/";

std::string SkipRowPipeline(const TempDir& dir, const std::string& input,
                            const std::string& extra = "") {
  return WritePipeline(dir, "p.yaml",
                       "source:\n  path: " + input +
                           "\n  columns:\n    - { name: id, type: int64, required: true }\n"
                           "    - { name: age, type: int32 }\n"
                           "sink: { path: out.csv }\n"
                           "errorHandling: skip-row\n"
                           "deadLetter: { path: rejects.csv }\n" +
                           extra);
}

// One expected dead-letter row.
// The input file named in the dead letters' `file` column.
std::string g_dead_letter_file;

std::string DeadLetter(const std::string& content, int line, const std::string& raw,
                       const std::string& code, const std::string& error_class,
                       const std::string& message, const std::string& column,
                       const std::string& field = "") {
  const size_t offset = content.find(raw);
  std::string quoted_raw = raw;
  if (raw.find_first_of(",\"\r\n") != std::string::npos) {
    quoted_raw = "\"";
    for (char c : raw) quoted_raw += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted_raw += "\"";
  }
  std::string quoted_message = message;
  if (message.find_first_of(",\"\r\n") != std::string::npos) {
    quoted_message = "\"";
    for (char c : message) quoted_message += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted_message += "\"";
  }
  return std::to_string(line) + "," + std::to_string(offset) + ",parse," + code + "," +
         error_class + "," + quoted_message + "," + column + "," + field + ",," +
         g_dead_letter_file + "," + quoted_raw + "\n";
}

TEST(SkipRowTest, MixedCorpusGoesToDeadLettersAndGoodRowsAreKept) {
  TempDir dir;
  const std::string input = kData + "mixed.csv";
  const std::string content = ReadFile(input);
  std::string p = SkipRowPipeline(dir, input);
  ProcessResult r = Flowengine({"run", p, "--summary", dir.File("summary.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name,age\n1,Ann,30\n8,\"Gus\nGus\",70\n10,Ivy,90\n");
  g_dead_letter_file = std::filesystem::path(input).lexically_normal().string();
  const std::string expected =
      "line,byte_offset,stage,error_code,error_class,message,column,field,script,file,raw\n" +
      DeadLetter(content, 3, "2,Bob", "FE-INPUT-FIELD-COUNT", "input",
                 "Record has the wrong number of fields: expected 3, got 2", "1") +
      DeadLetter(content, 4, "3,\"Cy\"x,40", "FE-INPUT-AFTER-QUOTE", "input",
                 "Unexpected character after a closing quote: 'x'", "7") +
      DeadLetter(content, 5, "4,D\"a\"n,50", "FE-INPUT-STRAY-QUOTE", "input",
                 "Quote character inside an unquoted field", "4") +
      DeadLetter(content, 6, "5,Eve,old", "FE-SCHEMA-TYPE", "schema",
                 "Value is not a valid int32 in column 'age': 'old'", "7", "age") +
      DeadLetter(content, 7, ",Fay,60", "FE-SCHEMA-REQUIRED", "schema",
                 "Required value is empty in column 'id'", "1", "id") +
      DeadLetter(content, 10, "9,Hal,80,extra", "FE-INPUT-FIELD-COUNT", "input",
                 "Record has the wrong number of fields: expected 3, got 4", "1");
  EXPECT_EQ(ReadFile(dir.File("rejects.csv")), expected);
  EXPECT_NE(r.err.find("9 rows read, 3 rows written, 0 routed, 0 filtered, 6 rejected"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("rejected rows by code: FE-INPUT-AFTER-QUOTE 1, FE-INPUT-FIELD-COUNT 2, "
                       "FE-INPUT-STRAY-QUOTE 1, FE-SCHEMA-REQUIRED 1, FE-SCHEMA-TYPE 1"),
            std::string::npos)
      << r.err;
  const std::string summary = ReadFile(dir.File("summary.json"));
  EXPECT_NE(summary.find("\"rows\":{\"read\":9,\"written\":3,\"routed\":0,\"filtered\":0,"
                         "\"rejected\":6,\"copies\":0}"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"FE-SCHEMA-TYPE\":1"), std::string::npos) << summary;
}

TEST(SkipRowTest, FailFastOnTheSameCorpusReportsTheFirstBadLineAndWritesNothing) {
  for (const char* threads : {"1", "0"}) {
    TempDir dir;
    std::string p = WritePipeline(
        dir, "p.yaml", "source: { path: " + kData + "mixed.csv }\nsink: { path: out.csv }\n");
    ProcessResult r = Flowengine({"run", p, "--set", std::string("limits.threads=") + threads});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("mixed.csv:3:1: error FE-INPUT-FIELD-COUNT"), std::string::npos) << r.err;
    EXPECT_EQ(dir.List(), std::vector<std::string>{"p.yaml"});
  }
}

TEST(SkipRowTest, UnterminatedQuoteSwallowsTheRestAndSaysSo) {
  TempDir dir;
  const std::string input = kData + "unterminated.csv";
  std::string p = SkipRowPipeline(dir, input);
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,name,age\n1,Ann,30\n2,Bob,40\n");
  const std::string dead = ReadFile(dir.File("rejects.csv"));
  EXPECT_NE(dead.find("\n4,32,parse,FE-INPUT-UNTERMINATED-QUOTE,input,Quoted field starting at "
                      "line 4 is not closed before the end of the input; it swallows the rest of "
                      "the file,3,,," +
                      std::filesystem::path(input).lexically_normal().string() +
                      ",\"3,\"\"never closed,50\r\n4,Dan,60\r\n\"\n"),
            std::string::npos)
      << dead;
}

// Bad rows injected at random places into a generated file, read with small blocks so that
// many of them sit at block edges: every good row is written, every bad one dead-lettered
// with its exact line and bytes.
TEST(SkipRowTest, InjectedBadRowsAtBlockEdges) {
  TempDir dir;
  Generate(dir.File("gen.csv"), 20000, "csv", 5);
  std::istringstream in(ReadFile(dir.File("gen.csv")));
  std::string header;
  std::getline(in, header);
  std::string content = header + "\n";
  std::string good = content;
  std::vector<std::pair<int, std::string>> bad;  // line, raw
  std::mt19937 rng(99);
  int line = 2;
  std::string record;
  for (std::string l; std::getline(in, l);) {
    record += l;
    // A record is complete when its quotes balance.
    if (std::count(record.begin(), record.end(), '"') % 2 != 0) {
      record += "\n";
      continue;
    }
    if (rng() % 50 == 0) {
      const std::string raw = (rng() % 2) ? "bad,row" : "1,x,\"y\"z,4,5,6,7,8,9,10";
      bad.emplace_back(line++, raw);
      content += raw + "\n";
    }
    content += record + "\n";
    good += record + "\n";
    line += static_cast<int>(std::count(record.begin(), record.end(), '\n')) + 1;
    record.clear();
  }
  WriteFile(dir.File("in.csv"), content);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "errorHandling: skip-row\ndeadLetter: { path: rejects.csv }\n"
                                "limits: { blockSize: 4KiB }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), good);
  std::istringstream dead(ReadFile(dir.File("rejects.csv")));
  std::string row;
  std::getline(dead, row);  // header
  size_t n = 0;
  for (; std::getline(dead, row); ++n) {
    ASSERT_LT(n, bad.size());
    EXPECT_EQ(row.substr(0, row.find(',')), std::to_string(bad[n].first)) << row;
    // The raw record, quoted as a CSV field (its quotes doubled).
    std::string raw_field = "\"";
    for (char c : bad[n].second) raw_field += c == '"' ? std::string("\"\"") : std::string(1, c);
    raw_field += "\"";
    EXPECT_EQ(row.substr(row.size() - raw_field.size()), raw_field) << row;
  }
  EXPECT_EQ(n, bad.size());
  EXPECT_GT(bad.size(), 100u);
}

TEST(SkipRowTest, MaxErrorsCountAndPercentFailTheRun) {
  {
    TempDir dir;
    std::string p = SkipRowPipeline(dir, kData + "mixed.csv", "maxErrors: 5\n");
    ProcessResult r = Flowengine({"run", p});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("FE-INPUT-MAX-ERRORS"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("More rows were rejected than maxErrors allows (5); the first: Record "
                         "has the wrong number of fields"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(dir.List(), std::vector<std::string>{"p.yaml"});
  }
  {
    TempDir dir;
    std::string p = SkipRowPipeline(dir, kData + "mixed.csv", "maxErrors: 50%\n");
    ProcessResult r = Flowengine({"run", p});
    EXPECT_EQ(r.exit_code, 1);  // 6 of 9 rows
    EXPECT_NE(r.err.find("FE-INPUT-MAX-ERRORS"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(6 of 9 rows, more than 50%); the first: "), std::string::npos) << r.err;
  }
  {
    TempDir dir;
    std::string p = SkipRowPipeline(dir, kData + "mixed.csv", "maxErrors: 6\n");
    EXPECT_EQ(Flowengine({"run", p}).exit_code, 0);
  }
}

// in.csv (an int32 `id` column) through the script t.js under skip-row, to out.csv with
// rejects.csv as dead letters.
std::string ScriptSkipRowPipeline(const TempDir& dir, const std::string& output,
                                  const std::string& limits) {
  return WritePipeline(dir, "p.yaml",
                       "source:\n  path: in.csv\n  columns: [ { name: id, type: int32 } ]\n"
                       "transform:\n  - javascript:\n      file: t.js\n      output: " +
                           output +
                           "\nsink: { path: out.csv }\nerrorHandling: skip-row\n"
                           "deadLetter: { path: rejects.csv }\nlimits: " +
                           limits + "\n");
}

TEST(SkipRowTest, ScriptErrorsRejectOnlyTheirRows) {
  TempDir dir;
  WriteFile(dir.File("in.csv"), "id,v\n1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n");
  WriteFile(dir.File("t.js"), R"(
function process(context) {
  const id = context.input.getValue('id');
  if (id === 2) throw new Error('two is bad');
  if (id === 3) return 'maybe';
  if (id === 4) while (true) {}
  if (id === 5) context.output.setField('n', 'five');
  else context.output.setField('n', id * 10);
  return true;
})");
  std::string p = ScriptSkipRowPipeline(dir, "[id, v, { name: n, type: int32 }]",
                                        "{ scriptTimeout: 2s, threads: 1 }");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,v,n\n1,a,10\n6,f,60\n");
  const std::string dead = ReadFile(dir.File("rejects.csv"));
  EXPECT_NE(dead.find("\n3,9,transform,FE-SCRIPT-ERROR,script,"), std::string::npos) << dead;
  EXPECT_NE(dead.find("two is bad"), std::string::npos) << dead;
  // The breadcrumb: the script location of the throw, in its own column.
  const std::string in = dir.File("in.csv");
  EXPECT_NE(dead.find(",,," + dir.File("t.js") + ":4:17," + in + ",\"2,b\"\n"), std::string::npos)
      << dead;
  // A row the script fails without throwing names the script (no line of it is to blame).
  // Each rejected row is logged with its dead-letter row.
  EXPECT_NE(r.err.find("dead_letter_row=1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dead_letter_row=4"), std::string::npos) << r.err;
  EXPECT_NE(dead.find("\n4,13,transform,FE-SCRIPT-RETURN,script,\"process() must return true or "
                      "false, got string maybe\",,," +
                      dir.File("t.js") + "," + in + ",\"3,c\"\n"),
            std::string::npos)
      << dead;
  EXPECT_NE(dead.find("\n5,17,transform,FE-SCRIPT-TIMEOUT,script,"), std::string::npos) << dead;
  EXPECT_NE(dead.find("\n6,21,transform,FE-SCRIPT-OUTPUT,script,Value of output column 'n' is "
                      "not a valid int32: 'five',,," +
                      dir.File("t.js") + "," + in + ",\"5,e\"\n"),
            std::string::npos)
      << dead;
  EXPECT_NE(r.err.find("6 rows read, 2 rows written, 0 routed, 0 filtered, 4 rejected"),
            std::string::npos)
      << r.err;
}

// The per-row loop runs a batch in runs of 256 rows (core/js/driver_js.h): rows failing at
// and around the runs' edges reject exactly themselves, and every other row of the batch is
// processed once, in order (its value set, none skipped or run twice).
TEST(SkipRowTest, ScriptErrorsAtTheEdgesOfTheLoopsRunsRejectOnlyTheirRows) {
  TempDir dir;
  std::string input = "id\n";
  for (int id = 1; id <= 2000; ++id) input += std::to_string(id) + "\n";
  WriteFile(dir.File("in.csv"), input);
  // ids are rows + 1: rows 0, 255, 256, 257, 511, 512, 767, 768 and 1999 fail; rows 769 to
  // 1998 run across several runs' edges without a failure.
  WriteFile(dir.File("t.js"), R"(
let calls = 0;
function process(context) {
  const id = context.input.getValue('id');
  ++calls;
  if (id === 1 || id === 256 || id === 257 || id === 512 || id === 2000) throw new Error('bad');
  if (id === 258 || id === 513 || id === 768 || id === 769) return 'x';
  context.output.setField('n', id * 2);
  context.output.setField('calls', calls);
  return true;
})");
  std::string p = ScriptSkipRowPipeline(dir, "[id, n, calls]", "{ threads: 1 }");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<int> failing = {1, 256, 257, 258, 512, 513, 768, 769, 2000};
  std::string expected = "id,n,calls\n";
  for (int id = 1; id <= 2000; ++id) {
    if (failing.count(id) == 0) {
      expected +=
          std::to_string(id) + "," + std::to_string(id * 2) + "," + std::to_string(id) + "\n";
    }
  }
  EXPECT_EQ(ReadFile(dir.File("out.csv")), expected);
  const std::string dead = ReadFile(dir.File("rejects.csv"));
  for (int id : failing) {
    // The dead-letter row names the input line (the header is line 1) and holds the row.
    const size_t at = dead.find("\n" + std::to_string(id + 1) + ",");
    ASSERT_NE(at, std::string::npos) << id << "\n" << dead;
    EXPECT_NE(dead.substr(at, 40).find(",transform,FE-SCRIPT-"), std::string::npos) << id;
    EXPECT_NE(dead.find("/in.csv," + std::to_string(id) + "\n", at), std::string::npos) << id;
  }
  EXPECT_NE(r.err.find("2000 rows read, 1991 rows written, 0 routed, 0 filtered, 9 rejected"),
            std::string::npos)
      << r.err;
}

// Typed output columns: an input column's values are not checked again when its own check
// covers the output column's (same type, no stronger requirement); the values the script
// sets always are, and so are input values whose column is looser (a string read as int32,
// an optional column declared required).
TEST(SkipRowTest, OutputChecksCoverInputValuesOnlyWhereTheInputCheckDoesNot) {
  TempDir dir;
  WriteFile(dir.File("in.csv"),
            "id,age,name,score\n1,30,7,5\n2,,8,6\n3,40,9,7\n4,50,x,8\n5,60,5,9\n");
  WriteFile(dir.File("t.js"), R"(
function process(context) {
  if (context.input.getValue('id') === 3) context.output.setField('score', 'bad');
  return true;
})");
  std::string p = WritePipeline(
      dir, "p.yaml",
      "source:\n  path: in.csv\n  columns: [ { name: id, type: int32 }, { name: age, type: int32 "
      "}, { name: score, type: int32 } ]\n"
      "transform:\n  - javascript:\n      file: t.js\n"
      "      output: [id, { name: age, type: int32, required: true }, { name: name, type: int32 "
      "}, { name: score, type: int32 }]\n"
      "sink: { path: out.csv }\nerrorHandling: skip-row\ndeadLetter: { path: rejects.csv }\n"
      "limits: { threads: 1 }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), "id,age,name,score\n1,30,7,5\n5,60,5,9\n");
  const std::string dead = ReadFile(dir.File("rejects.csv"));
  EXPECT_NE(dead.find("Required output column 'age' is empty"), std::string::npos) << dead;
  EXPECT_NE(dead.find("Value of output column 'score' is not a valid int32: 'bad'"),
            std::string::npos)
      << dead;
  EXPECT_NE(dead.find("Value of output column 'name' is not a valid int32: 'x'"), std::string::npos)
      << dead;
  EXPECT_NE(r.err.find("5 rows read, 2 rows written, 0 routed, 0 filtered, 3 rejected"),
            std::string::npos)
      << r.err;
}

TEST(SkipRowTest, ExplainDescribesEveryCode) {
  for (const ErrorCodeInfo& info : AllErrorCodes()) {
    ProcessResult r = Flowengine({"explain", std::string(info.code)});
    EXPECT_EQ(r.exit_code, 0) << info.code;
    EXPECT_NE(r.out.find(std::string(info.code) + " (class "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("How to fix: " + std::string(info.hint)), std::string::npos) << r.out;
  }
  ProcessResult typo = Flowengine({"explain", "FE-INPUT-FIELD-CONT"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean FE-INPUT-FIELD-COUNT?"), std::string::npos) << typo.err;
}

}  // namespace
}  // namespace flowengine::testing
