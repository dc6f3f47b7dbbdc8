#include "nodes/delimited_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/csv/grammar.h"
#include "core/csv/record_splitter.h"
#include "core/csv/scan_kernel.h"
#include "core/csv/utf8_check.h"
#include "core/io/binary_formats.h"
#include "core/io/compression.h"

namespace flowengine {

DelimitedSource::DelimitedSource(SourceSpec spec, LimitsSpec limits, bool skip_bad_rows,
                                 size_t transform_steps)
    : spec_(std::move(spec)),
      plan_(PlanMemory(limits, transform_steps)),
      skip_bad_rows_(skip_bad_rows) {}

void DelimitedSource::Open() {
  paths_ = spec_.paths.empty() ? std::vector<std::string>{spec_.path} : spec_.paths;
  names_.clear();
  input_size_ = 0;
  for (const std::string& p : paths_) {
    names_.push_back(p == "-" ? "<stdin>" : p);
    struct stat st {};
    if (p != "-" && ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) input_size_ += st.st_size;
  }
  parser_options_.dialect = spec_.dialect;
  parser_options_.kernel = &BestKernel();
  parser_options_.keep_blank_lines = !spec_.skip_blank_lines;
  rows_left_ = spec_.max_rows;
  pending_.Reserve(plan_.block_size);
  OpenFile(0);
  if (spec_.header) {
    ReadHeader();
  } else {
    schema_.columns = spec_.columns;
  }
  parser_options_.schema = &schema_;
  CheckOtherFiles();
}

void DelimitedSource::OpenFile(size_t index) {
  unzip_.reset();  // its thread reads file_: gone first
  decoder_.reset();
  file_ = std::make_unique<InputFile>();
  file_->SetRetryPolicy(retry_);
  file_->SetStopFlag(stop_);
  file_index_ = index;
  file_->Open(paths_[index]);
  parser_options_.file = names_[index];
  eof_ = false;
  next_line_ = 1;
  next_offset_ = 0;
  pending_.Clear();
  StartDecoding();
  SkipPreamble();
}

void DelimitedSource::CheckOtherFiles() const {
  for (size_t i = 1; i < paths_.size(); ++i) {
    struct stat st {};
    // A pipe or FIFO is not read twice: its header is checked when the run reaches it.
    if (::stat(paths_[i].c_str(), &st) == 0 && !S_ISREG(st.st_mode)) continue;
    SourceSpec one = spec_;
    one.paths = {paths_[i]};
    one.path = paths_[i];
    one.max_rows = -1;
    DelimitedSource other(std::move(one), LimitsSpec{}, false, false);
    other.SetRetryPolicy(retry_);
    other.SetStopFlag(stop_);
    other.Open();
    if (!spec_.header) continue;
    std::vector<std::string> mine, theirs;
    for (const ColumnSpec& c : schema_.columns) mine.push_back(c.name);
    for (const ColumnSpec& c : other.schema_.columns) theirs.push_back(c.name);
    if (mine != theirs) {
      const auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (const std::string& n : v) out += (out.empty() ? "" : ",") + n;
        return out;
      };
      Location loc;
      loc.file = names_[i];
      loc.line = 1;
      Error e =
          MakeError("FE-CONFIG-HEADER",
                    "The header of this input file differs from the first file's (" + names_[0] +
                        "): found '" + join(theirs) + "', expected '" + join(mine) + "'",
                    loc, "read");
      e.hint =
          "Every file of source.path is read as one input with one header: give them the "
          "same columns in the same order, or read them in separate runs.";
      throw ErrorException(std::move(e));
    }
  }
}

bool DelimitedSource::NextFile() {
  if (file_index_ + 1 >= paths_.size()) return false;
  OpenFile(file_index_ + 1);
  if (!spec_.header) return true;
  const std::vector<std::string> names = ReadHeaderNames();
  std::vector<std::string> mine;
  for (const ColumnSpec& c : schema_.columns) mine.push_back(c.name);
  if (names != mine) {
    std::string found;
    for (const std::string& n : names) found += (found.empty() ? "" : ",") + n;
    FailHeader("The header differs from the first file's (" + names_[0] + ")", found);
  }
  return true;
}

