// Deterministic generator of the customers file used by tests and benchmarks: columns id,
// first_name, last_name, email, city, age, amount, created_at, active, notes. Real-world
// quoting: ~60% of records hold non-ASCII UTF-8, ~3% doubled quotes, ~0.3% quoted line
// breaks (half of them CRLF), ~5% delimiters inside quoted fields. LF record ends and minimal
// quoting, so a passthrough reproduces it byte for byte. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

namespace flowengine::bench {

/// Appends the header line for `delimiter`.
void AppendCustomersHeader(char delimiter, std::string& out);

/// Appends records `first_id` .. `first_id + rows - 1`; the same seed gives the same bytes.
class CustomersGenerator {
 public:
  CustomersGenerator(char delimiter, uint64_t seed) : delimiter_(delimiter), state_(seed) {}
  void AppendRows(uint64_t first_id, uint64_t rows, std::string& out);

 private:
  char delimiter_;
  uint64_t state_;
};

/// A whole file: header plus `rows` records.
std::string GenerateCustomers(uint64_t rows, char delimiter, uint64_t seed);

}  // namespace flowengine::bench
