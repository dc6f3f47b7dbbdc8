#include "core/io/commit_set.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "core/error/error.h"
#include "core/io/file_identity.h"
#include "core/io/target_lock.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMagic = "flowengine-commit-journal 1";

// Paths in the journal: bytes below 0x21 and '%' as %XX, so a line holds exactly one path.
std::string Encode(const std::string& path) {
  std::string out;
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x21 || c == '%') {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", b);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::strtol(text.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct Entry {
  char kind = 'R';  // R replace, B replace keeping a .bak, N create (never replace)
  std::string temp;
  std::string target;
};

[[noreturn]] void FailCommit(const std::string& file, const std::string& what, int err) {
  Location loc;
  loc.file = file;
  ThrowError("FE-OUTPUT-COMMIT", what + (err != 0 ? std::string(": ") + std::strerror(err) : ""),
             loc, "commit");
}

void FsyncDirectoryOf(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) FailCommit(path, "Cannot open the directory '" + dir + "' to flush it", errno);
  const int synced = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (synced != 0) FailCommit(path, "Flushing the directory '" + dir + "' to disk failed", err);
}

std::string JournalPathFor(const std::string& target) {
  const fs::path t(target);
  return (t.parent_path() / JournalNameFor(t.filename().string())).string();
}

// Writes the journal atomically (temp, fsync, rename, directory fsync).
void WriteJournal(const std::string& path, const std::vector<Entry>& entries) {
  std::string text = std::string(kMagic) + "\npid " + std::to_string(::getpid()) + "\n";
  for (const Entry& e : entries) {
    text += std::string(1, e.kind) + " " + Encode(e.temp) + " " + Encode(e.target) + "\n";
  }
  text += "end\n";
  const fs::path p(path);
  const std::string temp =
      (p.parent_path() / ("." + p.filename().string().substr(1) + ".flowengine-tmp." +
                          std::to_string(::getpid()) + ".journal"))
          .string();
  // A new file of this run's own: whatever lies at the name (a link planted there, say) is
  // removed, never written through.
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) FailCommit(path, "Cannot write the commit journal", errno);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(temp.c_str());
    FailCommit(path, "Cannot write the commit journal", e);
  }
  FsyncDirectoryOf(path);
}

// Reads a complete journal; false when it is not one (a torn or foreign file).
bool ReadJournal(const std::string& path, long* pid, std::vector<Entry>* entries) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return false;
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return false;
  if (!std::getline(in, line) || line.rfind("pid ", 0) != 0) return false;
  *pid = std::strtol(line.c_str() + 4, nullptr, 10);
  bool ended = false;
  while (std::getline(in, line)) {
    if (line == "end") {
      ended = true;
      break;
    }
    std::istringstream parts(line);
    std::string kind, temp, target;
    if (!(parts >> kind >> temp >> target) || (kind != "R" && kind != "N" && kind != "B")) {
      return false;
    }
    entries->push_back(Entry{kind[0], Decode(temp), Decode(target)});
  }
  return ended;
}

// Whether a journal read at `journal` is one a commit of this engine could have written: it
// lies beside its first target, and every entry renames a temp file of that target's own
// (".<name>.flowengine-tmp.<pid>.<n>", in the target's directory) onto the target. Anything
// else (a file crafted to look like a journal) would have the completion rename arbitrary
// files; it is refused instead.
bool JournalEntriesAreOurs(const std::string& journal, const std::vector<Entry>& entries) {
  if (entries.empty() || JournalPathFor(entries[0].target) != journal) return false;
  for (const Entry& e : entries) {
    const fs::path temp(e.temp), target(e.target);
    if (!target.is_absolute() || temp.parent_path() != target.parent_path()) return false;
    const std::string prefix = "." + target.filename().string() + ".flowengine-tmp.";
    const std::string name = temp.filename().string();
    if (target.filename().empty() || name.rfind(prefix, 0) != 0) return false;
    const std::string rest = name.substr(prefix.size());  // <pid>.<n>
    const size_t dot = rest.find('.');
    const auto digits = [](std::string_view v) {
      return !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (dot == std::string::npos || !digits(std::string_view(rest).substr(0, dot)) ||
        !digits(std::string_view(rest).substr(dot + 1))) {
      return false;
    }
  }
  return true;
}

long TestSeam(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtol(v, nullptr, 10) : -1;
}

// Test seams: FLOWENGINE_TEST_CRASH_AFTER_RENAMES=K kills the process (SIGKILL) right after
// the K-th rename of a set commit, to prove that the journal completes the set;
// FLOWENGINE_TEST_FAIL_RENAME=K makes the K-th rename fail (EIO), for the partial-commit
// report.
void MaybeCrashForTest(size_t renames_done) {
  static const long crash_after = TestSeam("FLOWENGINE_TEST_CRASH_AFTER_RENAMES");
  if (crash_after >= 0 && renames_done == static_cast<size_t>(crash_after)) ::raise(SIGKILL);
}
void MaybeFailForTest(size_t rename, const AtomicFile& file) {
  static const long fail_at = TestSeam("FLOWENGINE_TEST_FAIL_RENAME");
  if (fail_at >= 0 && rename == static_cast<size_t>(fail_at)) {
    FailCommit(file.target(), "Cannot move the output into place", EIO);
  }
}

}  // namespace

std::string JournalNameFor(const std::string& name) { return "." + name + ".flowengine-journal"; }