size_t DelimitedSource::ReadInput(char* dst, size_t n) {
  return unzip_ != nullptr ? unzip_->Read(dst, n) : file_->Read(dst, n);
}

size_t DelimitedSource::ReadInputSome(char* dst, size_t n) {
  return unzip_ != nullptr ? unzip_->ReadSome(dst, n) : file_->ReadSome(dst, n);
}

size_t DelimitedSource::ReadHead(char* head, size_t size) {
  // A pipe may deliver less at first: a line ending among the bytes is enough (no binary
  // format starts with text and a line break), so a slow producer's header is not held back.
  size_t got = 0;
  eof_ = false;
  while (got < size) {
    const size_t n = ReadInputSome(head + got, size - got);
    if (n == 0) {
      eof_ = true;
      break;
    }
    got += n;
    if (std::find_if(head, head + got, [](char c) { return c == '\n' || c == '\r'; }) !=
        head + got) {
      break;
    }
  }
  return got;
}

void DelimitedSource::StartDecoding() {
  // Up to 16 bytes decide the compression, the encoding and recognise binary formats.
  char head[16];
  size_t got = ReadHead(head, sizeof(head));
  if (got < 4 && !eof_) got += ReadInput(head + got, 4 - got);  // a magic needs 4 bytes
  if (const Compression c = DetectCompression(head, got); c != Compression::kNone) {
    // Decompressed on a thread of its own; everything below reads the decompressed bytes,
    // and offsets in messages count them.
    compression_ = c;
    unzip_ = std::make_unique<DecompressingReader>(*file_, c, head, got);
    got = ReadHead(head, sizeof(head));
  }
  if (const char* format = BinaryFormatName(head, got)) {
    Location loc;
    loc.file = names_[file_index_];
    loc.line = 1;
    loc.byte_offset = 0;
    Error e = MakeError("FE-INPUT-BINARY",
                        "The input is " + std::string(format) +
                            ", not delimited text: FlowEngine reads CSV, TSV and PSV files",
                        loc, "read");
    throw ErrorException(std::move(e));
  }
  size_t mark_length = 0;
  const ByteOrderMark mark = DetectByteOrderMark(head, got, &mark_length);
  Encoding encoding = spec_.encoding;
  const auto fail = [&](const std::string& message) {
    Location loc;
    loc.file = names_[file_index_];
    loc.line = 1;
    loc.byte_offset = 0;
    ThrowError("FE-ENCODING-BOM", message, loc, "read");
  };
  if (mark == ByteOrderMark::kUtf32Le || mark == ByteOrderMark::kUtf32Be) {
    fail(
        "The file starts with a UTF-32 byte order mark; FlowEngine reads UTF-8, UTF-16, "
        "latin-1 and windows-1252");
  }
  if (mark != ByteOrderMark::kNone) {
    const Encoding marked = mark == ByteOrderMark::kUtf8      ? Encoding::kUtf8
                            : mark == ByteOrderMark::kUtf16Le ? Encoding::kUtf16Le
                                                              : Encoding::kUtf16Be;
    if (spec_.encoding != Encoding::kUtf8) {
      fail("The file starts with a " + std::string(EncodingName(marked)) +
           " byte order mark but source.encoding is " + std::string(EncodingName(spec_.encoding)));
    }
    encoding = marked;
  }
  next_offset_ = static_cast<int64_t>(mark_length);
  if (encoding != Encoding::kUtf8) {
    decoder_ = std::make_unique<TextDecoder>(encoding, names_[file_index_], next_offset_);
    decoder_->Decode(head + mark_length, got - mark_length, pending_);
    // Offsets in messages now count the decoded (UTF-8) text, from the first character.
    next_offset_ = 0;
    if (eof_) decoder_->Finish();
  } else {
    pending_.Append(head + mark_length, got - mark_length);
  }
}

