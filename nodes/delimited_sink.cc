#include "nodes/delimited_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/csv/formatter.h"
#include "core/error/error.h"
#include "core/io/target_lock.h"

namespace flowengine {
namespace {
namespace fs = std::filesystem;

Location FileLocation(const std::string& path) {
  Location loc;
  loc.file = path;
  return loc;
}
}  // namespace

DelimitedSink::DelimitedSink(SinkSpec spec, Dialect input_dialect, std::vector<std::string> columns)
    : spec_(std::move(spec)), input_dialect_(input_dialect), columns_(std::move(columns)) {}

std::string DelimitedSink::ExistingHeader(bool* ends_with_newline) const {
  *ends_with_newline = true;
  std::ifstream in(spec_.path, std::ios::binary);
  if (!in) return "";
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  in.clear();
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > 0) {
    in.seekg(size - 1);
    char last = 0;
    in.get(last);
    *ends_with_newline = last == '\n' || last == '\r';
  }
  return first;
}

void DelimitedSink::Check() const {
  fs::path target(spec_.path);
  fs::path dir = target.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    ThrowError("FE-OUTPUT-OPEN", "The output directory does not exist: '" + dir.string() + "'",
               FileLocation(spec_.path), "startup");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    ThrowError("FE-OUTPUT-OPEN", "The output directory is not writable: '" + dir.string() + "'",
               FileLocation(spec_.path), "startup");
  }
  if (fs::is_directory(target, ec)) {
    ThrowError("FE-OUTPUT-OPEN", "The output path is a directory", FileLocation(spec_.path),
               "startup");
  }
  if (const long holder = TargetLock::Holder(spec_.path); holder != 0) {
    ThrowError("FE-OUTPUT-LOCKED",
               "Another flowengine run (pid " + std::to_string(holder) + ") is writing this target",
               FileLocation(spec_.path), "startup");
  }
  if (spec_.mode == OutputMode::kCreate && fs::exists(target, ec)) {
    ThrowError("FE-OUTPUT-EXISTS", "The target file exists and sink.outputMode is create",
               FileLocation(spec_.path), "startup");
  }
  if (spec_.mode == OutputMode::kAppend) {
    bool ends_with_newline = true;
    std::string existing = ExistingHeader(&ends_with_newline);
    std::string expected = FormatHeader(columns_, spec_.dialect, spec_.style);
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) {
      expected.pop_back();
    }
    if (spec_.header && !existing.empty() && existing != expected) {
      ThrowError("FE-OUTPUT-APPEND-HEADER",
                 "The target's header differs from the output columns: found '" + existing +
                     "', expected '" + expected + "'",
                 FileLocation(spec_.path), "startup");
    }
  }
}

void DelimitedSink::Open() {
  Check();
  const bool append = spec_.mode == OutputMode::kAppend;
  file_.Open(spec_.path, append);
  bool ends_with_newline = true;
  const bool has_header = append && !ExistingHeader(&ends_with_newline).empty();
  if (append && file_.size() > 0 && !ends_with_newline) {
    file_.Write(spec_.style.crlf ? "\r\n" : "\n", spec_.style.crlf ? 2 : 1);
  }
  if (spec_.header && !has_header) {
    std::string header = FormatHeader(columns_, spec_.dialect, spec_.style);
    file_.Write(header.data(), header.size());
  }
}

void DelimitedSink::Format(const Chunk& chunk, int route, ByteBuffer& out) const {
  const TransformOutput& t = chunk.transform;
  if (!t.active) {
    if (route < 0) {
      FormatBatch(chunk.block.bytes.data(), chunk.batch, input_dialect_, spec_.dialect, out,
                  spec_.style);
    } else {
      out.Clear();
    }
    return;
  }
  const PodBuffer<uint32_t>& rows =
      route < 0 ? t.main_rows : t.route_rows[static_cast<size_t>(route)];
  FormatSelectedRows(chunk.block.bytes.data(), t.values.data(), t.batch, rows.data(), rows.size(),
                     input_dialect_, spec_.dialect, out, spec_.style);
}

void DelimitedSink::Write(const ByteBuffer& bytes) { file_.Write(bytes.data(), bytes.size()); }

void DelimitedSink::Commit() {
  file_.CommitTo(spec_.mode == OutputMode::kCreate ? AtomicFile::Commit::kNoReplace
                 : spec_.backup                    ? AtomicFile::Commit::kReplaceKeepBackup
                                                   : AtomicFile::Commit::kReplace);
}

void DelimitedSink::Abort() noexcept { file_.Abort(); }

}  // namespace flowengine
