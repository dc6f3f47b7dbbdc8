// TextDecoder: UTF-16 split across reads at every byte, surrogate pairs, unpaired
// surrogates, and the latin-1 / windows-1252 tables; DetectByteOrderMark.
#include "core/io/text_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error/error.h"

namespace flowengine {
namespace {

std::string DecodeInPieces(Encoding e, const std::string& in, size_t split) {
  TextDecoder d(e, "f.csv", 0);
  ByteBuffer out;
  d.Decode(in.data(), split, out);
  d.Decode(in.data() + split, in.size() - split, out);
  d.Finish();
  return std::string(out.data(), out.size());
}

TEST(TextDecoderTest, Utf16SplitAtEveryByteGivesTheSameText) {
  // "a,é\n北" then U+1F600 as a surrogate pair, little endian.
  const std::string le("a\0,\0\xE9\0\n\0\x17\x53\x3D\xD8\x00\xDE", 14);
  std::string be;
  for (size_t i = 0; i < le.size(); i += 2) be += std::string{le[i + 1], le[i]};
  const std::string want = "a,\xC3\xA9\n\xE5\x8C\x97\xF0\x9F\x98\x80";
  for (size_t split = 0; split <= le.size(); ++split) {
    EXPECT_EQ(DecodeInPieces(Encoding::kUtf16Le, le, split), want) << split;
    EXPECT_EQ(DecodeInPieces(Encoding::kUtf16Be, be, split), want) << split;
  }
}

TEST(TextDecoderTest, UnpairedSurrogatesAndHalfUnitsAreErrors) {
  ByteBuffer out;
  TextDecoder lone(Encoding::kUtf16Le, "f.csv", 2);
  const std::string low("a\0\x00\xDC", 4);
  try {
    lone.Decode(low.data(), low.size(), out);
    FAIL() << "no error";
  } catch (const ErrorException& e) {
    EXPECT_EQ(e.error().code, "FE-ENCODING-UTF16");
    EXPECT_EQ(e.error().location.byte_offset, 4);  // after the 2-byte mark and 'a'
  }
  TextDecoder high(Encoding::kUtf16Le, "f.csv", 0);
  const std::string h("\x3D\xD8", 2);
  high.Decode(h.data(), h.size(), out);  // waits for the low surrogate
  EXPECT_THROW(high.Finish(), ErrorException);
  TextDecoder half(Encoding::kUtf16Be, "f.csv", 0);
  half.Decode("\0", 1, out);
  EXPECT_THROW(half.Finish(), ErrorException);
}

TEST(TextDecoderTest, Latin1AndWindows1252) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string latin1 = DecodeInPieces(Encoding::kLatin1, all, 100);
  EXPECT_EQ(latin1.size(), 128u + 2 * 128u);
  EXPECT_EQ(latin1.substr(128, 2), "\xC2\x80");
  EXPECT_EQ(latin1.substr(latin1.size() - 2), "\xC3\xBF");
  const std::string cp = DecodeInPieces(Encoding::kWindows1252, "\x80\x81\x9F\xA0\xFF", 2);
  EXPECT_EQ(cp, "\xE2\x82\xAC\xC2\x81\xC5\xB8\xC2\xA0\xC3\xBF");  // € U+0081 Ÿ nbsp ÿ
}

TEST(TextDecoderTest, DetectsByteOrderMarks) {
  size_t len = 0;
  EXPECT_EQ(DetectByteOrderMark("\xEF\xBB\xBF"
                                "a",
                                4, &len),
            ByteOrderMark::kUtf8);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(DetectByteOrderMark("\xFF\xFE"
                                "a\0",
                                4, &len),
            ByteOrderMark::kUtf16Le);
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(DetectByteOrderMark("\xFE\xFF\0a", 4, &len), ByteOrderMark::kUtf16Be);
  EXPECT_EQ(DetectByteOrderMark("\xFF\xFE\0\0", 4, &len), ByteOrderMark::kUtf32Le);
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(DetectByteOrderMark("\0\0\xFE\xFF", 4, &len), ByteOrderMark::kUtf32Be);
  EXPECT_EQ(DetectByteOrderMark("id,n", 4, &len), ByteOrderMark::kNone);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(DetectByteOrderMark("\xEF\xBB", 2, &len), ByteOrderMark::kNone);
}

}  // namespace
}  // namespace flowengine
