// Invalid UTF-8 through the real binary, also at block edges: fail-fast names the line and
// byte; skip-row sends exactly the affected records to the dead letters.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace flowengine::testing {
namespace {

TEST(EncodingTest, InvalidUtf8AtBlockEdges) {
  TempDir dir;
  std::string content = "id,name\n";
  std::string good = content;
  std::vector<int> bad_lines;
  for (int i = 0; i < 3000; ++i) {
    std::string row = std::to_string(i) + ",";
    if (i % 97 == 13) {
      row += "caf\xE9 latin-1";  // not UTF-8
      bad_lines.push_back(i + 2);
    } else {
      row += "café utf-8";
      good += row + "\n";
    }
    content += row + "\n";
  }
  WriteFile(dir.File("in.csv"), content);
  std::string p = WritePipeline(dir, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "errorHandling: skip-row\ndeadLetter: { path: bad.csv }\n"
                                "limits: { blockSize: 4KiB }\n");
  ProcessResult r = Flowengine({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.File("out.csv")), good);
  const std::string dead = ReadFile(dir.File("bad.csv"));
  for (int line : bad_lines) {
    EXPECT_NE(dead.find("\n" + std::to_string(line) + ","), std::string::npos) << line;
  }
  EXPECT_NE(dead.find(",parse,FE-ENCODING-UTF8,encoding,Invalid UTF-8 in column 'name': byte "
                      "0xE9,"),
            std::string::npos)
      << dead;
  EXPECT_NE(r.err.find("FE-ENCODING-UTF8 " + std::to_string(bad_lines.size())), std::string::npos)
      << r.err;

  TempDir dir2;
  WriteFile(dir2.File("in.csv"), content);
  std::string f = WritePipeline(dir2, "p.yaml",
                                "source: { path: in.csv }\nsink: { path: out.csv }\n"
                                "limits: { blockSize: 4KiB }\n");
  ProcessResult ff = Flowengine({"run", f});
  EXPECT_EQ(ff.exit_code, 1);
  EXPECT_NE(ff.err.find(dir2.File("in.csv") + ":" + std::to_string(bad_lines[0]) +
                        ":7: error FE-ENCODING-UTF8"),
            std::string::npos)
      << ff.err;
}

}  // namespace
}  // namespace flowengine::testing
