// AppendUtf16AsUtf8 against a reference encoder (one unit at a time, the textbook way) on
// random UTF-16 made of ASCII runs of every length around the eight-unit fast path,
// two- and three-byte characters, surrogate pairs and lone surrogates at every position.
#include "core/js/utf16_to_utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace flowengine::js {
namespace {

std::string Reference(const std::vector<uint16_t>& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t c = text[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.size() && text[i + 1] >= 0xDC00 &&
        text[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (text[++i] - 0xDC00u);
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string Convert(const std::vector<uint16_t>& text, const std::string& before) {
  ByteBuffer arena;
  arena.Append(before.data(), before.size());
  const uint32_t bytes = AppendUtf16AsUtf8(text.data(), text.size(), arena);
  EXPECT_EQ(arena.size(), before.size() + bytes);
  return std::string(arena.data(), arena.size());
}

TEST(Utf16ToUtf8Test, EdgeCases) {
  EXPECT_EQ(Convert({}, "x"), "x");
  EXPECT_EQ(Convert({'a', 'b'}, ""), "ab");
  EXPECT_EQ(Convert({0x7F, 0x80, 0x7FF, 0x800, 0xFFFF}, ""),
            "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF");
  EXPECT_EQ(Convert({0xD83D, 0xDE00}, ""), "\xF0\x9F\x98\x80");  // a pair
  EXPECT_EQ(Convert({0xD83D, 'a'}, ""),
            "\xEF\xBF\xBD"
            "a");                                                        // lone high
  EXPECT_EQ(Convert({0xDE00, 0xD83D}, ""), "\xEF\xBF\xBD\xEF\xBF\xBD");  // reversed
  // A non-ASCII unit right after, and right at the end of, eight ASCII units.
  std::vector<uint16_t> text(8, 'q');
  text.push_back(0xE9);
  EXPECT_EQ(Convert(text, ""), "qqqqqqqq\xC3\xA9");
  text.insert(text.begin(), 0xE9);
  EXPECT_EQ(Convert(text, ""), "\xC3\xA9qqqqqqqq\xC3\xA9");
}

TEST(Utf16ToUtf8Test, AgreesWithTheReferenceOnRandomText) {
  std::mt19937 rng(1302);
  const uint16_t specials[] = {0x80,   0xE9,   0xFF,   0x100,  0x7FF,  0x800,  0x20AC, 0xFFFD,
                               0xFFFF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD83D, 0xDE00};
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint16_t> text;
    const size_t pieces = rng() % 6;
    for (size_t p = 0; p < pieces; ++p) {
      const size_t ascii = rng() % 20;  // runs around the eight-unit fast path
      for (size_t k = 0; k < ascii; ++k) text.push_back(static_cast<uint16_t>(0x20 + rng() % 0x5F));
      const size_t others = rng() % 3;
      for (size_t k = 0; k < others; ++k) {
        text.push_back(rng() % 2 ? specials[rng() % std::size(specials)]
                                 : static_cast<uint16_t>(rng() % 0x10000));
      }
    }
    const std::string before(rng() % 3, 'p');
    ASSERT_EQ(Convert(text, before), before + Reference(text)) << "round " << round;
  }
}

}  // namespace
}  // namespace flowengine::js
