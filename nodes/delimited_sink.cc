#include "nodes/delimited_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/config/suggest.h"
#include "core/csv/formatter.h"
#include "core/error/error.h"
#include "core/io/file_identity.h"
#include "core/io/target_lock.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {
namespace fs = std::filesystem;

Location FileLocation(const std::string& path) {
  Location loc;
  loc.file = path;
  return loc;
}

AtomicFile::Mode CommitModeFor(const SinkSpec& spec) {
  return spec.mode == OutputMode::kCreate ? AtomicFile::Mode::kNoReplace
         : spec.backup                    ? AtomicFile::Mode::kReplaceKeepBackup
                                          : AtomicFile::Mode::kReplace;
}

}  // namespace

DelimitedSink::DelimitedSink(SinkSpec spec, Dialect input_dialect, std::vector<std::string> columns)
    : spec_(std::move(spec)),
      input_dialect_(input_dialect),
      columns_(std::move(columns)),
      style_(spec_.style),
      streams_(spec_.path == "-") {
  if (spec_.columns.empty()) return;
  std::vector<std::string_view> names(columns_.begin(), columns_.end());
  std::vector<std::string> out;
  for (const SinkColumn& c : spec_.columns) {
    const auto it = std::find(columns_.begin(), columns_.end(), c.from);
    if (it == columns_.end()) {
      const std::string near = SuggestClosest(c.from, names);
      std::string all;
      for (const std::string& n : columns_) all += (all.empty() ? "" : ", ") + n;
      Error e = MakeError("FE-CONFIG-VALUE",
                          "Unknown column '" + c.from + "' in " + c.where.field +
                              (near.empty() ? "" : "; did you mean '" + near + "'?") +
                              " The sink's input columns: " + all,
                          c.where, "config");
      e.hint =
          "Name a column of the transform's output (or of the source without a "
          "transform); rename with { name: new_name, from: old_name }.";
      throw ErrorException(std::move(e));
    }
    select_.push_back(static_cast<uint32_t>(it - columns_.begin()));
    out.push_back(c.name);
  }
  columns_ = std::move(out);
}

DelimitedSink::Existing DelimitedSink::ReadExisting() const {
  Existing e;
  std::ifstream in(ResolvePath(spec_.path).real, std::ios::binary);
  if (!in) return e;
  // The first line (up to 1 MiB: a header longer than that is not compared byte for byte).
  std::string first;
  char c = 0;
  while (first.size() < (1u << 20) && in.get(c) && c != '\n' && c != '\r') first += c;
  if (!in) {  // no line ending at all
    e.present = !first.empty();
    e.header = first;
    e.ends_with_newline = first.empty();
    return e;
  }
  e.present = true;
  e.header = first;
  if (c == '\r') {
    char next = 0;
    if (in.get(next) && next == '\n') {
      e.crlf = true;
    } else {
      e.lone_cr = true;
    }
  }
  in.clear();
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > 0) {
    in.seekg(size - 1);
    char last = 0;
    in.get(last);
    e.ends_with_newline = last == '\n' || last == '\r';
  }
  return e;
}

void DelimitedSink::Check() const {
  if (!streams_) CheckTarget(/*lock_free_now=*/true);
}

void DelimitedSink::CheckTarget(bool lock_free_now) const {
  const ResolvedPath target = ResolvePath(spec_.path);
  const fs::path dir = fs::path(target.real).parent_path();
  std::error_code ec;
  if (!target.dir_exists || !fs::is_directory(dir, ec)) {
    ThrowError("FE-OUTPUT-OPEN", "The output directory does not exist: '" + dir.string() + "'",
               FileLocation(spec_.path), "startup");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    ThrowError("FE-OUTPUT-OPEN", "The output directory is not writable: '" + dir.string() + "'",
               FileLocation(spec_.path), "startup");
  }
  if (target.exists && target.type == S_IFDIR) {
    ThrowError("FE-OUTPUT-OPEN", "The output path is a directory", FileLocation(spec_.path),
               "startup");
  }
  if (const long holder = lock_free_now ? TargetLock::Holder(target.real) : 0; holder != 0) {
    ThrowError("FE-OUTPUT-LOCKED",
               "Another flowengine run (pid " + std::to_string(holder) + ") is writing this target",
               FileLocation(spec_.path), "startup");
  }
  if (spec_.mode == OutputMode::kCreate && target.exists) {
    ThrowError("FE-OUTPUT-EXISTS", "The target file exists and its outputMode is create",
               FileLocation(spec_.path), "startup");
  }
  if (spec_.mode == OutputMode::kAppend) CheckAppendTarget(ReadExisting());
}

void DelimitedSink::CheckAppendTarget(const Existing& existing) const {
  if (existing.lone_cr) {
    ThrowError("FE-OUTPUT-APPEND-HEADER",
               "The target's lines end with a lone CR; appending writes LF or CRLF line "
               "endings only",
               FileLocation(spec_.path), "startup");
  }
  std::string expected = FormatHeader(columns_, spec_.dialect, spec_.style);
  while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) {
    expected.pop_back();
  }
  if (spec_.header && existing.present && existing.header != expected) {
    ThrowError("FE-OUTPUT-APPEND-HEADER",
               "The target's header differs from the output columns: found '" + existing.header +
                   "', expected '" + expected + "'",
               FileLocation(spec_.path), "startup");
  }
}