void DelimitedSource::FillMore() {
  if (eof_) return;
  if (decoder_ != nullptr) {
    raw_.resize(plan_.block_size);
    const size_t got = ReadInputSome(raw_.data(), raw_.size());
    decoder_->Decode(raw_.data(), got, pending_);
    if (got == 0) {
      eof_ = true;
      decoder_->Finish();
    }
  } else {
    const size_t old = pending_.size();
    pending_.Resize(old + plan_.block_size);
    const size_t got = ReadInputSome(pending_.data() + old, plan_.block_size);
    pending_.Resize(old + got);
    if (got == 0) eof_ = true;
  }
  pending_.ZeroTail();
}

void DelimitedSource::Fill(size_t want) {
  while (!eof_ && pending_.size() < want) {
    const size_t old = pending_.size();
    if (decoder_ != nullptr) {
      raw_.resize(std::max<size_t>((want - old) / 2, 4096));
      const size_t got = ReadInput(raw_.data(), raw_.size());
      decoder_->Decode(raw_.data(), got, pending_);
      if (got < raw_.size()) {
        eof_ = true;
        decoder_->Finish();
      }
      continue;
    }
    pending_.Resize(want);
    const size_t got = ReadInput(pending_.data() + old, want - old);
    pending_.Resize(old + got);
    if (got < want - old) eof_ = true;
  }
  pending_.ZeroTail();
}

void DelimitedSource::SkipPreamble() {
  // Preamble lines end at LF, CRLF or a lone CR, like records. A CR at the end of what is
  // buffered may be the first half of a CRLF: read on before deciding.
  for (int64_t skipped = 0; skipped < spec_.skip_rows;) {
    const char* begin = pending_.data();
    const char* end = begin + pending_.size();
    const char* at = std::find_if(begin, end, [](char c) { return c == '\n' || c == '\r'; });
    if (at != end && !(*at == '\r' && at + 1 == end && !eof_)) {
      const size_t line_end = static_cast<size_t>(at - begin) +
                              ((*at == '\r' && at + 1 != end && at[1] == '\n') ? 2 : 1);
      DropPending(line_end);
      ++skipped;
      ++next_line_;
      continue;
    }
    if (eof_) {  // the file ends inside the preamble
      DropPending(pending_.size());
      break;
    }
    if (pending_.size() >= plan_.max_record) FailRecordTooLarge();
    FillMore();
  }
}

void DelimitedSource::DropPending(size_t n) {
  next_offset_ += static_cast<int64_t>(n);
  std::memmove(pending_.data(), pending_.data() + n, pending_.size() - n);
  pending_.Resize(pending_.size() - n);
  pending_.ZeroTail();
}

void DelimitedSource::FailHeader(const std::string& message, const std::string& header) const {
  Location loc;
  loc.file = names_[file_index_];
  loc.line = next_line_;
  Error e = MakeError("FE-CONFIG-HEADER", message + "; header found: " + header, loc, "read");
  throw ErrorException(std::move(e));
}

std::vector<std::string> DelimitedSource::ReadHeaderNames() {
  // Skip blank lines before the header.
  size_t begin = 0;
  int64_t lines = 0;
  while (spec_.skip_blank_lines) {
    while (begin < pending_.size() && (pending_[begin] == '\n' || pending_[begin] == '\r')) {
      // A CR that ends what was read so far may be the first half of a CRLF: read on first
      // (else the CR and its LF would count as two blank lines).
      if (pending_[begin] == '\r' && begin + 1 == pending_.size() && !eof_) break;
      const bool crlf =
          pending_[begin] == '\r' && begin + 1 < pending_.size() && pending_[begin + 1] == '\n';
      begin += crlf ? 2 : 1;
      ++lines;
    }
    const bool split_crlf = begin + 1 == pending_.size() && pending_[begin] == '\r' && !eof_;
    if ((begin < pending_.size() && !split_crlf) || eof_) break;
    FillMore();
  }
  if (begin >= pending_.size() && eof_) {
    Location loc;
    loc.file = names_[file_index_];
    ThrowError("FE-INPUT-NO-HEADER", "The input is empty but source.header is true", loc, "read");
  }
  std::vector<std::string> names;
  RecordScan header;
  while (true) {
    header = ScanRecord(pending_.data(), begin, pending_.size(), spec_.dialect, eof_, &names);
    if (header.end != RecordEnd::kIncomplete) break;
    if (pending_.size() >= plan_.max_record) {
      next_line_ += lines;
      FailRecordTooLarge();
    }
    FillMore();
  }
  next_line_ += lines;
  const std::string header_text(pending_.data() + begin, header.content_end - begin);
  if (header.problem != ScanStatus::kOk) FailHeaderGrammar(header, begin);
  if (spec_.dialect.escape != '\0') CheckHeaderEscapes(begin, header.content_end);
  CheckHeaderUtf8(begin, header.content_end);
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (name.empty())
      FailHeader("Empty column name at position " + std::to_string(i + 1), header_text);
    if (!seen.insert(name).second) FailHeader("Duplicate column name '" + name + "'", header_text);
  }
  header_text_ = header_text;
  next_line_ += header.line_breaks;
  DropPending(header.next);
  return names;
}

