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
  };
  for (const auto& [token, value] : values) {
    for (size_t at = source.find(token); at != std::string::npos; at = source.find(token, at)) {
      source.replace(at, token.size(), std::to_string(value));
    }
  }
  return source;
}

}  // namespace

std::string DriverSource() { return Fill(kDriverSource); }
std::string ApiSource() { return Fill(kApiSource); }

}  // namespace flowengine::js
