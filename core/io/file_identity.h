// File identity: which file a path really names, and the check that a run never writes a
// file it reads, nor writes one file through two outputs. Every path a run touches goes
// through ResolvePath — symlinks (of the file and of any directory above it), `..` and
// relative parts are resolved, and files that exist are compared by device and inode, so
// hard links are caught too. Pure functions over the filesystem; thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/error/error.h"

namespace flowengine {

/// What a path names once every link is followed.
struct ResolvedPath {
  std::string real;     ///< absolute path of the file itself (its directory's real path +
                        ///< the final name, after following a symlinked final component)
  bool exists = false;  ///< the file exists (after following links)
  dev_t dev = 0;        ///< device and inode when it exists
  ino_t ino = 0;
  mode_t type = 0;           ///< S_IFREG, S_IFIFO, ... when it exists
  bool dir_exists = false;   ///< the directory that holds (or would hold) it exists
  bool was_symlink = false;  ///< the path itself is a symlink (it is followed)
};

/// Resolves `path` (absolute or relative to the current directory). A dangling symlink is
/// followed to where it points (writing creates that file). Throws ErrorException
/// FE-CONFIG-VALUE for a symlink loop or a path that is too long.
ResolvedPath ResolvePath(const std::string& path);

/// One path a run touches. `key` names it in messages ("source.path", "--summary", ...).
struct PathUse {
  std::string key;
  std::string path;
  bool output = false;      ///< written by the run (else only read)
  Location where;           ///< where the path was configured (YAML line, --set, option)
  bool streamable = false;  ///< an output that may be a FIFO or character device
};

/// Checks the paths of one run: an output may not be the same file as an input or as
/// another output, however it is named (FE-CONFIG-ALIAS), and an existing output that is
/// not a regular file is refused unless `streamable` (FE-CONFIG-NOT-REGULAR). Throws
/// ErrorException (class config) naming both keys and the file.
void CheckFileIdentity(const std::vector<PathUse>& uses);

}  // namespace flowengine
