#include "bench/data/customers.h"

#include <cstdio>
#include <string_view>

namespace flowengine::bench {
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
  const uint64_t words = 5 + rng.Below(5);
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

void AppendCustomersHeader(char delimiter, std::string& out) {
  const char* header[] = {"id",  "first_name", "last_name",  "email",  "city",
                          "age", "amount",     "created_at", "active", "notes"};
  for (size_t i = 0; i < 10; ++i) {
    if (i > 0) out += delimiter;
    out += header[i];
  }
  out += '\n';
}

void CustomersGenerator::AppendRows(uint64_t first_id, uint64_t rows, std::string& out) {
  Rng rng{state_};
  for (uint64_t id = first_id; id < first_id + rows; ++id) {
    const bool utf8 = rng.Below(100) < 60;
    const std::string first = utf8 ? rng.Pick(kUtf8First) : rng.Pick(kAsciiFirst);
    const std::string last = utf8 && rng.Below(2) ? rng.Pick(kUtf8Last) : rng.Pick(kAsciiLast);
    char buf[64];
    AppendField(out, std::to_string(id), delimiter_);
    out += delimiter_;
    AppendField(out, first, delimiter_);
    out += delimiter_;
    AppendField(out, last, delimiter_);
    out += delimiter_;
    AppendField(out, Lower(first) + "." + Lower(last) + "@" + rng.Pick(kDomains), delimiter_);
    out += delimiter_;
    AppendField(out, rng.Pick(kCities), delimiter_);
    out += delimiter_;
    out += std::to_string(18 + rng.Below(70));
    out += delimiter_;
    std::snprintf(buf, sizeof(buf), "%llu.%02llu",
                  static_cast<unsigned long long>(rng.Below(20000)),
                  static_cast<unsigned long long>(rng.Below(100)));
    out += buf;
    out += delimiter_;
    std::snprintf(buf, sizeof(buf), "20%02llu-%02llu-%02lluT%02llu:%02llu:%02lluZ",
                  static_cast<unsigned long long>(15 + rng.Below(10)),
                  static_cast<unsigned long long>(1 + rng.Below(12)),
                  static_cast<unsigned long long>(1 + rng.Below(28)),
                  static_cast<unsigned long long>(rng.Below(24)),
                  static_cast<unsigned long long>(rng.Below(60)),
                  static_cast<unsigned long long>(rng.Below(60)));
    out += buf;
    out += delimiter_;
    out += rng.Below(2) ? "true" : "false";
    out += delimiter_;
    AppendField(out, Notes(rng, delimiter_), delimiter_);
    out += '\n';
  }
  state_ = rng.state;
}

std::string GenerateCustomers(uint64_t rows, char delimiter, uint64_t seed) {
  std::string out;
  AppendCustomersHeader(delimiter, out);
  CustomersGenerator gen(delimiter, seed);
  gen.AppendRows(1, rows, out);
  return out;
}

}  // namespace flowengine::bench