void DelimitedSink::Open() {
  if (streams_) {
    const std::string header = spec_.header ? FormatHeader(columns_, spec_.dialect, style_) : "";
    if (spec_.compression != Compression::kNone) {
      ByteBuffer member;
      CompressMember(spec_.compression, header.data(), header.size(), member);
      pending_header_.assign(member.data(), member.size());
    } else {
      pending_header_ = header;
    }
    return;
  }
  CheckTarget(/*lock_free_now=*/false);  // the lock itself is waited for by retry.attempts
  const bool append = spec_.mode == OutputMode::kAppend;
  // Opening takes the target's lock and copies what the target holds (append): what decides
  // the header and the line endings is read after that, under the lock, so that a run that
  // appended meanwhile (the target was missing when this run started) is seen.
  file_.Open(spec_.path, CommitModeFor(spec_), append);
  const Existing existing = append ? ReadExisting() : Existing{};
  if (append) CheckAppendTarget(existing);
  if (append && existing.present && existing.crlf != style_.crlf) {
    // The new rows take the target's own line ending: a file never mixes LF and CRLF.
    style_.crlf = existing.crlf;
    Log(LogLevel::kInfo, LogCategory::kSink,
        "appending with " + std::string(existing.crlf ? "CRLF" : "LF") +
            " line endings, as the target " + spec_.path + " has");
  }
  if (append && file_.size() > 0 && !existing.ends_with_newline) {
    file_.Write(style_.crlf ? "\r\n" : "\n", style_.crlf ? 2 : 1);
  }
  if (spec_.header && !existing.present) {
    const std::string header = FormatHeader(columns_, spec_.dialect, style_);
    WriteFile(header.data(), header.size());
  } else if (spec_.compression != Compression::kNone) {
    WriteFile("", 0);  // an empty member: even a file without rows is valid gzip or zstd
  }
}

void DelimitedSink::WriteFile(const char* data, size_t size) {
  if (spec_.compression == Compression::kNone) {
    file_.Write(data, size);
    return;
  }
  ByteBuffer member;
  CompressMember(spec_.compression, data, size, member);
  file_.Write(member.data(), member.size());
}

void DelimitedSink::Format(const Chunk& chunk, int route, ByteBuffer& out) const {
  FormatPlain(chunk, route, out);
  if (spec_.compression == Compression::kNone || out.size() == 0) return;
  // One member per block, compressed here in the parallel format stage.
  thread_local ByteBuffer member;
  member.Clear();
  CompressMember(spec_.compression, out.data(), out.size(), member);
  out.Clear();
  out.Append(member.data(), member.size());
}

void DelimitedSink::FormatPlain(const Chunk& chunk, int route, ByteBuffer& out) const {
  const TransformOutput& t = chunk.transform;
  if (!t.active) {
    if (route >= 0) {
      out.Clear();
    } else if (select_.empty()) {
      FormatBatch(chunk.block.bytes.data(), chunk.batch, input_dialect_, spec_.dialect, out,
                  style_);
    } else {
      thread_local std::vector<uint32_t> all_rows;
      all_rows.resize(chunk.batch.num_rows);
      for (uint32_t r = 0; r < all_rows.size(); ++r) all_rows[r] = r;
      FormatSelectedRows(chunk.block.bytes.data(), nullptr, chunk.batch, all_rows.data(),
                         all_rows.size(), input_dialect_, spec_.dialect, out, style_, select_);
    }
    return;
  }
  const PodBuffer<uint32_t>& rows =
      route < 0 ? t.main_rows : t.route_rows[static_cast<size_t>(route)];
  FormatSelectedRows(chunk.block.bytes.data(), t.values.data(), t.batch, rows.data(), rows.size(),
                     input_dialect_, spec_.dialect, out, style_, select_);
}

void DelimitedSink::Write(const ByteBuffer& bytes) {
  if (!streams_) {
    file_.Write(bytes.data(), bytes.size());
    return;
  }
  if (bytes.size() == 0) return;
  Finish();  // the header first
  WriteStdout(bytes.data(), bytes.size());
}

void DelimitedSink::Finish() {
  if (!streams_ || pending_header_.empty()) return;
  const std::string header = std::move(pending_header_);
  pending_header_.clear();
  WriteStdout(header.data(), header.size());
}

void DelimitedSink::WriteStdout(const char* data, size_t size) {
  Location loc;
  loc.file = "<stdout>";
  while (size > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    const int err = n < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {  // a non-blocking pipe that is full
      pollfd p{STDOUT_FILENO, POLLOUT, 0};
      ::poll(&p, 1, 100);
      if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
        ThrowError("FE-RESOURCE-INTERRUPTED", "Stopped while waiting to write standard output", loc,
                   "write");
      }
      continue;
    }
    if (err == EPIPE) {
      ThrowError("FE-OUTPUT-CLOSED",
                 "Standard output was closed by its reader before the run ended", loc, "write");
    }
    ThrowError("FE-OUTPUT-WRITE",
               std::string("Writing standard output failed: ") + std::strerror(err), loc, "write");
  }
}

void DelimitedSink::Abort() noexcept {
  if (!streams_) file_.Abort();
}

}  // namespace flowengine
