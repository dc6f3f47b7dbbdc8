#include "core/js/js_protocol.h"

#include <string_view>
#include <utility>

#include "core/js/driver_js.h"

namespace flowengine::js {

std::string DriverSource() {
  std::string source = kDriverSource;
  const std::pair<std::string_view, int> values[] = {
      {"$TO_MAIN$", kToMain},       {"$FILTERED$", kFiltered},
      {"$REJECTED$", kRejected},    {"$BATCH_DONE$", kBatchDone},
      {"$VIEW_TEXT$", kViewText},   {"$VIEW_NUMBERS$", kViewNumbers},
      {"$VIEW_BOOLS$", kViewBools}, {"$VIEW_VALUES$", kViewValues},
  };
  for (const auto& [token, value] : values) {
    for (size_t at = source.find(token); at != std::string::npos; at = source.find(token, at)) {
      source.replace(at, token.size(), std::to_string(value));
    }
  }
  return source;
}

}  // namespace flowengine::js