void CommitAsSet(const std::vector<AtomicFile*>& files) {
  if (files.empty()) return;
  for (AtomicFile* f : files) f->Prepare();  // a throw here: the caller aborts them all
  std::vector<Entry> entries;
  for (AtomicFile* f : files) {
    const char kind = f->mode() == AtomicFile::Mode::kNoReplace           ? 'N'
                      : f->mode() == AtomicFile::Mode::kReplaceKeepBackup ? 'B'
                                                                          : 'R';
    entries.push_back(Entry{kind, f->temp_path(), f->target()});
  }
  const bool journaled = files.size() > 1;
  const std::string journal = JournalPathFor(files[0]->target());
  if (journaled) {
    WriteJournal(journal, entries);
    // From here the temps belong to the journal: a second signal must not delete them.
    for (AtomicFile* f : files) f->KeepTempOnSignal();
  }
  size_t done = 0;
  try {
    for (AtomicFile* f : files) {
      MaybeFailForTest(done + 1, *f);
      f->Publish();
      ++done;
      MaybeCrashForTest(done);
    }
  } catch (const ErrorException& e) {
    // Undo what can be undone: the temps not renamed go, and so does the journal (nothing is
    // left for a later run to complete: this message says exactly what is where).
    for (size_t i = done; i < files.size(); ++i) files[i]->Abort();
    if (journaled) ::unlink(journal.c_str());
    if (done == 0) throw;
    std::string replaced, untouched;
    for (size_t i = 0; i < files.size(); ++i) {
      std::string& list = i < done ? replaced : untouched;
      list += (list.empty() ? "" : ", ") + files[i]->target();
    }
    Error partial = MakeError("FE-OUTPUT-PARTIAL-COMMIT",
                              "Only some outputs were replaced: " + e.error().message +
                                  "; replaced: " + replaced + "; untouched: " + untouched,
                              e.error().location, "commit");
    throw ErrorException(std::move(partial));
  }
  if (journaled) {
    if (::unlink(journal.c_str()) != 0)
      FailCommit(journal, "Cannot remove the commit journal", errno);
    FsyncDirectoryOf(journal);
  }
  // Every target is replaced; a failing directory fsync is still an error.
  std::optional<Error> first;
  for (AtomicFile* f : files) {
    try {
      f->Finish();
    } catch (const ErrorException& e) {
      if (!first) first = e.error();
    }
  }
  if (first) throw ErrorException(std::move(*first));
}

std::vector<std::string> CompleteInterruptedCommits(const std::vector<std::string>& targets) {
  std::vector<std::string> done;
  std::set<std::string> seen;
  for (const std::string& target : targets) {
    const std::string journal = JournalPathFor(ResolvePath(target).real);
    if (!seen.insert(journal).second || ::access(journal.c_str(), F_OK) != 0) continue;
    long pid = 0;
    std::vector<Entry> entries;
    if (!ReadJournal(journal, &pid, &entries) || entries.empty()) {
      FailCommit(journal,
                 "A commit journal of an interrupted run cannot be read; check the targets it "
                 "lies beside, then remove it",
                 0);
    }
    if (!JournalEntriesAreOurs(journal, entries)) {
      FailCommit(journal,
                 "A file named like a commit journal names files that no commit of flowengine "
                 "renames (only temp files beside their own targets); nothing was renamed. "
                 "Check it, then remove it",
                 0);
    }
    // The run that wrote it may still be committing: it holds its first target's lock.
    const fs::path first(entries[0].target);
    const int dir_fd = ::open(first.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) FailCommit(journal, "Cannot open the directory of a journaled target", errno);
    TargetLock lock;
    if (!lock.TryAcquire(dir_fd, first.filename().string())) {
      ::close(dir_fd);
      continue;
    }
    std::string renamed;
    for (const Entry& e : entries) {
      struct stat st {};
      if (::lstat(e.temp.c_str(), &st) != 0) continue;  // renamed before the kill
      int rc = 0;
      if (e.kind == 'B' && ::access(e.target.c_str(), F_OK) == 0) {
        const std::string staging = e.temp + ".bak";
        ::unlink(staging.c_str());
        if (::link(e.target.c_str(), staging.c_str()) != 0 ||
            ::rename(staging.c_str(), (e.target + ".bak").c_str()) != 0) {
          Log(LogLevel::kWarn, LogCategory::kSink,
              "cannot keep the previous " + e.target +
                  " as .bak while completing an "
                  "interrupted commit: " +
                  std::strerror(errno));
          ::unlink(staging.c_str());
        }
      }
      if (e.kind == 'N') {
        rc = ::renameat2(AT_FDCWD, e.temp.c_str(), AT_FDCWD, e.target.c_str(), RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
          rc = ::link(e.temp.c_str(), e.target.c_str());
          if (rc == 0) ::unlink(e.temp.c_str());
        }
      } else {
        rc = ::rename(e.temp.c_str(), e.target.c_str());
      }
      if (rc != 0) {
        const int err = errno;
        lock.Release();
        ::close(dir_fd);
        FailCommit(e.target,
                   "Cannot complete the commit of an interrupted run (pid " + std::to_string(pid) +
                       ", journal " + journal + ")",
                   err);
      }
      FsyncDirectoryOf(e.target);
      renamed += (renamed.empty() ? "" : ", ") + e.target;
    }
    ::unlink(journal.c_str());
    FsyncDirectoryOf(journal);
    lock.Release();
    ::close(dir_fd);
    done.push_back("completed the commit of an interrupted run (pid " + std::to_string(pid) +
                   ", killed between its renames): " +
                   (renamed.empty() ? std::string("every target was already in place")
                                    : "now replaced: " + renamed));
  }
  return done;
}

}  // namespace flowengine
