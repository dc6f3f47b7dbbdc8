#include "core/csv/utf8_check.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace flowengine {
namespace {

TEST(Utf8CheckTest, ValidText) {
  const std::string text = "plain, Zoë, 北京, 😀, \x7f";
  EXPECT_TRUE(IsValidUtf8(text.data(), text.size()));
  EXPECT_TRUE(InvalidUtf8Offsets(text.data(), text.size()).empty());
}

TEST(Utf8CheckTest, FindsEveryInvalidSequence) {
  // latin-1 é, a lone continuation byte, an overlong '/', a surrogate, a truncated 3-byte
  // sequence at the end.
  const std::string text =
      "a\xE9"
      "b\x80"
      "c\xC0\xAF"
      "d\xED\xA0\x80"
      "e\xE2\x82";
  EXPECT_FALSE(IsValidUtf8(text.data(), text.size()));
  EXPECT_EQ(InvalidUtf8Offsets(text.data(), text.size()),
            (std::vector<size_t>{1, 3, 5, 6, 8, 9, 10, 12, 13}));
}

// The SIMD validator and the scalar finder agree on random byte strings.
TEST(Utf8CheckTest, SimdAndScalarAgree) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"a",
                                           ",",
                                           "é",
                                           "北",
                                           "😀",
                                           "\xE9",
                                           "\x80",
                                           "\xC3",
                                           "\xF0\x9F",
                                           "\xED\xA0\x80",
                                           "\xF4\x90\x80\x80"};
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    ASSERT_EQ(IsValidUtf8(s.data(), s.size()), InvalidUtf8Offsets(s.data(), s.size()).empty())
        << ::testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace flowengine
