// Logger: JSON lines with fields and escaping, text lines, level filtering, the category of
// an error's stage.
#include "core/log/logger.h"

#include <gtest/gtest.h>

#include <sstream>

namespace flowengine {
namespace {

class LoggerTest : public ::testing::Test {
 protected:
  void TearDown() override { ConfigureLogger(LogLevel::kInfo, LogFormat::kText); }
  std::ostringstream out_;
};

TEST_F(LoggerTest, JsonLineHasLevelCategoryMessageAndTypedFields) {
  ConfigureLogger(LogLevel::kInfo, LogFormat::kJson, &out_);
  Log(LogLevel::kWarn, LogCategory::kSource, "say \"hi\"\n",
      {LogField::Num("line", 12), LogField::Str("file", "a\\b.csv")});
  const std::string line = out_.str();
  EXPECT_EQ(line.rfind("{\"time\":\"", 0), 0u) << line;
  EXPECT_NE(line.find("\"level\":\"warn\",\"category\":\"source\",\"message\":\"say \\\"hi\\\"\\n\""
                      ",\"line\":12,\"file\":\"a\\\\b.csv\"}\n"),
            std::string::npos)
      << line;
}

TEST_F(LoggerTest, ErrorsCarryTheirLocationInJsonAndTextForm) {
  Location loc;
  loc.file = "in.csv";
  loc.line = 3;
  loc.column = 7;
  loc.byte_offset = 40;
  loc.field = "age";
  Error e = MakeError("FE-SCHEMA-TYPE", "Value is not a valid int32", loc, "parse");
  ConfigureLogger(LogLevel::kInfo, LogFormat::kJson, &out_);
  LogError(e, {LogField::Num("dead_letter_row", 2)}, LogLevel::kWarn);
  const std::string json = out_.str();
  for (const char* part :
       {"\"level\":\"warn\"", "\"category\":\"source\"", "\"code\":\"FE-SCHEMA-TYPE\"",
        "\"class\":\"schema\"", "\"stage\":\"parse\"", "\"file\":\"in.csv\"", "\"line\":3",
        "\"column\":7", "\"byte_offset\":40", "\"field\":\"age\"", "\"dead_letter_row\":2"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << " in " << json;
  }
  std::ostringstream text;
  ConfigureLogger(LogLevel::kInfo, LogFormat::kText, &text);
  LogError(e);
  EXPECT_EQ(
      text.str().rfind("flowengine: in.csv:3:7: error FE-SCHEMA-TYPE (schema, stage parse)", 0), 0u)
      << text.str();
}

TEST_F(LoggerTest, LevelsBelowTheConfiguredOneAreDropped) {
  ConfigureLogger(LogLevel::kWarn, LogFormat::kText, &out_);
  Log(LogLevel::kInfo, LogCategory::kEngine, "quiet");
  Log(LogLevel::kDebug, LogCategory::kEngine, "quieter");
  Log(LogLevel::kError, LogCategory::kEngine, "loud");
  EXPECT_EQ(out_.str(), "flowengine: loud\n");
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
}

TEST_F(LoggerTest, ScriptLinesSayWhereInText) {
  ConfigureLogger(LogLevel::kDebug, LogFormat::kText, &out_);
  Log(LogLevel::kInfo, LogCategory::kScript, "saw Ann",
      {LogField::Str("file", "in.csv"), LogField::Num("line", 2)});
  EXPECT_EQ(out_.str(), "flowengine: script info [in.csv:2]: saw Ann\n");
}

TEST(LoggerNamesTest, JsonQuoteKeepsUtf8AndReplacesBrokenBytes) {
  EXPECT_EQ(JsonQuote("Zoë 北京 😀"), "\"Zoë 北京 😀\"");
  // A message cut inside a character, a lone continuation byte, an overlong form.
  EXPECT_EQ(JsonQuote("caf\xC3"), "\"caf\\ufffd\"");
  EXPECT_EQ(JsonQuote("a\x80"
                      "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(JsonQuote("\xC0\xAF"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonQuote("tab\tq\"\\"), "\"tab\\u0009q\\\"\\\\\"");
}

TEST(LoggerNamesTest, ParseAndCategories) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("verbose"));
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml"));
  EXPECT_EQ(CategoryOfStage("parse"), LogCategory::kSource);
  EXPECT_EQ(CategoryOfStage("transform"), LogCategory::kTransform);
  EXPECT_EQ(CategoryOfStage("commit"), LogCategory::kSink);
  EXPECT_EQ(CategoryOfStage("config"), LogCategory::kConfig);
  EXPECT_EQ(CategoryOfStage("run"), LogCategory::kEngine);
}

}  // namespace
}  // namespace flowengine
