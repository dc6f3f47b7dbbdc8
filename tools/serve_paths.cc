#include "tools/serve_paths.h"

#include <limits.h>

#include <algorithm>

#include "core/error/error.h"
#include "core/io/file_identity.h"

namespace flowengine::serve {
namespace fs = std::filesystem;

bool PathUnder(const fs::path& path, const fs::path& root) {
  // Resolved as the sinks resolve their targets (core/io/file_identity.h): symlinked
  // directories and `..` resolved, a symlinked final component followed even when it
  // dangles (writing would create the file it points to).
  std::string real;
  try {
    real = ResolvePath(path.string()).real;
  } catch (const ErrorException&) {
    return false;  // a link loop or a path too long
  }
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(real, ec);
  if (ec) return false;
  const fs::path rel = resolved.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

std::string TooLongToName(const std::string& key, const fs::path& path) {
  const bool long_name = std::any_of(path.begin(), path.end(), [](const fs::path& part) {
    return part.native().size() > NAME_MAX;
  });
  if (!long_name && path.native().size() < PATH_MAX) return "";
  return "'" + key + "' is too long to name a file: " +
         (long_name ? "a name in it is longer than " + std::to_string(NAME_MAX) + " bytes"
                    : "it is " + std::to_string(path.native().size()) + " bytes, the limit " +
                          std::to_string(PATH_MAX - 1));
}

std::string CheckPipelineFiles(const Pipeline& pipeline, const std::vector<fs::path>& data_roots,
                               const fs::path& pipelines_dir) {
  if (pipeline.uses_standard_streams()) {
    return "The service has no standard input or output: source.path and sink.path must be "
           "files under a --data-root";
  }
  for (const Pipeline::File& f : pipeline.Files()) {
    if (f.key == "the pipeline file") continue;
    bool ok = std::any_of(data_roots.begin(), data_roots.end(),
                          [&](const fs::path& root) { return PathUnder(f.path, root); });
    // A script may also come from the pipelines directory, beside the pipeline files.
    if (!ok && !f.data) ok = PathUnder(f.path, pipelines_dir);
    if (!ok) {
      if (std::string why = TooLongToName(f.key, f.path); !why.empty()) return why;
      std::error_code ec;
      return "'" + f.key + "' is " + f.path + ", which is outside every --data-root" +
             (fs::is_symlink(f.path, ec) ? " (through a symbolic link)" : "");
    }
  }
  return "";
}

}  // namespace flowengine::serve
