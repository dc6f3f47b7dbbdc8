// The data-root rule of `flowengine serve`: every file a run reads or writes must lie under
// a --data-root once links are resolved the way the engine resolves them (a symlinked final
// component followed even when it dangles), a script also under --pipelines. Checked when a
// run is submitted and again just before it starts. Stateless; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "flowengine/flowengine.h"

namespace flowengine::serve {

/// True when `path`, resolved, lies inside `root` (canonical).
bool PathUnder(const std::filesystem::path& path, const std::filesystem::path& root);

/// "" when `path` can name a file; else why not (a name in it longer than NAME_MAX, or the
/// whole longer than PATH_MAX), for `key`: such a path is refused for what it is, not as a
/// path outside the data roots.
std::string TooLongToName(const std::string& key, const std::filesystem::path& path);

/// "" when every file of `pipeline` obeys the rule, else why not (for FE-SERVE-PATH).
std::string CheckPipelineFiles(const Pipeline& pipeline,
                               const std::vector<std::filesystem::path>& data_roots,
                               const std::filesystem::path& pipelines_dir);

}  // namespace flowengine::serve
