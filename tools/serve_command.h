// `flowengine serve`: the transformation microservice of DESIGN.md §8. Runs the pipelines of
// --pipelines DIR on request over HTTP (tools/serve_http.h answers the requests,
// tools/serve_runs.h schedules the runs), with one thread pool, one memory budget and warm
// V8 isolates shared by every run, and drains on SIGTERM. Called from the main thread.
#pragma once

#include <string>
#include <vector>

namespace flowengine::cli {

int ServeCommand(const std::vector<std::string>& args);

}  // namespace flowengine::cli
