#include "core/io/binary_formats.h"

#include <cstring>

namespace flowengine {
namespace {

struct Magic {
  const char* bytes;
  size_t length;
  const char* name;
};

// Magic numbers that no CSV, TSV or PSV file starts with (checked by their first bytes: a
// control byte or a non-UTF-8 byte in the first few positions).
constexpr Magic kMagics[] = {
    {"\x1f\x8b", 2, "a gzip file (compressed)"},
    {"\x28\xb5\x2f\xfd", 4, "a zstd file (compressed)"},
    {"\xfd\x37\x7a\x58\x5a\x00", 6, "an xz file (compressed)"},
    {"\x04\x22\x4d\x18", 4, "an lz4 file (compressed)"},
    {"\x37\x7a\xbc\xaf\x27\x1c", 6, "a 7-Zip archive"},
    {"PK\x03\x04", 4, "a zip archive (or an .xlsx/.ods spreadsheet)"},
    {"PK\x05\x06", 4, "an empty zip archive"},
    {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "an OLE document (e.g. an .xls spreadsheet)"},
    {"PAR1", 4, nullptr},  // Parquet: checked below (a header "PAR1,..." is plausible text)
    {"SQLite format 3\x00", 16, "an SQLite database"},
    {"\x7f"
     "ELF",
     4, "an ELF executable"},
    {"\x89PNG\r\n\x1a\n", 8, "a PNG image"},
};

}  // namespace

const char* BinaryFormatName(const char* head, size_t size) {
  for (const Magic& m : kMagics) {
    if (m.name == nullptr || size < m.length) continue;
    if (std::memcmp(head, m.bytes, m.length) == 0) return m.name;
  }
  // bzip2: "BZh" + block size digit + the block magic (pi) or the end-of-stream magic.
  if (size >= 10 && std::memcmp(head, "BZh", 3) == 0 && head[3] >= '1' && head[3] <= '9' &&
      (std::memcmp(head + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
       std::memcmp(head + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0)) {
    return "a bzip2 file (compressed)";
  }
  // Parquet: "PAR1" followed by a binary page header (a control byte within 8 bytes).
  if (size >= 8 && std::memcmp(head, "PAR1", 4) == 0) {
    for (size_t i = 4; i < 8; ++i) {
      const unsigned char c = static_cast<unsigned char>(head[i]);
      if (c < 0x09 || (c > 0x0d && c < 0x20)) return "a Parquet file";
    }
  }
  return nullptr;
}

}  // namespace flowengine
