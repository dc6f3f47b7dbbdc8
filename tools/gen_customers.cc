// flowengine-gen: writes a deterministic customers file for tests and benchmarks.
//   flowengine-gen --rows N [--format csv|tsv|psv] [--seed S] [--out FILE]
// Columns: id, first_name, last_name, email, city, age, amount, created_at, active, notes.
// Real-world quoting: ~60% of records hold non-ASCII UTF-8, ~3% doubled quotes, ~0.3%
// quoted line breaks (half of them CRLF), ~5% delimiters inside quoted fields. LF record ends,
// minimal quoting, so a passthrough reproduces the file byte for byte.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  template <size_t N>
  const char* Pick(const char* const (&items)[N]) {
    return items[Below(N)];
  }
};

constexpr const char* kAsciiFirst[] = {"James", "Mary",  "Robert", "Linda", "Michael", "Sarah",
                                       "David", "Karen", "Thomas", "Nancy", "Daniel",  "Laura"};
constexpr const char* kUtf8First[] = {"José",  "Zoë",    "Łukasz", "Søren", "François",   "Ágnes",
                                      "Björn", "Renée",  "Jürgen", "Iñaki", "Małgorzata", "Çağla",
                                      "Ōsaka", "Dmitrï", "Håkon",  "Élodie"};
constexpr const char* kAsciiLast[] = {"Smith",  "Johnson", "Brown",  "Garcia", "Miller", "Davis",
                                      "Wilson", "Moore",   "Taylor", "Clark",  "Lewis",  "Walker"};
constexpr const char* kUtf8Last[] = {"Müller",    "Núñez",   "Østergård", "Dvořák", "Łęcki",
                                     "Gonçalves", "Sjöberg", "Françoise", "Öztürk", "Šimić"};
constexpr const char* kCities[] = {"London", "Paris",  "Berlin",   "Madrid", "São Paulo", "Zürich",
                                   "Kraków", "Québec", "New York", "Tokyo",  "Reykjavík", "Austin"};
constexpr const char* kDomains[] = {"example.com", "mail.test", "corp.example", "inbox.test"};
constexpr const char* kWords[] = {"customer", "prefers",  "email",   "contact", "account",
                                  "premium",  "renewal",  "since",   "order",   "support",
                                  "ticket",   "resolved", "pending", "new",     "loyal"};

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (static_cast<unsigned char>(c) < 0x80 && c != ' ') out += c;
  }
  return out.empty() ? "user" : out;
}

// Appends `value` with minimal quoting for `delim`.
void AppendField(std::string& out, std::string_view value, char delim) {
  bool quote = false;
  for (char c : value) {
    if (c == delim || c == '"' || c == '\n' || c == '\r') quote = true;
  }
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string Notes(Rng& rng, char delim) {
  std::string notes;
  const uint64_t words = 3 + rng.Below(5);
  for (uint64_t i = 0; i < words; ++i) {
    if (i > 0) notes += ' ';
    notes += rng.Pick(kWords);
  }
  const uint64_t r = rng.Below(1000);
  if (r < 30) {
    notes += " said \"thanks\"";
  } else if (r < 33) {
    notes += (r & 1) ? "\nsecond line" : "\r\nsecond line";
  } else if (r < 83) {
    notes += delim;
    notes += " then ";
    notes += rng.Pick(kWords);
  }
  return notes;
}

}  // namespace

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
      if (f == "csv")
        delim = ',';
      else if (f == "tsv")
        delim = '\t';
      else if (f == "psv")
        delim = '|';
      else {
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
  Rng rng{seed};
  std::string line;
  const char* header[] = {"id",  "first_name", "last_name",  "email",  "city",
                          "age", "amount",     "created_at", "active", "notes"};
  for (size_t i = 0; i < 10; ++i) {
    if (i > 0) line += delim;
    line += header[i];
  }
  line += '\n';
  for (uint64_t id = 1; id <= rows; ++id) {
    const bool utf8 = rng.Below(100) < 60;
    const std::string first = utf8 ? rng.Pick(kUtf8First) : rng.Pick(kAsciiFirst);
    const std::string last = utf8 && rng.Below(2) ? rng.Pick(kUtf8Last) : rng.Pick(kAsciiLast);
    char buf[64];
    AppendField(line, std::to_string(id), delim);
    line += delim;
    AppendField(line, first, delim);
    line += delim;
    AppendField(line, last, delim);
    line += delim;
    AppendField(line, Lower(first) + "." + Lower(last) + "@" + rng.Pick(kDomains), delim);
    line += delim;
    AppendField(line, rng.Pick(kCities), delim);
    line += delim;
    line += std::to_string(18 + rng.Below(70));
    line += delim;
    std::snprintf(buf, sizeof(buf), "%llu.%02llu",
                  static_cast<unsigned long long>(rng.Below(20000)),
                  static_cast<unsigned long long>(rng.Below(100)));
    line += buf;
    line += delim;
    std::snprintf(buf, sizeof(buf), "20%02llu-%02llu-%02lluT%02llu:%02llu:%02lluZ",
                  static_cast<unsigned long long>(15 + rng.Below(10)),
                  static_cast<unsigned long long>(1 + rng.Below(12)),
                  static_cast<unsigned long long>(1 + rng.Below(28)),
                  static_cast<unsigned long long>(rng.Below(24)),
                  static_cast<unsigned long long>(rng.Below(60)),
                  static_cast<unsigned long long>(rng.Below(60)));
    line += buf;
    line += delim;
    line += rng.Below(2) ? "true" : "false";
    line += delim;
    AppendField(line, Notes(rng, delim), delim);
    line += '\n';
    if (line.size() > (1 << 20)) {
      std::fwrite(line.data(), 1, line.size(), out);
      line.clear();
    }
  }
  std::fwrite(line.data(), 1, line.size(), out);
  if (out != stdout && std::fclose(out) != 0) {
    std::fprintf(stderr, "flowengine-gen: writing '%s' failed\n", out_path);
    return 1;
  }
  return 0;
}
