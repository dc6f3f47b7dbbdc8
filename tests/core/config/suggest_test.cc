#include "core/config/suggest.h"

#include <gtest/gtest.h>

#include <array>

namespace flowengine {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("outputMode", "outputMode"), 0u);
  EXPECT_EQ(EditDistance("outpuMode", "outputMode"), 1u);
  EXPECT_EQ(EditDistance("OUTPUTMODE", "outputMode"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(SuggestTest, ClosestOrNothing) {
  constexpr std::array<std::string_view, 3> kNames{"path", "format", "header"};
  EXPECT_EQ(SuggestClosest("pth", kNames), "path");
  EXPECT_EQ(SuggestClosest("heder", kNames), "header");
  EXPECT_EQ(SuggestClosest("completely-different", kNames), "");
}

}  // namespace
}  // namespace flowengine
