// Dialect: the delimiter and quote character of a delimited file. Value type.
#pragma once

#include <string_view>

namespace flowengine {

/// The characters that structure a delimited file. RFC 4180 quoting (doubled quotes).
struct Dialect {
  char delimiter = ',';
  char quote = '"';

  static constexpr Dialect Csv() { return {',', '"'}; }
  static constexpr Dialect Tsv() { return {'\t', '"'}; }
  static constexpr Dialect Psv() { return {'|', '"'}; }

  /// "csv", "tsv" or "psv".
  std::string_view FormatName() const {
    return delimiter == '\t' ? "tsv" : delimiter == '|' ? "psv" : "csv";
  }
  bool operator==(const Dialect&) const = default;
};

/// How a sink writes records: line ending and quoting (sink.lineEnding, sink.quoting).
struct OutputStyle {
  bool crlf = false;       ///< CRLF instead of LF after each record
  bool quote_all = false;  ///< quote every field instead of only those that need it
};

}  // namespace flowengine
