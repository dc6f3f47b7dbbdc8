#include "core/js/js_protocol.h"

#include <string_view>
#include <utility>

#include "core/js/driver_js.h"

namespace flowengine::js {

namespace {

std::string Fill(std::string source) {
  const std::pair<std::string_view, int> values[] = {
      {"$TO_MAIN$", kToMain},
      {"$FILTERED$", kFiltered},
      {"$REJECTED$", kRejected},
      {"$BATCH_DONE$", kBatchDone},
      {"$ROW_JOBS$", kRowJobs},
      {"$PROGRESS_ROWS$", kProgressRows},
      {"$PROGRESS_JOBS$", kProgressJobs},
      {"$VIEW_NUMBERS$", kViewNumbers},
      {"$VIEW_BOOLS$", kViewBools},
      {"$VIEW_VALUES$", kViewValues},
      {"$SET_EMPTY$", kSetEmpty},
      {"$SET_TRUE$", kSetTrue},
      {"$SET_FALSE$", kSetFalse},
      {"$SET_OTHER$", kSetOther},
      {"$FLUSH_UNITS$", kFlushUnits},
      {"$FLUSH_PIECES$", kFlushPieces},
      {"$VIEW_BLOCK$", kViewBlock},
      {"$SPAN_LENGTH_MASK$", static_cast<int>(kSpanLengthMask)},
      {"$SPAN_ESCAPED$", static_cast<int>(kSpanEscaped)},
      {"$SPAN_WIDE$", static_cast<int>(kSpanWide)},
      {"$SPAN_LATIN1$", static_cast<int>(kSpanLatin1)},
  };
  for (const auto& [token, value] : values) {
    for (size_t at = source.find(token); at != std::string::npos; at = source.find(token, at)) {
      source.replace(at, token.size(), std::to_string(value));
    }
  }
  return source;
}

}  // namespace

std::string RowReadSource(const std::vector<ColumnType>& input) {
  const bool arguments = input.size() <= kMaxRowArguments;
  std::string body = arguments ? "    return makeRow(\n" : "    return makeRow([\n";
  for (size_t c = 0; c < input.size(); ++c) {
    const std::string i = std::to_string(c);
    body += "      ";
    switch (input[c]) {
      case ColumnType::kString:
        body += "str(k + " + std::to_string(2 * c) + ")";
        break;
      case ColumnType::kBool:
        body += "nulls[" + i + "][r] === 2 ? null : nulls[" + i + "][r] === 1";
        break;
      case ColumnType::kInt32:
      case ColumnType::kInt64:
      case ColumnType::kFloat64:
        body += "kinds[" + i + "] === VIEW_NUMBERS ? (nulls[" + i + "][r] ? null : numbers[" + i +
                "][r]) : anys[" + i + "][r]";
        break;
    }
    body += c + 1 < input.size() ? ",\n" : "\n";
  }
  return body + (arguments ? "    );\n" : "    ]);\n");
}

std::string DriverSource(const std::vector<ColumnType>& input) {
  std::string source = Fill(kDriverSource);
  const std::string_view token = "$ROW_READS$";
  source.replace(source.find(token), token.size(), RowReadSource(input));
  return source;
}
std::string ApiSource() { return Fill(kApiSource); }

}  // namespace flowengine::js
