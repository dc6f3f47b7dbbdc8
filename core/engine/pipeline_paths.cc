#include "core/engine/pipeline_paths.h"

#include <algorithm>

#include "core/io/commit_set.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

Location Where(const PipelineSpec& spec, const std::string& key) {
  const auto it = spec.locations.find(key);
  if (it != spec.locations.end()) return it->second;
  Location loc;
  loc.file = spec.config_path;
  loc.field = key;
  return loc;
}

}  // namespace

std::vector<PathUse> PipelinePaths(const PipelineSpec& spec) {
  std::vector<PathUse> uses;
  // "-" is standard input or output, not a path.
  const auto add = [&](const std::string& key, const std::string& path, bool output) {
    if (!path.empty() && path != "-") {
      uses.push_back(PathUse{key, path, output, Where(spec, key), false});
    }
  };
  if (spec.source.paths.empty()) {
    add("source.path", spec.source.path, false);  // a spec built in code
  }
  for (size_t i = 0; i < spec.source.paths.size(); ++i) {
    add(spec.source.paths.size() == 1 ? "source.path" : "source.path[" + std::to_string(i) + "]",
        spec.source.paths[i], false);
  }
  for (size_t i = 0; i < spec.transforms.size(); ++i) {
    add("transform[" + std::to_string(i) + "].javascript.file", spec.transforms[i].script_path,
        false);
  }
  // Standard input read from a file (`< in.csv`): that file is an input like any other.
  const bool reads_stdin =
      spec.source.path == "-" ||
      std::find(spec.source.paths.begin(), spec.source.paths.end(), "-") != spec.source.paths.end();
  if (reads_stdin) {
    uses.push_back(PathUse{"source.path (standard input)", "/dev/stdin", false,
                           Where(spec, "source.path"), false});
  }
  add("the pipeline file", spec.config_path, false);
  add("sink.path", spec.sink.path, true);
  for (const RouteSpec& r : spec.routes) add("routes." + r.name + ".path", r.sink.path, true);
  if (spec.error_handling == ErrorHandling::kSkipRow) {
    add("deadLetter.path", spec.dead_letter.path, true);
  }
  return uses;
}

std::vector<std::string> OutputTargets(const PipelineSpec& spec) {
  std::vector<std::string> targets;
  if (spec.sink.path != "-") targets.push_back(spec.sink.path);
  for (const RouteSpec& r : spec.routes) targets.push_back(r.sink.path);
  if (spec.error_handling == ErrorHandling::kSkipRow && !spec.dead_letter.path.empty()) {
    targets.push_back(spec.dead_letter.path);
  }
  return targets;
}

void CheckPathsAndRecover(const PipelineSpec& spec, const std::vector<PathUse>& extra) {
  std::vector<PathUse> uses = PipelinePaths(spec);
  uses.insert(uses.end(), extra.begin(), extra.end());
  CheckFileIdentity(uses);
  for (const std::string& line : CompleteInterruptedCommits(OutputTargets(spec))) {
    Log(LogLevel::kWarn, LogCategory::kSink, line);
  }
}

}  // namespace flowengine
