// `flowengine run`: runs a pipeline with its observability options (logs, progress line,
// metrics endpoint and file, trace, row sample, JSON summary) and the signal handling of
// DESIGN.md §6.
#pragma once

#include <string>
#include <vector>

namespace flowengine::cli {

int RunCommand(const std::vector<std::string>& args);

}  // namespace flowengine::cli
