// libFuzzer target for the whole delimited source (nodes/delimited_source.cc) read the way a
// run reads it — preamble (source.skipRows), header, blocks of whole records, parse under
// skip-row, source.maxRows — against a reference built from the grammar (core/csv/grammar.h)
// one record at a time. Byte 0 picks skipRows (0-3), header, maxRows, skipBlankLines and the
// quoting (RFC 4180 or none); byte 1 the maxRows value; the rest is the file, read in 4 KiB
// blocks so that records cross block edges. Checked: the header error (or none), the
// records handed out (none lost, none invented, maxRows respected) and, for every rejected
// record, its line: stray quotes and field-count errors reject one record each and parsing
// goes on at the next record end.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/csv/grammar.h"
#include "core/csv/utf8_check.h"
#include "core/error/error.h"
#include "core/io/binary_formats.h"
#include "nodes/delimited_source.h"

namespace {

#define CHECK(condition)                                                                          \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "source_fuzzer: check failed at line %d: %s\n", __LINE__, #condition); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)

using flowengine::RecordEnd;
using flowengine::RecordScan;
using flowengine::ScanStatus;

struct Expected {
  bool header_error = false;
  std::vector<int64_t> good_lines;  // first line of every record handed out and parsed
  std::vector<int64_t> bad_lines;   // first line of every rejected record
};

// The reference: the grammar applied one record at a time, as the documentation says.
Expected Reference(const std::string& text, const flowengine::SourceSpec& spec, uint32_t ncols,
                   uint32_t* header_columns) {
  Expected e;
  const char* data = text.data();
  const size_t size = text.size();
  size_t pos = 0;
  int64_t line = 1;
  for (int64_t k = 0; k < spec.skip_rows && pos < size; ++k) {
    while (pos < size && data[pos] != '\n' && data[pos] != '\r') ++pos;
    if (pos < size) pos += (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n') ? 2 : 1;
    ++line;
  }
  if (spec.header) {
    while (spec.skip_blank_lines && pos < size && (data[pos] == '\n' || data[pos] == '\r')) {
      pos += (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n') ? 2 : 1;
      ++line;
    }
    if (pos >= size) {
      e.header_error = true;
      return e;
    }
    std::vector<std::string> names;
    const RecordScan h = ScanRecord(data, pos, size, spec.dialect, true, &names);
    bool bad =
        h.problem != ScanStatus::kOk || !flowengine::IsValidUtf8(data + pos, h.content_end - pos);
    ncols = static_cast<uint32_t>(names.size());
    *header_columns = ncols;
    for (size_t i = 0; i < names.size(); ++i) {
      bad = bad || names[i].empty();
      for (size_t j = 0; j < i; ++j) bad = bad || names[i] == names[j];
    }
    if (bad) {
      e.header_error = true;
      return e;
    }
    pos = h.next;
    line += h.line_breaks;
  }
  int64_t left = spec.max_rows;
  while (pos < size && left != 0) {
    const RecordScan r = ScanRecord(data, pos, size, spec.dialect, true);
    if (!(r.blank && spec.skip_blank_lines)) {
      const bool ok = r.problem == ScanStatus::kOk && r.fields == ncols &&
                      flowengine::IsValidUtf8(data + pos, r.content_end - pos);
      (ok ? e.good_lines : e.bad_lines).push_back(line);
      if (left > 0) --left;
    }
    line += r.line_breaks;
    pos = r.next;
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  flowengine::SourceSpec spec;
  spec.skip_rows = data[0] & 3;
  spec.header = (data[0] & 4) != 0;
  spec.max_rows = (data[0] & 8) != 0 ? 1 + data[1] % 64 : -1;
  spec.skip_blank_lines = (data[0] & 16) == 0;
  if ((data[0] & 32) != 0) spec.dialect.quote = '\0';
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  // Byte order marks (which switch the decoding) and binary magic bytes are other targets'.
  if (!text.empty()) {
    const auto first = static_cast<unsigned char>(text[0]);
    if (first == 0xEF || first == 0xFE || first == 0xFF || first == 0x00 ||
        flowengine::BinaryFormatName(text.data(), text.size()) != nullptr) {
      return 0;
    }
  }
  // A header of three columns, or three declared columns.
  const uint32_t ncols = 3;
  for (uint32_t c = 0; c < ncols; ++c) {
    spec.columns.push_back({"c" + std::to_string(c), flowengine::ColumnType::kString, false});
  }
  if (spec.header) spec.columns.clear();

  const int fd = memfd_create("source_fuzzer", MFD_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  spec.path = "/proc/self/fd/" + std::to_string(fd);
  flowengine::LimitsSpec limits;
  limits.block_size = 4096;
  limits.max_record_size = 1 << 20;
  limits.memory = 64 << 20;
  limits.threads = 1;

  uint32_t header_columns = ncols;
  const Expected want = Reference(text, spec, ncols, &header_columns);
  flowengine::DelimitedSource source(spec, limits, /*skip_bad_rows=*/true);
  std::vector<int64_t> good, bad;
  try {
    source.Open();
    CHECK(!want.header_error);
    CHECK(source.schema().size() == header_columns);
    flowengine::Chunk chunk;
    while (source.ReadBlock(chunk.block)) {
      chunk.ResetForReuse();
      source.Parse(chunk);
      CHECK(!chunk.error.has_value());
      for (size_t r = 0; r < chunk.batch.num_rows; ++r) {
        good.push_back(chunk.block.first_line + chunk.batch.rows[r].line_delta);
      }
      for (const flowengine::Reject& r : chunk.rejects) bad.push_back(r.line);
    }
  } catch (const flowengine::ErrorException&) {
    // A header problem, or a record larger than the limit (not modelled: inputs are small).
    CHECK(want.header_error);
    close(fd);
    return 0;
  }
  close(fd);
  // Good and bad lines interleave in the file; each list must match in order.
  CHECK(good == want.good_lines);
  CHECK(bad == want.bad_lines);
  return 0;
}
