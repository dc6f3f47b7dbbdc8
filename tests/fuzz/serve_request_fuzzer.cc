// libFuzzer target for the request handling of `flowengine serve` (tools/serve_http.h): the
// fuzzed bytes are the body of POST /runs (JSON walked field by field, overrides handed to
// the YAML loader, paths checked against the data root), with the first byte choosing the
// method, path and token. Checks, besides memory safety: every answer is a status the API
// documents with a JSON body whose error carries an FE code, and no run is ever queued (the
// service's memory budget is 1 byte, so a request that passes every check is answered 400
// FE-SERVE-MEMORY and nothing runs).
#include <simdjson.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tools/serve_http.h"
#include "tools/serve_runs.h"

#define CHECK(condition)                                                                    \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "serve_request_fuzzer: check failed at line %d: %s\n", __LINE__, \
                   #condition);                                                             \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace {

struct Service {
  Service() {
    char tmpl[] = "/tmp/fe-serve-fuzz-XXXXXX";
    dir = mkdtemp(tmpl);
    static std::string cleanup;
    cleanup = dir;
    std::atexit([] { std::filesystem::remove_all(cleanup); });
    std::filesystem::create_directories(dir + "/pipelines");
    std::filesystem::create_directories(dir + "/data");
    std::ofstream(dir + "/data/in.csv") << "id,name\n1,a\n";
    std::ofstream(dir + "/pipelines/p.yaml")
        << "pipeline: p\nsource: { path: " << dir << "/data/in.csv }\nsink: { path: " << dir
        << "/data/out.csv }\n";
    config.pipelines_dir = dir + "/pipelines";
    config.data_roots = {dir + "/data"};
    config.token = "t0ken";
    config.memory = 1;
    flowengine::serve::SchedulerOptions so;
    so.max_runs = 1;
    so.memory = 1;
    scheduler = std::make_unique<flowengine::serve::RunScheduler>(engine, so);
    api = std::make_unique<flowengine::serve::ServeApi>(config, *scheduler);
  }
  std::string dir;
  flowengine::Engine engine;
  flowengine::serve::ServeConfig config;
  std::unique_ptr<flowengine::serve::RunScheduler> scheduler;
  std::unique_ptr<flowengine::serve::ServeApi> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Service* service = new Service();  // one for the process, like the server's
  flowengine::HttpRequest request;
  const uint8_t mode = size > 0 ? data[0] : 0;
  request.method = (mode & 3) == 0 ? "GET" : (mode & 3) == 1 ? "DELETE" : "POST";
  request.path = (mode & 4) ? "/runs/run-000001" : "/runs";
  if ((mode & 8) == 0) request.headers.emplace_back("authorization", "Bearer t0ken");
  if (size > 1) request.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  const flowengine::HttpResponse r = service->api->Handle(request);
  CHECK(r.status == 200 || r.status == 202 || r.status == 400 || r.status == 401 ||
        r.status == 403 || r.status == 404 || r.status == 405 || r.status == 429 ||
        r.status == 500);
  CHECK(r.status != 202);  // nothing is ever queued
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  CHECK(parser.parse(r.body).get(doc) == simdjson::SUCCESS);
  if (r.status >= 400) {
    std::string_view code;
    CHECK(doc["error"]["code"].get(code) == simdjson::SUCCESS);
    CHECK(code.substr(0, 3) == "FE-");
  }
  CHECK(service->scheduler->Counts().submitted == 0);
  return 0;
}
