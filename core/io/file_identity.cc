#include "core/io/file_identity.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/io/target_lock.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxLinks = 40;  // as the kernel's ELOOP limit

const char* KindName(mode_t type) {
  switch (type) {
    case S_IFIFO:
      return "a FIFO (named pipe)";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFDIR:
      return "a directory";
    default:
      return "not a regular file";
  }
}

std::string Describe(const PathUse& use, const ResolvedPath& r) {
  std::string s = use.key + " ('" + use.path + "'";
  if (r.real != fs::path(use.path).lexically_normal().string()) s += " = '" + r.real + "'";
  return s + ")";
}

bool SameFile(const ResolvedPath& a, const ResolvedPath& b) {
  if (a.exists && b.exists) return a.dev == b.dev && a.ino == b.ino;
  return a.real == b.real;
}

}  // namespace

ResolvedPath ResolvePath(const std::string& path) {
  ResolvedPath out;
  fs::path p = fs::absolute(fs::path(path)).lexically_normal();
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0) {
    // It exists: the kernel follows every link (including /proc's magic links such as
    // /dev/stdout -> /proc/self/fd/1 -> pipe:[...]), and device + inode say which file it is.
    struct stat lst {};
    out.was_symlink = ::lstat(p.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
    out.exists = true;
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.type = st.st_mode & S_IFMT;
    char buf[PATH_MAX];
    out.real = ::realpath(p.c_str(), buf) != nullptr ? std::string(buf) : p.string();
    out.dir_exists = true;
    return out;
  }
  for (int hops = 0;; ++hops) {
    if (hops > kMaxLinks) {
      Location loc;
      loc.file = path;
      ThrowError("FE-CONFIG-VALUE", "Too many symbolic links (a loop?) in the path '" + path + "'",
                 loc, "config");
    }
    // The directory's real path (symlinked directories and `..` resolved).
    fs::path dir = p.parent_path();
    char buf[PATH_MAX];
    if (::realpath(dir.c_str(), buf) != nullptr) {
      dir = buf;
      out.dir_exists = true;
    } else {
      out.dir_exists = false;
    }
    p = dir / p.filename();
    struct stat lst {};
    if (::lstat(p.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) break;
    // A symlinked final component: follow it (even when it dangles).
    out.was_symlink = true;
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof(buf) - 1);
    if (n < 0) break;
    buf[n] = '\0';
    const fs::path link(buf);
    p = (link.is_absolute() ? link : dir / link).lexically_normal();
  }
  out.real = p.string();
  return out;
}

void CheckFileIdentity(const std::vector<PathUse>& uses) {
  std::vector<ResolvedPath> resolved;
  resolved.reserve(uses.size());
  for (const PathUse& u : uses) resolved.push_back(ResolvePath(u.path));
  for (size_t i = 0; i < uses.size(); ++i) {
    const PathUse& u = uses[i];
    const ResolvedPath& r = resolved[i];
    if (!u.output) continue;
    if (IsWorkingFileName(fs::path(r.real).filename().string())) {
      Error e = MakeError("FE-CONFIG-VALUE",
                          "The target of " + Describe(u, r) +
                              " is named like the lock, temp and journal files that runs make "
                              "and remove beside their targets",
                          u.where, "config");
      e.hint =
          "Give the output another file name (not '.NAME.flowengine-lock', "
          "'.NAME.flowengine-journal' or '.NAME.flowengine-tmp.*').";
      throw ErrorException(std::move(e));
    }
    if (r.exists && r.type != S_IFREG &&
        !(u.streamable && (r.type == S_IFIFO || r.type == S_IFCHR))) {
      Error e = MakeError("FE-CONFIG-NOT-REGULAR",
                          "The target of " + Describe(u, r) + " exists and is " + KindName(r.type) +
                              "; FlowEngine replaces regular files only, atomically",
                          u.where, "config");
      throw ErrorException(std::move(e));
    }
    for (size_t j = 0; j < uses.size(); ++j) {
      if (j == i || (uses[j].output && j < i)) continue;  // each pair of outputs once
      if (!SameFile(r, resolved[j])) continue;
      const PathUse& other = uses[j];
      Error e = MakeError("FE-CONFIG-ALIAS",
                          Describe(u, r) + " and " + Describe(other, resolved[j]) +
                              " are the same file: " +
                              (other.output ? "two outputs would overwrite each other"
                                            : "the run would overwrite its own input"),
                          u.where, "config");
      throw ErrorException(std::move(e));
    }
  }
}

}  // namespace flowengine
