// Loads a pipeline YAML file into a validated PipelineSpec. Strict: unknown keys, wrong
// kinds and disallowed values are errors (ErrorException) naming the YAML file, line and
// column, what is allowed and how to fix it. Stateless functions, thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config/pipeline_spec.h"

namespace flowengine {

/// Loads `yaml_path`, applies `overrides` ("key.path=value", as given to --set) and
/// validates. Relative paths in the file resolve against the file's directory; relative
/// paths given through --set resolve against the current directory.
/// Throws ErrorException (class config) on any problem.
PipelineSpec LoadPipelineSpec(const std::string& yaml_path,
                              const std::vector<std::string>& overrides = {});

/// As LoadPipelineSpec, from YAML text; `yaml_path` is used for messages and to resolve
/// relative paths.
PipelineSpec LoadPipelineSpecFromString(const std::string& yaml_text, const std::string& yaml_path,
                                        const std::vector<std::string>& overrides = {});

/// As LoadPipelineSpec, from keys and values set in code ("source.path" = "in.csv",
/// "transform[0].javascript.code" = "...": list items are appended in index order);
/// `yaml_path` names the pipeline in messages and its directory resolves relative paths.
/// The same checks as a file: the same error codes.
PipelineSpec LoadPipelineSpecFromKeys(const std::vector<std::pair<std::string, std::string>>& keys,
                                      const std::string& yaml_path);

/// Parses a byte size: an integer, or a number with KiB/MiB/GiB (1024-based) or KB/MB/GB
/// (1000-based). Returns -1 when malformed.
int64_t ParseByteSize(const std::string& text);

}  // namespace flowengine