void DelimitedSource::ReadHeader() {
  for (const std::string& name : ReadHeaderNames()) {
    schema_.columns.push_back(ColumnSpec{name, ColumnType::kString, false});
  }
  for (const ColumnSpec& declared : spec_.columns) {
    int index = schema_.IndexOf(declared.name);
    if (index < 0) {
      FailHeader("Declared column '" + declared.name + "' is not in the header", header_text_);
    }
    schema_.columns[static_cast<size_t>(index)] = declared;
  }
}

Location DelimitedSource::HeaderLocation(size_t begin, size_t offset) const {
  const LinePosition pos = CountLineBreaks(pending_.data() + begin, offset - begin);
  Location loc;
  loc.file = names_[file_index_];
  loc.line = next_line_ + pos.line_breaks;
  loc.column = static_cast<int64_t>(offset - begin - pos.line_start) + 1;
  loc.byte_offset = next_offset_ + static_cast<int64_t>(offset);
  return loc;
}

void DelimitedSource::FailHeaderGrammar(const RecordScan& header, size_t begin) const {
  const Location loc = HeaderLocation(begin, header.problem_offset);
  switch (header.problem) {
    case ScanStatus::kStrayQuote:
      ThrowError("FE-INPUT-STRAY-QUOTE", "Quote character inside an unquoted column name", loc,
                 "read");
    case ScanStatus::kAfterQuote:
      ThrowError("FE-INPUT-AFTER-QUOTE",
                 "Unexpected character after the closing quote of a column name", loc, "read");
    default:
      ThrowError("FE-INPUT-UNTERMINATED-QUOTE",
                 "Quoted column name in the header is not closed before the end of the input", loc,
                 "read");
  }
}

void DelimitedSource::CheckHeaderUtf8(size_t begin, size_t end) const {
  if (IsValidUtf8(pending_.data() + begin, end - begin)) return;
  const size_t bad = begin + InvalidUtf8Offsets(pending_.data() + begin, end - begin).front();
  char byte[8];
  std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(pending_[bad]));
  ThrowError("FE-ENCODING-UTF8", std::string("Invalid UTF-8 in the header: byte ") + byte,
             HeaderLocation(begin, bad), "read");
}

void DelimitedSource::CheckHeaderEscapes(size_t begin, size_t end) const {
  const Dialect& d = spec_.dialect;
  for (size_t i = begin; i < end; ++i) {
    if (pending_[i] != d.escape) continue;
    const char c = i + 1 < end ? pending_[i + 1] : '\0';
    if (c == d.escape || c == 'n' || c == 't' || c == 'r' || c == d.delimiter || c == '"') {
      ++i;
      continue;
    }
    ThrowError("FE-INPUT-BAD-ESCAPE",
               "Unknown escape sequence in the header (source.escape is a backslash)",
               HeaderLocation(begin, i), "read");
  }
}

