#include "core/config/config_loader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error/error.h"
#include "tests/test_util.h"

namespace flowengine {
namespace {

constexpr const char* kYamlPath = "/pipelines/p.yaml";

Error LoadError(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    LoadPipelineSpecFromString(yaml, kYamlPath, overrides);
  } catch (const ErrorException& e) {
    return e.error();
  }
  ADD_FAILURE() << "expected an error for:\n" << yaml;
  return {};
}

constexpr const char* kMinimal =
    "source:\n"
    "  path: in.csv\n"
    "sink:\n"
    "  path: out.csv\n";

TEST(ConfigLoaderTest, MinimalPipelineGetsDefaults) {
  PipelineSpec spec = LoadPipelineSpecFromString(kMinimal, kYamlPath);
  EXPECT_EQ(spec.name, "p");
  EXPECT_EQ(spec.source.path, "/pipelines/in.csv");
  EXPECT_EQ(spec.sink.path, "/pipelines/out.csv");
  EXPECT_EQ(spec.source.dialect, Dialect::Csv());
  EXPECT_EQ(spec.sink.dialect, Dialect::Csv());
  EXPECT_TRUE(spec.source.header);
  EXPECT_EQ(spec.sink.mode, OutputMode::kCreate);
  EXPECT_EQ(spec.error_handling, ErrorHandling::kFailFast);
  EXPECT_EQ(spec.limits.threads, 0);
}

TEST(ConfigLoaderTest, FullPipeline) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      "pipeline: customers\n"
      "source:\n"
      "  path: data/in.tsv\n"
      "  format: tsv\n"
      "  header: true\n"
      "  columns:\n"
      "    - { name: id, type: int64, required: true }\n"
      "    - { name: amount, type: float64 }\n"
      "sink:\n"
      "  path: /abs/out.psv\n"
      "  format: psv\n"
      "  outputMode: append\n"
      "errorHandling: fail-fast\n"
      "limits: { threads: 3, blockSize: 64KiB, maxRecordSize: 1MiB }\n",
      kYamlPath);
  EXPECT_EQ(spec.name, "customers");
  EXPECT_EQ(spec.source.path, "/pipelines/data/in.tsv");
  EXPECT_EQ(spec.source.dialect, Dialect::Tsv());
  ASSERT_EQ(spec.source.columns.size(), 2u);
  EXPECT_EQ(spec.source.columns[0].name, "id");
  EXPECT_EQ(spec.source.columns[0].type, ColumnType::kInt64);
  EXPECT_TRUE(spec.source.columns[0].required);
  EXPECT_EQ(spec.source.columns[1].type, ColumnType::kFloat64);
  EXPECT_FALSE(spec.source.columns[1].required);
  EXPECT_EQ(spec.sink.path, "/abs/out.psv");
  EXPECT_EQ(spec.sink.dialect, Dialect::Psv());
  EXPECT_EQ(spec.sink.mode, OutputMode::kAppend);
  EXPECT_EQ(spec.limits.threads, 3);
  EXPECT_EQ(spec.limits.block_size, 64 * 1024);
  EXPECT_EQ(spec.limits.max_record_size, 1024 * 1024);
}

TEST(ConfigLoaderTest, SinkFormatDefaultsToSourceFormat) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      "source: { path: in.psv, format: psv }\nsink: { path: out.psv }\n", kYamlPath);
  EXPECT_EQ(spec.sink.dialect, Dialect::Psv());
}

