// Every example pipeline in configs/ validates and runs (its sink redirected to a scratch
// directory so that the repository stays clean); one marked "# expect-failure: CODE" fails
// with that code and leaves no output.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Examples() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(std::string(FLOWENGINE_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ConfigsTest, ThereAreExamples) { EXPECT_GE(Examples().size(), 2u); }

// Names of the routes a pipeline file declares (entries of its top-level `routes:` map).
std::vector<std::string> RouteNames(const std::string& yaml) {
  std::vector<std::string> names;
  std::istringstream in(ReadFile(yaml));
  bool in_routes = false;
  std::regex entry(R"(^  ([A-Za-z0-9_-]+):)");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#')
      in_routes = line.rfind("routes:", 0) == 0;
    std::smatch m;
    if (in_routes && std::regex_search(line, m, entry)) names.push_back(m[1]);
  }
  return names;
}

TEST(ConfigsTest, EveryExampleValidatesAndRuns) {
  for (const std::string& yaml : Examples()) {
    SCOPED_TRACE(yaml);
    TempDir dir;
    std::vector<std::string> overrides = {"--set", "sink.path=" + dir.File("out")};
    if (ReadFile(yaml).find("\ndeadLetter:") != std::string::npos) {
      overrides.insert(overrides.end(), {"--set", "deadLetter.path=" + dir.File("rejects")});
    }
    const std::vector<std::string> routes = RouteNames(yaml);
    for (const std::string& route : routes) {
      overrides.insert(overrides.end(),
                       {"--set", "routes." + route + ".path=" + dir.File("route-" + route)});
    }
    std::vector<std::string> validate = {"validate", yaml};
    validate.insert(validate.end(), overrides.begin(), overrides.end());
    ProcessResult v = Flowengine(validate);
    EXPECT_EQ(v.exit_code, 0) << v.err;
    std::vector<std::string> run = {"run", yaml};
    run.insert(run.end(), overrides.begin(), overrides.end());
    ProcessResult r = Flowengine(run);
    // An example that fails on purpose says so: "# expect-failure: CODE".
    std::smatch expected;
    const std::string text = ReadFile(yaml);
    if (std::regex_search(text, expected, std::regex("# expect-failure: ([A-Z0-9-]+)"))) {
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("error " + expected[1].str()), std::string::npos) << r.err;
      EXPECT_FALSE(FileExists(dir.File("out"))) << "a failed run must not leave its output";
      continue;
    }
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(" rows written"), std::string::npos) << r.err;
    ASSERT_TRUE(FileExists(dir.File("out")));
    EXPECT_GT(ReadFile(dir.File("out")).size(), 0u);
    for (const std::string& route : routes) EXPECT_TRUE(FileExists(dir.File("route-" + route)));
  }
}

TEST(ConfigsTest, InspectShowsEveryExample) {
  for (const std::string& yaml : Examples()) {
    SCOPED_TRACE(yaml);
    ProcessResult text = Flowengine({"inspect", yaml});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("stages (the compiled graph, in order):\n  read       serial"),
              std::string::npos)
        << text.out;
    // One graph node per transform step, in order.
    const std::string file = ReadFile(yaml);
    size_t steps = 0;
    for (size_t at = file.find("\n  - javascript:"); at != std::string::npos;
         at = file.find("\n  - javascript:", at + 1)) {
      ++steps;
    }
    size_t last_at = text.out.find("  parse      parallel");
    for (size_t k = 0; k < steps; ++k) {
      const size_t at =
          text.out.find("  transform[" + std::to_string(k) + "] parallel  javascript ");
      EXPECT_NE(at, std::string::npos) << text.out;
      EXPECT_GT(at, last_at) << text.out;
      last_at = at;
    }
    EXPECT_EQ(text.out.find("transform[" + std::to_string(steps) + "]"), std::string::npos);
    EXPECT_NE(text.out.find("  parse      parallel  out: id:"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("blocks in flight"), std::string::npos) << text.out;
    ProcessResult dot = Flowengine({"inspect", yaml, "--format", "dot"});
    EXPECT_EQ(dot.exit_code, 0) << dot.err;
    EXPECT_EQ(dot.out.rfind("digraph ", 0), 0u) << dot.out;
    EXPECT_NE(dot.out.find("  format -> sequencer;\n  sequencer -> write;\n"), std::string::npos)
        << dot.out;
    EXPECT_NE(dot.out.find("  write -> limiter [style=dashed, label=\"decrement\"];"),
              std::string::npos)
        << dot.out;
    EXPECT_NE(dot.out.find("  write -> sink;"), std::string::npos) << dot.out;
    if (steps > 0) {
      EXPECT_NE(dot.out.find("  parse -> transform0;"), std::string::npos) << dot.out;
      EXPECT_NE(dot.out.find("  transform" + std::to_string(steps - 1) + " -> format;"),
                std::string::npos)
          << dot.out;
    }
  }
  ProcessResult enrich = Flowengine(
      {"inspect", std::string(FLOWENGINE_SOURCE_DIR) + "/configs/customer-enrichment.yaml"});
  EXPECT_NE(enrich.out.find("  transform[0] parallel  javascript "), std::string::npos)
      << enrich.out;
  EXPECT_NE(enrich.out.find("out: id:string, full_name:string, email:string"), std::string::npos)
      << enrich.out;
  EXPECT_NE(enrich.out.find("  route review  "), std::string::npos) << enrich.out;
}

TEST(ConfigsTest, CustomerEnrichmentProducesTheDerivedColumns) {
  const std::string yaml = std::string(FLOWENGINE_SOURCE_DIR) + "/configs/customer-enrichment.yaml";
  TempDir dir;
  ProcessResult r = Flowengine({"run", yaml, "--set", "sink.path=" + dir.File("out.csv"), "--set",
                                "routes.review.path=" + dir.File("review.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = ReadFile(dir.File("out.csv"));
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "id,full_name,email,email_domain,age_category,value_category,priority_score,amount");
  EXPECT_NE(out.find("\n1,José Núñez,jose.nunez@example.com,example.com,Adult,Medium,45,1250.50\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\n5,James Brown,james.brown@example.com,example.com,Unknown,Low,0,0.00\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(ReadFile(dir.File("review.csv")),
            out.substr(0, out.find('\n') + 1) +
                "3,Zoë Müller,zoe.muller@corp.example,corp.example,Adult,High,70,15000.00\n");
}

}  // namespace
}  // namespace flowengine::testing