bool DelimitedSource::ReadBlock(Block& block) {
  if (rows_done_) return false;
  const size_t block_size = plan_.block_size;
  size_t want = block_size;
  BoundaryResult boundary;
  while (true) {
    Fill(want);
    if (pending_.empty()) {
      if (eof_ && NextFile()) {
        want = block_size;
        continue;
      }
      return false;
    }
    // Unless the input has ended, the last byte stays out of the search: a CR there may be
    // the first half of a CRLF.
    boundary = parser_options_.kernel->find_boundary(
        pending_.data(), eof_ ? pending_.size() : pending_.size() - 1, spec_.dialect.delimiter,
        spec_.dialect.quote, spec_.dialect.escape, eof_);
    if (boundary.end > 0) break;
    if (want >= plan_.max_record) FailRecordTooLarge();
    want = std::min(want * 2, plan_.max_record);
  }
  boundary = FitToMemory(boundary);
  if (rows_left_ >= 0) boundary = LimitRows(boundary);
  // The block takes the read buffer; only the partial record after the boundary is copied.
  std::swap(block.bytes, pending_);
  const size_t rest = block.bytes.size() - boundary.end;
  pending_.Clear();
  pending_.Reserve(std::max(block_size, rest));
  pending_.Append(block.bytes.data() + boundary.end, rest);
  block.bytes.Resize(boundary.end);
  block.bytes.ZeroTail();
  block.seq = next_seq_++;
  block.file = &names_[file_index_];
  block.first_line = next_line_;
  block.byte_offset = next_offset_;
  block.line_count = boundary.line_count;
  block.delimiter_count = boundary.delimiter_count;
  next_line_ += boundary.line_count;
  next_offset_ += static_cast<int64_t>(boundary.end);
  return true;
}

Location DelimitedSource::NextRecordLocation() const {
  Location loc;
  loc.file = names_[file_index_];
  loc.line = next_line_;
  loc.byte_offset = next_offset_;
  return loc;
}

void DelimitedSource::FailRecordTooLarge() const {
  ThrowError("FE-INPUT-RECORD-TOO-LARGE",
             "Record starting at line " + std::to_string(next_line_) +
                 " is larger than the record size limit (" + std::to_string(plan_.max_record) +
                 " bytes: limits.maxRecordSize, or less when limits.memory is small)",
             NextRecordLocation(), "read");
}

BoundaryResult DelimitedSource::FitToMemory(BoundaryResult boundary) const {
  const uint32_t ncols = schema_.size();
  uint32_t typed = 0;
  for (const ColumnSpec& c : schema_.columns) typed += c.type != ColumnType::kString ? 1 : 0;
  if (!parser_options_.keep_values) typed = 0;
  while (ChunkBytes(pending_.capacity(), boundary.end, boundary.delimiter_count,
                    boundary.line_count, ncols, typed) > plan_.input_chunk_bytes) {
    // Dense data (many short fields) needs more span memory per byte: take fewer records.
    BoundaryResult smaller = parser_options_.kernel->find_boundary(
        pending_.data(), boundary.end / 2, spec_.dialect.delimiter, spec_.dialect.quote,
        spec_.dialect.escape, false);
    if (smaller.end == 0) {
      ThrowError("FE-RESOURCE-MEMORY",
                 "Record starting at line " + std::to_string(next_line_) +
                     " needs more working memory than limits.memory allows per block (" +
                     std::to_string(plan_.input_chunk_bytes) + " bytes)",
                 NextRecordLocation(), "read");
    }
    boundary = smaller;
  }
  return boundary;
}

BoundaryResult DelimitedSource::LimitRows(BoundaryResult boundary) {
  const size_t at = SkipRecords(pending_.data(), boundary.end, spec_.dialect,
                                !spec_.skip_blank_lines, &rows_left_);
  if (rows_left_ > 0) return boundary;
  rows_done_ = true;
  if (at == boundary.end) return boundary;
  return parser_options_.kernel->find_boundary(pending_.data(), at, spec_.dialect.delimiter,
                                               spec_.dialect.quote, spec_.dialect.escape,
                                               /*at_eof=*/true);
}

void DelimitedSource::Parse(Chunk& chunk) const {
  if (chunk.block.file != nullptr && *chunk.block.file != parser_options_.file) {
    BlockParserOptions options = parser_options_;  // a block of another file than the last
    options.file = *chunk.block.file;
    chunk.error =
        ParseBlock(chunk.block, options, chunk.batch, skip_bad_rows_ ? &chunk.rejects : nullptr);
    return;
  }
  chunk.error = ParseBlock(chunk.block, parser_options_, chunk.batch,
                           skip_bad_rows_ ? &chunk.rejects : nullptr);
}

}  // namespace flowengine
