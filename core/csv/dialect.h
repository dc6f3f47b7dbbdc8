// Dialect: the delimiter and quote character of a delimited file. Value type.
#pragma once

#include <string_view>

namespace flowengine {

/// The characters that structure a delimited file. By default RFC 4180: fields may be quoted
/// with `"`, and a quote inside a quoted field is doubled. A source may instead have no
/// quoting (quote '\0') and/or backslash escapes (escape '\\': \" \\ \n \t \r and
/// \<delimiter>). Sinks always write RFC 4180.
struct Dialect {
  char delimiter = ',';
  char quote = '"';    ///< '\0': no quote character (source.quote: none)
  char escape = '\0';  ///< '\0': doubled quotes; '\\': backslash escapes (source.escape)

  static constexpr Dialect Csv() { return {',', '"'}; }
  static constexpr Dialect Tsv() { return {'\t', '"'}; }
  static constexpr Dialect Psv() { return {'|', '"'}; }

  /// "csv", "tsv" or "psv".
  /// The same delimiter with RFC 4180 quoting: how a sink writes this format.
  constexpr Dialect Rfc4180() const { return {delimiter, '"', '\0'}; }
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
