// flowengine-gen: writes a deterministic customers file for tests and benchmarks.
//   flowengine-gen --rows N [--format csv|tsv|psv] [--seed S] [--out FILE]
// The shape is described in bench/data/customers.h.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/data/customers.h"

int main(int argc, char** argv) {
  uint64_t rows = 1000;
  uint64_t seed = 42;
  char delim = ',';
  const char* out_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--rows" && has_value) {
      rows = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--format" && has_value) {
      const std::string f = argv[++i];
      if (f == "csv") {
        delim = ',';
      } else if (f == "tsv") {
        delim = '\t';
      } else if (f == "psv") {
        delim = '|';
      } else {
        std::fprintf(stderr, "flowengine-gen: unknown format '%s' (csv, tsv, psv)\n", f.c_str());
        return 2;
      }
    } else if (a == "--out" && has_value) {
      out_path = argv[++i];
    } else {
      std::fprintf(stderr,
                   "Usage: flowengine-gen --rows N [--format csv|tsv|psv] [--seed S] "
                   "[--out FILE]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  FILE* out = out_path ? std::fopen(out_path, "wb") : stdout;
  if (out == nullptr) {
    std::fprintf(stderr, "flowengine-gen: cannot write '%s'\n", out_path);
    return 1;
  }
  std::string buffer;
  flowengine::bench::AppendCustomersHeader(delim, buffer);
  flowengine::bench::CustomersGenerator gen(delim, seed);
  constexpr uint64_t kBatch = 8192;
  for (uint64_t id = 1; id <= rows; id += kBatch) {
    gen.AppendRows(id, rows - id + 1 < kBatch ? rows - id + 1 : kBatch, buffer);
    if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size()) {
      std::fprintf(stderr, "flowengine-gen: writing failed\n");
      return 1;
    }
    buffer.clear();
  }
  if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size() ||
      (out != stdout && std::fclose(out) != 0)) {
    std::fprintf(stderr, "flowengine-gen: writing '%s' failed\n", out_path ? out_path : "-");
    return 1;
  }
  return 0;
}