TEST(ConfigLoaderTest, SourceDialectEncodingAndRowOptions) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      "source: { path: in.csv, quote: none, escape: '\\', encoding: windows-1252,\n"
      "          skipRows: 3, maxRows: 10, skipBlankLines: false }\n"
      "sink: { path: out.csv }\n",
      kYamlPath);
  EXPECT_EQ(spec.source.dialect.quote, '\0');
  EXPECT_EQ(spec.source.dialect.escape, '\\');
  EXPECT_EQ(spec.source.encoding, Encoding::kWindows1252);
  EXPECT_EQ(spec.source.skip_rows, 3);
  EXPECT_EQ(spec.source.max_rows, 10);
  EXPECT_FALSE(spec.source.skip_blank_lines);
  // The sink writes RFC 4180 whatever the source's quoting.
  EXPECT_EQ(spec.sink.dialect, Dialect::Csv());

  Error e = LoadError("source: { path: in.csv, encoding: utf8 }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.hint.find("Did you mean 'utf-8'?"), std::string::npos) << e.hint;
  e = LoadError("source: { path: in.csv, quote: none, escape: '\"' }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_NE(e.message.find("source.quote is none"), std::string::npos) << e.message;
  e = LoadError("source: { path: in.csv, maxRows: 0 }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
}

TEST(ConfigLoaderTest, UnknownKeySuggestsTheClosest) {
  Error e = LoadError(
      "source:\n"
      "  path: in.csv\n"
      "sink:\n"
      "  path: out.csv\n"
      "  outpuMode: replace\n");
  EXPECT_EQ(e.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_EQ(e.error_class, ErrorClass::kConfig);
  EXPECT_EQ(e.message, "Unknown key 'sink.outpuMode'");
  EXPECT_EQ(e.location.file, kYamlPath);
  EXPECT_EQ(e.location.line, 5);
  EXPECT_EQ(e.location.column, 3);
  EXPECT_NE(e.hint.find("Did you mean 'outputMode'?"), std::string::npos) << e.hint;
}

TEST(ConfigLoaderTest, UnknownTopLevelKeyWithoutCloseMatchListsAllowedKeys) {
  Error e = LoadError(std::string(kMinimal) + "zzzzzzzz: 1\n");
  EXPECT_EQ(e.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_EQ(e.message, "Unknown key 'zzzzzzzz'");
  EXPECT_NE(e.hint.find("allowed keys here: pipeline, source"), std::string::npos) << e.hint;
  EXPECT_EQ(e.location.line, 5);
}

TEST(ConfigLoaderTest, BadEnumValueNamesAllowedValues) {
  Error e = LoadError("source: { path: in.csv, format: cvs }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message, "Value not allowed for 'source.format': 'cvs'; allowed: csv, tsv, psv");
  EXPECT_EQ(e.hint, "Did you mean 'csv'?");
  EXPECT_EQ(e.location.line, 1);
  EXPECT_EQ(e.location.column, 33);
}

TEST(ConfigLoaderTest, BadOutputMode) {
  Error e = LoadError("source: { path: in.csv }\nsink: { path: out.csv, outputMode: overwrite }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message,
            "Value not allowed for 'sink.outputMode': 'overwrite'; allowed: create, replace, "
            "append");
  EXPECT_EQ(e.location.line, 2);
}

TEST(ConfigLoaderTest, WrongKindOfValue) {
  Error e = LoadError("source: in.csv\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-TYPE");
  EXPECT_EQ(e.message, "Expected a map of keys for 'source'");
  EXPECT_EQ(e.location.line, 1);
  EXPECT_EQ(e.location.column, 9);
}

TEST(ConfigLoaderTest, MissingRequiredKey) {
  Error e = LoadError("source: { format: csv }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_EQ(e.message, "Missing key 'source.path'");
  EXPECT_EQ(e.location.line, 1);
}

TEST(ConfigLoaderTest, MissingSink) {
  Error e = LoadError("source: { path: in.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_EQ(e.message, "Missing key 'sink'");
}

TEST(ConfigLoaderTest, HeaderFalseNeedsColumns) {
  Error e = LoadError("source: { path: in.csv, header: false }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_EQ(e.message, "Missing key 'source.columns' (required when source.header is false)");
}

TEST(ConfigLoaderTest, BadBool) {
  Error e = LoadError("source: { path: in.csv, header: yes please }\nsink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message, "Value not allowed for 'source.header': 'yes please'; allowed: true, false");
}

TEST(ConfigLoaderTest, UnknownColumnType) {
  Error e = LoadError(
      "source:\n  path: in.csv\n  columns:\n    - { name: a, type: integer }\n"
      "sink: { path: out.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message,
            "Unknown column type 'integer'; allowed: string, int32, int64, float64, bool");
  EXPECT_EQ(e.location.line, 4);
  EXPECT_EQ(e.location.field, "source.columns[0].type");
}

TEST(ConfigLoaderTest, DuplicateDeclaredColumn) {
  Error e = LoadError(
      "source:\n  path: in.csv\n  columns: [ { name: a }, { name: a } ]\nsink: { path: o.csv }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message, "Column declared twice: 'a'");
}

TEST(ConfigLoaderTest, SkipRowNeedsADeadLetterFile) {
  Error e = LoadError(std::string(kMinimal) + "errorHandling: skip-row\n");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_EQ(e.message, "Missing key 'deadLetter.path' (required with errorHandling: skip-row)");
  EXPECT_EQ(e.location.line, 5);
  PipelineSpec spec = LoadPipelineSpecFromString(
      std::string(kMinimal) +
          "errorHandling: skip-row\ndeadLetter: { path: rejects.csv }\nmaxErrors: 5%\n",
      kYamlPath);
  EXPECT_EQ(spec.error_handling, ErrorHandling::kSkipRow);
  EXPECT_EQ(spec.dead_letter.path, "/pipelines/rejects.csv");
  EXPECT_EQ(spec.max_errors.percent, 5.0);
  EXPECT_EQ(spec.max_errors.count, -1);
}

TEST(ConfigLoaderTest, MaxErrorsForms) {
  const std::string skip =
      std::string(kMinimal) + "errorHandling: skip-row\ndeadLetter: { path: rejects.csv }\n";
  EXPECT_EQ(LoadPipelineSpecFromString(skip + "maxErrors: 10\n", kYamlPath).max_errors.count, 10);
  Error bad = LoadError(skip + "maxErrors: ten\n");
  EXPECT_EQ(bad.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(bad.message,
            "Expected a count (e.g. 100) or a percentage (e.g. 5%) for 'maxErrors', got 'ten'");
  Error fail_fast = LoadError(std::string(kMinimal) + "maxErrors: 3\n");
  EXPECT_EQ(fail_fast.message,
            "maxErrors is set but errorHandling is fail-fast, which stops at the first error");
}

TEST(ConfigLoaderTest, JobTimeoutIsADuration) {
  PipelineSpec spec =
      LoadPipelineSpecFromString(std::string(kMinimal) + "limits: { timeout: 30m }\n", kYamlPath);
  EXPECT_EQ(spec.limits.timeout_ms, 30 * 60 * 1000);
  Error m = LoadError(std::string(kMinimal) + "limits: { timeout: soon }\n");
  EXPECT_EQ(m.code, "FE-CONFIG-VALUE");
}

TEST(ConfigLoaderTest, InlineTransformWithOutputColumnsRoutesAndScriptLimits) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      "source: { path: in.csv }\n"
      "transform:\n"
      "  - javascript:\n"
      "      code: |\n"
      "        function process(context) { return true; }\n"
      "      output: [id, { name: score, type: int32, required: true }]\n"
      "sink: { path: out.csv, format: tsv }\n"
      "routes:\n"
      "  review: { path: review.csv, outputMode: replace }\n"
      "limits: { scriptTimeout: 250ms, scriptHeap: 64MiB }\n",
      kYamlPath);
  ASSERT_EQ(spec.transforms.size(), 1u);
  const TransformSpec& t = spec.transforms[0];
  EXPECT_EQ(t.code, "function process(context) { return true; }\n");
  EXPECT_EQ(t.display_name, kYamlPath);
  EXPECT_EQ(t.code_line_offset, 4);  // 0-based line of the code's first line
  ASSERT_EQ(t.output.size(), 2u);
  EXPECT_EQ(t.output[0].name, "id");
  EXPECT_EQ(t.output[0].type, ColumnType::kString);
  EXPECT_EQ(t.output[1].name, "score");
  EXPECT_EQ(t.output[1].type, ColumnType::kInt32);
  EXPECT_TRUE(t.output[1].required);
  ASSERT_EQ(spec.routes.size(), 1u);
  EXPECT_EQ(spec.routes[0].name, "review");
  EXPECT_EQ(spec.routes[0].sink.path, "/pipelines/review.csv");
  EXPECT_EQ(spec.routes[0].sink.dialect, Dialect::Tsv());  // the main sink's format
  EXPECT_EQ(spec.routes[0].sink.mode, OutputMode::kReplace);
  EXPECT_EQ(spec.limits.script_timeout_ms, 250);
  EXPECT_EQ(spec.limits.script_heap, 64ll << 20);
}

TEST(ConfigLoaderTest, TransformErrors) {
  Error both =
      LoadError(std::string(kMinimal) + "transform:\n  - javascript: { file: a.js, code: x }\n");
  EXPECT_EQ(both.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(both.message, "Both 'file' and 'code' are set for 'transform[0].javascript'");
  Error missing = LoadError(std::string(kMinimal) + "transform:\n  - javascript: { file: a.js }\n");
  EXPECT_EQ(missing.code, "FE-CONFIG-FILE");
  EXPECT_EQ(missing.message, "Cannot read the script file '/pipelines/a.js'");
  Error kind = LoadError(std::string(kMinimal) + "transform:\n  - python: { code: x }\n");
  EXPECT_EQ(kind.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_NE(kind.hint.find("javascript"), std::string::npos) << kind.hint;
  PipelineSpec two = LoadPipelineSpecFromString(
      std::string(kMinimal) +
          "transform:\n  - javascript: { code: x }\n  - javascript: { code: y }\n",
      kYamlPath);
  ASSERT_EQ(two.transforms.size(), 2u);
  EXPECT_EQ(two.transforms[1].code, "y");
  EXPECT_EQ(two.transforms[1].node, "javascript");
  EXPECT_EQ(two.transforms[1].where.line, 7);
  Error empty = LoadError(std::string(kMinimal) + "transform:\n  - {}\n");
  EXPECT_EQ(empty.code, "FE-CONFIG-MISSING-KEY");
  Error doubled =
      LoadError(std::string(kMinimal) + "transform:\n  - javascript: { code: x }\n    python: 1\n");
  EXPECT_EQ(doubled.code, "FE-CONFIG-UNKNOWN-KEY");
  Error timeout = LoadError(std::string(kMinimal) + "limits: { scriptTimeout: 5 }\n");
  EXPECT_EQ(timeout.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(timeout.message,
            "Expected a duration from 1ms to 3600000ms for 'limits.scriptTimeout', got '5'");
}

TEST(ConfigLoaderTest, SinkOutputOptions) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      "source: { path: in.csv }\n"
      "sink: { path: out.csv, outputMode: replace, lineEnding: crlf, quoting: all, header: false,"
      " backup: true }\n",
      kYamlPath);
  EXPECT_TRUE(spec.sink.style.crlf);
  EXPECT_TRUE(spec.sink.style.quote_all);
  EXPECT_FALSE(spec.sink.header);
  EXPECT_TRUE(spec.sink.backup);
  Error e = LoadError("source: { path: in.csv }\nsink: { path: out.csv, backup: true }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message,
            "backup needs outputMode: replace (only a replaced file has a previous version)");
  Error le = LoadError("source: { path: in.csv }\nsink: { path: out.csv, lineEnding: cr }\n");
  EXPECT_EQ(le.message, "Value not allowed for 'sink.lineEnding': 'cr'; allowed: lf, crlf");
}

TEST(ConfigLoaderTest, RetryPolicy) {
  PipelineSpec spec = LoadPipelineSpecFromString(
      std::string(kMinimal) + "retry: { attempts: 5, initialDelay: 10ms, maxDelay: 1s }\n",
      kYamlPath);
  EXPECT_EQ(spec.retry.attempts, 5);
  EXPECT_EQ(spec.retry.initial_delay_ms, 10);
  EXPECT_EQ(spec.retry.max_delay_ms, 1000);
  Error e = LoadError(std::string(kMinimal) + "retry: { attempts: 0 }\n");
  EXPECT_EQ(e.message, "Expected a whole number from 1 to 100 for 'retry.attempts', got '0'");
  Error order = LoadError(std::string(kMinimal) + "retry: { initialDelay: 2s, maxDelay: 1s }\n");
  EXPECT_EQ(order.message, "retry.maxDelay is smaller than retry.initialDelay");
}

TEST(ConfigLoaderTest, MemoryBudget) {
  PipelineSpec spec =
      LoadPipelineSpecFromString(std::string(kMinimal) + "limits: { memory: 64MiB }\n", kYamlPath);
  EXPECT_EQ(spec.limits.memory, 64ll << 20);
  Error small = LoadError(std::string(kMinimal) + "limits: { memory: 1MiB }\n");
  EXPECT_EQ(small.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(small.message,
            "Expected a size from 4194304 to 1099511627776 bytes for 'limits.memory', got '1MiB'");
}

TEST(ConfigLoaderTest, MaxRecordSizeMustFitTheMemoryBudget) {
  Error e = LoadError(std::string(kMinimal) +
                      "limits: { memory: 64MiB, maxRecordSize: 64MiB, threads: 2 }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message.rfind("limits.maxRecordSize does not fit in limits.memory: with 6 blocks "
                            "in flight a record can be at most ",
                            0),
            0u)
      << e.message;
}

TEST(ConfigLoaderTest, ThreadsOutOfRange) {
  Error e = LoadError(std::string(kMinimal) + "limits: { threads: -1 }\n");
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.message, "Expected a whole number from 0 to 1024 for 'limits.threads', got '-1'");
}

TEST(ConfigLoaderTest, InvalidYamlNamesLineAndColumn) {
  Error e = LoadError("source:\n  path: [unclosed\nsink: {}\n");
  EXPECT_EQ(e.code, "FE-CONFIG-YAML");
  EXPECT_EQ(e.location.file, kYamlPath);
  EXPECT_GT(e.location.line, 0);
  EXPECT_EQ(e.message.rfind("Invalid YAML: ", 0), 0u) << e.message;
}

TEST(ConfigLoaderTest, EmptyFile) {
  Error e = LoadError("");
  EXPECT_EQ(e.code, "FE-CONFIG-MISSING-KEY");
  EXPECT_EQ(e.message, "The pipeline file is empty");
}

TEST(ConfigLoaderTest, PathKeysRememberWhereTheyWereSet) {
  // Aliasing is checked against the filesystem (core/io/file_identity.h); the loader
  // records where each path was configured for those messages.
  PipelineSpec spec = LoadPipelineSpecFromString(
      "source: { path: data.csv }\nsink:\n  path: ./data.csv\n", kYamlPath, {});
  EXPECT_EQ(spec.locations.at("sink.path").line, 3);
  EXPECT_EQ(spec.locations.at("sink.path").column, 9);
  EXPECT_EQ(spec.locations.at("source.path").line, 1);
}

TEST(ConfigLoaderTest, DuplicateKeysAtAnyLevelNameBothPlaces) {
  Error top = LoadError(std::string(kMinimal) + "sink: { path: other.csv }\n");
  EXPECT_EQ(top.code, "FE-CONFIG-DUPLICATE-KEY");
  EXPECT_EQ(top.location.line, 5);
  EXPECT_NE(top.message.find("Duplicate key 'sink' (first at line 3, column 1)"), std::string::npos)
      << top.message;
  Error nested = LoadError("source: { path: a.csv, path: b.csv }\nsink: { path: o.csv }\n");
  EXPECT_EQ(nested.code, "FE-CONFIG-DUPLICATE-KEY");
  EXPECT_NE(nested.message.find("'source.path'"), std::string::npos) << nested.message;
  Error in_list =
      LoadError(std::string(kMinimal) + "transform:\n  - javascript: { code: x, code: y }\n");
  EXPECT_EQ(in_list.code, "FE-CONFIG-DUPLICATE-KEY");
  EXPECT_NE(in_list.message.find("'transform[0].javascript.code'"), std::string::npos)
      << in_list.message;
}

TEST(ConfigLoaderTest, NulBytesInPathsAndNonFiniteNumbersAreRefused) {
  Error nul = LoadError("source: { path: \"in\\0.csv\" }\nsink: { path: o.csv }\n");
  EXPECT_EQ(nul.code, "FE-CONFIG-VALUE");
  EXPECT_NE(nul.message.find("NUL byte"), std::string::npos) << nul.message;
  const std::string skip =
      std::string(kMinimal) + "errorHandling: skip-row\ndeadLetter: { path: d.csv }\nmaxErrors: ";
  for (const char* bad :
       {"nan%", "NaN", "inf%", "1e3", "-1", "+5", "5.%", ".5%", "1.5", "101%", "0x10", "1.2.3%"}) {
    Error e = LoadError(skip + bad + "\n");
    EXPECT_EQ(e.code, "FE-CONFIG-VALUE") << bad;
  }
  for (const char* good : {"0", "10", "0%", "2.5%", "100%"}) {
    EXPECT_NO_THROW(LoadPipelineSpecFromString(skip + good + "\n", kYamlPath, {})) << good;
  }
}

TEST(ConfigLoaderTest, SetOverridesScalarsAndResolvesAgainstTheCurrentDirectory) {
  PipelineSpec spec =
      LoadPipelineSpecFromString(kMinimal, kYamlPath,
                                 {"source.path=/data/x.csv", "limits.threads=1",
                                  "sink.outputMode=replace", "sink.path=rel/out.csv"});
  EXPECT_EQ(spec.source.path, "/data/x.csv");
  EXPECT_EQ(spec.limits.threads, 1);
  EXPECT_EQ(spec.sink.mode, OutputMode::kReplace);
  EXPECT_EQ(spec.sink.path, (std::filesystem::current_path() / "rel/out.csv").string());
}

TEST(ConfigLoaderTest, SetReachesListItems) {
  const std::string yaml =
      "source: { path: [/d/a.csv, /d/b.csv] }\n"
      "transform:\n  - javascript: { code: 'function process() { return true; }' }\n"
      "sink: { path: /d/out.csv }\n";
  PipelineSpec spec = LoadPipelineSpecFromString(yaml, kYamlPath, {"source.path[1]=/e/b.csv"});
  EXPECT_EQ(spec.source.paths, (std::vector<std::string>{"/d/a.csv", "/e/b.csv"}));
  Error past = LoadError(yaml, {"source.path[2]=/e/c.csv"});
  EXPECT_EQ(past.code, "FE-CONFIG-SET");
  EXPECT_NE(past.message.find("past the end of the list (2 items)"), std::string::npos);
  Error not_list = LoadError(yaml, {"sink.path[0]=x"});
  EXPECT_EQ(not_list.code, "FE-CONFIG-SET");
  Error malformed = LoadError(yaml, {"source.path[x]=y"});
  EXPECT_EQ(malformed.code, "FE-CONFIG-SET");
  // A script file set on an item resolves against the current directory, like any --set.
  Error missing = LoadError(yaml, {"transform[0].javascript.file=nope.js"});
  EXPECT_EQ(missing.code, "FE-CONFIG-VALUE");  // file and code both set
}

TEST(ConfigLoaderTest, SetWithBadValueNamesTheOverride) {
  Error e = LoadError(kMinimal, {"sink.outputMode=sometimes"});
  EXPECT_EQ(e.code, "FE-CONFIG-VALUE");
  EXPECT_EQ(e.location.file, "--set sink.outputMode");
  EXPECT_EQ(e.location.line, 0);
}

TEST(ConfigLoaderTest, SetWithoutEquals) {
  Error e = LoadError(kMinimal, {"source.path"});
  EXPECT_EQ(e.code, "FE-CONFIG-SET");
  EXPECT_EQ(e.message, "Override without '=': 'source.path'");
}

TEST(ConfigLoaderTest, SetUnknownKeyIsStillAnError) {
  Error e = LoadError(kMinimal, {"sink.pth=x.csv"});
  EXPECT_EQ(e.code, "FE-CONFIG-UNKNOWN-KEY");
  EXPECT_NE(e.hint.find("Did you mean 'path'?"), std::string::npos);
}

TEST(ConfigLoaderTest, SetThroughAScalarIsAnError) {
  Error e = LoadError(kMinimal, {"sink.path.x=1"});
  EXPECT_EQ(e.code, "FE-CONFIG-SET");
}

TEST(ConfigLoaderTest, LoadFromMissingFile) {
  try {
    LoadPipelineSpec("/nonexistent/p.yaml");
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-CONFIG-FILE");
    EXPECT_EQ(e.error().message, "Cannot read the pipeline file '/nonexistent/p.yaml'");
  }
}

TEST(ConfigLoaderTest, ParseByteSize) {
  EXPECT_EQ(ParseByteSize("4096"), 4096);
  EXPECT_EQ(ParseByteSize("64KiB"), 64 * 1024);
  EXPECT_EQ(ParseByteSize("1 MiB"), 1024 * 1024);
  EXPECT_EQ(ParseByteSize("2GiB"), 2ll << 30);
  EXPECT_EQ(ParseByteSize("5MB"), 5000000);
  EXPECT_EQ(ParseByteSize("5 parsecs"), -1);
  EXPECT_EQ(ParseByteSize("-5"), -1);
  EXPECT_EQ(ParseByteSize(""), -1);
}

}  // namespace
}  // namespace flowengine
