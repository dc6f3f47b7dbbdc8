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
TEST(Utf8CheckTest, IsAsciiFindsOneHighByteAnywhere) {
  // One byte >= 0x80 at every position of texts around the 8-byte words and 256-byte chunks
  // (and none): the model is a byte-by-byte check.
  for (size_t size : {0, 1, 7, 8, 9, 255, 256, 257, 511, 512, 513, 1000}) {
    std::string text(size, 'a');
    EXPECT_TRUE(IsAscii(text.data(), text.size())) << size;
    for (size_t at = 0; at < size; ++at) {
      text[at] = static_cast<char>(at % 2 == 0 ? 0x80 : 0xFF);
      EXPECT_FALSE(IsAscii(text.data(), text.size())) << size << " " << at;
      text[at] = '\x7f';
    }
  }
}

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
